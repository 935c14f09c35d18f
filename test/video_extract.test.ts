import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { DEFAULT_CONFIG, FramesConfig, mergeConfig, DeepPartial } from '../src/config';
import { extractFrames, extractFramesWithPlan, extractJpegFrames, planExtraction } from '../src/video/extract';
import { probeVideo } from '../src/video/probe';
import { VideoFailure } from '../src/video/types';
import type { VideoJob } from '../src/metadata/types';
import { VideoError } from '../src/errors';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { makeTempDir, REAL10_DIR } from './helpers';
import { channelMean, makeAudioOnly, makeGradientVideo, makeGreyRampVideo, makeNoisyClip, pixel, realJobs, rotatedCopy, truncateCopy, writeNoiseLikeH263 } from './video_fixtures';

const dir = makeTempDir('wlasl-video-extract-');
// 256x192, 60 frames at 25 fps: red = x, green = y, blue = 4 x frame index.
const gradient = makeGradientVideo(path.join(dir, 'gradient.mp4'));
const short20 = makeGradientVideo(path.join(dir, 'short20.mp4'), { frames: 20 });
const tiny4 = makeGradientVideo(path.join(dir, 'tiny4.mp4'), { frames: 4 });

function config(override: DeepPartial<FramesConfig> = {}): FramesConfig {
  return mergeConfig(DEFAULT_CONFIG.frames, { size: 32, ...override });
}

function job(file: string, bbox: [number, number, number, number] | null = null, extra: { frameStart?: number; frameEnd?: number } = {}) {
  return { videoId: path.basename(file, '.mp4'), path: file, bbox, ...extra };
}

async function failureOf(promise: Promise<unknown>): Promise<VideoFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof VideoFailure, `expected a VideoFailure, got ${String(error)}`);
    assert.ok(error instanceof VideoError);
    return error;
  }
  assert.fail('expected a VideoFailure');
}

test('probeVideo reads size, fps, frame count, codec and duration', async () => {
  const info = await probeVideo(gradient);
  assert.equal(info.width, 256);
  assert.equal(info.height, 192);
  assert.equal(info.fps, 25);
  assert.equal(info.frameCount, 60);
  assert.equal(info.codec, 'h264');
  assert.ok(Math.abs(info.durationS - 2.4) < 0.05, `duration ${info.durationS}`);
  assert.equal(info.rotation, 0);
});

test('default window keeps exactly source frames 5..35, in order', async () => {
  const out = await extractFrames(job(gradient), config());
  assert.equal(out.count, 31);
  assert.equal(out.size, 32);
  assert.equal(out.padded, 0);
  assert.equal(out.frames.length, 31 * 32 * 32 * 3);
  assert.deepEqual(out.sourceFrames, Array.from({ length: 31 }, (_, i) => 5 + i));
  for (let t = 0; t < out.count; t++) {
    const blue = channelMean(out.frames, 32, t, 2);
    assert.ok(Math.abs(blue - 4 * (5 + t)) <= 1, `frame ${t}: blue ${blue}, expected ${4 * (5 + t)}`);
  }
});

test('crop maps bbox [x0,y0,x1,y1) to the source pixels, then scales to size x size', async () => {
  const { frames: { frames }, plan } = await extractFramesWithPlan(job(gradient, [40, 30, 200, 150]), config());
  assert.deepEqual(plan.crop, { x: 40, y: 30, width: 160, height: 120 });
  // Output pixel u samples source x = x0 + (u + 0.5) * w / size - 0.5 (pixel centres).
  for (const u of [0, 7, 16, 31]) {
    const expectX = 40 + ((u + 0.5) * 160) / 32 - 0.5;
    const expectY = 30 + ((u + 0.5) * 120) / 32 - 0.5;
    assert.ok(Math.abs(pixel(frames, 32, 0, u, 10, 0) - expectX) <= 1, `x at u=${u}: ${pixel(frames, 32, 0, u, 10, 0)} vs ${expectX}`);
    assert.ok(Math.abs(pixel(frames, 32, 3, 10, u, 1) - expectY) <= 1, `y at v=${u}: ${pixel(frames, 32, 3, 10, u, 1)} vs ${expectY}`);
  }
});

test('odd crop offsets and sizes are kept exactly, also in 4:2:0 video', async () => {
  const ramp = makeGreyRampVideo(path.join(dir, 'ramp420.mp4'));
  const { frames: { frames }, plan } = await extractFramesWithPlan(job(ramp, [41, 33, 101, 73]), config());
  assert.deepEqual(plan.crop, { x: 41, y: 33, width: 60, height: 40 });
  // Interior pixels only: at the crop's edges the bilinear filter is cut off and leans inwards.
  for (const u of [4, 8, 16, 24]) {
    const sourceX = 41 + ((u + 0.5) * 60) / 32 - 0.5;
    const expected = (2 * sourceX * 255) / 219;
    const got = pixel(frames, 32, 0, u, 16, 0);
    assert.ok(Math.abs(got - expected) <= 1, `u=${u}: ${got} vs ${expected.toFixed(2)}`);
  }
});

test('a bbox beyond the frame is clamped to it', async () => {
  const whole = await extractFramesWithPlan(job(gradient, [-20, -10, 300, 250]), config());
  assert.deepEqual(whole.plan.crop, { x: 0, y: 0, width: 256, height: 192 });
  const uncropped = await extractFrames(job(gradient, null), config());
  assert.deepEqual(Buffer.from(whole.frames.frames), Buffer.from(uncropped.frames), 'clamped to the full frame = no crop');

  const corner = await extractFramesWithPlan(job(gradient, [200, 100, 400, 300]), config());
  assert.deepEqual(corner.plan.crop, { x: 200, y: 100, width: 56, height: 92 });
  const lastX = 200 + (31.5 * 56) / 32 - 0.5;
  assert.ok(Math.abs(pixel(corner.frames.frames, 32, 0, 31, 0, 0) - lastX) <= 1);
});

test('rotation metadata: frames come out as displayed and the bbox is clamped to the displayed size', async () => {
  const rotated = rotatedCopy(gradient, path.join(dir, 'rotated.mp4'));
  const info = await probeVideo(rotated);
  assert.ok(info.rotation === 90 || info.rotation === 270, `rotation ${info.rotation}`);
  assert.deepEqual([info.width, info.height], [192, 256]);
  // The whole displayed frame (192 wide, 256 high): clamped against the stored 256x192 it would lose a strip.
  const whole = await extractFramesWithPlan(job(rotated, [0, 0, 192, 256]), config());
  assert.deepEqual(whole.plan.crop, { x: 0, y: 0, width: 192, height: 256 });
  const uncropped = await extractFrames(job(rotated), config());
  assert.deepEqual(Buffer.from(whole.frames.frames), Buffer.from(uncropped.frames));
  // Turned a quarter: source x (red) now runs down the displayed frame, source y (green) across it.
  const redDown = pixel(uncropped.frames, 32, 0, 16, 31, 0) - pixel(uncropped.frames, 32, 0, 16, 0, 0);
  const greenAcross = pixel(uncropped.frames, 32, 0, 31, 16, 1) - pixel(uncropped.frames, 32, 0, 0, 16, 1);
  assert.ok(Math.abs(redDown) > 200 && Math.abs(greenAcross) > 150, `red down ${redDown}, green across ${greenAcross}`);
});

test('an empty, inverted or outside bbox is an error for that video', async () => {
  for (const bbox of [[100, 10, 50, 90], [10, 10, 10, 50], [300, 0, 400, 100], [0, -50, 100, -1]] as [number, number, number, number][]) {
    const failure = await failureOf(extractFrames(job(gradient, bbox), config()));
    assert.equal(failure.kind, 'bad-bbox', `bbox ${bbox}`);
    assert.ok(failure.message.includes(gradient), 'names the file');
  }
  // cropToBbox false ignores the box altogether.
  const out = await extractFrames(job(gradient, [100, 10, 50, 90]), config({ cropToBbox: false }));
  assert.equal(out.count, 31);
});

test("short video, policy 'pad': repeats the last frame and says so", async () => {
  const out = await extractFrames(job(short20), config());
  assert.equal(out.count, 31);
  assert.equal(out.padded, 16);
  assert.deepEqual(out.sourceFrames, [...Array.from({ length: 15 }, (_, i) => 5 + i), ...Array(16).fill(19)]);
  const frameBytes = 32 * 32 * 3;
  const last = out.frames.subarray(14 * frameBytes, 15 * frameBytes);
  assert.ok(Math.abs(channelMean(out.frames, 32, 14, 2) - 4 * 19) <= 1);
  for (let t = 15; t < 31; t++) assert.deepEqual(out.frames.subarray(t * frameBytes, (t + 1) * frameBytes), last);
});

test("short video, policy 'skip': an error of kind 'short'; no frames in the window is 'short' under any policy", async () => {
  const skipped = await failureOf(extractFrames(job(short20), config({ window: { shortVideoPolicy: 'skip' } })));
  assert.equal(skipped.kind, 'short');
  assert.match(skipped.message, /only 15 of 31 frames/);
  const none = await failureOf(extractFrames(job(tiny4), config()));
  assert.equal(none.kind, 'short');
});

test("WLASL frame_start/frame_end (1-based, -1 = to the end) with useMetadataRange", async () => {
  const cfg = config({ window: { useMetadataRange: true, maxFrames: 64 } });
  const ranged = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd: 20 }), cfg);
  assert.deepEqual(ranged.sourceFrames, Array.from({ length: 10 }, (_, i) => 10 + i));
  assert.ok(Math.abs(channelMean(ranged.frames, 32, 0, 2) - 40) <= 1);
  const open = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd: -1 }), cfg);
  assert.equal(open.count, 50);
  assert.equal(open.padded, 0);
  assert.ok(Math.abs(channelMean(open.frames, 32, 49, 2) - 4 * 59) <= 1);
  // A range that starts past the end names the file and says so (the gradient clip has 60 frames).
  const past = await failureOf(extractFrames(job(gradient, null, { frameStart: 70, frameEnd: -1 }), cfg));
  assert.equal(past.kind, 'short');
  assert.equal(past.message, `${gradient}: frame_start 70 is past the end of the video (60 frames)`);
  const pastClosed = await failureOf(extractFrames(job(gradient, null, { frameStart: 70, frameEnd: 80 }), cfg));
  assert.equal(pastClosed.kind, 'short');
  assert.ok(pastClosed.message.startsWith(`${gradient}: `), pastClosed.message);
  // Without the flag the job's range is ignored.
  const fixed = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd: 20 }), config({ window: { useMetadataRange: false } }));
  assert.equal(fixed.sourceFrames[0], 5);
});

test('a WLASL range is clamped to the clip, sampled down to maxFrames frames, and rescaled from 25 fps; each adjustment is said', async () => {
  const cfg = (maxFrames: number) => config({ window: { useMetadataRange: true, maxFrames } });
  // frame_end far past the end of the 60-frame clip: clamped, not padded to thousands of frames.
  for (const frameEnd of [3000, 100000]) {
    const clamped = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd }), cfg(64));
    assert.equal(clamped.count, 50);
    assert.equal(clamped.padded, 0);
    assert.deepEqual(clamped.notes, [`frame_end ${frameEnd} is past the end of the video (60 frames): clamped to it`]);
  }
  // A range longer than maxFrames keeps maxFrames frames spread evenly over it, first and last included, and
  // each kept frame is the source frame it claims to be (blue = 4 x source index in this clip).
  const sampled = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd: -1 }), cfg(8));
  assert.deepEqual(sampled.sourceFrames, [10, 17, 24, 31, 38, 45, 52, 59]);
  sampled.sourceFrames.forEach((n, i) => assert.ok(Math.abs(channelMean(sampled.frames, 32, i, 2) - 4 * n) <= 1, `frame ${i} is source ${n}`));
  assert.match(sampled.notes!.join(), /50 frames in the range 10\.\.59, 8 kept, spread evenly/);
  // As JPEGs: files named by their source index, so sorted order is still time order.
  const out = path.join(dir, 'sampled-jpegs');
  fs.mkdirSync(out);
  const jpegs = await extractJpegFrames(job(gradient, null, { frameStart: 11, frameEnd: -1 }), cfg(8), out);
  assert.deepEqual(jpegs.files, [10, 17, 24, 31, 38, 45, 52, 59].map((n) => `${String(n).padStart(6, '0')}.jpg`));
  assert.deepEqual(fs.readdirSync(out).sort(), jpegs.files);
  // A 50 fps clip: WLASL's frame numbers count at 25 fps, so frames 11..20 are source frames 20..39.
  const fast = makeGradientVideo(path.join(dir, 'gradient50.mp4'), { fps: 50, frames: 60 });
  const rescaled = await extractFrames(job(fast, null, { frameStart: 11, frameEnd: 20 }), cfg(64));
  assert.deepEqual([rescaled.sourceFrames[0], rescaled.sourceFrames.at(-1), rescaled.count], [20, 39, 20]);
  assert.match(rescaled.notes!.join(), /rescaled from 25 fps to the clip's 50\.00 fps/);
});

test('resample: every clip gives exactly maxFrames frames spread over its whole range; a short clip repeats frames', async () => {
  const cfg = config({ window: { useMetadataRange: true, maxFrames: 16, resample: true } });
  // 60 frames -> 16, first and last included, each the frame it claims (blue = 4 x source index).
  const long = await extractFrames(job(gradient, null, { frameStart: 1, frameEnd: -1 }), cfg);
  assert.equal(long.count, 16);
  assert.deepEqual([long.sourceFrames[0], long.sourceFrames[15]], [0, 59]);
  long.sourceFrames.forEach((n, i) => assert.ok(Math.abs(channelMean(long.frames, 32, i, 2) - 4 * n) <= 1, `frame ${i} is source ${n}`));
  assert.deepEqual(long.notes, [], 'resampling a normal clip is not news');
  // 10 frames (11..20) -> 16: every source frame appears, in order, some twice; nothing counts as padding.
  const short = await extractFrames(job(gradient, null, { frameStart: 11, frameEnd: 20 }), cfg);
  assert.equal(short.count, 16);
  assert.deepEqual([...new Set(short.sourceFrames)], Array.from({ length: 10 }, (_, i) => 10 + i));
  assert.ok(short.sourceFrames.every((n, i) => i === 0 || n >= short.sourceFrames[i - 1]!), 'time order kept');
  short.sourceFrames.forEach((n, i) => assert.ok(Math.abs(channelMean(short.frames, 32, i, 2) - 4 * n) <= 1, `frame ${i} is source ${n}`));
  assert.equal(short.padded, 0);
  // JPEGs: each source frame written once, the manifest's list repeats names in output order.
  const out = path.join(dir, 'resampled-jpegs');
  fs.mkdirSync(out);
  const jpegs = await extractJpegFrames(job(gradient, null, { frameStart: 11, frameEnd: 20 }), cfg, out);
  assert.deepEqual(jpegs.sourceFrames, short.sourceFrames);
  assert.deepEqual(jpegs.files, short.sourceFrames.map((n) => `${String(n).padStart(6, '0')}.jpg`));
  assert.equal(fs.readdirSync(out).length, 10);
});

test('JPEG frames are named by zero-padded source index, so sorted order is temporal order', async () => {
  const out = path.join(dir, 'jpeg');
  fs.mkdirSync(out);
  const result = await extractJpegFrames(job(gradient, [40, 30, 200, 150]), config(), out);
  const names = fs.readdirSync(out).sort();
  assert.deepEqual(names, Array.from({ length: 31 }, (_, i) => `${String(5 + i).padStart(6, '0')}.jpg`));
  assert.deepEqual(result.files, names);
  for (const [i, name] of names.entries()) {
    const { data, info } = await sharp(path.join(out, name)).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 32);
    assert.equal(info.height, 32);
    const blue = channelMean(new Uint8Array(data), 32, 0, 2);
    assert.ok(Math.abs(blue - 4 * (5 + i)) <= 3, `${name}: blue ${blue}`);
  }
});

/** A real PNG picture under a video's name, as a user's misnamed download. */
function stillImageNamedMp4(file: string): string {
  execFileSync(ffmpegBinaries().ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', file]);
  return file;
}

test('bad videos fail with a kind and a reason naming the file', async () => {
  const clip = makeNoisyClip(path.join(dir, 'clip.mp4'));
  const streaming = makeNoisyClip(path.join(dir, 'streaming.mp4'), { faststart: true });
  const empty = path.join(dir, 'empty.mp4');
  fs.writeFileSync(empty, '');
  const text = path.join(dir, 'text.mp4');
  fs.writeFileSync(text, 'this is not a video\n'.repeat(100));
  const cases: [string, string][] = [
    [path.join(dir, 'missing.mp4'), 'missing'],
    [empty, 'empty'],
    [text, 'not-a-video'],
    [stillImageNamedMp4(path.join(dir, 'picture.mp4')), 'not-a-video'],
    [writeNoiseLikeH263(path.join(dir, 'noise.mp4')), 'not-a-video'],
    [makeAudioOnly(path.join(dir, 'audio.mp4')), 'no-video-stream'],
    // Cut before the index (moov at the end): unreadable. Cut mid-data (moov first): frames run out early.
    [truncateCopy(clip, path.join(dir, 'cut_index.mp4'), 0.4), 'truncated'],
    [truncateCopy(streaming, path.join(dir, 'cut_data.mp4'), 0.4), 'truncated'],
  ];
  for (const [file, kind] of cases) {
    const failure = await failureOf(extractFrames(job(file), config()));
    assert.equal(failure.kind, kind, `${path.basename(file)}: ${failure.message}`);
    assert.ok(failure.message.startsWith(file), failure.message);
  }
  assert.match((await failureOf(extractFrames(job(path.join(dir, 'picture.mp4')), config()))).message, /not a video: a still image \(png\)/);
  // ffprobe alone finds a 704x576 H.263 video in the noise; only its weak score (25 of 100) gives it away.
  const noise = path.join(dir, 'noise.mp4');
  const probed = JSON.parse(execFileSync(ffmpegBinaries().ffprobe, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', noise], { encoding: 'utf8' }));
  assert.equal(probed.streams[0].codec_name, 'h263');
  assert.ok(probed.streams[0].width > 0);
  assert.equal(probed.format.probe_score, 25);
  assert.match((await failureOf(extractFrames(job(noise), config()))).message, /recognised only weakly, as raw H\.263 \(probe score 25 of 100/);
  // The same files untruncated are fine, and a cut after the window is not an error: frames 5..35 are intact.
  assert.equal((await extractFrames(job(streaming), config())).count, 31);
  const lateCut = await extractFrames(job(truncateCopy(streaming, path.join(dir, 'cut_late.mp4'), 0.9)), config());
  assert.equal(lateCut.count, 31);
  assert.equal(lateCut.padded, 0);
});

/** The same call with the header probe off: ffmpeg then runs its own stream analysis, as before the fast path. */
async function withFfprobe<T>(run: () => Promise<T>): Promise<T> {
  const before = process.env.WLASL_PROBE;
  process.env.WLASL_PROBE = 'ffprobe';
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.WLASL_PROBE;
    else process.env.WLASL_PROBE = before;
  }
}

/** What one extraction gave, frames or failure, in a form two runs can be compared by. */
async function outcome(clip: VideoJob | string, frames: FramesConfig): Promise<string> {
  try {
    const out = await extractFrames(typeof clip === 'string' ? job(clip) : clip, frames);
    return `${out.count} frames, ${out.padded} padded, sources ${out.sourceFrames.join(',')}, bytes ${Buffer.from(out.frames).toString('base64')}`;
  } catch (error) {
    return `${(error as VideoFailure).kind}: ${(error as Error).message}`;
  }
}

test("ffmpeg skips its stream analysis where the MP4 header told all, with the same frames and the same failures", async () => {
  const bframes = path.join(dir, 'bframes.mp4');
  execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=2,noise=alls=20:allf=t', '-c:v', 'libx264', '-bf', '3', '-pix_fmt', 'yuv420p', '-y', bframes]);
  const streaming = makeNoisyClip(path.join(dir, 'streaming_b.mp4'), { faststart: true, seconds: 2 });
  // Damage inside the data, box sizes intact: the header still reads, the decoder meets garbage.
  const damaged = path.join(dir, 'damaged_data.mp4');
  const bytes = fs.readFileSync(streaming);
  bytes.fill(0xa5, Math.floor(bytes.length * 0.3), Math.floor(bytes.length * 0.6));
  fs.writeFileSync(damaged, bytes);
  const mpeg4 = makeNoisyClip(path.join(dir, 'mpeg4.mp4'), { codec: 'mpeg4', seconds: 1 });
  const rotated = rotatedCopy(bframes, path.join(dir, 'bframes_rot.mp4'));

  for (const file of [bframes, streaming, damaged, rotated]) assert.equal((await planExtraction(job(file), config())).skipStreamAnalysis, true, file);
  assert.equal((await planExtraction(job(mpeg4), config())).skipStreamAnalysis, false, 'an MPEG-4 part 2 clip is probed by ffprobe');
  assert.equal((await withFfprobe(() => planExtraction(job(bframes), config()))).skipStreamAnalysis, false);

  const whole = config({ window: { useMetadataRange: true, maxFrames: 16 } });
  for (const file of [bframes, streaming, damaged, mpeg4, rotated]) {
    for (const frames of [config(), whole]) {
      assert.equal(await outcome(file, frames), await withFfprobe(() => outcome(file, frames)), path.basename(file));
    }
  }
  // Real WLASL clips (every ninth of wlasl-real10: baseline, main and high profiles, 288x192 to 1920x1080).
  if (REAL10_DIR) {
    const real = realJobs(REAL10_DIR).filter((_, i) => i % 9 === 0);
    let skipped = 0;
    for (const clip of real) {
      skipped += Number((await planExtraction(clip, whole)).skipStreamAnalysis);
      const fastRun = await outcome(clip, whole);
      assert.equal(fastRun, await withFfprobe(() => outcome(clip, whole)), clip.videoId);
      assert.match(fastRun, /^16 frames/, clip.videoId);
    }
    assert.ok(skipped >= real.length - 3, `${skipped} of ${real.length} real clips skip the analysis`);
  }
  // JPEG output too: the same files, byte for byte.
  const fast = makeTempDir('wlasl-jpeg-fast-');
  const slow = makeTempDir('wlasl-jpeg-slow-');
  const a = await extractJpegFrames(job(bframes), whole, fast);
  const b = await withFfprobe(() => extractJpegFrames(job(bframes), whole, slow));
  assert.equal(a.plan.skipStreamAnalysis, true);
  assert.deepEqual(a.files, b.files);
  for (const name of a.files) assert.ok(fs.readFileSync(path.join(fast, name)).equals(fs.readFileSync(path.join(slow, name))), name);
});
