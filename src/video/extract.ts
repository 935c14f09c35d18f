import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FramesConfig } from '../config';
import type { VideoJob } from '../metadata/types';
import { ffmpeg, ffmpegBinaries, FfmpegRunError, runFfmpeg, STDERR_GAP } from '../runtime/ffmpeg';
import { checkFramesConfig } from '../config';
import { cropRect, expectedFrameCount, selectFrames } from './geometry';
import { probeVideoWithSource } from './probe';
import { checkInsideDataset } from './containment';
import { CropRect, ExtractedFrames, FrameRange, VideoFailure, VideoInfo } from './types';

/**
 * One ffmpeg call per video: select the frame window, crop to the clamped bbox, scale to size x size, and
 * either pipe raw RGB to Node or write JPEGs. Decoding stops after the window's last frame (-frames:v), so a
 * long video costs no more than its first frames. `-vsync 0` keeps ffmpeg from duplicating or dropping frames
 * (the npm build is from 2018 and has no -fps_mode).
 *
 * Frame indices are 0-based in decode order, as the original's OpenCV read loop counted them. Frames are
 * stretched to a square as the original's cv2.resize did (bilinear). ffmpeg auto-rotates videos with rotation
 * metadata, so the bbox applies to the displayed frame and probeVideo reports the displayed size. Odd crop
 * offsets and sizes are kept exactly (crop exact=1); 4:2:0 chroma is then at most half a pixel off.
 */

/** Per-call tuning that is not part of the output (so not in FramesConfig or the params key). */
export interface ExtractOptions {
  /** ffmpeg decoder threads; undefined lets ffmpeg choose. 1 is fastest when several videos run at once. */
  threads?: number;
}

/** The plan for one video: what the probe found and what ffmpeg is asked to do. */
export interface ExtractionPlan {
  info: VideoInfo;
  range: FrameRange;
  /** Source indices ffmpeg keeps (ascending, distinct) when the range was sampled; null = every frame of the range. */
  sampled: number[] | null;
  /**
   * With window.resample, for each output frame its position in the decoded frames (a short clip repeats
   * positions); null = one output frame per decoded frame.
   */
  order: number[] | null;
  /** What was adjusted to get these frames (clamped range, rescaled fps, sampling), for reports. */
  notes: string[];
  /** ffmpeg stops after this many output frames: the window's end, or window.maxFrames for an open range. */
  decodeLimit: number;
  crop: CropRect | null;
  /** Frames the window should yield (before the short-video policy). */
  expected: number;
  filter: string;
  /**
   * The MP4 header told everything the decoder needs, so ffmpeg skips its stream analysis (-nofind_stream_info),
   * which decodes the first frames once more before the real decode: 5% of the CPU of a WLASL clip (104.9 ->
   * 99.5 ms a clip on wlasl-real10, byte-identical frames on all 109 H.264 clips). If ffmpeg then fails or
   * yields no frame, the clip is run again with the analysis, so the flag never decides an outcome. (Not on a
   * mere shortfall: a quarter of real clips decode 1-3 frames fewer than their container says, either way.)
   */
  skipStreamAnalysis: boolean;
}

/** Maps FramesConfig.jpegQuality (1..100, like libjpeg) onto ffmpeg's mjpeg qscale (2 best .. 31 worst). */
export function jpegQscale(quality: number): number {
  const q = Math.min(100, Math.max(1, quality));
  return Math.min(31, Math.max(2, Math.round(31 - (q / 100) * 29)));
}

/** Pixel format ffmpeg hands over: RGB for Node, full-range YUV for the JPEG encoder. */
export type ExtractTarget = 'raw' | 'jpeg';

export async function planExtraction(job: VideoJob, config: FramesConfig, target: ExtractTarget = 'raw'): Promise<ExtractionPlan> {
  checkFramesConfig(config);
  checkInsideDataset(job); // a listed video linking out of its dataset is refused before it is opened
  const { info, fromHeader } = await probeVideoWithSource(job.path);
  const selection = selectFrames(job, config.window, info);
  const { range, notes } = selection;
  const sampled = selection.sampled ? [...new Set(selection.sampled)] : null;
  const position = new Map(sampled?.map((n, i) => [n, i]));
  const order = selection.sampled && sampled && selection.sampled.length !== sampled.length ? selection.sampled.map((n) => position.get(n)!) : null;
  const crop = config.cropToBbox && job.bbox ? cropRect(job.bbox, info.width, info.height, job.path) : null;
  const expected = expectedFrameCount(selection, info, config.window);
  const decodeLimit = range.last === null ? config.window.maxFrames : expected;
  const select = sampled
    ? `select='${sampled.map((n) => `eq(n,${n})`).join('+')}'`
    : range.last === null
      ? `select='gte(n,${range.first})'`
      : `select='between(n,${range.first},${range.last})'`;
  const parts = [select];
  if (crop) parts.push(`crop=${crop.width}:${crop.height}:${crop.x}:${crop.y}:exact=1`);
  // The colour conversion happens inside this scale (the format filter after it), so it gets these flags:
  // without full_chroma_int + accurate_rnd swscale's RGB comes out 1-2 levels dark.
  parts.push(`scale=${config.size}:${config.size}:flags=bilinear+accurate_rnd+full_chroma_int`);
  parts.push(`format=${target === 'raw' ? 'rgb24' : 'yuvj420p'}`);
  return { info, range, sampled, order, notes, decodeLimit, crop, expected, filter: parts.join(','), skipStreamAnalysis: fromHeader };
}

interface FfmpegRun {
  stderr: string;
}

/** Errors only: stderr then holds just the messages used to tell a damaged file from a short one. */
const GLOBAL_ARGS = ['-hide_banner', '-nostats', '-loglevel', 'error'];

/** ffmpeg's options before and after `-i <file>` (without the global ones), the same for both targets. */
function ffmpegArgs(plan: ExtractionPlan, options: ExtractOptions): { input: string[]; output: string[] } {
  const input: string[] = [];
  if (options.threads !== undefined) input.push('-threads', String(options.threads));
  if (plan.skipStreamAnalysis) input.push('-nofind_stream_info');
  const output = ['-an', '-sn', '-dn', '-vf', plan.filter, '-vsync', '0'];
  // The encoder and the filter graph start their own thread pools too; when the caller runs several videos
  // at once, one thread each saves ~8% of ffmpeg's CPU per clip (measured: 92 vs 101 ms on a 640x480 clip).
  if (options.threads !== undefined) output.push('-threads', String(options.threads), '-filter_threads', String(options.threads));
  output.push('-frames:v', String(plan.decodeLimit));
  return { input, output };
}

function decodeFailure(job: VideoJob, error: unknown, stderr: string): VideoFailure {
  const detail = (stderr || (error as Error)?.message || String(error)).trim().split('\n').filter(Boolean).slice(-2).join(' | ');
  return new VideoFailure('decode-failed', `ffmpeg failed: ${detail}`, { file: job.path, cause: error });
}

/**
 * Runs ffmpeg with raw RGB on stdout; returns the chunks as they came (copied once, by the caller). Spawned
 * directly, not through fluent-ffmpeg: fluent fails a piped run whose stdout closes more than 20 ms before
 * the process exit is seen, which drops valid clips on a loaded machine (issue 15; see runFfmpeg).
 */
async function runRaw(job: VideoJob, plan: ExtractionPlan, options: ExtractOptions): Promise<{ chunks: Buffer[]; bytes: number } & FfmpegRun> {
  const { input, output } = ffmpegArgs(plan, options);
  // Absolute, so a name with a colon is never read as a protocol ("a:b.mp4").
  const args = [...GLOBAL_ARGS, ...input, '-i', path.resolve(job.path), ...output, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  try {
    const { stdout, stdoutBytes, stderr } = await runFfmpeg(args, { stdout: 'collect' });
    return { chunks: stdout, bytes: stdoutBytes, stderr };
  } catch (error) {
    throw decodeFailure(job, error, error instanceof FfmpegRunError ? error.stderr : '');
  }
}

/** JPEG quality and numbering from the window's first source frame, for the image2 muxer. */
function jpegOutputArgs(plan: ExtractionPlan, quality: number): string[] {
  return ['-q:v', String(jpegQscale(quality)), '-start_number', String(plan.range.first), '-f', 'image2'];
}

/** <dir>/<index:06d>.jpg; the image2 muxer reads % in the whole path as a pattern, so a literal % is doubled. */
function jpegPattern(dir: string): string {
  return path.join(path.resolve(dir).replace(/%/g, '%%'), '%06d.jpg');
}

/**
 * Runs ffmpeg writing <dir>/<index:06d>.jpg numbered from the window's first source frame. fluent-ffmpeg is
 * safe here: with a file output it reports the end only after the exit and the close of both pipes.
 */
function runJpeg(job: VideoJob, plan: ExtractionPlan, dir: string, quality: number, options: ExtractOptions): Promise<FfmpegRun> {
  const { input, output } = ffmpegArgs(plan, options);
  ffmpegBinaries();
  return new Promise((resolve, reject) => {
    ffmpeg(path.resolve(job.path))
      .inputOptions([...GLOBAL_ARGS, ...input])
      .outputOptions(output)
      .outputOptions(jpegOutputArgs(plan, quality))
      .output(jpegPattern(dir))
      .on('error', (error: Error, _stdout: string | null, stderr: string | null) => reject(decodeFailure(job, error, stderr ?? '')))
      .on('end', (_stdout: string | null, stderr: string | null) => resolve({ stderr: stderr ?? '' }))
      .run();
  });
}

/**
 * Runs one extraction; a run without ffmpeg's stream analysis that fails or yields no frame is run again with
 * it, so a file the header misled (an in-band SPS, say) is judged exactly as before. `reset` clears what the
 * failed run left behind.
 */
async function withStreamAnalysisFallback<T>(
  plan: ExtractionPlan,
  run: (plan: ExtractionPlan) => Promise<T>,
  framesOf: (result: T) => number,
  reset: () => Promise<void> = async () => undefined,
): Promise<{ result: T; plan: ExtractionPlan }> {
  if (plan.skipStreamAnalysis) {
    try {
      const result = await run(plan);
      if (framesOf(result) > 0) return { result, plan };
    } catch {
      // judged by the run with the analysis, below
    }
    await reset();
  }
  const analysed = { ...plan, skipStreamAnalysis: false };
  return { result: await run(analysed), plan: analysed };
}

const TRUNCATION_SIGNS = [/partial file/i, /Invalid NAL unit/i, /error while decoding/i, /Invalid data found/i];

/**
 * Decides what a window with fewer decoded frames than expected means: a truncated or damaged file (the
 * container promises more frames, or ffmpeg complained about the data), or a genuinely short video, which
 * the short-video policy handles. Returns how many frames to pad (0 = none needed).
 */
function resolveShortfall(job: VideoJob, plan: ExtractionPlan, decoded: number, stderr: string, config: FramesConfig): number {
  const { expected, range, info } = plan;
  if (decoded >= expected) return 0;
  const windowText = range.last === null ? `from frame ${range.first}` : `${range.first}..${range.last}`;
  const damaged = TRUNCATION_SIGNS.some((re) => re.test(stderr));
  // Containers often count 1-3 more frames than decode (edit lists, dropped leading B-frames: seen in 24 of
  // the 110 real WLASL clips; OpenCV decodes the same number as ffmpeg). Only a bigger gap means damage.
  const promised = info.frameCountExact ? Math.min(expected, info.frameCount - range.first) : 0;
  const slack = Math.max(4, Math.ceil(0.1 * info.frameCount));
  if (damaged || promised - decoded > slack) {
    const firstErr = stderr.trim().split('\n').find((l) => l.trim()) ?? 'no ffmpeg message';
    throw new VideoFailure(
      'truncated',
      `truncated or damaged: decoded ${decoded} frames of window ${windowText}, the container promises ${info.frameCountExact ? info.frameCount : '?'} frames (${firstErr})`,
      { file: job.path },
    );
  }
  if (decoded === 0) {
    throw new VideoFailure('short', `video has ${info.frameCount} frames, none in window ${windowText}`, { file: job.path });
  }
  if (config.window.shortVideoPolicy === 'skip') {
    throw new VideoFailure(
      'short',
      `only ${decoded} of ${expected} frames in window ${windowText} (video has ${info.frameCount}); skipped by shortVideoPolicy 'skip'`,
      { file: job.path },
    );
  }
  return expected - decoded;
}

/** Source index of each output frame: the range's frames in order (or the sampled ones), then the padding. */
function sourceIndices(plan: ExtractionPlan, decoded: number, padded: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < decoded; i++) out.push(plan.sampled ? plan.sampled[i]! : plan.range.first + i);
  for (let i = 0; i < padded; i++) out.push(out[decoded - 1]!);
  return out;
}

/**
 * Raw frames for the next stage, no JPEG round trip: Uint8Array of row-major [count, size, size, 3] RGB.
 * Throws VideoFailure (a VideoError naming the file, with a kind) for a bad video or a skipped short one.
 */
export async function extractFrames(job: VideoJob, config: FramesConfig, options: ExtractOptions = {}): Promise<ExtractedFrames> {
  const result = await extractFramesWithPlan(job, config, options);
  return result.frames;
}

export async function extractFramesWithPlan(
  job: VideoJob,
  config: FramesConfig,
  options: ExtractOptions = {},
): Promise<{ frames: ExtractedFrames; plan: ExtractionPlan }> {
  const planned = await planExtraction(job, config, 'raw');
  const { result, plan } = await withStreamAnalysisFallback(planned, (p) => runRaw(job, p, options), (r) => r.bytes);
  const { chunks, bytes, stderr } = result;
  const frameBytes = config.size * config.size * 3;
  if (bytes % frameBytes !== 0) {
    throw new VideoFailure('decode-failed', `ffmpeg returned ${bytes} bytes, not a whole number of ${config.size}x${config.size} RGB frames`, { file: job.path });
  }
  const decoded = bytes / frameBytes;
  const padded = resolveShortfall(job, plan, decoded, stderr, config);
  const count = decoded + padded;
  const frames = new Uint8Array(count * frameBytes);
  let offset = 0;
  for (const chunk of chunks) {
    frames.set(chunk, offset);
    offset += chunk.length;
  }
  for (let i = decoded; i < count; i++) frames.copyWithin(i * frameBytes, (decoded - 1) * frameBytes, decoded * frameBytes);
  const sourceFrames = sourceIndices(plan, decoded, padded);
  if (plan.order) {
    // Resampled: output frame i is decoded frame order[i] (repeats for a clip shorter than the target length).
    const order = plan.order;
    const out = new Uint8Array(order.length * frameBytes);
    order.forEach((pos, i) => out.set(frames.subarray(pos * frameBytes, (pos + 1) * frameBytes), i * frameBytes));
    const repeatedPadding = order.filter((pos) => pos >= decoded).length;
    return { frames: { frames: out, count: order.length, size: config.size, padded: repeatedPadding, sourceFrames: order.map((pos) => sourceFrames[pos]!), notes: plan.notes }, plan };
  }
  return { frames: { frames, count, size: config.size, padded, sourceFrames, notes: plan.notes }, plan };
}

/** File name of the frame at source (or, for padding, window) index i: zero-padded so sorted order is time order. */
export function frameFileName(index: number): string {
  return `${String(index).padStart(6, '0')}.jpg`;
}

export interface JpegExtraction {
  plan: ExtractionPlan;
  /** File names in temporal order (sources first..last; padded frames continue the window's numbering). */
  files: string[];
  sourceFrames: number[];
  padded: number;
  /** What was adjusted to get these frames (see ExtractionPlan.notes). */
  notes: string[];
}

/**
 * Writes the window's frames as JPEGs into `dir` (which must exist and be empty). Padded frames are copies of
 * the last decoded frame, named by their place in the window, so every video of a fixed window has the same
 * file names and sorted order is temporal order.
 */
export async function extractJpegFrames(job: VideoJob, config: FramesConfig, dir: string, options: ExtractOptions = {}): Promise<JpegExtraction> {
  return extractPlannedJpegFrames(job, await planExtraction(job, config, 'jpeg'), config, dir, options);
}

/** extractJpegFrames from a plan; `onRun` hears of each ffmpeg run (two when the stream analysis was needed). */
async function extractPlannedJpegFrames(job: VideoJob, planned: ExtractionPlan, config: FramesConfig, dir: string, options: ExtractOptions, onRun = (): void => undefined): Promise<JpegExtraction> {
  const runAndList = async (p: ExtractionPlan) => {
    onRun();
    const { stderr } = await runJpeg(job, p, dir, config.jpegQuality, options);
    return { stderr, written: await listJpegs(dir) };
  };
  const { result, plan } = await withStreamAnalysisFallback(planned, runAndList, (r) => r.written.length, () => clearDir(dir));
  return finishJpegFrames(job, plan, dir, result.written, result.stderr, config);
}

/** The frame files ffmpeg's image2 muxer wrote into `dir`, sorted. */
async function listJpegs(dir: string): Promise<string[]> {
  return (await fs.promises.readdir(dir)).filter((n) => /^\d{6}\.jpg$/.test(n)).sort();
}

async function clearDir(dir: string): Promise<void> {
  for (const name of await fs.promises.readdir(dir)) await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
}

/** Checks what ffmpeg wrote, judges a shortfall, names sampled frames by their source index and pads. */
async function finishJpegFrames(job: VideoJob, plan: ExtractionPlan, dir: string, written: string[], stderr: string, config: FramesConfig): Promise<JpegExtraction> {
  const decoded = written.length;
  const first = plan.range.first;
  written.forEach((name, i) => {
    if (name !== frameFileName(first + i)) {
      throw new VideoFailure('decode-failed', `ffmpeg wrote ${name} where ${frameFileName(first + i)} was expected`, { file: job.path });
    }
  });
  const padded = resolveShortfall(job, plan, decoded, stderr, config);
  const sourceFrames = sourceIndices(plan, decoded, padded);
  const files = [...written];
  if (plan.sampled) {
    // ffmpeg numbers its outputs consecutively; sampled frames are renamed to their source index, last first
    // (a sampled index is never below its position's number, so no rename overwrites a frame not yet moved).
    for (let i = decoded - 1; i >= 0; i--) {
      files[i] = frameFileName(sourceFrames[i]!);
      if (files[i] !== written[i]) await fs.promises.rename(path.join(dir, written[i]!), path.join(dir, files[i]!));
    }
  }
  const lastIndex = plan.sampled ? sourceFrames[decoded - 1]! + 1 - decoded : first;
  const lastFile = path.join(dir, files[decoded - 1]!);
  for (let i = decoded; i < decoded + padded; i++) {
    const name = frameFileName(lastIndex + i);
    await fs.promises.copyFile(lastFile, path.join(dir, name));
    files.push(name);
  }
  if (plan.order) {
    // Resampled: the manifest lists a repeated frame's file again, so readers get the frames in output order.
    const order = plan.order;
    return { plan, files: order.map((pos) => files[pos]!), sourceFrames: order.map((pos) => sourceFrames[pos]!), padded: order.filter((pos) => pos >= decoded).length, notes: plan.notes };
  }
  return { plan, files, sourceFrames, padded, notes: plan.notes };
}

/** A video and the empty folder its JPEG frames go to. */
export interface JpegTarget {
  job: VideoJob;
  dir: string;
}

/** Per video of a batch: its frames (and whether they came from the shared process), or why it has none. */
export type JpegOutcome = { extraction: JpegExtraction; batched: boolean } | { error: unknown };

/** A batch's outcomes, in the order of its targets, and how many ffmpeg processes it took. */
export interface JpegBatchResult {
  outcomes: JpegOutcome[];
  processes: number;
}

/**
 * JPEG frames of several videos from one ffmpeg process (several inputs, one image2 output each): a process
 * costs 40-55 ms of CPU before its first frame on these machines, about a third of a WLASL clip's whole
 * extraction, and a batch pays it once (bench/video_stage.ts measures both ways).
 *
 * Outcomes are exactly those of extractJpegFrames one video at a time. A video joins the batch only when its
 * header was read without ffprobe (planExtraction: one H.264 track, so `-map k:v:0` is the stream ffmpeg would
 * pick alone, and no stream analysis is needed). Its frames are taken from the batch when ffmpeg succeeded and
 * either the whole window came out or ffmpeg printed no error at all (a shortfall is then a short video, as
 * alone). Everything else (a failed process, an error message that could be any input's, no frame) is run
 * again alone, so one bad clip never fails its batch-mates and is judged by its own run.
 */
export async function extractJpegFramesBatch(targets: readonly JpegTarget[], config: FramesConfig, options: ExtractOptions = {}): Promise<JpegBatchResult> {
  let processes = 0;
  const alone = async (target: JpegTarget, plan: ExtractionPlan): Promise<JpegOutcome> => {
    try {
      await clearDir(target.dir);
      return { extraction: await extractPlannedJpegFrames(target.job, plan, config, target.dir, options, () => processes++), batched: false };
    } catch (error) {
      return { error };
    }
  };
  // One after another: a clip without a readable header is probed by ffprobe, and the stage's concurrency
  // bounds how many processes run at once.
  const plans: Array<{ plan: ExtractionPlan } | { error: unknown }> = [];
  for (const t of targets) {
    try {
      plans.push({ plan: await planExtraction(t.job, config, 'jpeg') });
    } catch (error) {
      plans.push({ error });
    }
  }
  const batched = targets.flatMap((target, i) => {
    const planned = plans[i]!;
    return 'plan' in planned && planned.plan.skipStreamAnalysis ? [{ target, plan: planned.plan, at: i }] : [];
  });
  const outcomes: Array<JpegOutcome | undefined> = new Array(targets.length);
  if (batched.length > 1) {
    // -y as fluent-ffmpeg passes it alone (the folders are new and empty either way).
    const args = ['-y', ...GLOBAL_ARGS];
    const perInput = batched.map(({ plan }) => ffmpegArgs(plan, options));
    batched.forEach(({ target }, k) => args.push(...perInput[k]!.input, '-i', path.resolve(target.job.path)));
    batched.forEach(({ target, plan }, k) => {
      args.push('-map', `${k}:v:0`, ...perInput[k]!.output, ...jpegOutputArgs(plan, config.jpegQuality), jpegPattern(target.dir));
    });
    processes++;
    let stderr: string | null;
    try {
      stderr = (await runFfmpeg(args, { stdout: 'ignore' })).stderr;
    } catch {
      stderr = null; // every video of the batch is run again alone, below
    }
    // Inputs whose decoder returned an error: alone, ffmpeg fails a run where more than 2/3 of the decode calls
    // failed (-max_error_rate), but it counts them over the whole process, so in a batch the clean clips' frames
    // would dilute a bad clip's errors. Every failed decode call logs this line with its input's number. If
    // runFfmpeg had to drop the middle of a long stderr, nothing can be attributed: all run alone.
    const failedInputs = new Set([...(stderr ?? '').matchAll(/Error while decoding stream #(\d+):/g)].map((m) => Number(m[1])));
    const attributable = stderr !== null && !stderr.includes(STDERR_GAP);
    for (const [k, { target, plan, at }] of batched.entries()) {
      if (!attributable || failedInputs.has(k)) continue;
      let written: string[];
      try {
        written = await listJpegs(target.dir);
      } catch {
        continue; // judged by its own run
      }
      if (written.length === 0 || (written.length < plan.expected && stderr!.trim() !== '')) continue;
      try {
        outcomes[at] = { extraction: await finishJpegFrames(target.job, plan, target.dir, written, '', config), batched: true };
      } catch (error) {
        outcomes[at] = { error };
      }
    }
  }
  for (let i = 0; i < targets.length; i++) {
    const planned = plans[i]!;
    // A video whose plan failed (not a video, unsafe path) would fail the same way alone.
    if (outcomes[i] === undefined) outcomes[i] = 'error' in planned ? { error: planned.error } : await alone(targets[i]!, planned.plan);
  }
  return { outcomes: outcomes as JpegOutcome[], processes };
}
