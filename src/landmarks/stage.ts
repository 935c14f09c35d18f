import * as os from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { FramesConfig } from '../config';
import { describeError, outputError, VideoError } from '../errors';
import type { Bbox, VideoJob } from '../metadata/types';
import { writeJsonAtomic } from '../runtime/atomic';
import { createProgress, type ProgressMode } from '../runtime/progress';
import { extractFramesWithPlan } from '../video/extract';
import { squareBbox } from '../video/geometry';
import { formatRecomputed, sourceStamp, type RecomputedEntry, type SourceStamp } from '../video/source_stamp';
import { VideoFailure } from '../video/types';
import { openLandmarkCache, type LandmarkEntry } from './cache';
import { extractClipLandmarks, type FrameGeometry } from './extract';
import { landmarkModelFiles, loadLandmarkModels } from './human';
import { signerReference } from './normalise';
import { checkLandmarkParams, DEFAULT_LANDMARK_PARAMS, type LandmarkParams } from './params';
import { startLandmarkWorkers, type LandmarkWorkerPool } from './pool';
import type { ClipLandmarks, ClipLandmarkStats } from './types';

/**
 * The landmark stage beside the CNN features, with the same guarantees: computed once per clip and cached
 * (cache.ts: keyed by Human's model files and every parameter), clips in parallel over worker threads (one
 * wasm backend each), resumable (finished clips are skipped, each written atomically as soon as it is done),
 * and bad input reported, never fatal: a clip that cannot be decoded is listed with its reason, a frame the
 * models fail on is kept without landmarks and counted.
 */

export interface BuildLandmarkCacheOptions {
  jobs: readonly VideoJob[];
  /** Folder holding one <key>/ folder per model and parameter set (the dataset's `landmarks/` in the user cache). */
  cacheRoot: string;
  /** The frame window and crop, as for the CNN features (config.frames); the size comes from params. */
  frames: FramesConfig;
  params?: Partial<LandmarkParams>;
  /** Worker threads, one wasm backend each; 0 runs in this thread. Default: number of cores. */
  workers?: number;
  progress?: ProgressMode;
}

export interface LandmarkFailure {
  videoId: string;
  /** The frame stage's failure kind for a bad video, 'landmarks' when the models failed on the clip. */
  kind: string;
  reason: string;
}

export interface BuildLandmarkCacheReport {
  cacheDir: string;
  key: string;
  params: LandmarkParams;
  total: number;
  /** Finished by an earlier run and checked (complete, of this key, made from the same video). */
  reused: number;
  computed: number;
  recomputed: RecomputedEntry[];
  failed: LandmarkFailure[];
  /** Clips with frames the models failed on (kept, without landmarks in those frames). */
  badFrames: Array<{ videoId: string; frames: number; reason: string }>;
  /** Clips in which no frame shows both shoulders: their landmarks cannot be normalised to the signer. */
  noSigner: string[];
  /** Sums of the per-clip counts over every finished clip (computed and reused). */
  stats: ClipLandmarkStats;
  /** Frames computed in this run, and the wall time of the run. */
  frames: number;
  seconds: number;
  framesPerSecond: number;
  /** Of `seconds`, starting the workers (each loads the models); and the CPU that took (all threads). */
  startSeconds: number;
  startCpuSeconds: number;
  workers: number;
}

export { squareBbox };

export interface LandmarkFrames {
  frames: Uint8Array;
  count: number;
  geometry: FrameGeometry;
  details: Omit<LandmarkEntry, 'format' | 'version' | 'key' | 'videoId' | 'stats' | 'frames' | 'source'>;
}

/** A clip's frames for the landmark models: the window of config.frames, the (squared) bbox crop, params.size. */
export async function landmarkFrames(job: VideoJob, frames: FramesConfig, params: LandmarkParams): Promise<LandmarkFrames> {
  const cropJob = frames.cropToBbox && params.squareCrop && job.bbox ? { ...job, bbox: squareBbox(job.bbox) } : job;
  const { frames: decoded, plan } = await extractFramesWithPlan(cropJob, { ...frames, size: params.size, output: 'raw' }, { threads: 1 });
  const crop = plan.crop ?? { x: 0, y: 0, width: plan.info.width, height: plan.info.height };
  return {
    frames: decoded.frames,
    count: decoded.count,
    geometry: { size: decoded.size, crop },
    details: {
      geometry: { size: decoded.size, crop },
      video: { width: plan.info.width, height: plan.info.height, fps: plan.info.fps },
      sourceFrames: decoded.sourceFrames,
      padded: decoded.padded,
      notes: decoded.notes ?? [],
    },
  };
}

export function emptyStats(): ClipLandmarkStats {
  return { frames: 0, visibleWrists: 0, handsAtVisibleWrists: 0, framesWithHand: 0, framesWithBothHands: 0, landmarkRuns: 0, detectorRuns: 0, badFrames: 0 };
}

export function addStats(total: ClipLandmarkStats, clip: ClipLandmarkStats): void {
  for (const key of Object.keys(total) as Array<keyof ClipLandmarkStats>) total[key] += clip[key];
}

/** One line for logs: counts, with recomputed entries named, and the hand recall. */
export function formatLandmarkSummary(r: BuildLandmarkCacheReport): string {
  const recomputed = formatRecomputed(r.recomputed);
  const recall = r.stats.visibleWrists ? ` hands at ${((100 * r.stats.handsAtVisibleWrists) / r.stats.visibleWrists).toFixed(1)}% of visible wrists,` : '';
  return `landmarks: ${r.computed} computed${recomputed ? ` (${recomputed})` : ''}, ${r.reused} reused, ${r.failed.length} failed,${recall} ${r.badFrames.length} clips with bad frames, ${r.noSigner.length} without shoulders${r.computed > 0 ? `, ${r.framesPerSecond.toFixed(1)} frames/s` : ''} -> ${r.cacheDir}`;
}

export async function buildLandmarkCache(options: BuildLandmarkCacheOptions): Promise<BuildLandmarkCacheReport> {
  const started = Date.now();
  // An option left undefined (a CLI flag not given) keeps its default.
  const given = Object.fromEntries(Object.entries(options.params ?? {}).filter(([, v]) => v !== undefined));
  const params: LandmarkParams = { ...DEFAULT_LANDMARK_PARAMS, ...given };
  checkLandmarkParams(params);
  const settings = { window: options.frames.window, cropToBbox: options.frames.cropToBbox };
  const cache = await openLandmarkCache(options.cacheRoot, landmarkModelFiles(), params, settings);
  const uses = { bbox: options.frames.cropToBbox, range: options.frames.window.useMetadataRange };

  const stats = emptyStats();
  const noSigner: string[] = [];
  const badFrames: BuildLandmarkCacheReport['badFrames'] = [];
  const noteEntry = (videoId: string, entry: Pick<LandmarkEntry, 'frames' | 'stats'>) => {
    addStats(stats, entry.stats);
    if (!signerReference(entry.frames, params.minBodyScore)) noSigner.push(videoId);
    if (entry.stats.badFrames > 0) badFrames.push({ videoId, frames: entry.stats.badFrames, reason: entry.frames.find((f) => f.error)?.error ?? 'unknown' });
  };

  const pending: Array<{ job: VideoJob; source: SourceStamp }> = [];
  const recomputed: RecomputedEntry[] = [];
  for (const job of options.jobs) {
    // Stamped before decoding: a file replaced while it is read then differs from its record on the next run.
    const source = await sourceStamp(job, uses);
    const check = await cache.check(job.videoId, source);
    if (check.status === 'ok') {
      noteEntry(job.videoId, check.entry);
      continue;
    }
    if (check.status !== 'missing') {
      recomputed.push({ videoId: job.videoId, why: check.status, reason: check.reason });
      await cache.remove(job.videoId);
    }
    pending.push({ job, source });
  }
  const reused = options.jobs.length - pending.length;
  const workerCount = Math.min(options.workers ?? os.availableParallelism(), pending.length);

  const startedWorkers = Date.now();
  const cpuBefore = process.cpuUsage();
  let pool: LandmarkWorkerPool | undefined;
  let run: (f: LandmarkFrames) => Promise<ClipLandmarks>;
  if (workerCount > 0) {
    pool = await startLandmarkWorkers(workerCount, params);
    run = (f) => pool!.run({ frames: f.frames, count: f.count, geometry: f.geometry });
  } else {
    const models = pending.length ? await loadLandmarkModels() : undefined;
    run = (f) => extractClipLandmarks(models!, f.frames, f.count, f.geometry, params);
  }
  const startSeconds = (Date.now() - startedWorkers) / 1000;
  const startCpu = process.cpuUsage(cpuBefore);

  const failed: LandmarkFailure[] = [];
  let computed = 0;
  let frames = 0;
  const progress = createProgress('landmarks', pending.length, { unit: 'videos', mode: options.progress });
  // Decoding runs ahead of the models so workers never wait, but at most two clips per worker are held.
  const limit = pLimit(Math.max(1, workerCount * 2));
  // A write that fails (disk full, read-only) stops the build: every later clip would fail the same way.
  let writeFailure: unknown;
  try {
    await Promise.all(
      pending.map(({ job, source }) =>
        limit(async () => {
          if (writeFailure !== undefined) return;
          let input: LandmarkFrames;
          let clip: ClipLandmarks;
          try {
            input = await landmarkFrames(job, options.frames, params);
            if (input.count < 1) throw new VideoError('no frames decoded', { file: job.path });
          } catch (error) {
            failed.push({ videoId: job.videoId, kind: error instanceof VideoFailure ? error.kind : 'decode-failed', reason: describeError(error) });
            progress.tick(1, `${job.videoId} failed`);
            return;
          }
          const details = input.details;
          try {
            clip = await run(input);
          } catch (error) {
            failed.push({ videoId: job.videoId, kind: 'landmarks', reason: describeError(error) });
            progress.tick(1, `${job.videoId} failed`);
            return;
          }
          if (writeFailure !== undefined) return;
          try {
            await cache.write(job.videoId, clip, { ...details, source });
          } catch (error) {
            writeFailure ??= error;
            return;
          }
          noteEntry(job.videoId, clip);
          computed++;
          frames += clip.stats.frames;
          progress.tick(1, job.videoId);
        }),
      ),
    );
  } finally {
    await pool?.close();
  }
  if (writeFailure !== undefined) {
    progress.stop(`landmarks: stopped after ${computed} computed: cannot write to ${cache.dir}`);
    throw outputError(writeFailure, cache.dir, 'cannot write landmarks');
  }
  // Workers finish in any order: sorted, a report does not change from one run to the next.
  const byId = (a: { videoId: string }, b: { videoId: string }) => a.videoId.localeCompare(b.videoId);
  failed.sort(byId);
  badFrames.sort(byId);
  noSigner.sort();
  const seconds = (Date.now() - started) / 1000;
  await writeJsonAtomic(path.join(cache.dir, 'failures.json'), { updatedAt: new Date().toISOString(), failed, recomputed, badFrames, noSigner });
  const report: BuildLandmarkCacheReport = {
    cacheDir: cache.dir,
    key: cache.key,
    params,
    total: options.jobs.length,
    reused,
    computed,
    recomputed,
    failed,
    badFrames,
    noSigner,
    stats,
    frames,
    seconds,
    framesPerSecond: frames / Math.max(seconds, 1e-3),
    startSeconds,
    startCpuSeconds: (startCpu.user + startCpu.system) / 1e6,
    workers: workerCount,
  };
  // The summary line is the caller's to print (formatLandmarkSummary): the CLI adds the failures to it.
  progress.stop();
  return report;
}
