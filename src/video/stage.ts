import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { checkFramesConfig, type FramesConfig } from '../config';
import { ConfigError, describeError, writeProblem } from '../errors';
import type { VideoJob } from '../metadata/types';
import { isSafeVideoId, SAFE_VIDEO_ID_RULE } from '../metadata/video_id';
import { mkdirError, publishDirectory, tempDirFor, writeJsonAtomic } from '../runtime/atomic';
import { ffmpegBinaries, ffmpegVersion } from '../runtime/ffmpeg';
import { createProgress, ProgressMode } from '../runtime/progress';
import { extractJpegFramesBatch, type ExtractOptions, type JpegExtraction, type JpegOutcome } from './extract';
import { FrameFailure, FrameManifest, FrameStageProgress, FrameStageSummary, VideoFailure } from './types';
import { describeStampChange, formatRecomputed, sourceStamp, type RecomputedEntry, type SourceStamp } from './source_stamp';

/**
 * The frame stage over a whole dataset: JPEG frames per video under <outRoot>/<paramsKey>/<videoId>/.
 *
 * Resumable and kill-safe: each video is written into a hidden temporary folder beside its final place,
 * with manifest.json last, then renamed into place in one step. A video counts as done only when its folder
 * exists with a manifest whose files are all present at their recorded sizes; a rerun skips those, removes
 * temporary folders left by killed runs and redoes everything else. The params key names every parameter that
 * changes the pixels, so a change of window, size, crop or quality never mixes outputs; what it cannot name
 * (the video file, its bbox and frame range in the metadata) is recorded in each manifest and compared on
 * reuse, so a replaced video or an edited bbox is extracted again and reported, never silently kept.
 */

/** Bump when the extraction itself changes (filter chain, naming), so old outputs are not reused. */
const STAGE_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const REPORT_FILE = 'report.json';
export const PARAMS_FILE = 'params.json';

/** e.g. "frames-v1_w5-35_s224_bbox_pad_q92"; with WLASL ranges "wmeta5-35" (the fallback window). */
export function paramsKey(config: FramesConfig): string {
  checkFramesConfig(config);
  const w = config.window;
  const window = `${w.useMetadataRange ? 'wmeta' : 'w'}${w.start}-${w.end}`;
  const crop = config.cropToBbox ? 'bbox' : 'full';
  return `frames-v${STAGE_VERSION}_${window}_s${config.size}_${crop}_${w.shortVideoPolicy}_q${config.jpegQuality}`;
}

/** Parameters that fix the output, written to <outDir>/params.json for people and tools. */
function outputParams(config: FramesConfig) {
  return { stageVersion: STAGE_VERSION, window: config.window, size: config.size, cropToBbox: config.cropToBbox, jpegQuality: config.jpegQuality };
}

function checkVideoId(videoId: string): void {
  if (!isSafeVideoId(videoId)) {
    throw new VideoFailure('unsafe-id', `video id ${JSON.stringify(videoId)} is not a safe folder name (${SAFE_VIDEO_ID_RULE})`, { file: videoId });
  }
}

export function stageDir(outRoot: string, config: FramesConfig): string {
  return path.join(outRoot, paramsKey(config));
}

/** Folder of a video's frames (finished or not: check with readFinishedManifest). */
export function frameDir(outRoot: string, config: FramesConfig, videoId: string): string {
  checkVideoId(videoId);
  return path.join(stageDir(outRoot, config), videoId);
}

type FinishedState = { manifest: FrameManifest } | { missing: true } | { damaged: string };

/** A video folder: finished (its manifest, every file at its recorded size), missing, or damaged and why. */
async function inspectFinished(dir: string, key?: string): Promise<FinishedState> {
  let manifest: FrameManifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as FrameManifest;
  } catch (error) {
    // Folders are published whole, so an existing one without a readable manifest was damaged afterwards.
    if (!fs.existsSync(dir)) return { missing: true };
    const code = (error as NodeJS.ErrnoException).code;
    return { damaged: code ? `${MANIFEST_FILE} unreadable (${code})` : `${MANIFEST_FILE} is not valid JSON` };
  }
  if (!manifest || !Array.isArray(manifest.files) || manifest.files.length === 0) return { damaged: `${MANIFEST_FILE} lists no frames` };
  if (key !== undefined && manifest.paramsKey !== key) return { damaged: `${MANIFEST_FILE} is for ${manifest.paramsKey}, not ${key}` };
  for (const file of manifest.files) {
    try {
      const stat = await fs.promises.stat(path.join(dir, file.name));
      if (stat.size !== file.bytes) return { damaged: `${file.name} has ${stat.size} bytes, ${MANIFEST_FILE} says ${file.bytes}` };
    } catch (error) {
      return { damaged: `${file.name} missing (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  return { manifest };
}

/** The manifest of a finished video folder, or null when the folder is missing, partial or damaged. */
export async function readFinishedManifest(dir: string, key?: string): Promise<FrameManifest | null> {
  const state = await inspectFinished(dir, key);
  return 'manifest' in state ? state.manifest : null;
}

/** Sorted absolute paths of a finished video's frames, or null when it is not finished. */
export async function finishedFramePaths(outRoot: string, config: FramesConfig, videoId: string): Promise<string[] | null> {
  const dir = frameDir(outRoot, config, videoId);
  const manifest = await readFinishedManifest(dir, paramsKey(config));
  return manifest ? manifest.files.map((f) => path.join(dir, f.name)) : null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary video folders left by runs that were killed (their process is gone). */
async function removeStaleTemporaries(outDir: string): Promise<number> {
  let removed = 0;
  for (const name of await fs.promises.readdir(outDir)) {
    const match = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && processAlive(pid)) continue;
    // The killed run's ffmpeg may still be writing into it for a moment (SIGKILL does not reach children):
    // retry, and if it still fails leave it for the next run rather than stop this one.
    try {
      await fs.promises.rm(path.join(outDir, name), { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      removed++;
    } catch {
      // Harmless: hidden folders are never taken for finished videos.
    }
  }
  return removed;
}

export interface FrameStageOptions {
  onProgress?: (event: FrameStageProgress) => void;
  /** Progress display; default: bar on a terminal, lines otherwise (WLASL_PROGRESS overrides). */
  progress?: ProgressMode;
  /** Overrides config.concurrency (0 = number of cores). */
  concurrency?: number;
  /** ffmpeg decoder threads per video; default 1 when several videos run at once. */
  threads?: number;
  /**
   * Videos per ffmpeg process (default DEFAULT_BATCH; 1 = a process per video). Batches shrink towards the end
   * of the work so that no core idles while another finishes a long one.
   */
  batch?: number;
}

/**
 * 8 videos a process: on real10 one process at a time costs 117.7 ms of CPU a clip against 141.9 alone (-17%),
 * 79.2 against 85.0 on 640x480 clips (bench/video_stage.ts, 2026-12-06); larger batches add little to that.
 */
export const DEFAULT_BATCH = 8;

/** More inputs than this in one ffmpeg would mean as many demuxer threads and open files, for no further gain. */
export const MAX_BATCH = 64;

/** Refuses a batch size that is not a whole number in 1..MAX_BATCH (undefined: the default). */
export function checkBatch(batch: number | undefined, name = 'batch (videos per ffmpeg process)'): void {
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= MAX_BATCH)) {
    throw new ConfigError(`${name} must be a whole number from 1 to ${MAX_BATCH}, got ${batch}`);
  }
}

export function resolveConcurrency(requested: number): number {
  if (requested > 0) return Math.floor(requested);
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Writes a video's manifest into its temporary folder and publishes the folder; returns how many frames were padded. */
async function publishExtraction(job: VideoJob, tmp: string, target: string, key: string, result: JpegExtraction, source: SourceStamp): Promise<number> {
  const files: FrameManifest['files'] = [];
  for (const name of result.files) files.push({ name, bytes: (await fs.promises.stat(path.join(tmp, name))).size });
  const manifest: FrameManifest = {
    videoId: job.videoId,
    source: job.path,
    paramsKey: key,
    files,
    sourceFrames: result.sourceFrames,
    padded: result.padded,
    ...(result.notes.length ? { notes: result.notes } : {}),
    crop: result.plan.crop,
    probe: result.plan.info,
    sourceStamp: source,
  };
  await writeJsonAtomic(path.join(tmp, MANIFEST_FILE), manifest);
  await publishDirectory(tmp, target);
  return result.padded;
}

/**
 * Hands out the pending videos in batches: full ones while plenty remain, then each worker's share of what is
 * left (guided self-scheduling), so the last batches end close together. p-limit schedules single tasks, not
 * shrinking chunks.
 */
function batchesOf<T>(items: readonly T[], batch: number, workers: number): () => T[] {
  let next = 0;
  return () => {
    const remaining = items.length - next;
    const size = Math.max(1, Math.min(batch, Math.ceil(remaining / workers)));
    const out = items.slice(next, next + size);
    next += out.length;
    return out;
  };
}

function toFailure(job: VideoJob, error: unknown, outDir: string): FrameFailure {
  if (error instanceof VideoFailure) {
    const prefix = `${error.file}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { videoId: job.videoId, file: job.path, kind: error.kind, reason };
  }
  // Anything else (disk full, permissions) is recorded for this video, its partial folder already removed;
  // the reason names the output folder, since the source video is not at fault.
  const problem = writeProblem(error);
  const reason = problem ? `cannot write its frames to ${path.join(outDir, job.videoId)}: ${problem}` : describeError(error);
  return { videoId: job.videoId, file: job.path, kind: 'write-failed', reason };
}

/**
 * Extracts JPEG frames for every job, in parallel (bounded), skipping videos finished by earlier runs.
 * Never throws for a bad video: it is recorded in summary.failures and in <outDir>/report.json.
 */
export async function runFrameStage(
  jobs: readonly VideoJob[],
  config: FramesConfig,
  outRoot: string,
  options: FrameStageOptions = {},
): Promise<FrameStageSummary> {
  const started = Date.now();
  checkBatch(options.batch);
  const key = paramsKey(config);
  const outDir = path.join(outRoot, key);
  try {
    await fs.promises.mkdir(outDir, { recursive: true });
  } catch (error) {
    throw mkdirError(error, outDir, 'cannot create the frames folder');
  }
  await writeJsonAtomic(path.join(outDir, PARAMS_FILE), { paramsKey: key, ...outputParams(config) });
  await removeStaleTemporaries(outDir);

  const concurrency = resolveConcurrency(options.concurrency ?? config.concurrency);
  const extract: ExtractOptions = { threads: options.threads ?? (concurrency > 1 ? 1 : undefined) };
  const limit = pLimit(concurrency);
  const progress = createProgress('frames', jobs.length, { unit: 'videos', mode: options.progress });
  const failures: FrameFailure[] = [];
  const recomputed: RecomputedEntry[] = [];
  const uses = { bbox: config.cropToBbox, range: config.window.useMetadataRange };
  let done = 0;
  let skipped = 0;
  let padded = 0;
  let batched = 0;
  let processes = 0;
  let completed = 0;
  const seen = new Set<string>();

  const finish = (job: VideoJob, status: FrameStageProgress['status']) => {
    completed++;
    progress.tick(1, job.videoId);
    options.onProgress?.({ completed, total: jobs.length, videoId: job.videoId, status });
  };
  const fail = (job: VideoJob, error: unknown) => {
    failures.push(toFailure(job, error, outDir));
    finish(job, 'failed');
  };

  // Which videos need extracting: checked one by one (cheap), finished ones skipped right away.
  const pending: Array<{ job: VideoJob; source: SourceStamp }> = [];
  await Promise.all(
    jobs.map((job) =>
      limit(async () => {
        try {
          checkVideoId(job.videoId);
          if (seen.has(job.videoId)) {
            throw new VideoFailure('unsafe-id', `video id ${job.videoId} appears more than once in the job list`, { file: job.path });
          }
          seen.add(job.videoId);
          const target = path.join(outDir, job.videoId);
          // Stamped before extracting: a file replaced while it is read then differs from its record next run.
          const source = await sourceStamp(job, uses);
          const state = await inspectFinished(target, key);
          if ('manifest' in state) {
            const change = describeStampChange(state.manifest.sourceStamp, source);
            if (change === null) {
              skipped++;
              finish(job, 'skipped');
              return;
            }
            recomputed.push({ videoId: job.videoId, why: 'stale', reason: change });
          } else if ('damaged' in state) {
            recomputed.push({ videoId: job.videoId, why: 'damaged', reason: state.damaged });
          }
          // Removed before extracting, so a video that now fails leaves no old frames to be taken as its own.
          if (!('missing' in state)) await fs.promises.rm(target, { recursive: true, force: true });
          pending.push({ job, source });
        } catch (error) {
          fail(job, error);
        }
      }),
    ),
  );
  // Largest files first, so that the small ones fill the last batches and the workers finish together (a batch
  // holding a 1080p clip at the end kept one core busy alone: real10 took as long batched as not); then in job
  // order, so batches do not depend on which check finished first.
  const order = new Map<string, number>();
  jobs.forEach((job, i) => order.set(job.videoId, order.get(job.videoId) ?? i));
  pending.sort((a, b) => (b.source.bytes ?? 0) - (a.source.bytes ?? 0) || order.get(a.job.videoId)! - order.get(b.job.videoId)!);

  const batch = options.batch ?? DEFAULT_BATCH;
  const nextBatch = batchesOf(pending, batch, concurrency);
  const extractBatch = async (items: Array<{ job: VideoJob; source: SourceStamp }>): Promise<void> => {
    const ready: Array<{ job: VideoJob; source: SourceStamp; tmp: string; target: string }> = [];
    for (const item of items) {
      const target = path.join(outDir, item.job.videoId);
      const tmp = tempDirFor(target);
      try {
        await fs.promises.mkdir(tmp, { recursive: true });
        ready.push({ ...item, tmp, target });
      } catch (error) {
        fail(item.job, error);
      }
    }
    let outcomes: JpegOutcome[];
    try {
      const result = await extractJpegFramesBatch(ready.map(({ job, tmp }) => ({ job, dir: tmp })), config, extract);
      outcomes = result.outcomes;
      processes += result.processes;
    } catch (error) {
      outcomes = ready.map(() => ({ error })); // it judges each video itself; this is the disk failing under it
    }
    for (const [i, { job, source, tmp, target }] of ready.entries()) {
      const outcome = outcomes[i]!;
      try {
        if ('error' in outcome) throw outcome.error;
        if ((await publishExtraction(job, tmp, target, key, outcome.extraction, source)) > 0) padded++;
        if (outcome.batched) batched++;
        done++;
        finish(job, 'done');
      } catch (error) {
        // A folder that cannot be removed now is hidden and removed by the next run: never stop this one for it.
        await fs.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        fail(job, error);
      }
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let items = nextBatch(); items.length; items = nextBatch()) await extractBatch(items);
    }),
  );

  failures.sort((a, b) => a.videoId.localeCompare(b.videoId));
  recomputed.sort((a, b) => a.videoId.localeCompare(b.videoId));
  const seconds = (Date.now() - started) / 1000;
  const reportFile = path.join(outDir, REPORT_FILE);
  const summary: FrameStageSummary = { done, skipped, failed: failures.length, padded, batched, processes, recomputed, failures, seconds, outDir, reportFile };
  const { ffmpeg: ffmpegPath } = ffmpegBinaries();
  await writeJsonAtomic(reportFile, {
    paramsKey: key,
    params: outputParams(config),
    finishedAt: new Date().toISOString(),
    ffmpeg: { path: ffmpegPath, version: ffmpegVersion() },
    jobs: jobs.length,
    done,
    skipped,
    failed: failures.length,
    padded,
    batched,
    processes,
    recomputed,
    seconds,
    failures,
  });
  progress.stop(formatFrameSummary(summary));
  return summary;
}

/** One line for logs: counts, time and where the report is. */
export function formatFrameSummary(s: FrameStageSummary): string {
  const kinds = new Map<string, number>();
  for (const f of s.failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const failedText = s.failed ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}; see ${s.reportFile})` : '';
  const recomputed = formatRecomputed(s.recomputed);
  const processes = s.done || s.failed ? `, ${s.processes} ffmpeg processes` : '';
  return `frames: ${s.done} done (${s.padded} padded${recomputed ? `; ${recomputed}` : ''}), ${s.skipped} already done, ${s.failed} failed${failedText} in ${s.seconds.toFixed(1)}s${processes} -> ${s.outDir}`;
}
