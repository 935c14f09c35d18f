import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/runtime/backend';
import type { Backbone } from '../src/backbone/backbone';
import { embedFrames } from '../src/backbone/embed';
import { createRandomBackbone } from '../src/backbone/random';
import { buildFeatureCache, formatFeatureSummary } from '../src/features/build';
import { encodeFeatures, readFeatureHeader, readVideoFeatures, unstorableValue, HEADER_BYTES } from '../src/features/cache';
import { CacheSequenceSource } from '../src/dataset/cache_source';
import { DEFAULT_CONFIG, mergeConfig, type DeepPartial, type FramesConfig } from '../src/config';
import { CacheError } from '../src/errors';
import type { Bbox, VideoJob } from '../src/metadata/types';
import { finishedFramePaths, formatFrameSummary, frameDir, readFinishedManifest, runFrameStage } from '../src/video/stage';
import type { SourceStamp } from '../src/video/source_stamp';
import { makeTempDir } from './helpers';
import { makeTestVideo, rawFrames } from './features_fixtures';
import { makeGradientVideo, makeGreyRampVideo } from './video_fixtures';

/**
 * Issue 15 (9, 10): cache entries are checked against what produced them (video file size and mtime, bbox,
 * frame range) and for damage (length, magic, finite values); stale or damaged ones are redone and reported,
 * the run completes, and a cache that is fine is reused whole.
 */
const PREPROCESSING = { window: { start: 0, end: 11, useMetadataRange: false }, size: 224, cropToBbox: true };
type Job = { videoId: string; path: string; bbox: Bbox | null };
const IDS = ['v0', 'v1', 'v2', 'v3', 'v4'];
let root: string;
let backbone: Backbone;
let jobs: Job[];

before(async () => {
  await initBackend();
  root = makeTempDir('wlasl-staleness-');
  jobs = [];
  fs.mkdirSync(path.join(root, 'data'));
  fs.mkdirSync(path.join(root, 'other'));
  for (const [i, id] of IDS.entries()) jobs.push({ videoId: id, path: await makeTestVideo(path.join(root, 'data'), id, i), bbox: [0, 0, 100, 80] });
  const calibration = Buffer.concat([(await rawFrames(jobs[0]!.path)).frames, (await rawFrames(jobs[1]!.path)).frames]);
  backbone = await createRandomBackbone(0.35, 3, calibration, path.join(root, 'weights'));
});

function build(list: readonly Job[], cacheRoot: string, preprocessing: Record<string, unknown> = PREPROCESSING) {
  return buildFeatureCache({ jobs: list, cacheRoot, backbone, preprocessing, frameProvider: (job) => rawFrames(job.path), workers: 0, progress: 'none' });
}

async function embedded(file: string): Promise<Float32Array> {
  const decoded = await rawFrames(file);
  return embedFrames(backbone, decoded.frames, decoded.count, 224);
}

test('features: a fresh cache is reused whole; a replaced video, an edited bbox, another dataset\'s video are recomputed and reported', async () => {
  const cacheRoot = path.join(root, 'cache-stale');
  const first = await build(jobs, cacheRoot);
  assert.deepEqual([first.computed, first.reused, first.recomputed], [IDS.length, 0, []]);
  const again = await build(jobs, cacheRoot);
  assert.deepEqual([again.computed, again.reused, again.recomputed, again.failed], [0, IDS.length, [], []], 'nothing changed: every entry reused');
  const oldV0 = readVideoFeatures(first.cacheDir, 'v0').data;

  // Replace v0's content in place (another pattern, same path) and move v1's bbox in the metadata.
  await makeTestVideo(path.join(root, 'data'), 'v0', 3);
  const edited = jobs.map((j) => (j.videoId === 'v1' ? { ...j, bbox: [10, 10, 120, 100] as Bbox } : j));
  const changed = await build(edited, cacheRoot);
  assert.deepEqual([changed.computed, changed.reused, changed.failed], [2, IDS.length - 2, []]);
  assert.deepEqual(changed.recomputed.map((r) => [r.videoId, r.why]), [['v0', 'stale'], ['v1', 'stale']]);
  assert.match(changed.recomputed[0]!.reason, /^video file (replaced \(\d+ -> \d+ bytes\)|content changed \(same size, sha256 [0-9a-f]{12} -> [0-9a-f]{12}\))$/);
  assert.equal(changed.recomputed[1]!.reason, 'bbox [0,0,100,80] -> [10,10,120,100]');
  const newV0 = readVideoFeatures(first.cacheDir, 'v0').data;
  assert.deepEqual(newV0, await embedded(jobs[0]!.path), 'v0 holds the new video\'s features');
  assert.notDeepEqual(newV0, oldV0);
  const failures = JSON.parse(fs.readFileSync(path.join(first.cacheDir, 'failures.json'), 'utf8'));
  assert.deepEqual(failures.recomputed, changed.recomputed);
  const line = formatFeatureSummary(changed);
  assert.match(line, /^features: 2 computed \(recomputed 2 stale: v0 \(video file .*\), v1 \(bbox \[0,0,100,80\] -> \[10,10,120,100\]\)\), 3 reused, 0 skipped in /);
  const settled = await build(edited, cacheRoot);
  assert.deepEqual([settled.reused, settled.recomputed], [IDS.length, []], 'the new records are reused');

  // Another dataset with a video of the same id, sharing the cache: recomputed for it, and back again.
  const other = { videoId: 'v2', path: await makeTestVideo(path.join(root, 'other'), 'v2', 5), bbox: [0, 0, 100, 80] as Bbox };
  const shared = await build([other], cacheRoot);
  assert.deepEqual([shared.computed, shared.recomputed.map((r) => r.videoId)], [1, ['v2']]);
  assert.deepEqual(readVideoFeatures(first.cacheDir, 'v2').data, await embedded(other.path));
  const back = await build(edited, cacheRoot);
  assert.deepEqual([back.computed, back.recomputed.map((r) => r.videoId)], [1, ['v2']]);
  assert.deepEqual(readVideoFeatures(first.cacheDir, 'v2').data, await embedded(jobs[2]!.path));

  // A video that now fails: its stale entry is removed, not left for training to read.
  const gone = path.join(root, 'data', 'v4-gone.mp4');
  fs.renameSync(jobs[4]!.path, gone);
  try {
    const missing = await build(edited, cacheRoot);
    assert.deepEqual(missing.recomputed.map((r) => [r.videoId, r.why]), [['v4', 'stale']]);
    assert.match(missing.recomputed[0]!.reason, /^video file unreadable now \(was \d+ bytes\)$/);
    assert.deepEqual(missing.failed.map((f) => f.videoId), ['v4']);
    assert.ok(!fs.existsSync(path.join(first.cacheDir, 'v4.bin')));
    const source = new CacheSequenceSource(first.cacheDir, IDS.map((id, i) => ({ videoId: id, label: i % 2 })), { sampleSize: 4, stride: 4 }, 2);
    assert.deepEqual(source.missing, ['v4']);
  } finally {
    fs.renameSync(gone, jobs[4]!.path);
  }
});

test('features: the content decides: a copy with new times is reused, a same-size edit with the old times is recomputed', async () => {
  const cacheRoot = path.join(root, 'cache-content');
  const some = jobs.slice(0, 2);
  assert.equal((await build(some, cacheRoot)).computed, 2);
  const file = some[0]!.path;
  const original = fs.readFileSync(file);
  const { atime, mtime } = fs.statSync(file);
  try {
    // Provisioned again: the same bytes, written anew (a new mtime).
    fs.writeFileSync(file, original);
    fs.utimesSync(file, atime, new Date(mtime.getTime() + 3_600_000));
    const copied = await build(some, cacheRoot);
    assert.deepEqual([copied.computed, copied.reused, copied.recomputed], [0, 2, []]);
    // One byte changed near the end, the size and the old mtime kept (`touch -r`): seen by its hash.
    const edited = Buffer.from(original);
    edited[edited.length - 16] ^= 0xff;
    fs.writeFileSync(file, edited);
    fs.utimesSync(file, atime, mtime);
    const changed = await build(some, cacheRoot);
    assert.deepEqual(changed.recomputed.map((r) => [r.videoId, r.why]), [[some[0]!.videoId, 'stale']]);
    assert.match(changed.recomputed[0]!.reason, /^video file content changed \(same size, sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/);
  } finally {
    fs.writeFileSync(file, original);
    fs.utimesSync(file, atime, mtime);
  }
});

test('features: a bbox edit does not invalidate features that are not cropped to it', async () => {
  const cacheRoot = path.join(root, 'cache-full');
  const full = { ...PREPROCESSING, cropToBbox: false };
  const some = jobs.slice(0, 2);
  assert.equal((await build(some, cacheRoot, full)).computed, 2);
  const moved = await build(some.map((j) => ({ ...j, bbox: [5, 5, 50, 50] as Bbox })), cacheRoot, full);
  assert.deepEqual([moved.reused, moved.recomputed], [2, []]);
});

/** A format-1 file (no source record), as written before this check existed, from a format-2 one. */
function formatOne(file: string): Buffer {
  const current = fs.readFileSync(file);
  const header = readFeatureHeader(path.dirname(file), path.basename(file, '.bin'));
  const old = Buffer.alloc(32);
  current.copy(old, 0, 0, 32);
  old.writeUInt16LE(1, 4);
  return Buffer.concat([old, current.subarray(header.dataOffset)]);
}

test('features: truncated, bad-magic, NaN-filled, empty and old-format entries are refused by readers, then recomputed and reported; the run completes', async () => {
  const cacheRoot = path.join(root, 'cache-damage');
  const first = await build(jobs, cacheRoot);
  const bin = (id: string) => path.join(first.cacheDir, `${id}.bin`);
  const good = new Map(IDS.map((id) => [id, fs.readFileSync(bin(id))]));

  fs.truncateSync(bin('v0'), good.get('v0')!.length - 100);
  const magic = Buffer.from(good.get('v1')!);
  magic.write('XXXX', 0, 'ascii');
  fs.writeFileSync(bin('v1'), magic);
  const nan = Buffer.from(good.get('v2')!);
  const offset = readFeatureHeader(first.cacheDir, 'v2').dataOffset;
  for (let i = offset; i < nan.length; i += 4) nan.writeFloatLE(NaN, i);
  fs.writeFileSync(bin('v2'), nan);
  fs.writeFileSync(bin('v3'), formatOne(bin('v3')));
  fs.writeFileSync(bin('v4'), '');

  // Readers name the file and the problem instead of training on garbage.
  const named = (id: string, re: RegExp) => (e: unknown) => e instanceof CacheError && e.message.startsWith(`${bin(id)}: `) && re.test(e.message);
  const one = (id: string, budget?: number) => new CacheSequenceSource(first.cacheDir, [{ videoId: id, label: 0 }], { sampleSize: 4, stride: 4 }, 1, { memoryBudgetBytes: budget });
  assert.throws(() => one('v0'), named('v0', /file has \d+ bytes, its header needs \d+ \(truncated or damaged\): rerun `features` to recompute it$/));
  assert.throws(() => one('v1'), named('v1', /not a feature cache file \(bad magic\)/));
  assert.throws(() => one('v3'), named('v3', /feature file format 1, without a record of the video it was made from/));
  assert.throws(() => one('v4'), named('v4', /file has 0 bytes, less than a header \(truncated\)/));
  assert.throws(() => readVideoFeatures(first.cacheDir, 'v2'), named('v2', /value NaN at frame 0 \(damaged\): rerun `features`/));
  for (const budget of [0, 1 << 30]) {
    // From disk window by window (budget 0) and whole into memory: both refuse the NaN.
    await assert.rejects(async () => {
      for await (const batch of one('v2', budget).batches(2, { shuffle: false, seed: 1 })) batch.x.dispose();
    }, named('v2', /value NaN at frame 0 \(damaged\)/));
  }

  const repaired = await build(jobs, cacheRoot);
  assert.deepEqual([repaired.computed, repaired.reused, repaired.failed], [IDS.length, 0, []]);
  assert.deepEqual(
    repaired.recomputed.map((r) => [r.videoId, r.why]),
    [['v0', 'damaged'], ['v1', 'damaged'], ['v2', 'damaged'], ['v3', 'stale'], ['v4', 'damaged']],
  );
  const reasons = repaired.recomputed.map((r) => r.reason);
  assert.match(reasons[0]!, /^file has \d+ bytes, its header needs \d+ \(truncated or damaged\)$/);
  assert.equal(reasons[1], 'not a feature cache file (bad magic)');
  assert.equal(reasons[2], 'value NaN at frame 0');
  assert.equal(reasons[3], 'feature file format 1, without a record of the video it was made from; this code reads format 2');
  assert.equal(reasons[4], 'file has 0 bytes, less than a header (truncated)');
  assert.match(formatFeatureSummary(repaired), /recomputed 1 stale: v3 \(feature file format 1.*\); 4 damaged: v0 \(file has .*\), v1 \(not a feature cache file \(bad magic\)\), v2 \(value NaN at frame 0\), v4 \(file has 0 bytes/);
  for (const id of IDS) assert.ok(fs.readFileSync(bin(id)).equals(good.get(id)!), `${id} is whole again, byte for byte`);
  assert.equal(new CacheSequenceSource(first.cacheDir, IDS.map((id) => ({ videoId: id, label: 0 })), { sampleSize: 4, stride: 4 }, 1).numSamples, IDS.length * 3);
});

test('features: values that cannot be stored are refused before writing', () => {
  const stamp: SourceStamp = { bytes: 1, mtimeMs: 2, bbox: null, frameStart: null, frameEnd: null };
  assert.equal(unstorableValue(Float32Array.from([1, 2, 3, 4]), 2, 'float32'), null);
  assert.equal(unstorableValue(Float32Array.from([1, 2, 3, NaN]), 2, 'float32'), 'NaN at frame 1');
  assert.equal(unstorableValue(Float32Array.from([Infinity, 0]), 2, 'float32'), 'Infinity at frame 0');
  assert.equal(unstorableValue(Float32Array.from([0, 70000]), 2, 'float32'), null);
  assert.match(unstorableValue(Float32Array.from([0, 70000]), 2, 'float16')!, /^70000 at frame 0, beyond float16's range/);
  assert.throws(() => encodeFeatures(Float32Array.from([1, NaN]), 1, 2, 'float32', 'k', stamp), /features not stored: NaN at frame 0/);
  const record = Buffer.from(JSON.stringify(stamp));
  const buf = encodeFeatures(Float32Array.from([1, 2]), 1, 2, 'float32', 'k', stamp);
  assert.equal(buf.length, HEADER_BYTES + Math.ceil(record.length / 8) * 8 + 8, 'features start 8-aligned after the record');
  assert.deepEqual(JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + buf.readUInt32LE(32))), stamp);
});

// ---- The frame stage (prepare) ----

function framesConfig(override: DeepPartial<FramesConfig> = {}): FramesConfig {
  return mergeConfig(DEFAULT_CONFIG.frames, { size: 32, concurrency: 2, ...override });
}

test('prepare: a replaced video, an edited bbox, a damaged folder and an old manifest are extracted again and reported', async () => {
  const data = path.join(root, 'frames-data');
  const video = (id: string, options = {}) => makeGradientVideo(path.join(data, `${id}.mp4`), options);
  const frameJobs: VideoJob[] = [
    { videoId: 'f0', path: video('f0'), bbox: [40, 30, 200, 150] },
    { videoId: 'f1', path: video('f1'), bbox: [0, 0, 128, 96] },
    { videoId: 'f2', path: video('f2'), bbox: null },
    { videoId: 'f3', path: video('f3'), bbox: null },
    { videoId: 'f4', path: video('f4'), bbox: null },
  ];
  const outRoot = path.join(root, 'frames');
  const cfg = framesConfig();
  const first = await runFrameStage(frameJobs, cfg, outRoot, { progress: 'none' });
  assert.deepEqual([first.done, first.failed, first.recomputed], [5, 0, []]);
  const again = await runFrameStage(frameJobs, cfg, outRoot, { progress: 'none' });
  assert.deepEqual([again.done, again.skipped, again.recomputed], [0, 5, []], 'nothing changed: every folder reused');
  const dirOf = (id: string) => frameDir(outRoot, cfg, id);
  const oldF0 = fs.readFileSync(path.join(dirOf('f0'), '000005.jpg'));

  // Another picture: the gradient's crop would look the same at any size.
  makeGreyRampVideo(frameJobs[0]!.path);
  const edited = frameJobs.map((j) => (j.videoId === 'f1' ? { ...j, bbox: [20, 10, 148, 106] as Bbox } : j));
  fs.rmSync(path.join(dirOf('f2'), '000007.jpg'));
  const manifestOf = (id: string) => path.join(dirOf(id), 'manifest.json');
  const old = JSON.parse(fs.readFileSync(manifestOf('f3'), 'utf8'));
  delete old.sourceStamp;
  fs.writeFileSync(manifestOf('f3'), JSON.stringify(old));
  fs.writeFileSync(manifestOf('f4'), '{"videoId": "f4", "files": [');

  const redone = await runFrameStage(edited, cfg, outRoot, { progress: 'none' });
  assert.deepEqual([redone.done, redone.skipped, redone.failed], [5, 0, 0]);
  assert.deepEqual(redone.recomputed.map((r) => [r.videoId, r.why]), [['f0', 'stale'], ['f1', 'stale'], ['f2', 'damaged'], ['f3', 'stale'], ['f4', 'damaged']]);
  const reasons = redone.recomputed.map((r) => r.reason);
  assert.match(reasons[0]!, /^video file replaced \(\d+ -> \d+ bytes\)$/);
  assert.equal(reasons[1], 'bbox [0,0,128,96] -> [20,10,148,106]');
  assert.equal(reasons[2], '000007.jpg missing (ENOENT)');
  assert.equal(reasons[3], 'no record of the video it was made from (written by an older version)');
  assert.equal(reasons[4], 'manifest.json is not valid JSON');
  const f0 = await readFinishedManifest(dirOf('f0'));
  assert.equal(f0?.probe.width, 120, 'f0 was taken from the new file');
  assert.ok(!fs.readFileSync(path.join(dirOf('f0'), '000005.jpg')).equals(oldF0));
  assert.deepEqual((await readFinishedManifest(dirOf('f1')))?.crop, { x: 20, y: 10, width: 128, height: 96 }, 'the manifest has the new crop');
  assert.equal((await finishedFramePaths(outRoot, cfg, 'f2'))?.length, 31);
  const report = JSON.parse(fs.readFileSync(redone.reportFile, 'utf8'));
  assert.deepEqual(report.recomputed, redone.recomputed);
  assert.match(formatFrameSummary(redone), /^frames: 5 done \(0 padded; recomputed 3 stale: f0 \(video file replaced .*\), f1 \(bbox .*\), f3 \(no record .*\); 2 damaged: f2 \(000007\.jpg missing \(ENOENT\)\), f4 \(manifest\.json is not valid JSON\)\), 0 already done/);
  const settled = await runFrameStage(edited, cfg, outRoot, { progress: 'none' });
  assert.deepEqual([settled.skipped, settled.recomputed], [5, []]);

  // A stale folder whose video is gone is removed, so its old frames are never taken for the video's.
  fs.rmSync(frameJobs[4]!.path);
  const gone = await runFrameStage(edited, cfg, outRoot, { progress: 'none' });
  assert.deepEqual([gone.recomputed.map((r) => r.videoId), gone.failures.map((f) => [f.videoId, f.kind])], [['f4'], [['f4', 'missing']]]);
  assert.equal(await finishedFramePaths(outRoot, cfg, 'f4'), null);
  assert.ok(!fs.existsSync(dirOf('f4')));
});

test('prepare: the WLASL frame range counts only when the window follows it, the bbox only when cropping', async () => {
  const file = makeGradientVideo(path.join(root, 'range-data', 'r0.mp4'));
  const outRoot = path.join(root, 'frames-range');
  const ranged = framesConfig({ window: { useMetadataRange: true }, cropToBbox: false });
  const job: VideoJob = { videoId: 'r0', path: file, bbox: null, frameStart: 1, frameEnd: -1 };
  assert.equal((await runFrameStage([job], ranged, outRoot, { progress: 'none' })).done, 1);
  const boxed = await runFrameStage([{ ...job, bbox: [0, 0, 64, 64] }], ranged, outRoot, { progress: 'none' });
  assert.deepEqual([boxed.skipped, boxed.recomputed], [1, []], 'no crop: a bbox edit changes nothing');
  const moved = await runFrameStage([{ ...job, frameStart: 11, frameEnd: 20 }], ranged, outRoot, { progress: 'none' });
  assert.deepEqual(moved.recomputed, [{ videoId: 'r0', why: 'stale', reason: 'frame range 1..-1 -> 11..20' }]);
  assert.equal((await readFinishedManifest(frameDir(outRoot, ranged, 'r0')))?.files.length, 10);

  const fixed = framesConfig({ window: { useMetadataRange: false }, cropToBbox: false });
  const fixedRoot = path.join(root, 'frames-fixed');
  assert.equal((await runFrameStage([job], fixed, fixedRoot, { progress: 'none' })).done, 1);
  const other = await runFrameStage([{ ...job, frameStart: 11, frameEnd: 20 }], fixed, fixedRoot, { progress: 'none' });
  assert.deepEqual([other.skipped, other.recomputed], [1, []], 'a fixed window: the metadata range changes nothing');
});
