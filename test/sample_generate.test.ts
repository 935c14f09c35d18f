import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readWlaslMetadata, buildVideoIndex } from '../src/metadata/index';
import { ffmpegBinaries, ffmpegVersion } from '../src/runtime/ffmpeg';
import { generateSample, planSample, sampleVideoId, SAMPLE_CLASSES, type SampleManifest } from '../src/sample/index';
import { REPO_ROOT, makeTempDir } from './helpers';

const SAMPLE_DIR = path.join(REPO_ROOT, 'data', 'sample');

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function probe(file: string): { width: number; height: number; fps: string; frames: number; codec: string; pix: string } {
  const out = execFileSync(ffmpegBinaries().ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=width,height,r_frame_rate,nb_read_frames,codec_name,pix_fmt', '-of', 'json', file], { encoding: 'utf8' });
  const s = JSON.parse(out).streams[0];
  return { width: s.width, height: s.height, fps: s.r_frame_rate, frames: Number(s.nb_read_frames), codec: s.codec_name, pix: s.pix_fmt };
}

function decodeFrames(file: string, width: number, height: number): Uint8Array[] {
  const raw = execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  const size = width * height * 3;
  return Array.from({ length: raw.length / size }, (_, i) => raw.subarray(i * size, (i + 1) * size));
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

test('generation is deterministic (same bytes twice) and resumable', async () => {
  const ids = [sampleVideoId(0, 0), sampleVideoId(1, 0), sampleVideoId(4, 17)];
  const a = makeTempDir();
  const b = makeTempDir();
  const first = await generateSample(a, { only: ids, progress: false });
  await generateSample(b, { only: ids, progress: false });
  assert.deepEqual(first.generated.sort(), [...ids].sort());
  for (const id of ids) assert.equal(sha(path.join(a, 'videos', `${id}.mp4`)), sha(path.join(b, 'videos', `${id}.mp4`)), `${id} differs between runs`);
  assert.equal(fs.readFileSync(path.join(a, 'WLASL_v0.3.json'), 'utf8'), fs.readFileSync(path.join(b, 'WLASL_v0.3.json'), 'utf8'));
  // A rerun keeps finished videos; the committed sample matches when made with the same ffmpeg.
  const again = await generateSample(a, { only: ids, progress: false });
  assert.deepEqual(again.generated, []);
  assert.equal(again.skipped.length, ids.length);
  const manifestFile = path.join(SAMPLE_DIR, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as SampleManifest;
    assert.equal(fs.readFileSync(path.join(a, 'WLASL_v0.3.json'), 'utf8'), fs.readFileSync(path.join(SAMPLE_DIR, 'WLASL_v0.3.json'), 'utf8'), 'committed metadata is stale: rerun npm run sample');
    if (manifest.ffmpeg === ffmpegVersion()) {
      for (const id of ids) assert.equal(sha(path.join(a, 'videos', `${id}.mp4`)), manifest.videos[id]!.sha256, `committed ${id} differs: rerun npm run sample`);
    }
  }
});

test('the committed sample is WLASL-shaped: 8 glosses x 24 videos, 25 fps, 2-3 s, 320-640 px, valid bboxes', () => {
  const metadata = readWlaslMetadata(path.join(SAMPLE_DIR, 'WLASL_v0.3.json'));
  const index = buildVideoIndex(metadata, { videosDir: path.join(SAMPLE_DIR, 'videos') });
  assert.deepEqual(index.classes, SAMPLE_CLASSES.map((c) => c.gloss));
  assert.equal(index.missing.length, 0, 'every sample video exists');
  for (const gloss of index.classes) {
    const mine = index.entries.filter((e) => e.gloss === gloss);
    assert.ok(mine.length >= 16);
    assert.deepEqual(['train', 'val', 'test'].map((s) => mine.filter((e) => e.split === s).length), [16, 4, 4]);
  }
  // Probe a few real files (probing all 192 would cost time without adding much).
  for (const e of [index.entries[0]!, index.entries[50]!, index.entries[191]!]) {
    const p = probe(e.path!);
    assert.equal(p.codec, 'h264');
    assert.equal(p.pix, 'yuv420p');
    assert.equal(p.fps, '25/1');
    assert.ok(p.width >= 320 && p.width <= 640, `width ${p.width}`);
    assert.ok(p.frames >= 50 && p.frames <= 75, `frames ${p.frames}`);
    const [x0, y0, x1, y1] = e.bbox!;
    assert.ok(x0 >= 0 && y0 >= 0 && x1 <= p.width && y1 <= p.height && x1 - x0 > 40 && y1 - y0 > 40, `bbox ${e.bbox}`);
  }
});

test('the second class of each pair is the first played backwards (frame order is the only difference)', () => {
  const plans = planSample();
  for (const [forward, backward] of [[0, 1], [4, 5]] as const) {
    const fileA = path.join(SAMPLE_DIR, 'videos', `${sampleVideoId(forward, 3)}.mp4`);
    const fileB = path.join(SAMPLE_DIR, 'videos', `${sampleVideoId(backward, 3)}.mp4`);
    const plan = plans.find((p) => p.videoId === sampleVideoId(forward, 3))!;
    const a = decodeFrames(fileA, plan.width, plan.height);
    const b = decodeFrames(fileB, plan.width, plan.height);
    assert.equal(a.length, b.length);
    const n = a.length;
    let reversedDiff = 0;
    let sameTimeDiff = 0;
    for (let k = 0; k < n; k++) {
      reversedDiff += meanAbsDiff(b[k]!, a[n - 1 - k]!) / n;
      sameTimeDiff += meanAbsDiff(b[k]!, a[k]!) / n;
    }
    // Only compression noise separates B[k] from A[n-1-k]; the same time step differs by the motion.
    assert.ok(reversedDiff < 1.5, `${SAMPLE_CLASSES[backward]!.gloss}: reversed frames differ by ${reversedDiff.toFixed(2)}`);
    assert.ok(sameTimeDiff > 2 * reversedDiff, `${SAMPLE_CLASSES[backward]!.gloss}: same-time diff ${sameTimeDiff.toFixed(2)} vs reversed ${reversedDiff.toFixed(2)}`);
  }
});

test('videos of one class differ from each other (per-video nuisance)', () => {
  const plans = planSample().filter((p) => p.gloss === 'open');
  const widths = new Set(plans.map((p) => p.width));
  const frames = new Set(plans.map((p) => p.poses.length));
  const colours = new Set(plans.map((p) => p.colours.fill.map(Math.round).join(',')));
  assert.ok(widths.size > 5 && frames.size > 5 && colours.size > 5, `widths ${widths.size}, lengths ${frames.size}, colours ${colours.size}`);
});
