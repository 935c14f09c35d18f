import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { probeMp4Header } from '../src/video/mp4_header';
import { ffprobeVideo, probeVideo } from '../src/video/probe';
import type { VideoInfo } from '../src/video/types';
import { makeTempDir, REAL10_DIR, REPO_ROOT } from './helpers';
import { makeAudioOnly, makeGradientVideo, makeGreyRampVideo, makeNoisyClip, rotatedCopy, truncateCopy } from './video_fixtures';

/**
 * The header probe (moov read in Node) must give exactly what ffprobe gives, field by field, or nothing (then
 * probeVideo asks ffprobe). Checked on every sample video, generated clips (rotation, odd sizes, faststart,
 * audio tracks, other codecs and containers) and the real WLASL clips when ../shared has them.
 */

const dir = makeTempDir('wlasl-probe-header-');

function ffmpegRun(args: string[]): void {
  execFileSync(ffmpegBinaries().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function header(file: string): Promise<VideoInfo | null> {
  return probeMp4Header(file, fs.statSync(file).size);
}

/** Header probe equals ffprobe when it answers, and probeVideo always equals ffprobe. Returns whether it answered. */
async function compare(file: string): Promise<boolean> {
  const [fromHeader, fromFfprobe, fromProbe] = await Promise.all([header(file), ffprobeVideo(file), probeVideo(file)]);
  if (fromHeader) {
    for (const key of Object.keys(fromFfprobe) as (keyof VideoInfo)[]) {
      assert.equal(fromHeader[key], fromFfprobe[key], `${file}: ${key} from the header ${fromHeader[key]}, ffprobe ${fromFfprobe[key]}`);
    }
    assert.deepEqual(fromHeader, fromFfprobe, file);
  }
  assert.deepEqual(fromProbe, fromFfprobe, `${file}: probeVideo`);
  return fromHeader !== null;
}

test('header probe matches ffprobe on every embedded sample video', async () => {
  const videos = path.join(REPO_ROOT, 'data', 'sample', 'videos');
  const files = fs.readdirSync(videos).filter((n) => n.endsWith('.mp4')).sort();
  assert.ok(files.length > 0);
  let answered = 0;
  for (const name of files) if (await compare(path.join(videos, name))) answered++;
  // The samples are plain ffmpeg-made H.264 MP4s: every one should take the fast path.
  assert.equal(answered, files.length);
});

test('header probe matches ffprobe on generated clips: rotation, odd sizes, faststart, audio, B-frames', async () => {
  const gradient = makeGradientVideo(path.join(dir, 'gradient.mp4'));
  const clips: { file: string; header: boolean }[] = [
    { file: gradient, header: true },
    { file: makeGradientVideo(path.join(dir, 'odd.mp4'), { width: 161, height: 97, frames: 23, fps: 30 }), header: true },
    { file: makeGradientVideo(path.join(dir, 'odd_fast.mp4'), { width: 99, height: 131, frames: 7, fps: 12, faststart: true }), header: true },
    { file: makeGreyRampVideo(path.join(dir, 'ramp.mp4')), header: true },
    { file: makeNoisyClip(path.join(dir, 'noisy.mp4'), { width: 322, height: 242, seconds: 1.2, fps: 25 }), header: true },
    { file: rotatedCopy(gradient, path.join(dir, 'rot90.mp4')), header: true },
  ];
  for (const degrees of [180, 270]) {
    const file = path.join(dir, `rot${degrees}.mp4`);
    ffmpegRun(['-i', gradient, '-c', 'copy', '-metadata:s:v:0', `rotate=${degrees}`, file]);
    clips.push({ file, header: true });
  }
  const ntsc = path.join(dir, 'ntsc_audio.mp4');
  ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=s=176x144:r=30000/1001', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', ntsc]);
  clips.push({ file: ntsc, header: true });
  // MPEG-4 part 2 is not read from the header (ffprobe's codec name would need the esds): ffprobe answers.
  clips.push({ file: makeNoisyClip(path.join(dir, 'mpeg4.mp4'), { width: 160, height: 120, seconds: 0.6, codec: 'mpeg4' }), header: false });
  for (const clip of clips) assert.equal(await compare(clip.file), clip.header, `${clip.file}: header path ${clip.header ? 'expected' : 'not expected'}`);
  const rotated = await probeVideo(path.join(dir, 'rot90.mp4'));
  assert.deepEqual([rotated.width, rotated.height, rotated.rotation % 180], [192, 256, 90]);
});

test('header probe matches ffprobe on the real WLASL clips', async (t) => {
  const videos = REAL10_DIR && path.join(REAL10_DIR, 'videos');
  if (!videos || !fs.existsSync(videos)) {
    t.skip('no ../shared/data/wlasl-real10/videos');
    return;
  }
  const files = fs.readdirSync(videos).filter((n) => /\.(mp4|mov)$/i.test(n)).sort();
  let answered = 0;
  for (const name of files) if (await compare(path.join(videos, name))) answered++;
  t.diagnostic(`${answered} of ${files.length} real clips answered from the header, the rest by ffprobe`);
  assert.ok(answered > files.length / 2, `only ${answered} of ${files.length} clips took the header path`);
});

test('non-MP4 and damaged input falls back to ffprobe with the same result or failure', async () => {
  const gradient = makeGradientVideo(path.join(dir, 'source.mp4'), { frames: 30 });
  const mkv = path.join(dir, 'clip.mkv');
  ffmpegRun(['-i', gradient, '-c', 'copy', mkv]);
  const mkvNamedMp4 = path.join(dir, 'matroska_named.mp4');
  fs.copyFileSync(mkv, mkvNamedMp4);
  const fragmented = path.join(dir, 'fragmented.mp4');
  ffmpegRun(['-i', gradient, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', fragmented]);
  assert.equal(await header(mkv), null);
  assert.equal(await header(mkvNamedMp4), null);
  assert.equal(await header(fragmented), null);
  for (const file of [mkv, mkvNamedMp4, fragmented]) assert.deepEqual(await probeVideo(file), await ffprobeVideo(file), file);

  const random = path.join(dir, 'random.mp4');
  fs.writeFileSync(random, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
  const bad = [
    random,
    makeAudioOnly(path.join(dir, 'audio.mp4')),
    truncateCopy(gradient, path.join(dir, 'cut_half.mp4'), 0.5),
    truncateCopy(makeGradientVideo(path.join(dir, 'fast.mp4'), { frames: 30, faststart: true }), path.join(dir, 'fast_cut.mp4'), 0.5),
  ];
  for (const file of bad) {
    assert.equal(await header(file), null, `${file}: header path must not answer`);
    const viaFfprobe = await ffprobeVideo(file).then(
      (info) => ({ info }),
      (error: Error & { kind?: string }) => ({ kind: error.kind, message: error.message }),
    );
    const viaProbe = await probeVideo(file).then(
      (info) => ({ info }),
      (error: Error & { kind?: string }) => ({ kind: error.kind, message: error.message }),
    );
    assert.deepEqual(viaProbe, viaFfprobe, file);
  }
});
