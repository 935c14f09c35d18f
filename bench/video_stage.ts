/**
 * Benchmark of the frame stage (issue 4): videos/s and frames/s on the embedded sample (data/sample), on 60
 * generated 640x480 2.4 s clips and on real WLASL clips (../shared/data/wlasl-real10), JPEG output (runFrameStage, as
 * run: 8 videos a process; and with batch 1, a process per video) and raw RGB (extractFrames, a process per video),
 * at several concurrencies; with the original's OpenCV loop on the same clips when python3-opencv is there.
 *
 *   npx tsx bench/video_stage.ts [--concurrency 2,3] [--threads N] [--clips 60] [--noise 20] [--no-original] [--no-sample] [--no-real] [--no-anatomy] [--preset original]
 *
 * The frames are the default recipe's (the WLASL range, up to 32 frames spread over the sign, so most real clips
 * are decoded to their end, as the original's loop decodes them); --preset original takes its frames 5..35.
 *
 * Then, per set, the anatomy of one clip's ffmpeg CPU (one process at a time): the fixed cost of a process
 * (open, probe, first frame), decoding the frames the plan needs, the whole JPEG command; the same clips
 * batched 8 to a process (several inputs, one output each: what issue 18 proposed to amortise the fixed
 * cost); and the JPEG command with h264's deblocking filter skipped, with what that does to the pixels.
 * It ends with one JSON line: ratio_real10 and ratio_640x480 (ours / original, videos per second; the _batch1
 * ratios for a process per video) and the anatomy.
 *
 * The machine is shared: wall-clock figures are noisy, compare rows of the same run. CPU ms per clip (this
 * process plus its ffmpeg/ffprobe children; for the original, the Python process with its decoder threads)
 * depends much less on other people's load, and cores x 1000 / CPU ms bounds videos/s on an idle machine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import pLimit from 'p-limit';
import { FramesConfig, resolveConfig } from '../src/config';
import type { VideoJob } from '../src/metadata/types';
import { ffmpegBinaries, ffmpegVersion } from '../src/runtime/ffmpeg';
import { extractFrames, planExtraction, type ExtractionPlan } from '../src/video/extract';
import { resolveConcurrency, runFrameStage } from '../src/video/stage';
import { REAL10_DIR, REPO_ROOT, sharedPath } from '../test/helpers';
import { makeNoisyClip, realJobs } from '../test/video_fixtures';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const clipsWanted = Number(arg('clips', '60'));
const cores = resolveConcurrency(0);
const concurrencies = arg('concurrency', String(cores))
  .split(',')
  .map(Number);
const threadsArg = arg('threads', '');
const threads = threadsArg ? Number(threadsArg) : undefined;
const runOriginal = !process.argv.includes('--no-original');
const runReal = !process.argv.includes('--no-real');
const runSample = !process.argv.includes('--no-sample');
const runAnatomy = !process.argv.includes('--no-anatomy');
const preset = arg('preset', '') || undefined;
/** Noise strength of the generated clips (0 = plain test pattern, cheap to decode; 20 = busy like camera video). */
const noise = Number(arg('noise', '20'));

/** CPU seconds used so far by this process and its reaped children (ffmpeg, ffprobe), from /proc. */
function cpuSeconds(): number {
  const self = process.cpuUsage();
  let children = 0;
  try {
    // Fields after the ")" of the command name: cutime and cstime are the 14th and 15th (clock ticks, 100/s).
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    children = NaN;
  }
  return (self.user + self.system) / 1e6 + children;
}

/** Generated clips are kept between runs (they take longer to make than to process). */
function generatedClips(): VideoJob[] {
  const dir = path.join(os.tmpdir(), `wlasl-bench-clips-640x480-2.4s${noise === 20 ? '' : `-noise${noise}`}`);
  const jobs: VideoJob[] = [];
  for (let i = 0; i < clipsWanted; i++) {
    const file = path.join(dir, `clip${String(i).padStart(3, '0')}.mp4`);
    if (!fs.existsSync(file)) {
      const tmp = `${file}.tmp.mp4`;
      makeNoisyClip(tmp, { width: 640, height: 480, seconds: 2.4, fps: 25, noise });
      fs.renameSync(tmp, file);
    }
    // A signer-sized box, a few pixels apart per clip, as WLASL bboxes are.
    jobs.push({ videoId: `clip${i}`, path: file, bbox: [120 + (i % 7), 30 + (i % 5), 520, 470] });
  }
  return jobs;
}

interface Row {
  set: string;
  mode: string;
  concurrency: number;
  videos: number;
  seconds: number;
  frames: number;
  /** CPU seconds for the whole row (all processes). */
  cpu: number;
}

const rows: Row[] = [];

function report(row: Row): void {
  rows.push(row);
  const cpuMs = (1000 * row.cpu) / Math.max(row.videos, 1);
  const line =
    `${row.set.padEnd(10)} ${row.mode.padEnd(22)} c=${String(row.concurrency).padEnd(2)} ${String(row.videos).padStart(4)} videos ` +
    `${row.seconds.toFixed(2).padStart(6)} s ${(row.videos / row.seconds).toFixed(1).padStart(6)} videos/s ${(row.frames / row.seconds).toFixed(0).padStart(5)} frames/s ` +
    `| CPU ${cpuMs.toFixed(0).padStart(4)} ms/video -> idle bound ${((cores * 1000) / cpuMs).toFixed(1)} videos/s`;
  console.log(line);
}

const STAGE_MODE = 'jpeg (runFrameStage)';
const UNBATCHED_MODE = 'jpeg, batch 1';

/** The frame stage as a user runs it (`batch` undefined: the default, DEFAULT_BATCH videos a process) or unbatched. */
async function benchStage(set: string, jobs: VideoJob[], config: FramesConfig, concurrency: number, batch?: number): Promise<void> {
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-bench-frames-'));
  try {
    const cpu0 = cpuSeconds();
    const s = await runFrameStage(jobs, config, outRoot, { progress: 'none', concurrency, threads, batch });
    if (s.failed) console.log(`  ${s.failed} failed: ${s.failures.map((f) => `${f.videoId} ${f.kind}`).join(', ')}`);
    report({ set, mode: batch === 1 ? UNBATCHED_MODE : STAGE_MODE, concurrency, videos: s.done, seconds: s.seconds, frames: s.done * 31, cpu: cpuSeconds() - cpu0 });
  } finally {
    fs.rmSync(outRoot, { recursive: true, force: true });
  }
}

async function benchRaw(set: string, jobs: VideoJob[], config: FramesConfig, concurrency: number): Promise<void> {
  const limit = pLimit(concurrency);
  const started = Date.now();
  const cpu0 = cpuSeconds();
  let frames = 0;
  let videos = 0;
  const effectiveThreads = threads ?? (concurrency > 1 ? 1 : undefined);
  await Promise.all(
    jobs.map((job) =>
      limit(async () => {
        const out = await extractFrames(job, config, { threads: effectiveThreads });
        frames += out.count;
        videos++;
      }),
    ),
  );
  report({ set, mode: 'raw (extractFrames)', concurrency, videos, seconds: (Date.now() - started) / 1000, frames, cpu: cpuSeconds() - cpu0 });
}

/** The original notebook's capture_frames (OpenCV, frames 5..35, crop, JPEG) over the same clips, one process. */
function benchOriginal(set: string, jobs: VideoJob[]): void {
  const peer = sharedPath('peer', 'original_pipeline.py');
  if (!peer) return console.log(`${set.padEnd(10)} original: skipped (no ../shared/peer/original_pipeline.py)`);
  const script = `
import sys, json, time, os, tempfile, resource
sys.path.insert(0, ${JSON.stringify(path.dirname(peer))})
from original_pipeline import capture_frames
import cv2
cv2.setNumThreads(${cores})
jobs = json.load(sys.stdin)
out = tempfile.mkdtemp()
t = time.time(); r0 = resource.getrusage(resource.RUSAGE_SELF)
for j in jobs:
    d = os.path.join(out, j['videoId']); os.makedirs(d)
    capture_frames(j['path'], d, j['bbox'])
dt = time.time() - t; r1 = resource.getrusage(resource.RUSAGE_SELF)
n = sum(len(os.listdir(os.path.join(out, j['videoId']))) for j in jobs)
print(json.dumps({'seconds': dt, 'frames': n, 'cpu': r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime}))
`;
  try {
    const text = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(jobs), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    const { seconds, frames, cpu } = JSON.parse(text.trim().split('\n').pop()!) as { seconds: number; frames: number; cpu: number };
    report({ set, mode: 'original OpenCV loop', concurrency: 1, videos: jobs.length, seconds, frames, cpu });
  } catch (error) {
    console.log(`${set.padEnd(10)} original: skipped (${(error as Error).message.split('\n')[0]})`);
  }
}

const QUIET = ['-hide_banner', '-nostats', '-loglevel', 'error'];

/** The select part of a plan's filter (the select expression itself holds commas, so cut at the next filter). */
function selectOnly(plan: ExtractionPlan): string {
  return plan.filter.replace(/,(crop|scale)=.*$/, '');
}

/** The frame stage's ffmpeg output options for one clip (as src/video/extract.ts builds them, threads 1). */
function jpegOutput(plan: ExtractionPlan, dir: string): string[] {
  return ['-an', '-sn', '-dn', '-vf', plan.filter, '-vsync', '0', '-threads', '1', '-frames:v', String(plan.decodeLimit), '-q:v', '4', '-f', 'image2', '-y', path.join(dir, '%06d.jpg')];
}

function ffmpegCpu(argsList: string[][]): number {
  const ff = ffmpegBinaries().ffmpeg;
  // ffmpeg runs synchronously, one process at a time: this process's own share is the loop around it.
  const cpu0 = cpuSeconds();
  for (const args of argsList) {
    const r = spawnSync(ff, [...QUIET, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${String(r.stderr).trim().split('\n').pop()}`);
  }
  return cpuSeconds() - cpu0;
}

function rawFrames(job: VideoJob, plan: ExtractionPlan, decoderOptions: string[]): Int16Array {
  const args = [...QUIET, '-threads', '1', ...decoderOptions, '-i', job.path, '-an', '-vf', plan.filter.replace('format=yuvj420p', 'format=rgb24'), '-vsync', '0', '-frames:v', String(plan.decodeLimit), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const out = spawnSync(ffmpegBinaries().ffmpeg, args, { maxBuffer: 1 << 28 });
  return Int16Array.from(out.stdout);
}

interface Anatomy {
  clips: number;
  /** ms of ffmpeg CPU per clip */
  fixed_ms: number;
  decode_ms: number;
  jpeg_ms: number;
  batched8_ms: number;
  no_deblock_ms: number;
  /** mean and largest absolute difference, in 8-bit levels, of the no-deblocking frames (every 5th clip) */
  no_deblock_mae: number;
  no_deblock_max: number;
}

async function anatomy(set: string, jobs: VideoJob[], config: FramesConfig): Promise<Anatomy> {
  const plans: ExtractionPlan[] = [];
  for (const job of jobs) plans.push(await planExtraction(job, config, 'jpeg'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-bench-anatomy-'));
  const dirFor = (tag: string, i: number) => {
    const dir = path.join(out, `${tag}${i}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  try {
    const perClip = (seconds: number) => (1000 * seconds) / jobs.length;
    const fixed = perClip(ffmpegCpu(jobs.map((job) => ['-threads', '1', '-i', job.path, '-an', '-frames:v', '1', '-f', 'null', '-'])));
    const decode = perClip(ffmpegCpu(jobs.map((job, i) => ['-threads', '1', '-i', job.path, '-an', '-vf', selectOnly(plans[i]), '-vsync', '0', '-frames:v', String(plans[i].decodeLimit), '-f', 'null', '-'])));
    const jpeg = perClip(ffmpegCpu(jobs.map((job, i) => ['-threads', '1', '-i', job.path, ...jpegOutput(plans[i], dirFor('j', i))])));
    const batches: string[][] = [];
    for (let b = 0; b < jobs.length; b += 8) {
      const members = jobs.slice(b, b + 8);
      const inputs = members.flatMap((job) => ['-threads', '1', '-i', job.path]);
      const outputs = members.flatMap((_, k) => ['-map', `${k}:v:0`, ...jpegOutput(plans[b + k], dirFor('b', b + k))]);
      batches.push([...inputs, '-filter_threads', '1', ...outputs]);
    }
    const batched = perClip(ffmpegCpu(batches));
    const noDeblock = perClip(ffmpegCpu(jobs.map((job, i) => ['-threads', '1', '-skip_loop_filter', 'all', '-i', job.path, ...jpegOutput(plans[i], dirFor('n', i))])));
    let sum = 0;
    let count = 0;
    let max = 0;
    for (let i = 0; i < jobs.length; i += 5) {
      const a = rawFrames(jobs[i], plans[i], []);
      const b = rawFrames(jobs[i], plans[i], ['-skip_loop_filter', 'all']);
      for (let k = 0; k < Math.min(a.length, b.length); k++) {
        const d = Math.abs(a[k] - b[k]);
        sum += d;
        if (d > max) max = d;
      }
      count += Math.min(a.length, b.length);
    }
    const r1 = (v: number) => Math.round(v * 10) / 10;
    const result: Anatomy = {
      clips: jobs.length,
      fixed_ms: r1(fixed),
      decode_ms: r1(decode),
      jpeg_ms: r1(jpeg),
      batched8_ms: r1(batched),
      no_deblock_ms: r1(noDeblock),
      no_deblock_mae: Math.round((sum / Math.max(count, 1)) * 100) / 100,
      no_deblock_max: max,
    };
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(
      `${set} anatomy, ffmpeg CPU per clip, one process at a time: process + probe + first frame ${ms(fixed)}; decoding the plan's frames ${ms(decode)} ` +
        `(${((100 * decode) / jpeg).toFixed(0)}% of the whole); whole JPEG command ${ms(jpeg)}; batched 8 clips a process ${ms(batched)} ` +
        `(${(((batched - jpeg) / jpeg) * 100).toFixed(0)}%); deblocking skipped ${ms(noDeblock)} (${(((noDeblock - jpeg) / jpeg) * 100).toFixed(0)}%, ` +
        `pixels off by ${result.no_deblock_mae.toFixed(2)} levels on average, ${max} at most)`,
    );
    return result;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const bins = ffmpegBinaries();
  console.log(`ffmpeg: ${bins.ffmpeg} (${bins.source})`);
  console.log(`        ${ffmpegVersion()}`);
  console.log(`generated clips: ${clipsWanted} x 640x480 2.4 s 25 fps h264, test pattern with noise ${noise}`);
  console.log(`cores: ${cores}; ffmpeg decoder threads per video: ${threads ?? 'auto (1 when concurrency > 1)'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('shared machine: figures are noisy; compare rows of the same run.\n');
  const config: FramesConfig = resolveConfig({ preset }).frames;
  console.log(`frames: ${preset ? `preset ${preset}` : 'the default recipe'} (${JSON.stringify(config.window)})`);

  const generated = generatedClips();
  const sets: [string, VideoJob[]][] = [];
  // The embedded sample: 192 clips, 320-640 px wide, 2-3 s, with their WLASL-style bboxes.
  if (runSample) sets.push(['sample', realJobs(path.join(REPO_ROOT, 'data', 'sample'))]);
  sets.push(['generated', generated]);
  if (REAL10_DIR && runReal) sets.push(['real10', realJobs(REAL10_DIR)]);
  else console.log('real10: skipped (no ../shared/data/wlasl-real10, or --no-real)');

  const ratios: Record<string, number> = {};
  const unbatchedRatios: Record<string, number> = {};
  const anatomies: Record<string, Anatomy> = {};
  for (const [set, jobs] of sets) {
    // One warm-up pass so the page cache holds the inputs for every configuration alike.
    await benchRaw(`${set}*`, jobs.slice(0, 8), config, cores);
    rows.pop();
    for (const c of concurrencies) await benchStage(set, jobs, config, c);
    for (const c of concurrencies) await benchStage(set, jobs, config, c, 1);
    for (const c of concurrencies) await benchRaw(set, jobs, config, c);
    if (runOriginal) benchOriginal(set, jobs);
    const original = rows.find((r) => r.set === set && r.mode.startsWith('original'));
    for (const mode of [STAGE_MODE, UNBATCHED_MODE]) {
      const ours = rows.filter((r) => r.set === set && r.mode === mode);
      if (!original || !ours.length) continue;
      const best = ours.reduce((a, b) => (a.videos / a.seconds > b.videos / b.seconds ? a : b));
      const ratio = best.videos / best.seconds / (original.videos / original.seconds);
      if (mode === STAGE_MODE) ratios[set] = ratio;
      else unbatchedRatios[set] = ratio;
      console.log(
        `${set}: ${mode === STAGE_MODE ? 'jpeg stage' : 'jpeg stage, a process per video,'} vs original, same run: ${ratio.toFixed(2)}x the original's videos/s ` +
          `(target >= 2x); CPU per video ${((1000 * best.cpu) / best.videos).toFixed(0)} ms vs ${((1000 * original.cpu) / original.videos).toFixed(0)} ms`,
      );
    }
    console.log('');
    if (runAnatomy && set !== 'sample') anatomies[set] = await anatomy(set, jobs, config);
  }
  const load = os.loadavg();
  console.log(`\nload average now ${load.map((l) => l.toFixed(1)).join(' ')}`);
  const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
  console.log(
    JSON.stringify({
      bench: 'video_stage',
      preset: preset ?? 'default',
      ratio_real10: round(ratios.real10),
      ratio_640x480: round(ratios.generated),
      ratio_sample: round(ratios.sample),
      ratio_real10_batch1: round(unbatchedRatios.real10),
      ratio_640x480_batch1: round(unbatchedRatios.generated),
      anatomy_real10: anatomies.real10 ?? null,
      anatomy_640x480: anatomies.generated ?? null,
      load_1min: round(load[0]),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
