import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/runtime/backend';
import { buildSamples, windowStarts } from '../src/dataset/sequences';
import { FrameSequenceSource } from '../src/dataset/frame_source';
import { InMemorySequenceSource } from '../src/dataset/in_memory';
import { ConfigError } from '../src/errors';
import { makeTempDir } from './helpers';

test('windows and labels match a hand-computed case', () => {
  // 13 frames, windows of 5: non-overlapping -> starts 0, 5 (frames 10..12 are too few for a third).
  assert.deepEqual(windowStarts(13, 5, 5), [0, 5]);
  assert.deepEqual(windowStarts(13, 5, 3), [0, 3, 6]);
  assert.deepEqual(windowStarts(31, 5, 5), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(windowStarts(4, 5, 5), []);
  const samples = buildSamples(
    [
      { videoId: 'a', label: 2, frames: 10 },
      { videoId: 'b', label: 0, frames: 4 },
      { videoId: 'c', label: 1, frames: 7 },
    ],
    { sampleSize: 5, stride: 5 },
  );
  assert.deepEqual(samples, [
    { videoId: 'a', label: 2, start: 0, length: 5 },
    { videoId: 'a', label: 2, start: 5, length: 5 },
    { videoId: 'c', label: 1, start: 0, length: 5 },
  ]);
  assert.throws(() => windowStarts(10, 0, 5), ConfigError);
  assert.throws(() => windowStarts(10, 5, 0), ConfigError);
});

test('shuffle is deterministic per seed and the dataset length is the number of samples', async () => {
  await initBackend();
  const n = 23;
  const data = new Float32Array(n * 2 * 3).map((_, i) => i);
  const samples = Array.from({ length: n }, (_, i) => ({ videoId: `v${i}`, label: i % 4, start: 0, length: 2 }));
  const source = new InMemorySequenceSource(data, [n, 2, 3], samples, 4);
  const order = async (seed: number, shuffle = true) => {
    const ids: string[] = [];
    let batches = 0;
    for await (const batch of source.batches(5, { shuffle, seed })) {
      ids.push(...batch.videoIds);
      batches++;
      batch.x.dispose();
    }
    return { ids, batches };
  };
  const a = await order(7);
  const b = await order(7);
  const c = await order(8);
  assert.deepEqual(a.ids, b.ids);
  assert.notDeepEqual(a.ids, c.ids);
  assert.equal(a.ids.length, n, 'one epoch sees every sample once (the original saw ceil(n/batch) of them)');
  assert.equal(new Set(a.ids).size, n);
  assert.equal(a.batches, Math.ceil(n / 5));
  assert.deepEqual((await order(7, false)).ids, samples.map((s) => s.videoId));
});

test('frames from JPEG folders come out RGB, scaled to [-1, 1], shaped [B, T, 224, 224, 3]', async () => {
  await initBackend();
  const root = makeTempDir();
  // A known image: left half pure red, right half pure blue (the original's cv2.imread would give BGR 0..255).
  const width = 224;
  const height = 224;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (x < width / 2) rgb[o] = 255;
      else rgb[o + 2] = 255;
    }
  }
  const dirs: Array<{ videoId: string; label: number; dir: string }> = [];
  for (const [videoId, frames, label] of [['vidA', 7, 1], ['vidB', 5, 0]] as const) {
    const dir = path.join(root, videoId);
    fs.mkdirSync(dir);
    for (let i = 0; i < frames; i++) await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(dir, `${String(i + 5).padStart(6, '0')}.jpg`));
    dirs.push({ videoId, label, dir });
  }
  const source = FrameSequenceSource.fromJpegDirs(dirs, { sampleSize: 5, stride: 5 }, 2);
  assert.equal(source.numSamples, 2);
  const batches = [];
  for await (const batch of source.batches(4, { shuffle: false, seed: 1 })) batches.push(batch);
  assert.equal(batches.length, 1);
  const batch = batches[0]!;
  assert.deepEqual(batch.x.shape, [2, 5, 224, 224, 3]);
  assert.deepEqual(Array.from(batch.labels), [1, 0]);
  const x = batch.x.arraySync() as number[][][][][];
  const red = x[0]![2]![100]![30]!;
  const blue = x[1]![4]![100]![200]!;
  const close = (got: number[], want: number[]) => got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 0.06, `${got} vs ${want}`));
  close(red, [1, -1, -1]);
  close(blue, [-1, -1, 1]);
  batch.x.dispose();
});

test('raw frames from the video stage: each window holds its own frames, RGB scaled to [-1, 1], labelled; one decode per video', async () => {
  await initBackend();
  // Two videos of 7 and 11 frames, each frame a flat colour that encodes (video, frame): R = video, G = frame, B = 200.
  const size = 224;
  const frameBytes = size * size * 3;
  const frameCounts: Record<string, number> = { v0: 7, v1: 11 };
  const decodes: string[] = [];
  const provider = async (videoId: string) => {
    decodes.push(videoId);
    const count = frameCounts[videoId]!;
    const frames = new Uint8Array(count * frameBytes);
    const video = Number(videoId.slice(1));
    for (let f = 0; f < count; f++) {
      for (let p = 0; p < size * size; p++) frames.set([video * 100, f * 10, 200], f * frameBytes + p * 3);
    }
    return { frames, count, size };
  };
  const videos = [
    { videoId: 'v0', label: 3, frames: 7 },
    { videoId: 'v1', label: 1, frames: 11 },
  ];
  const source = FrameSequenceSource.fromFrameProvider(videos, provider, { sampleSize: 5, stride: 3 }, 4);
  // v0: windows at 0 (7 frames); v1: windows at 0, 3, 6 (11 frames).
  assert.deepEqual(source.samples().map((s) => [s.videoId, s.start]), [['v0', 0], ['v1', 0], ['v1', 3], ['v1', 6]]);
  const seen: Array<{ videoId: string; label: number; firstFrameG: number; lastFrameG: number; r: number; b: number }> = [];
  for await (const batch of source.batches(3, { shuffle: false, seed: 1 })) {
    assert.deepEqual(batch.x.shape.slice(1), [5, size, size, 3]);
    const x = batch.x.dataSync();
    const perSample = 5 * frameBytes;
    batch.videoIds.forEach((videoId, k) => {
      const at = (t: number, c: number) => x[k * perSample + t * frameBytes + 1000 * 3 + c]!;
      seen.push({ videoId, label: batch.labels[k]!, firstFrameG: at(0, 1), lastFrameG: at(4, 1), r: at(0, 0), b: at(0, 2) });
    });
    batch.x.dispose();
  }
  const scaled = (v: number) => v / 127.5 - 1;
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  const expected = [['v0', 3, 0], ['v1', 1, 0], ['v1', 1, 3], ['v1', 1, 6]] as const;
  assert.equal(seen.length, expected.length);
  expected.forEach(([videoId, label, start], i) => {
    const s = seen[i]!;
    assert.equal(s.videoId, videoId);
    assert.equal(s.label, label);
    assert.ok(close(s.firstFrameG, scaled(start * 10)) && close(s.lastFrameG, scaled((start + 4) * 10)), `window ${i} covers frames ${start}..${start + 4}: ${JSON.stringify(s)}`);
    assert.ok(close(s.r, scaled(Number(videoId.slice(1)) * 100)) && close(s.b, scaled(200)), `RGB order kept: ${JSON.stringify(s)}`);
  });
  assert.deepEqual(decodes, ['v0', 'v1'], 'consecutive windows of one video reuse its decoded frames');
  await assert.rejects(
    (async () => {
      const wrong = FrameSequenceSource.fromFrameProvider([{ videoId: 'v0', label: 0, frames: 7 }], async () => ({ frames: new Uint8Array(7 * 112 * 112 * 3), count: 7, size: 112 }), { sampleSize: 5, stride: 5 }, 1);
      for await (const batch of wrong.batches(1, { shuffle: false, seed: 1 })) batch.x.dispose();
    })(),
    /frames are 112x112, expected 224/,
  );
});
