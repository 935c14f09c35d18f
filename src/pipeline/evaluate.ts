import * as path from 'node:path';
import { ConfigError } from '../errors';
import { writeJsonAtomic } from '../runtime/atomic';
import { initBackend } from '../runtime/backend';
import type { Split } from '../metadata/types';
import { configOfModel, loadModelDir } from '../model/model_dir';
import { evaluate, type EvaluationReport } from '../model/metrics';
import { CacheSequenceSource } from '../dataset/cache_source';
import { buildFeatures, defaultCacheDir, loadIndex, type DatasetLocation } from './run';

/**
 * `evaluate --model DIR`: a saved model on a dataset split. The model's own backbone (model/backbone) and
 * frame preprocessing are used, so features come from the same cache as training when it exists (the cache
 * is keyed by the weights' content hash) and are computed once otherwise. Glosses are matched by name, so a
 * model trained on one WLASL subset can be scored on another's videos of the same glosses.
 */
export interface EvaluateModelOptions extends DatasetLocation {
  split?: Split;
  cacheDir?: string;
  out?: string;
  workers?: number;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function reportText(r: EvaluationReport, title: string): string {
  return [
    title,
    `per video (${r.perVideo.count}): top-1 ${pct(r.perVideo.top1)}, top-5 ${pct(r.perVideo.top5)}, top-10 ${pct(r.perVideo.top10)}`,
    `per sequence (${r.perSequence.count}): top-1 ${pct(r.perSequence.top1)}, top-5 ${pct(r.perSequence.top5)}, top-10 ${pct(r.perSequence.top10)}`,
  ].join('\n');
}

export async function evaluateModelDir(modelDir: string, options: EvaluateModelOptions): Promise<{ report: EvaluationReport; text: string; skipped: string[] }> {
  await initBackend();
  const split = options.split ?? 'test';
  const loaded = await loadModelDir(modelDir);
  const meta = loaded.meta;
  const config = configOfModel(meta, modelDir);
  const index = loadIndex(options);
  const modelLabel = new Map(meta.classes.map((g, i) => [g, i]));
  const entries = index.present.filter((e) => e.split === split);
  const usable = entries.filter((e) => modelLabel.has(e.gloss));
  const skipped = entries.filter((e) => !modelLabel.has(e.gloss)).map((e) => e.videoId);
  if (usable.length === 0) throw new ConfigError(`no ${split} video of this dataset has a gloss the model knows (${meta.classes.length} classes)`, { file: modelDir });
  const subIndex = { ...index, present: usable };
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir(options.dataDir));
  const { report: features } = await buildFeatures(subIndex, config, { cacheDir, workers: options.workers });
  const source = new CacheSequenceSource(
    features.cacheDir,
    usable.map((e) => ({ videoId: e.videoId, label: modelLabel.get(e.gloss)! })),
    config.sequence,
    meta.classes.length,
  );
  const report = await evaluate(loaded.head, source, { classNames: meta.classes });
  if (options.out) await writeJsonAtomic(options.out, report);
  const text = reportText(report, `${modelDir} on ${options.dataDir} (${split}${skipped.length ? `, ${skipped.length} videos of unknown glosses skipped` : ''})`);
  return { report, text, skipped };
}
