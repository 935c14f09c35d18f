import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainingSplitsOf, type PipelineConfig } from '../config';
import { ConfigError, OutputError } from '../errors';
import { writeJsonAtomic } from '../runtime/atomic';
import { initBackend } from '../runtime/backend';
import { isInsideFolder } from '../runtime/paths';
import type { Split } from '../metadata/types';
import { configOfModel, loadModelDir } from '../model/model_dir';
import { evaluate, formatPercent, perVideoExcluding, type EvaluationReport } from '../model/metrics';
import { findDuplicateVideos } from '../metadata/duplicates';
import { entriesOfSplit } from '../metadata/video_index';
import { CacheSequenceSource } from '../dataset/cache_source';
import type { SequenceSource } from '../dataset/types';
import { ClipSequenceSource, NO_AUGMENTATION } from '../streams/clip_source';
import { evalViewsOf, loadStreamClips } from '../streams/sources';
import { buildStreams, loadIndex, randomWeightsWarning, type DatasetLocation } from './run';

/**
 * `evaluate --model DIR`: a saved model on a dataset split. The model's own backbone (model/backbone) and
 * frame preprocessing are used, so features come from the same cache as training when it exists (the cache
 * is keyed by the weights' content hash) and are computed once otherwise. Glosses are matched by name, so a
 * model trained on one WLASL subset can be scored on another's videos of the same glosses.
 */
export interface EvaluateModelOptions extends DatasetLocation {
  split?: Split;
  cacheDir?: string;
  /** Write the full report as JSON here (refused inside the model or dataset folders; see checkReportTarget). */
  out?: string;
  /** Replace an existing `out` file that is not an earlier evaluation report. */
  overwrite?: boolean;
  workers?: number;
}

/** Marks a file as written by `evaluate --out`, so a rerun may replace it and nothing else. */
export const EVALUATION_FORMAT = 'wlasl-evaluation';

/**
 * Refuses, before any work, a report file that would damage what the user has: anything inside the model or
 * dataset folders (symlinks resolved), a folder, or an existing file that is not an earlier evaluation report
 * unless `overwrite` is given.
 */
export function checkReportTarget(out: string, modelDir: string, location: DatasetLocation, overwrite = false): void {
  const protectedFolders: Array<[string | undefined, string]> = [
    [modelDir, 'the model folder'],
    [location.dataDir, 'the dataset folder'],
    [location.videosDir, 'the videos folder'],
    [location.metadataFile && path.dirname(location.metadataFile), "the metadata file's folder"],
  ];
  for (const [folder, what] of protectedFolders) {
    if (folder && isInsideFolder(out, folder)) throw new OutputError(`will not write the report inside ${what} (${path.resolve(folder)})`, { file: out });
  }
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isFile()) throw new OutputError('exists and is not a file', { file: out });
  if (overwrite) return;
  let format: unknown;
  try {
    format = (JSON.parse(fs.readFileSync(out, 'utf8')) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (format !== EVALUATION_FORMAT) throw new OutputError('exists and is not an earlier evaluation report: give --overwrite to replace it, or another --out', { file: out });
}

export function reportText(r: EvaluationReport, title: string): string {
  const classes = r.classNames.length;
  const chance = (k: number) => formatPercent(Math.min(1, k / classes));
  return [
    title,
    `per video (${r.perVideo.count}): top-1 ${formatPercent(r.perVideo.top1)}, top-5 ${formatPercent(r.perVideo.top5)}, top-10 ${formatPercent(r.perVideo.top10)}   (chance with ${classes} classes: ${chance(1)}, ${chance(5)}, ${chance(10)})`,
    `per sequence (${r.perSequence.count}): top-1 ${formatPercent(r.perSequence.top1)}, top-5 ${formatPercent(r.perSequence.top5)}, top-10 ${formatPercent(r.perSequence.top10)}`,
  ].join('\n');
}

export interface ModelEvaluation {
  report: EvaluationReport;
  text: string;
  /** Videos of glosses the model does not know (not errors: another subset's classes). */
  skipped: string[];
  /** Videos that could not be read, each with its reason: not in the figures, and `evaluate` exits 3. */
  failed: Array<{ videoId: string; reason: string }>;
}

export async function evaluateModelDir(modelDir: string, options: EvaluateModelOptions): Promise<ModelEvaluation> {
  await initBackend();
  const split = options.split ?? 'test';
  if (options.out) checkReportTarget(options.out, modelDir, options, options.overwrite);
  const loaded = await loadModelDir(modelDir);
  const meta = loaded.meta;
  const config = configOfModel(meta, modelDir);
  const index = loadIndex(options);
  const modelLabel = new Map(meta.classes.map((g, i) => [g, i]));
  const entries = entriesOfSplit(index, split);
  const usable = entries.filter((e) => modelLabel.has(e.gloss));
  const skipped = entries.filter((e) => !modelLabel.has(e.gloss)).map((e) => e.videoId);
  if (usable.length === 0) throw new ConfigError(`no ${split} video of this dataset has a gloss the model knows (${meta.classes.length} classes)`, { file: modelDir });
  const subIndex = { ...index, present: usable };
  // Each stream's stage fills its cache for these videos (reused when a run already did), as in `run`.
  const streams = await buildStreams(subIndex, config, { cacheDir: options.cacheDir, workers: options.workers, log: () => undefined });
  const failed: Array<{ videoId: string; reason: string }> = [];
  for (const f of streams.skipped) if (!failed.some((g) => g.videoId === f.videoId)) failed.push({ videoId: f.videoId, reason: f.reason });
  const unreadable = new Set(failed.map((f) => f.videoId));
  const scored = usable.filter((e) => !unreadable.has(e.videoId));
  if (scored.length === 0) throw new ConfigError(`none of the ${usable.length} ${split} videos could be read (first: ${failed[0]?.reason ?? '?'})`, { file: index.videosDir });
  const labelled = scored.map((e) => ({ videoId: e.videoId, label: modelLabel.get(e.gloss)! }));
  let source: SequenceSource;
  if (config.stream.wholeClip) {
    const { clips, missing } = await loadStreamClips(labelled, config, streams.caches);
    failed.push(...missing);
    source = new ClipSequenceSource(clips, config.sequence.sampleSize, meta.classes.length, NO_AUGMENTATION, evalViewsOf(config));
  } else {
    source = new CacheSequenceSource(streams.caches.featuresDir!, labelled, config.sequence, meta.classes.length);
  }
  const report = await evaluate(loaded.head, source, { classNames: meta.classes });
  // A model trained on this dataset's train split may have seen some of these very bytes under another id.
  // The splits the model learnt from, as its run recorded them (models made before train+val: train).
  const recorded = (meta.training?.config as { train?: Partial<PipelineConfig['train']> } | undefined)?.train;
  const trainedOn: readonly Split[] = trainingSplitsOf({ trainOn: recorded?.trainOn });
  const copies = split === 'train' || trainedOn.includes(split) ? null : perVideoExcluding(report, new Set((await findDuplicateVideos(index.present, trainedOn)).copiesOfTraining[split]));
  if (options.out) {
    await writeJsonAtomic(options.out, { format: EVALUATION_FORMAT, model: path.resolve(modelDir), data: path.resolve(options.dataDir), split, trainedOn: trainedOn.join('+'), failed, ...report, withoutCopiesOfTraining: copies });
  }
  const lines = [reportText(report, `${modelDir} on ${options.dataDir} (${split}${skipped.length ? `, ${skipped.length} videos of unknown glosses skipped` : ''})`)];
  if (copies?.excluded) {
    lines.push(`without the ${copies.excluded} ${split} ${copies.excluded === 1 ? 'video that is a byte copy' : 'videos that are byte copies'} of this dataset's training videos (${copies.count}): top-1 ${formatPercent(copies.top1)}, top-5 ${formatPercent(copies.top5)}`);
  }
  if (split !== 'train' && trainedOn.includes(split)) lines.push(`this model was trained on the ${split} split too (--train-on train+val): these figures are on videos it learnt from, not held out`);
  // Last, where they are read: the videos the figures leave out.
  if (failed.length) lines.push(`${failed.length} of ${usable.length} ${split} videos could not be read and are not in the figures:`, ...failed.map((f) => `  ${f.videoId}: ${f.reason}`));
  const warning = randomWeightsWarning({ source: String(meta.backbone.source ?? '') });
  if (warning) lines.push(warning);
  return { report, text: lines.join('\n'), skipped, failed };
}
