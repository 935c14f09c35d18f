import * as os from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { BackboneConfig } from '../config';
import { ConfigError, describeError, outputError, VideoError } from '../errors';
import { writeJsonAtomic } from '../runtime/atomic';
import { createProgress, type ProgressMode } from '../runtime/progress';
import { seededShuffle } from '../runtime/random';
import type { Backbone } from '../backbone/backbone';
import { embedFrames } from '../backbone/embed';
import { loadBackbone, type BackboneOptions } from '../backbone/source';
import { MOBILENET_INPUT_SIZE } from '../backbone/preprocess';
import { openFeatureCache, unstorableValue, type FeatureDtype, type PreprocessingParams } from './cache';
import { startFeatureWorkers, type FeatureWorkerPool } from './worker_pool';
import { VideoFailure, type VideoFailureKind } from '../video/types';
import { formatRecomputed, sourceStamp, type RecomputedEntry, type SourceStamp, type StampUses } from '../video/source_stamp';

/** Decoded frames of one video: RGB uint8 [count, size, size, 3] (the video stage's extractFrames result). */
export interface DecodedFrames {
  frames: Uint8Array;
  count: number;
  size: number;
  /** What the frame stage adjusted for this video (a clamped or sampled range), for the report. */
  notes?: string[];
}
export type FrameProvider<J> = (job: J) => Promise<DecodedFrames>;

/**
 * A job: its id, and for the staleness check its video file and per-video metadata (a VideoJob has them all).
 * A job without a path is checked on bbox and frame range only.
 */
export interface FeatureJob {
  videoId: string;
  path?: string;
  bbox?: unknown;
  frameStart?: number;
  frameEnd?: number;
}

export interface BuildFeatureCacheOptions<J extends FeatureJob> {
  jobs: readonly J[];
  cacheRoot: string;
  backbone: Backbone;
  /** Frame preprocessing that changes features (window, size, crop): part of the cache key. */
  preprocessing: PreprocessingParams;
  frameProvider: FrameProvider<J>;
  /** Worker threads, one wasm backend each; 0 runs in this thread. Default: number of cores. */
  workers?: number;
  /** Frames per backbone call. */
  batchSize?: number;
  dtype?: FeatureDtype;
  progress?: ProgressMode;
}

export interface BuildFeatureCacheReport {
  cacheDir: string;
  key: string;
  weightsId: string;
  total: number;
  /** Already cached before this run (resumed), checked complete, finite and made from the same source. */
  reused: number;
  /** Written in this run, recomputed entries included. */
  computed: number;
  /**
   * Entries found unusable and recomputed (or, when the video now fails, removed and listed in `failed` too):
   * 'stale' = made from another video file, bbox or frame range, or by an older version; 'damaged' = truncated,
   * bad magic, another cache's file, non-finite values.
   */
  recomputed: RecomputedEntry[];
  failed: Array<{ videoId: string; reason: string }>;
  /** Videos computed in this run whose frame range was adjusted (clamped, rescaled, sampled down), and how. */
  adjusted: Array<{ videoId: string; notes: string[] }>;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  workers: number;
}

export const DEFAULT_FEATURE_BATCH = 8;

/**
 * Which per-video metadata changes features, read from the preprocessing record when it says (the pipeline's
 * has cropToBbox and window.useMetadataRange); a record that does not say counts both.
 */
function stampUses(preprocessing: PreprocessingParams): StampUses {
  const window = preprocessing.window as { useMetadataRange?: unknown } | undefined;
  return { bbox: preprocessing.cropToBbox !== false, range: !(window && typeof window === 'object' && window.useMetadataRange === false) };
}

/** One line for logs: counts, with the recomputed entries named. */
export function formatFeatureSummary(r: Pick<BuildFeatureCacheReport, 'computed' | 'reused' | 'recomputed' | 'failed' | 'seconds' | 'cacheDir'>): string {
  const recomputed = formatRecomputed(r.recomputed);
  return `features: ${r.computed} computed${recomputed ? ` (${recomputed})` : ''}, ${r.reused} reused, ${r.failed.length} skipped in ${r.seconds.toFixed(1)} s -> ${r.cacheDir}`;
}

/**
 * Runs the frozen backbone once over every video's kept frames and stores the features. Resumable: videos
 * already in the cache are skipped, each new one is written atomically as soon as it is done, and a video
 * whose frames cannot be had is skipped and listed in failures.json, never stopping the run. An existing
 * entry is reused only when it checks out whole (cache.check): a stale or damaged one is removed, recomputed
 * and reported in `recomputed`, so neither a replaced video nor a broken file stops or silently skews a run.
 */
export async function buildFeatureCache<J extends FeatureJob>(options: BuildFeatureCacheOptions<J>): Promise<BuildFeatureCacheReport> {
  const started = Date.now();
  const cache = await openFeatureCache(options.cacheRoot, options.backbone.info, options.preprocessing, { dtype: options.dtype });
  const uses = stampUses(options.preprocessing);
  const pending: Array<{ job: J; source: SourceStamp }> = [];
  const recomputed: RecomputedEntry[] = [];
  const adjusted: BuildFeatureCacheReport['adjusted'] = [];
  for (const job of options.jobs) {
    // Stamped before decoding: a file replaced while it is read then differs from its record on the next run.
    const source = await sourceStamp(job, uses);
    const entry = await cache.check(job.videoId, source);
    if (entry.status === 'ok') continue;
    if (entry.status !== 'missing') {
      recomputed.push({ videoId: job.videoId, why: entry.status, reason: entry.reason });
      await cache.remove(job.videoId);
    }
    pending.push({ job, source });
  }
  const reused = options.jobs.length - pending.length;
  const batchSize = options.batchSize ?? DEFAULT_FEATURE_BATCH;
  const workerCount = Math.min(options.workers ?? os.availableParallelism(), Math.max(pending.length, 0));
  const failed: BuildFeatureCacheReport['failed'] = [];
  let computed = 0;
  let frames = 0;

  let pool: FeatureWorkerPool | undefined;
  if (workerCount > 0) pool = await startFeatureWorkers(workerCount, options.backbone.info, batchSize);
  const embed = (decoded: DecodedFrames): Promise<Float32Array> =>
    pool ? pool.run({ frames: decoded.frames, count: decoded.count, size: decoded.size }) : Promise.resolve(embedFrames(options.backbone, decoded.frames, decoded.count, decoded.size, batchSize));

  const progress = createProgress('features', pending.length, { unit: 'videos', mode: options.progress });
  // Decoding runs ahead of the backbone so workers never wait, but at most two videos per worker are held.
  const limit = pLimit(Math.max(1, workerCount * 2));
  // A write that fails (disk full, read-only) stops the build: every later video would fail the same way.
  // Queued videos are dropped, running ones finish, and only then is the error thrown, so nothing is
  // written after it. Files already written are complete (atomic writes) and kept for the next run.
  let writeFailure: unknown;
  try {
    await Promise.all(
      pending.map(({ job, source }) =>
        limit(async () => {
          if (writeFailure !== undefined) return;
          let decoded: DecodedFrames;
          try {
            decoded = await options.frameProvider(job);
            if (decoded.count < 1) throw new VideoError('no frames decoded', { file: job.path });
            if (decoded.notes?.length) adjusted.push({ videoId: job.videoId, notes: decoded.notes });
          } catch (error) {
            failed.push({ videoId: job.videoId, reason: describeError(error) });
            progress.tick(1, `${job.videoId} skipped`);
            return;
          }
          const count = decoded.count;
          const features = await embed(decoded);
          if (writeFailure !== undefined) return;
          // A backbone that gives NaN fails this video here, named, rather than a training run later.
          const unstorable = unstorableValue(features, options.backbone.info.featureDim, cache.meta.dtype);
          if (unstorable) {
            failed.push({ videoId: job.videoId, reason: `the backbone gave ${unstorable}: not cached` });
            progress.tick(1, `${job.videoId} skipped`);
            return;
          }
          try {
            await cache.write(job.videoId, features, count, source);
          } catch (error) {
            writeFailure ??= error;
            return;
          }
          computed++;
          frames += count;
          progress.tick(1, job.videoId);
        }),
      ),
    );
  } finally {
    await pool?.close();
  }
  if (writeFailure !== undefined) {
    progress.stop(`features: stopped after ${computed} computed: cannot write to ${cache.dir}`);
    throw outputError(writeFailure, cache.dir, 'cannot write features');
  }
  const seconds = (Date.now() - started) / 1000;
  await writeJsonAtomic(path.join(cache.dir, 'failures.json'), { updatedAt: new Date().toISOString(), failed, recomputed });
  progress.stop(formatFeatureSummary({ computed, reused, recomputed, failed, seconds, cacheDir: cache.dir }));
  return {
    cacheDir: cache.dir,
    key: cache.key,
    weightsId: options.backbone.info.weightsId,
    total: options.jobs.length,
    reused,
    computed,
    recomputed,
    adjusted,
    failed,
    frames,
    seconds,
    framesPerSecond: frames / Math.max(seconds, 1e-3),
    workers: workerCount,
  };
}

/** Failures that are properties of the file itself, so skipping the video is the same choice on every run. */
const FILE_FAILURE_KINDS: ReadonlySet<VideoFailureKind> = new Set(['unsafe-id', 'missing', 'empty', 'not-a-video', 'no-video-stream', 'truncated', 'bad-bbox', 'bad-range', 'short', 'outside-dataset']);

/**
 * One video's frames for calibration, or null when the file itself is bad. Anything else (ffmpeg could not
 * start on a loaded machine, a transient read error) is retried and then thrown: silently calibrating on
 * other videos' frames would give other weights, and a resumed run would not match an uninterrupted one.
 */
async function calibrationFramesOf<J extends { videoId: string }>(job: J, frameProvider: FrameProvider<J>, attempts = 3): Promise<DecodedFrames | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await frameProvider(job);
    } catch (error) {
      if (error instanceof VideoFailure && FILE_FAILURE_KINDS.has(error.kind)) return null;
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * A few frames from a seeded choice of training videos, for calibrating a 'random' backbone's BatchNorm:
 * `framesPerVideo` evenly spaced frames from each of `videos` videos, RGB uint8 [N,224,224,3].
 */
export async function collectCalibrationFrames<J extends { videoId: string }>(
  trainJobs: readonly J[],
  frameProvider: FrameProvider<J>,
  options: { videos?: number; framesPerVideo?: number; seed?: number } = {},
): Promise<Uint8Array> {
  const wanted = options.videos ?? 8;
  const perVideo = options.framesPerVideo ?? 4;
  const frameBytes = MOBILENET_INPUT_SIZE * MOBILENET_INPUT_SIZE * 3;
  const chunks: Uint8Array[] = [];
  for (const job of seededShuffle(trainJobs, options.seed ?? 1)) {
    if (chunks.length >= wanted * perVideo) break;
    const decoded = await calibrationFramesOf(job, frameProvider);
    if (!decoded) continue;
    if (decoded.size !== MOBILENET_INPUT_SIZE) throw new ConfigError(`calibration frames must be ${MOBILENET_INPUT_SIZE}x${MOBILENET_INPUT_SIZE}, the frame provider gave ${decoded.size}`);
    const take = Math.min(perVideo, decoded.count);
    for (let k = 0; k < take; k++) {
      const index = Math.floor(((k + 0.5) * decoded.count) / take);
      chunks.push(decoded.frames.slice(index * frameBytes, (index + 1) * frameBytes));
    }
  }
  if (chunks.length < 2) throw new ConfigError(`could not read frames for calibrating the random backbone from ${trainJobs.length} training videos`);
  const out = new Uint8Array(chunks.length * frameBytes);
  chunks.forEach((c, i) => out.set(c, i * frameBytes));
  return out;
}

/**
 * The backbone for a config, with a 'random' one (chosen or fallen back to) calibrated on the training
 * videos' own frames.
 */
export async function loadBackboneForJobs<J extends { videoId: string }>(
  config: BackboneConfig,
  trainJobs: readonly J[],
  frameProvider: FrameProvider<J>,
  options: Omit<BackboneOptions, 'calibrationFrames'> = {},
): Promise<Backbone> {
  return loadBackbone(config, { ...options, calibrationFrames: () => collectCalibrationFrames(trainJobs, frameProvider, { seed: config.seed }) });
}
