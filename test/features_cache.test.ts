import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/runtime/backend';
import type { Backbone } from '../src/backbone/backbone';
import { embedFrames } from '../src/backbone/embed';
import { createRandomBackbone } from '../src/backbone/random';
import { buildFeatureCache } from '../src/features/build';
import { cacheKey, encodeFeatures, fromFloat16Bits, readFeatureHeader, readVideoFeatures, toFloat16Bits } from '../src/features/cache';
import { CacheSequenceSource } from '../src/dataset/cache_source';
import { CacheError } from '../src/errors';
import { REPO_ROOT, makeTempDir } from './helpers';
import { makeTestVideo, rawFrames } from './features_fixtures';

const VIDEOS = 6;
const PREPROCESSING = { window: { start: 0, end: 11 }, size: 224, cropToBbox: false };
let root: string;
let backbone: Backbone;
let jobs: Array<{ videoId: string; path: string }>;
const provider = (job: { path: string }) => rawFrames(job.path);

before(async () => {
  await initBackend();
  root = makeTempDir();
  jobs = [];
  for (let i = 0; i < VIDEOS; i++) jobs.push({ videoId: `0000${i}`, path: await makeTestVideo(root, `0000${i}`, i) });
  const calibration = Buffer.concat([(await rawFrames(jobs[0]!.path)).frames, (await rawFrames(jobs[1]!.path)).frames]);
  backbone = await createRandomBackbone(0.35, 3, calibration, path.join(root, 'weights'));
});

function binFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.bin')).sort() : [];
}

test('two worker threads build the cache; it is reused; a parameter change invalidates it; bad videos are skipped', async () => {
  const cacheRoot = path.join(root, 'cache-a');
  const first = await buildFeatureCache({ jobs, cacheRoot, backbone, preprocessing: PREPROCESSING, frameProvider: provider, workers: 2, progress: 'none' });
  assert.equal(first.workers, 2);
  assert.deepEqual([first.computed, first.reused, first.failed.length, first.frames], [VIDEOS, 0, 0, VIDEOS * 12]);
  const meta = JSON.parse(fs.readFileSync(path.join(first.cacheDir, 'meta.json'), 'utf8'));
  assert.equal(meta.backbone.weightsId, backbone.info.weightsId);
  assert.deepEqual(meta.preprocessing, PREPROCESSING);

  // Worker features equal this thread's.
  const decoded = await rawFrames(jobs[4]!.path);
  const cached = readVideoFeatures(first.cacheDir, jobs[4]!.videoId);
  assert.deepEqual([cached.frames, cached.dim], [12, 1280]);
  assert.deepEqual(cached.data, embedFrames(backbone, decoded.frames, decoded.count, 224));

  const again = await buildFeatureCache({ jobs, cacheRoot, backbone, preprocessing: PREPROCESSING, frameProvider: provider, workers: 2, progress: 'none' });
  assert.deepEqual([again.computed, again.reused, again.cacheDir], [0, VIDEOS, first.cacheDir]);

  const changed = { ...PREPROCESSING, window: { start: 0, end: 10 } };
  const bad = [...jobs.slice(0, 2), { videoId: 'broken', path: path.join(root, 'missing.mp4') }];
  const other = await buildFeatureCache({ jobs: bad, cacheRoot, backbone, preprocessing: changed, frameProvider: provider, workers: 0, progress: 'none' });
  assert.notEqual(other.key, first.key);
  assert.equal(other.computed, 2, 'a new key recomputes');
  assert.deepEqual(other.failed.map((f) => f.videoId), ['broken']);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(other.cacheDir, 'failures.json'), 'utf8')).failed.map((f: { videoId: string }) => f.videoId), ['broken']);
  assert.notEqual(cacheKey({ ...backbone.info, weightsHash: 'f'.repeat(64) }, PREPROCESSING), first.key, 'other weights, other key');

  // A file from one cache copied into another is refused, naming it.
  const stray = path.join(other.cacheDir, `${jobs[5]!.videoId}.bin`);
  fs.copyFileSync(path.join(first.cacheDir, `${jobs[5]!.videoId}.bin`), stray);
  assert.throws(() => readVideoFeatures(other.cacheDir, jobs[5]!.videoId), (e: Error) => e instanceof CacheError && e.message.startsWith(stray) && /another backbone or preprocessing/.test(e.message));
});

test('a build killed mid-run resumes and ends with features identical to an uninterrupted build', async () => {
  const reference = await buildFeatureCache({ jobs, cacheRoot: path.join(root, 'cache-a'), backbone, preprocessing: PREPROCESSING, frameProvider: provider, workers: 0, progress: 'none' });
  const cacheRoot = path.join(root, 'cache-kill');
  // The child is slowed down per video so that the kill lands mid-run.
  const code = `
    const { initBackend } = require('./src/runtime/backend');
    const { loadBackboneFromDirectory } = require('./src/backbone/backbone');
    const { buildFeatureCache } = require('./src/features/build');
    const { rawFrames } = require('./test/features_fixtures');
    const jobs = ${JSON.stringify(jobs)};
    (async () => {
      await initBackend();
      const backbone = await loadBackboneFromDirectory(${JSON.stringify(backbone.info.modelDir)}, { source: 'random', location: null });
      const frameProvider = async (job) => { await new Promise((r) => setTimeout(r, 400)); return rawFrames(job.path); };
      await buildFeatureCache({ jobs, cacheRoot: ${JSON.stringify(cacheRoot)}, backbone, preprocessing: ${JSON.stringify(PREPROCESSING)}, frameProvider, workers: 0, progress: 'none' });
    })();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const keyDir = path.join(cacheRoot, reference.key);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const deadline = Date.now() + 60_000;
  while (binFiles(keyDir).length < 2 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGKILL');
  await exited;
  const done = binFiles(keyDir).length;
  assert.ok(done >= 2 && done < VIDEOS, `killed mid-run with ${done} of ${VIDEOS} done (child stderr: ${stderr.slice(-500)})`);

  const resumed = await buildFeatureCache({ jobs, cacheRoot, backbone, preprocessing: PREPROCESSING, frameProvider: provider, workers: 1, progress: 'none' });
  assert.equal(resumed.key, reference.key);
  assert.deepEqual([resumed.reused, resumed.computed], [done, VIDEOS - done], 'the killed process\'s files are reused');
  assert.deepEqual(binFiles(keyDir), binFiles(reference.cacheDir));
  for (const name of binFiles(keyDir)) assert.ok(fs.readFileSync(path.join(keyDir, name)).equals(fs.readFileSync(path.join(reference.cacheDir, name))), name);
});

test('float16 storage halves the files and stays within half precision', async () => {
  for (const v of [0, 1, -2.5, 0.1, 6, 65504, 1e-6, -1e-8]) {
    const back = fromFloat16Bits(toFloat16Bits(v));
    assert.ok(Math.abs(back - v) <= Math.max(Math.abs(v) * 1e-3, 6e-8), `${v} -> ${back}`);
  }
  assert.equal(fromFloat16Bits(toFloat16Bits(1e6)), Infinity);
  const half = await buildFeatureCache({ jobs: jobs.slice(0, 2), cacheRoot: path.join(root, 'cache-f16'), backbone, preprocessing: PREPROCESSING, frameProvider: provider, workers: 0, dtype: 'float16', progress: 'none' });
  const full = readVideoFeatures(path.join(root, 'cache-a', half.key), jobs[1]!.videoId);
  const small = readVideoFeatures(half.cacheDir, jobs[1]!.videoId);
  const { dataOffset } = readFeatureHeader(half.cacheDir, jobs[1]!.videoId);
  assert.equal(fs.statSync(path.join(half.cacheDir, `${jobs[1]!.videoId}.bin`)).size, dataOffset + 12 * 1280 * 2);
  small.data.forEach((v, i) => assert.ok(Math.abs(v - full.data[i]!) <= Math.abs(full.data[i]!) * 1e-3 + 1e-4));
  const stamp = { bytes: 1, mtimeMs: 2, bbox: null, frameStart: null, frameEnd: null };
  assert.equal(encodeFeatures(new Float32Array(4), 2, 2, 'float16', 'k', stamp).length, encodeFeatures(new Float32Array(4), 2, 2, 'float32', 'k', stamp).length - 8);
});

test('the cache sequence source streams [B, T, 1280] windows that match the cached features', async () => {
  await initBackend();
  const cacheDir = path.join(root, 'cache-a', cacheKey(backbone.info, PREPROCESSING));
  const videos = [...jobs.map((j, i) => ({ videoId: j.videoId, label: i % 3 })), { videoId: 'absent', label: 0 }];
  const source = new CacheSequenceSource(cacheDir, videos, { sampleSize: 5, stride: 5 }, 3);
  assert.deepEqual(source.missing, ['absent']);
  assert.equal(source.numSamples, VIDEOS * 2, '12 frames -> windows at 0 and 5');
  assert.deepEqual([source.sequenceLength, source.featureDim], [5, 1280]);
  let seen = 0;
  for await (const batch of source.batches(4, { shuffle: true, seed: 11 })) {
    assert.deepEqual(batch.x.shape.slice(1), [5, 1280]);
    const x = batch.x.dataSync();
    batch.videoIds.forEach((id, k) => {
      const sample = source.samples().find((s, i) => s.videoId === id && Array.from(x.subarray(k * 5 * 1280, k * 5 * 1280 + 3)).every((v, j) => v === readVideoFeatures(cacheDir, id).data[s.start * 1280 + j]) && i >= 0);
      assert.ok(sample, `batch row ${k} is a window of ${id}`);
      assert.equal(batch.labels[k], sample.label);
    });
    seen += batch.videoIds.length;
    batch.x.dispose();
  }
  assert.equal(seen, VIDEOS * 2);
  assert.equal(source.memoryBytes, VIDEOS * 12 * 1280 * 4, 'every video kept in memory after its first read');
});

test('the cache sequence source gives the same batches from memory, from disk, and with a budget for part of the videos', async () => {
  await initBackend();
  const cacheDir = path.join(root, 'cache-a', cacheKey(backbone.info, PREPROCESSING));
  const videos = jobs.map((j, i) => ({ videoId: j.videoId, label: i % 3 }));
  const videoBytes = 12 * 1280 * 4;
  const epoch = async (memoryBudgetBytes: number) => {
    const source = new CacheSequenceSource(cacheDir, videos, { sampleSize: 4, stride: 2 }, 3, { memoryBudgetBytes });
    const rows: number[][] = [];
    for (let pass = 0; pass < 2; pass++) {
      for await (const batch of source.batches(3, { shuffle: true, seed: 5 + pass })) {
        rows.push(Array.from(batch.x.dataSync()), Array.from(batch.labels));
        batch.x.dispose();
      }
    }
    return { rows, memoryBytes: source.memoryBytes };
  };
  const fromDisk = await epoch(0);
  const partly = await epoch(2 * videoBytes + 100);
  const fromMemory = await epoch(Number.MAX_SAFE_INTEGER);
  assert.equal(fromDisk.memoryBytes, 0);
  assert.equal(partly.memoryBytes, 2 * videoBytes);
  assert.equal(fromMemory.memoryBytes, VIDEOS * videoBytes);
  assert.deepEqual(partly.rows, fromDisk.rows);
  assert.deepEqual(fromMemory.rows, fromDisk.rows);
});
