import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkConfig, checkWorkers, trainingSplitsOf, type PipelineConfig } from '../config';
import { ConfigError } from '../errors';
import { mkdirError, writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import { initBackend, type BackendReport } from '../runtime/backend';
import { cacheRoot, openCache, weightsCacheDir, type CacheLocation, type DatasetFiles } from '../runtime/user_cache';
import type { ProgressMode } from '../runtime/progress';
import { readWlaslMetadata } from '../metadata/parse';
import { buildVideoIndex, entriesOfSplit, summariseIndex, type VideoIndex } from '../metadata/video_index';
import { countsRows, writeMissingReport, writeBboxMap } from '../metadata/reports';
import type { Split, VideoEntry, VideoJob } from '../metadata/types';
import { extractFrames } from '../video/extract';
import type { Backbone, BackboneInfo } from '../backbone/backbone';
import { resolveBackboneConfig } from '../backbone/source';
import { buildFeatureCache, loadBackboneForJobs, type BuildFeatureCacheReport, type FrameProvider } from '../features/build';
import { CacheSequenceSource } from '../dataset/cache_source';
import { createHead, fit, saveHistory, type FitOptions, type FitResult } from '../model/train';
import { evaluate, formatPercent, perVideoExcluding, type EvaluationReport } from '../model/metrics';
import { duplicatesCsv, findDuplicateVideos, formatDuplicates, type DuplicateReport } from '../metadata/duplicates';
import { saveModelDir } from '../model/model_dir';
import type { LstmHead } from '../model/head';
import { saveChart } from '../plot/charts';
import type { SequenceSource } from '../dataset/types';
import { buildLandmarkCache, formatLandmarkSummary, type BuildLandmarkCacheReport } from '../landmarks/stage';
import { landmarksRootOf } from '../streams/load';
import { dropsHands, fitInputsOf, mirrorsLeadingHand, readsLandmarkVectors, usesCnn, usesHandCrops, usesLandmarks, wholeClipSource, type StreamCaches } from '../streams/sources';
import { buildHandCropCache, formatHandCropSummary, type BuildHandCropReport } from '../streams/hand_crops';
import { openLandmarkCache } from '../landmarks/cache';
import { landmarkModelFiles } from '../landmarks/human';
import { accuracyCurveSpec, confusionMatrixSpec, hasValidation, lossCurveSpec, perClassAccuracySpec } from '../plot/specs';

/**
 * The whole pipeline as named steps, in the order of the original notebook: index the metadata (its
 * videos_process / bbox_file), extract cropped frames (capture_frames) straight into the frozen backbone and
 * cache the features ONCE (the original recomputed them every epoch), train the LSTM head with early
 * stopping, evaluate on the test split (which the original never used), save the model and the charts.
 * Every step is resumable: a rerun reuses finished frames/features and continues training from the checkpoint.
 */
export interface DatasetLocation {
  /** Folder with WLASL_v0.3.json and videos/<video_id>.mp4 (Kaggle's wlasl-processed layout). */
  dataDir: string;
  metadataFile?: string;
  videosDir?: string;
  /** WLASL100/300/1000/2000 subset, or none for every gloss in the file. */
  subset?: number | string;
  /** nslt_K.json split file. */
  splitFile?: string;
  /** Read videos that are symbolic links leading out of the dataset folder (refused by default). */
  followSymlinks?: boolean;
}

export interface PipelineOptions extends DatasetLocation {
  config: PipelineConfig;
  /** Run folder: model/, metrics.json, history.*, charts/, summary.txt. */
  runDir: string;
  /** Cache root shared between runs (weights, features per dataset); default the per-user cache (runtime/user_cache.ts). */
  cacheDir?: string;
  /** Continue training from the run folder's checkpoint. */
  resume?: boolean;
  /** Reuse a folder that already holds a run of ours, replacing its outputs (never a folder we did not make). */
  overwrite?: boolean;
  /** Feature-extraction worker threads (default: cores). */
  workers?: number;
  progress?: ProgressMode;
  log?: (line: string) => void;
  /** Called after each epoch (notebooks use it for live curves). */
  onEpoch?: FitOptions['onEpoch'];
}

export interface PipelineResult {
  runDir: string;
  modelDir: string;
  backend: BackendReport;
  index: VideoIndex;
  /** Byte-identical videos under different ids (also data/duplicate_videos.csv). */
  duplicates: DuplicateReport;
  /** The CNN feature stage; null when the stream is landmarks only. */
  features: BuildFeatureCacheReport | null;
  /** The landmark stage; null when the stream is the CNN only. */
  landmarks: BuildLandmarkCacheReport | null;
  /** The hand-crop stage; null unless the stream is hands. */
  handCrops: BuildHandCropReport | null;
  /** Every video the run left out, with the stage and the reason (also in data/skipped_videos.json). */
  skipped: SkippedVideo[];
  /** Which weights the features came from (source 'random' when it fell back: see randomWeightsWarning); null without the CNN. */
  backbone: BackboneInfo | null;
  cache: CacheLocation;
  fit: FitResult;
  test: EvaluationReport;
  val: EvaluationReport;
  seconds: Record<string, number>;
  summary: string;
}

export interface SkippedVideo {
  videoId: string;
  /** The stage that could not use it: frames/features, landmarks, or the stream (e.g. no signer to normalise to). */
  stage: string;
  reason: string;
}

/** <runDir>/data/skipped_videos.json: videos left out of the run (unreadable, too short, bad bbox) and why. */
export const SKIPPED_VIDEOS_FILE = 'skipped_videos.json';

/** <runDir>/data/adjusted_ranges.json: videos whose WLASL frame range was clamped, rescaled or sampled down. */
export const ADJUSTED_VIDEOS_FILE = 'adjusted_ranges.json';

/** Marks a folder as a run folder of ours: only such a folder is ever reused, and only when asked. */
export const RUN_MARKER_FILE = 'wlasl-run.json';

/**
 * Makes (or checks) the run folder before any work. A new or empty folder gets the marker. A folder that holds
 * anything else is reused only if it carries the marker and the caller asked for it (resume: continue the
 * run; overwrite: replace its outputs); a folder we did not make is never written into, so a run can never
 * delete or overwrite what a user keeps there.
 */
function isRegularFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export async function prepareRunDir(runDir: string, options: { resume?: boolean; overwrite?: boolean } = {}): Promise<void> {
  const marker = path.join(runDir, RUN_MARKER_FILE);
  let entries: string[] = [];
  try {
    entries = await fs.promises.readdir(runDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' && isRegularFile(runDir)) throw new ConfigError('the run folder is a file', { file: runDir });
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw mkdirError(error, runDir, 'cannot use the run folder');
  }
  if (entries.length > 0) {
    if (!entries.includes(RUN_MARKER_FILE)) {
      throw new ConfigError(`is not empty and is not a run folder of this program (no ${RUN_MARKER_FILE}): nothing in it is touched; give another --run-dir`, { file: runDir });
    }
    if (!options.resume && !options.overwrite) {
      throw new ConfigError('already holds a run: --resume to continue it, --overwrite to replace its outputs, or another --run-dir', { file: runDir });
    }
    return;
  }
  try {
    await fs.promises.mkdir(runDir, { recursive: true });
  } catch (error) {
    throw mkdirError(error, runDir, 'cannot create the run folder');
  }
  await writeJsonAtomic(marker, { format: 'wlasl-run', version: 1, createdAt: new Date().toISOString() });
}

/** A dataset's metadata file and videos folder (<data>/WLASL_v0.3.json and <data>/videos unless given). */
export function datasetFiles(location: DatasetLocation): DatasetFiles {
  return { metadataFile: location.metadataFile ?? path.join(location.dataDir, 'WLASL_v0.3.json'), videosDir: location.videosDir ?? path.join(location.dataDir, 'videos') };
}

export function resolveDataset(location: DatasetLocation): Required<Pick<DatasetLocation, 'metadataFile' | 'videosDir'>> {
  const { metadataFile, videosDir } = datasetFiles(location);
  if (!fs.existsSync(metadataFile)) throw new ConfigError(`no WLASL metadata here (expected WLASL_v0.3.json)`, { file: metadataFile });
  return { metadataFile, videosDir };
}

/** Step 1: metadata -> index of videos with labels, splits, bboxes and files (missing ones reported). */
export function loadIndex(location: DatasetLocation): VideoIndex {
  const { metadataFile, videosDir } = resolveDataset(location);
  const metadata = readWlaslMetadata(metadataFile);
  return buildVideoIndex(metadata, { videosDir, subset: location.subset, splitFile: location.splitFile, datasetDir: location.dataDir, followSymlinks: location.followSymlinks });
}

export function jobsOf(entries: readonly VideoEntry[]): Array<VideoJob & { split: Split; label: number }> {
  return entries.filter((e): e is VideoEntry & { path: string } => e.path !== null).map((e) => ({ ...e, path: e.path }));
}

/** The frame preprocessing that changes features: part of the feature-cache key and of the model directory. */
export function featurePreprocessing(config: PipelineConfig): Record<string, unknown> {
  const { window, size, cropToBbox } = config.frames;
  return { window, size, cropToBbox };
}

/**
 * Steps 2-3: frames straight from ffmpeg into the frozen backbone, features cached once per video, in the
 * dataset's part of the cache under `cacheDir` (default: the per-user cache; never the dataset folder).
 */
export async function buildFeatures(
  index: VideoIndex,
  config: PipelineConfig,
  options: { cacheDir?: string; workers?: number; progress?: ProgressMode; log?: (line: string) => void } = {},
): Promise<{ backbone: Backbone; report: BuildFeatureCacheReport; cache: CacheLocation }> {
  const jobs = jobsOf(index.present);
  if (jobs.length === 0) throw new ConfigError(`none of the ${index.entries.length} videos in the metadata exists`, { file: index.videosDir });
  // The backbone is built in this thread (loading, calibration): the CLI's features command has no other init.
  await initBackend();
  const frameProvider: FrameProvider<VideoJob> = (job) => extractFrames(job, config.frames);
  const trainJobs = jobs.filter((j) => j.split === 'train');
  const cache = await openCache(index, options.cacheDir);
  const backbone = await loadBackboneForJobs(config.backbone, trainJobs.length ? trainJobs : jobs, frameProvider, { weightsCacheDir: cache.weightsDir, log: options.log });
  const report = await buildFeatureCache({
    jobs,
    cacheRoot: cache.featuresDir,
    backbone,
    preprocessing: featurePreprocessing(config),
    frameProvider,
    workers: options.workers,
    dtype: config.backbone.cacheFloat16 ? 'float16' : 'float32',
    progress: options.progress,
  });
  return { backbone, report, cache };
}

/** How the run cuts clips into sequences, for logs and the summary. */
export function sequencesText(config: PipelineConfig): string {
  const s = config.stream;
  const view = s.wholeClip ? `whole clip, ${config.sequence.sampleSize} frames spread over it` : `T=${config.sequence.sampleSize}, stride ${config.sequence.stride}`;
  const augment = [s.wholeClip && s.minSpan < 1 ? `spans >= ${s.minSpan}` : '', s.augmentLandmarks && readsLandmarkVectors(config) ? 'landmarks turned/scaled/shifted' : '', dropsHands(config) ? `hands dropped from ${Math.round(s.handDrop * 100)}% of frames` : ''].filter(Boolean);
  const angles = readsLandmarkVectors(config) ? `${s.handAngles ? ' with hand angles' : ' without hand angles'}${s.faceContact ? ', face contact' : ''}${mirrorsLeadingHand(config) ? ', the leading hand on the right' : ''}` : '';
  return `${s.features} stream${angles}, ${view}${augment.length ? `; training views: ${augment.join(', ')}` : ''}`;
}

/**
 * The train, val and test sequences of a run from the caches its stream filled: windows streamed from the
 * feature cache (the cnn stream's windows), or whole clips held in memory (every stream with wholeClip).
 */
export async function splitSources(index: VideoIndex, config: PipelineConfig, caches: StreamCaches): Promise<{ train: SequenceSource; val: SequenceSource; test: SequenceSource; missing: Array<{ videoId: string; reason: string }> }> {
  // Trained on train + val, val's clips are training clips and the val source is empty (nothing is held out).
  const trainSplits = trainingSplitsOf(config.train);
  const valSplits: readonly Split[] = trainSplits.includes('val') ? [] : ['val'];
  if (!config.stream.wholeClip) {
    if (!caches.featuresDir) throw new ConfigError('windows of frames come from the feature cache: the cnn stream');
    return { train: splitSource(index, caches.featuresDir, config, trainSplits), val: splitSource(index, caches.featuresDir, config, valSplits), test: splitSource(index, caches.featuresDir, config, 'test'), missing: [] };
  }
  const [train, val, test] = await Promise.all([trainSplits, valSplits, ['test'] as const].map((splits) => wholeClipSource(index, config, caches, splits)));
  return { train: train!.source, val: val!.source, test: test!.source, missing: [...train!.missing, ...val!.missing, ...test!.missing] };
}

export interface BuiltStreams {
  /** The CNN feature stage's report and backbone; null when the recipe reads landmarks only. */
  features: BuildFeatureCacheReport | null;
  backbone: Backbone | null;
  /** The landmark stage's report; null when the recipe reads CNN features only. */
  landmarks: BuildLandmarkCacheReport | null;
  /** The hand-crop stage's report; null unless the recipe reads hand crops. */
  handCrops: BuildHandCropReport | null;
  caches: StreamCaches;
  /** The dataset's cache folders (opened here once). */
  cache: CacheLocation;
  /** Videos a stage could not make (each with its stage and reason). */
  skipped: SkippedVideo[];
}

/**
 * Fills the caches the recipe's stream reads (CNN features, landmarks or both) for every present video, as `run`
 * does: what `splitSources` then cuts into sequences. The notebooks call it too, so they train on any stream.
 */
export async function buildStreams(
  index: VideoIndex,
  config: PipelineConfig,
  options: { cacheDir?: string; workers?: number; progress?: ProgressMode; log?: (line: string) => void; timed?: <T>(name: string, fn: () => Promise<T> | T) => Promise<T> } = {},
): Promise<BuiltStreams> {
  const log = options.log ?? ((line: string) => console.log(line));
  const timed = options.timed ?? (async <T>(_name: string, fn: () => Promise<T> | T): Promise<T> => fn());
  const skipped: SkippedVideo[] = [];
  let features: BuildFeatureCacheReport | null = null;
  let backbone: Backbone | null = null;
  const cache = await openCache(index, options.cacheDir);
  if (usesCnn(config)) {
    const built = await timed('features', () => buildFeatures(index, config, { cacheDir: options.cacheDir, workers: options.workers, progress: options.progress, log }));
    features = built.report;
    backbone = built.backbone;
    log(`features: ${features.cacheDir} (${features.computed} computed, ${features.reused} reused, ${features.failed.length} failed)`);
    skipped.push(...features.failed.map((f) => ({ videoId: f.videoId, stage: 'features', reason: f.reason })));
    const fallback = randomWeightsWarning(backbone.info);
    if (fallback) log(fallback);
  }
  let landmarks: BuildLandmarkCacheReport | null = null;
  if (usesLandmarks(config)) {
    landmarks = await timed('landmarks', () =>
      buildLandmarkCache({ jobs: jobsOf(index.present), cacheRoot: landmarksRootOf(cache.datasetDir), frames: config.frames, workers: options.workers, progress: options.progress }),
    );
    log(formatLandmarkSummary(landmarks));
    skipped.push(...landmarks.failed.map((f) => ({ videoId: f.videoId, stage: 'landmarks', reason: f.reason })));
  }
  let handCrops: BuildHandCropReport | null = null;
  if (usesHandCrops(config) && landmarks) {
    const landmarkCache = await openLandmarkCache(landmarksRootOf(cache.datasetDir), landmarkModelFiles(), landmarks.params, { window: config.frames.window, cropToBbox: config.frames.cropToBbox });
    // Clips the landmark stage could not read are already reported: not asked for again.
    const unreadable = new Set(landmarks.failed.map((f) => f.videoId));
    const jobs = jobsOf(index.present).filter((j) => !unreadable.has(j.videoId));
    handCrops = await timed('hand crops', () => buildHandCropCache({ jobs, datasetCacheDir: cache.datasetDir, landmarks: landmarkCache, frames: config.frames, progress: options.progress }));
    log(formatHandCropSummary(handCrops));
    skipped.push(...handCrops.failed.map((f) => ({ videoId: f.videoId, stage: 'hand crops', reason: f.reason })));
  }
  const caches: StreamCaches = { featuresDir: features?.cacheDir ?? null, landmarksRoot: landmarks ? landmarksRootOf(cache.datasetDir) : null, handCropsDir: handCrops?.cacheDir ?? null };
  return { features, backbone, landmarks, handCrops, caches, cache, skipped };
}

/** The sequence dataset of one split (or of several as one), streamed from the feature cache. */
export function splitSource(index: VideoIndex, cacheDir: string, config: PipelineConfig, split: Split | readonly Split[]): CacheSequenceSource {
  const videos = entriesOfSplit(index, split).map((e) => ({ videoId: e.videoId, label: e.label }));
  return new CacheSequenceSource(cacheDir, videos, config.sequence, index.classes.length);
}

/** Where the run's cache is, and the command that shows its size and clears it. */
export function cacheSummaryLine(cache: CacheLocation): string {
  const command = `wlasl cache${cache.root === cacheRoot() ? '' : ` --cache-dir ${cache.root}`}`;
  return `cache: features and landmarks in ${cache.datasetDir}, weights in ${cache.weightsDir}; size: ${command}, delete: ${command} --clear`;
}

/** Accuracy lines of one split: per video and per sequence, with what guessing would score; or why there are none. */
function splitLines(name: string, report: EvaluationReport, classes: number): string[] {
  if (report.perVideo.count === 0) return [`${name}: no ${name} videos in this dataset (no ${name} split), so no ${name} figures`];
  // A uniform guess among the model's classes: what an uninformed model scores on average.
  const chance = (k: number) => formatPercent(Math.min(1, k / classes));
  const v = report.perVideo;
  const s = report.perSequence;
  return [
    `${name} (per video, ${v.count} videos): top-1 ${formatPercent(v.top1)}, top-5 ${formatPercent(v.top5)}, top-10 ${formatPercent(v.top10)}   (chance with ${classes} classes: ${chance(1)}, ${chance(5)}, ${chance(10)})`,
    `${name} (per sequence, ${s.count} sequences): top-1 ${formatPercent(s.top1)}, top-5 ${formatPercent(s.top5)}`,
  ];
}

/** The split's figures without its videos that are byte copies of training videos; nothing when it has none. */
function copiesLine(name: 'val' | 'test', report: EvaluationReport, duplicates: DuplicateReport): string[] {
  const r = perVideoExcluding(report, new Set(duplicates.copiesOfTraining[name]));
  if (!r.excluded) return [];
  return [`${name} without its ${r.excluded} ${r.excluded === 1 ? 'copy' : 'copies'} of training videos (per video, ${r.count} videos): top-1 ${formatPercent(r.top1)}, top-5 ${formatPercent(r.top5)}`];
}

/** Why a run's accuracy means nothing when its backbone has random weights; repeated at the end of the summary. */
export function randomWeightsWarning(backbone: { source: string; fallbackReason?: string }): string | null {
  if (backbone.source !== 'random') return null;
  const why = backbone.fallbackReason ? `ImageNet weights could not be had (${backbone.fallbackReason}), so this run fell back to` : 'this run used';
  return (
    `WARNING: ${why} seeded random backbone weights. Random features carry almost nothing about hands or signs: ` +
    'the accuracy above shows that the pipeline runs, not what the recogniser can do. Give ImageNet weights (--weights DIR, or go online once).'
  );
}

export function summariseRun(r: Omit<PipelineResult, 'summary'>, config: PipelineConfig): string {
  const best = r.fit.history[r.fit.bestEpoch];
  const classes = r.index.classes.length;
  const failed = r.skipped.length;
  const adjusted = r.features?.adjusted ?? [];
  const warning = r.backbone ? randomWeightsWarning(r.backbone) : null;
  const f = r.features;
  const lm = r.landmarks;
  const trainedOnVal = config.train.trainOn === 'train+val';
  const recall = lm && lm.stats.visibleWrists ? `, hands at ${formatPercent(lm.stats.handsAtVisibleWrists / lm.stats.visibleWrists)} of visible wrists` : '';
  const lines = [
    `WLASL CNN-LSTM run: ${r.runDir}`,
    `data: ${summariseIndex(r.index)}`,
    ...formatDuplicates(r.duplicates),
    `${r.backend.summary}`,
    ...(f
      ? [
          `backbone: ${f.weightsId} (alpha ${config.backbone.alpha})${f.workers ? `, ${f.workers} workers` : ''}`,
          `features: ${f.computed} computed, ${f.reused} reused, ${f.failed.length} failed${f.failed.length ? ` (data/${SKIPPED_VIDEOS_FILE})` : ''}${f.computed > 0 ? `; ${f.framesPerSecond.toFixed(1)} frames/s` : ''}`,
        ]
      : []),
    ...(lm ? [`landmarks: ${lm.computed} computed, ${lm.reused} reused, ${lm.failed.length} failed${lm.failed.length ? ` (data/${SKIPPED_VIDEOS_FILE})` : ''}${recall}${lm.computed > 0 ? `; ${lm.framesPerSecond.toFixed(1)} frames/s` : ''}`] : []),
    ...(r.handCrops ? [`hand crops: ${r.handCrops.computed} computed, ${r.handCrops.reused} reused, ${r.handCrops.failed.length} failed${r.handCrops.failed.length ? ` (data/${SKIPPED_VIDEOS_FILE})` : ''}`] : []),
    ...(adjusted.length ? [`frame ranges adjusted for ${adjusted.length} videos (clamped to the clip, or sampled down to ${config.frames.window.maxFrames} frames): data/${ADJUSTED_VIDEOS_FILE}`] : []),
    cacheSummaryLine(r.cache),
    `sequences: ${sequencesText(config)}; head ${config.model.bidirectional ? 'bidirectional ' : ''}LSTM(${config.model.hidden}) x${config.model.layers}, standardize ${config.model.standardize}, velocity ${config.model.velocity}, dropout ${config.model.dropout}, pooling ${config.model.pooling ?? 'last'}${config.train.labelSmoothing ? `, label smoothing ${config.train.labelSmoothing}` : ''}${config.train.weightDecay ? `, weight decay ${config.train.weightDecay}` : ''}${config.train.emaMomentum ? `, weight average ${config.train.emaMomentum}` : ''}${config.train.mixup ? `, mixup ${config.train.mixup}` : ''}${config.train.lrSchedule === 'cosine' ? ', cosine learning rate' : ''}`,
    ...(trainedOnVal
      ? [
          `training: ${r.fit.history.length} epochs on train + val (--train-on train+val), the last kept: nothing held out to validate on`,
          'val: trained on, so no val figures (a run with --train-on train, the default, gives them for the same recipe)',
        ]
      : [
          `training: ${r.fit.history.length} epochs${r.fit.stoppedEarly ? ' (stopped early)' : ''}, best epoch ${r.fit.bestEpoch + 1}: val loss ${best?.valLoss.toFixed(4)}, val top-1 per sequence ${best ? formatPercent(best.valTop1) : '?'}`,
          ...splitLines('val', r.val, classes),
          ...copiesLine('val', r.val, r.duplicates),
        ]),
    ...splitLines('test', r.test, classes),
    ...copiesLine('test', r.test, r.duplicates),
    `time: ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`,
    // Last, where they are read: what the numbers above do not include or cannot mean.
    ...(failed ? [`${failed} of ${r.index.present.length} videos were skipped (unreadable, too short or a bad bbox): each with its reason in data/${SKIPPED_VIDEOS_FILE}`] : []),
    ...(warning ? [warning] : []),
  ];
  return lines.join('\n');
}

/**
 * Writes the charts of a finished run (SVG + PNG + spec): curves, and per split with videos (val, test) its
 * confusion matrix and per-class accuracy. Test charts keep their names (confusion, per_class); val's are
 * prefixed (val_confusion, val_per_class). A split without videos gets none.
 */
export async function writeRunCharts(runDir: string, fitResult: FitResult, test: EvaluationReport, val?: EvaluationReport): Promise<void> {
  const charts = path.join(runDir, 'charts');
  // Trained on train + val there is no val curve: the loss chart has the training loss alone, no accuracy chart.
  await saveChart(lossCurveSpec(fitResult.history, fitResult.bestEpoch), path.join(charts, 'loss'));
  if (hasValidation(fitResult.history)) await saveChart(accuracyCurveSpec(fitResult.history), path.join(charts, 'accuracy'));
  for (const [split, report, prefix] of [['test', test, ''], ['val', val, 'val_']] as const) {
    if (!report || report.perVideo.count === 0) continue;
    await saveChart(confusionMatrixSpec(report.confusion, report.classNames, `Confusion matrix (per video, ${split} split)`), path.join(charts, `${prefix}confusion`));
    await saveChart(
      perClassAccuracySpec(report.perClass.map((c) => ({ gloss: c.name, accuracy: c.accuracy, videos: c.videos })), `Per-class accuracy (per video, ${split} split)`),
      path.join(charts, `${prefix}per_class`),
    );
  }
}

/** Saves the head with everything needed to use it elsewhere (classes, preprocessing, backbone copy). */
export async function saveRunModel(modelDir: string, head: LstmHead, index: VideoIndex, config: PipelineConfig, backbone: Backbone | null, training: Record<string, unknown>): Promise<void> {
  // The backbone travels with the model (model/backbone) so a browser or another machine needs nothing else; a
  // landmarks-only model has none (its landmark models come with the @vladmandic/human package).
  await saveModelDir(modelDir, head, {
    classes: index.classes,
    frames: config.frames,
    sequence: config.sequence,
    stream: config.stream,
    ...(backbone ? { backbone: { ...backbone.info, dir: 'backbone' }, backboneSourceDir: backbone.info.modelDir } : {}),
    training,
  });
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  checkConfig(options.config);
  checkWorkers(options.workers);
  const log = options.log ?? ((line: string) => console.log(line));
  // 'default' weights resolved once, so config.json, the summary and the model folder name the weights used.
  const resolved = resolveBackboneConfig(options.config.backbone, weightsCacheDir(cacheRoot(options.cacheDir)));
  if (resolved.reason && usesCnn(options.config)) log(resolved.reason);
  const config: PipelineConfig = { ...options.config, backbone: resolved.backbone };
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      seconds[name] = (Date.now() - t0) / 1000;
    }
  };
  const t0 = Date.now();
  const backend = await initBackend();
  log(backend.summary);
  const runDir = path.resolve(options.runDir);
  await prepareRunDir(runDir, options);

  const index = await timed('index', () => loadIndex(options));
  log(`index: ${summariseIndex(index)}`);
  for (const w of index.warnings) log(`warning: ${w}`);
  await writeMissingReport(index, path.join(runDir, 'data', 'missing_videos.csv'));
  await writeJsonAtomic(path.join(runDir, 'data', 'counts.json'), countsRows(index));
  await writeBboxMap(index, path.join(runDir, 'data', 'bbox.json'));
  const duplicates = await timed('duplicates', () => findDuplicateVideos(index.present, trainingSplitsOf(config.train)));
  for (const line of formatDuplicates(duplicates)) log(line);
  await writeFileAtomic(path.join(runDir, 'data', 'duplicate_videos.csv'), duplicatesCsv(duplicates));

  const { features, backbone, landmarks, handCrops, caches, cache, skipped } = await buildStreams(index, config, { cacheDir: options.cacheDir, workers: options.workers, progress: options.progress, log, timed });
  if (features?.adjusted.length) await writeJsonAtomic(path.join(runDir, 'data', ADJUSTED_VIDEOS_FILE), { adjusted: features.adjusted });
  const sources = await timed('sequences', () => splitSources(index, config, caches));
  for (const m of sources.missing) if (!skipped.some((s) => s.videoId === m.videoId)) skipped.push({ videoId: m.videoId, stage: 'stream', reason: m.reason });
  for (const f of skipped) log(`  skipped ${f.videoId} (${f.stage}): ${f.reason}`);
  // The run's own record of what it left out (the caches' failures.json are shared and overwritten by other runs).
  await writeJsonAtomic(path.join(runDir, 'data', SKIPPED_VIDEOS_FILE), { skipped });
  const { train, val, test } = sources;
  log(`sequences: train ${train.numSamples}, val ${val.numSamples}, test ${test.numSamples} (${sequencesText(config)})`);

  const head = await createHead(train, config.model, config.train.seed);
  const fitResult = await timed('train', () =>
    fit(head, train, val, config.train, {
      checkpointDir: path.join(runDir, 'checkpoint'),
      resume: options.resume,
      progress: options.progress,
      onEpoch: options.onEpoch,
      inputs: fitInputsOf(config),
    }),
  );
  await saveHistory(fitResult.history, runDir);

  const [testReport, valReport] = await timed('evaluate', async () => [
    await evaluate(head, test, { classNames: index.classes }),
    await evaluate(head, val, { classNames: index.classes }),
  ]);
  const withoutCopies = {
    val: perVideoExcluding(valReport, new Set(duplicates.copiesOfTraining.val)),
    test: perVideoExcluding(testReport, new Set(duplicates.copiesOfTraining.test)),
  };
  await writeJsonAtomic(path.join(runDir, 'metrics.json'), { trainedOn: config.train.trainOn ?? 'train', test: testReport, val: valReport, withoutCopiesOfTraining: withoutCopies, duplicates, bestEpoch: fitResult.bestEpoch, stoppedEarly: fitResult.stoppedEarly });

  const modelDir = path.join(runDir, 'model');
  await timed('save', async () => {
    await saveRunModel(modelDir, head, index, config, backbone, {
      config,
      // predict warns about a model that knows only the embedded sample's made-up motions.
      dataset: { name: path.basename(path.resolve(options.dataDir)), subset: options.subset ?? null, synthetic: index.present.length > 0 && index.present.every((e) => e.source === 'synthetic') },
      bestEpoch: fitResult.bestEpoch,
      epochs: fitResult.history.length,
      test: { perVideo: testReport.perVideo, perSequence: testReport.perSequence },
    });
    await writeRunCharts(runDir, fitResult, testReport, valReport);
  });
  seconds.total = (Date.now() - t0) / 1000;
  await writeJsonAtomic(path.join(runDir, 'config.json'), config);
  const partial = { runDir, modelDir, backend, index, duplicates, features, landmarks, handCrops, skipped, backbone: backbone?.info ?? null, cache, fit: fitResult, test: testReport, val: valReport, seconds };
  const summary = summariseRun(partial, config);
  await writeFileAtomic(path.join(runDir, 'summary.txt'), summary + '\n');
  return { ...partial, summary };
}

export function defaultRunDir(root = 'runs'): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return path.join(root, `${stamp}-${os.hostname().split('.')[0]}`);
}
