import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import pLimit from 'p-limit';
import { DEFAULT_CONFIG, FramesConfig } from '../src/config';
import type { VideoJob } from '../src/metadata/types';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { extractFrames, extractJpegFrames } from '../src/video/extract';
import { VideoFailure } from '../src/video/types';
import { makeTempDir, REAL10_DIR, REPO_ROOT } from './helpers';
import { channelMean, makeGradientVideo, makeNoisyClip, realJobs, truncateCopy } from './video_fixtures';

/**
 * Issue 15: valid clips were dropped on a busy machine with "ffmpeg failed: Output stream closed". fluent-ffmpeg
 * failed a piped run when ffmpeg's stdout closed more than 20 ms before its exit was seen; on a starved CPU or
 * a busy event loop that happens. These tests run extraction under that kind of load and require every valid
 * clip to come out whole (bench/extract_under_load.ts repeats it many times and counts).
 */

const cores = os.availableParallelism();
const dir = makeTempDir('wlasl-video-load-');
const config: FramesConfig = DEFAULT_CONFIG.frames;

interface Clip {
  job: VideoJob;
  /** The window's source frames, padding included (31 for the default window 5..35). */
  sourceFrames?: number[];
  /** Gradient clips: blue = 4 x source frame index, so each frame's identity can be checked. */
  gradient?: boolean;
}

const window = Array.from({ length: 31 }, (_, i) => 5 + i);
const generated: Clip[] = [
  { job: { videoId: 'gradient', path: makeGradientVideo(path.join(dir, 'gradient.mp4')), bbox: null }, sourceFrames: window, gradient: true },
  { job: { videoId: 'gradient-crop', path: path.join(dir, 'gradient.mp4'), bbox: [40, 30, 200, 150] }, sourceFrames: window, gradient: true },
  // 20 frames: 15 in the window, padded with the last one.
  {
    job: { videoId: 'short20', path: makeGradientVideo(path.join(dir, 'short20.mp4'), { frames: 20 }), bbox: null },
    sourceFrames: [...window.slice(0, 15), ...Array<number>(16).fill(19)],
    gradient: true,
  },
  { job: { videoId: 'noisy', path: makeNoisyClip(path.join(dir, 'noisy.mp4')), bbox: [100, 50, 500, 450] }, sourceFrames: window },
  { job: { videoId: 'noisy-mpeg4', path: makeNoisyClip(path.join(dir, 'noisy_mpeg4.mp4'), { codec: 'mpeg4', faststart: true }), bbox: null }, sourceFrames: window },
];
// A damaged file must still fail, with its kind, under load: the fix must not turn failures into successes.
const cut = truncateCopy(path.join(dir, 'noisy_mpeg4.mp4'), path.join(dir, 'cut.mp4'), 0.4);

function startBusyLoops(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

function stopBusyLoops(procs: ChildProcess[]): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Synchronous work on the main thread, as `features` does per clip (copies, hand-off to a worker, GC). */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function checkFrames(clip: Clip, count: number, sourceFrames: number[], frames: Uint8Array | null): void {
  const id = clip.job.videoId;
  assert.equal(count, 31, `${id}: ${count} frames`);
  if (clip.sourceFrames) assert.deepEqual(sourceFrames, clip.sourceFrames, id);
  if (clip.gradient && frames) {
    for (let t = 0; t < count; t++) {
      const blue = channelMean(frames, config.size, t, 2);
      assert.ok(Math.abs(blue - 4 * sourceFrames[t]) <= 1, `${id} frame ${t}: blue ${blue.toFixed(1)}, expected ${4 * sourceFrames[t]}`);
    }
  }
}

test('under a busy loop on every core, every valid clip comes out whole, raw and JPEG, and a damaged one still fails', { timeout: 180_000 }, async () => {
  const real: Clip[] = REAL10_DIR ? realJobs(REAL10_DIR).map((j) => ({ job: { videoId: j.videoId, path: j.path, bbox: j.bbox } })) : [];
  if (REAL10_DIR) assert.equal(real.length, 110);
  const clips = [...generated, ...generated, ...real];
  const lost: string[] = [];
  const load = startBusyLoops(cores);
  try {
    // Raw RGB with the features command's look-ahead (2 videos per worker, a worker per core).
    const rawLimit = pLimit(2 * cores);
    const raw = clips.map((clip) =>
      rawLimit(async () => {
        try {
          const out = await extractFrames(clip.job, config);
          busyWait(20);
          checkFrames(clip, out.count, out.sourceFrames, out.frames);
        } catch (error) {
          lost.push(`raw ${clip.job.videoId}: ${(error as Error).message}`);
        }
      }),
    );
    // JPEG as the frame stage runs it: a video per core, one ffmpeg thread each.
    const jpegLimit = pLimit(cores);
    const jpeg = clips.map((clip, i) =>
      jpegLimit(async () => {
        const out = path.join(dir, `jpeg-${i}`);
        fs.mkdirSync(out);
        try {
          const result = await extractJpegFrames(clip.job, config, out, { threads: 1 });
          busyWait(20);
          checkFrames(clip, result.files.length, result.sourceFrames, null);
        } catch (error) {
          lost.push(`jpeg ${clip.job.videoId}: ${(error as Error).message}`);
        } finally {
          fs.rmSync(out, { recursive: true, force: true });
        }
      }),
    );
    // Settled at once, so their (expected) rejections are handled while the valid clips still run.
    const damaged = Promise.allSettled([
      extractFrames({ videoId: 'cut', path: cut, bbox: null }, config),
      extractJpegFrames({ videoId: 'cut', path: cut, bbox: null }, config, fs.mkdtempSync(path.join(dir, 'cut-'))),
    ]);
    await Promise.all([...raw, ...jpeg]);
    for (const result of await damaged) {
      assert.equal(result.status, 'rejected');
      const error = (result as PromiseRejectedResult).reason as VideoFailure;
      assert.ok(error instanceof VideoFailure, String(error));
      assert.equal(error.kind, 'truncated', error.message);
    }
  } finally {
    stopBusyLoops(load);
  }
  assert.deepEqual(lost, [], `${lost.length} of ${2 * clips.length} extractions lost under load`);
});

/**
 * The race made certain: a real ffmpeg behind a wrapper that closes stdout and stderr, then reports its exit
 * 200 ms later, as a process preempted between the two does on a starved CPU. Runs in a child process because
 * the ffmpeg binary is chosen once per process (WLASL_FFMPEG).
 */
test('ffmpeg whose output closes well before its exit is reported: every clip still comes out; fluent-ffmpeg piping alone drops it', { skip: process.platform === 'win32' ? 'needs /bin/sh' : false }, () => {
  const wrapper = path.join(dir, 'slow-exit-ffmpeg.sh');
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\n"${ffmpegBinaries().ffmpeg}" "$@"\nstatus=$?\nexec >&- 2>&-\nsleep 0.2\nexit $status\n`,
    { mode: 0o755 },
  );
  const code = `
const fs = require('node:fs');
const path = require('node:path');
const { PassThrough } = require('node:stream');
const { DEFAULT_CONFIG } = require('./src/config');
const { ffmpeg, ffmpegBinaries } = require('./src/runtime/ffmpeg');
const { extractFrames, extractJpegFrames } = require('./src/video/extract');
const [gradient, cut, out] = ${JSON.stringify([path.join(dir, 'gradient.mp4'), cut, path.join(dir, 'slow-exit-jpeg')])};
const job = (file) => ({ videoId: path.basename(file), path: file, bbox: null });
(async () => {
  // What extract.ts did before: fluent-ffmpeg piping into a stream. Here it must fail, or the wrapper proves nothing.
  ffmpegBinaries();
  const fluent = await new Promise((resolve) => {
    const sink = new PassThrough().on('data', () => {});
    ffmpeg(gradient).outputOptions(['-frames:v', '3', '-f', 'rawvideo', '-pix_fmt', 'rgb24'])
      .on('error', (e) => resolve('error: ' + e.message)).on('end', () => resolve('end')).pipe(sink, { end: true });
  });
  const raw = await extractFrames(job(gradient), DEFAULT_CONFIG.frames);
  fs.mkdirSync(out);
  const jpeg = await extractJpegFrames(job(gradient), DEFAULT_CONFIG.frames, out);
  const cutKind = await extractFrames(job(cut), DEFAULT_CONFIG.frames).then(() => 'ok', (e) => e.kind);
  console.log(JSON.stringify({ binary: ffmpegBinaries().ffmpeg, fluent, raw: raw.count, padded: raw.padded, jpeg: jpeg.files.length, cutKind }));
})().catch((e) => { console.error(e); process.exit(1); });
`;
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: REPO_ROOT,
    env: { ...process.env, WLASL_FFMPEG: wrapper, FFMPEG_PATH: undefined },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(result.binary, wrapper);
  assert.equal(result.fluent, 'error: Output stream closed');
  assert.equal(result.raw, 31);
  assert.equal(result.padded, 0);
  assert.equal(result.jpeg, 31);
  assert.equal(result.cutKind, 'truncated');
});
