import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DEFAULT_CONFIG, mergeConfig, type FramesConfig } from '../src/config';
import { OutputError } from '../src/errors';
import { readFinishedManifest, runFrameStage } from '../src/video/stage';
import { initBackend } from '../src/runtime/backend';
import { createRandomBackbone } from '../src/backbone/random';
import { buildFeatureCache } from '../src/features/build';
import { readVideoFeatures } from '../src/features/cache';
import { makeTempDir } from './helpers';
import { rawFrames } from './features_fixtures';
import { SAMPLE_DIR, snapshotTree } from './reliability_fixtures';

/**
 * Issue 8: a full disk and a read-only output folder give a clear error (the folder or file and "no space left
 * on device (ENOSPC)" / "read-only file system (EROFS)"), the failing item's partial output is removed, and
 * finished items are kept intact. Uses a small tmpfs (root can write through chmod, not through a full or
 * read-only mount); skipped, with the reason, where mounting is not permitted.
 */
const ROOT = makeTempDir('wlasl-disk-');

function sh(args: string[]): string | null {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `exit ${r.status}`).trim();
}

/** Mounts a tmpfs of `kb` KiB at a new folder; returns it, or the reason it cannot. */
function mountTmpfs(name: string, kb: number): { dir: string } | { skip: string } {
  const dir = path.join(ROOT, name);
  fs.mkdirSync(dir);
  const error = sh(['mount', '-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]);
  return error === null ? { dir } : { skip: `cannot mount a tmpfs (${error})` };
}
function remountReadOnly(dir: string): string | null {
  return sh(['mount', '-o', 'remount,ro', dir]);
}
function unmount(dir: string): void {
  sh(['umount', dir]);
}

const probe = mountTmpfs('probe', 64);
if ('dir' in probe) unmount(probe.dir);
const skip = 'skip' in probe ? probe.skip : false;

const GOOD = ['90000', '90001', '90002', '90003', '90004', '90005'].map((id) => ({ videoId: id, path: path.join(SAMPLE_DIR, 'videos', `${id}.mp4`), bbox: null }));
const FRAMES: FramesConfig = { ...mergeConfig(DEFAULT_CONFIG.frames, { size: 112, concurrency: 2, window: { start: 0, end: 11 } }), output: 'jpeg' };

test('frame stage: disk full and read-only output', { skip }, async () => {
  // About 60 KB of JPEGs per video: 300 KB holds a few, then the disk is full.
  const m = mountTmpfs('frames', 300);
  if ('skip' in m) throw new Error(m.skip);
  try {
    const outRoot = path.join(m.dir, 'frames');
    const summary = await runFrameStage(GOOD, FRAMES, outRoot, { progress: 'none' });
    assert.ok(summary.done >= 1 && summary.failed >= 1, `done ${summary.done}, failed ${summary.failed}: the tmpfs must fill up part way`);
    for (const f of summary.failures) {
      assert.equal(f.kind, 'write-failed');
      assert.equal(f.reason, `cannot write its frames to ${path.join(summary.outDir, f.videoId)}: no space left on device (ENOSPC)`);
      assert.ok(!fs.existsSync(path.join(summary.outDir, f.videoId)), `${f.videoId}: partial folder removed`);
    }
    const names = fs.readdirSync(summary.outDir);
    assert.deepEqual(names.filter((n) => n.startsWith('.')), [], 'no temporary folder left');
    const finished = GOOD.filter((j) => names.includes(j.videoId));
    assert.equal(finished.length, summary.done);
    for (const j of finished) assert.ok(await readFinishedManifest(path.join(summary.outDir, j.videoId)), `${j.videoId} intact`);

    // Read-only: refused at once naming the folder; the finished videos are untouched.
    const before = snapshotTree(outRoot);
    const roError = remountReadOnly(m.dir);
    if (roError) return void console.log(`# read-only remount not permitted: ${roError}`);
    await assert.rejects(runFrameStage(GOOD, FRAMES, outRoot, { progress: 'none' }), (e: unknown) => e instanceof OutputError && e.code === 'EROFS' && e.message.startsWith(path.join(summary.outDir, 'params.json')) && /read-only file system \(EROFS\)/.test(e.message));
    await assert.rejects(runFrameStage(GOOD, { ...FRAMES, size: 96 }, outRoot, { progress: 'none' }), (e: unknown) => e instanceof OutputError && /^.*: cannot create the frames folder: read-only file system \(EROFS\)$/.test(e.message));
    assert.deepEqual(snapshotTree(outRoot), before);
  } finally {
    unmount(m.dir);
  }
});

test('feature cache: disk full and read-only output', { skip, timeout: 120_000 }, async () => {
  await initBackend();
  const calibration = Buffer.concat([(await rawFrames(GOOD[0]!.path)).frames.subarray(0, 4 * 224 * 224 * 3)]);
  const backbone = await createRandomBackbone(0.35, 3, calibration, path.join(ROOT, 'weights'));
  const preprocessing = { window: { start: 0, end: 11 }, size: 224, cropToBbox: false };
  // 12 frames x 1280 float32 = 61 KB per video: 200 KB holds meta.json and a few.
  const m = mountTmpfs('features', 200);
  if ('skip' in m) throw new Error(m.skip);
  try {
    const cacheRoot = path.join(m.dir, 'cache');
    const build = (p = preprocessing) => buildFeatureCache({ jobs: GOOD, cacheRoot, backbone, preprocessing: p, frameProvider: async (j) => {
      const d = await rawFrames(j.path);
      return { ...d, frames: d.frames.subarray(0, 12 * 224 * 224 * 3), count: 12 };
    }, workers: 0, progress: 'none' });
    let cacheDir = '';
    await assert.rejects(build(), (e: unknown) => {
      assert.ok(e instanceof OutputError && e.code === 'ENOSPC', String(e));
      assert.match(e.message, /^\/.*\/[0-9]{5}\.bin: cannot write: no space left on device \(ENOSPC\)$/);
      cacheDir = path.dirname(e.file!);
      return true;
    });
    const names = fs.readdirSync(cacheDir);
    assert.deepEqual(names.filter((n) => n.startsWith('.')), [], 'no temporary file left');
    const bins = names.filter((n) => n.endsWith('.bin'));
    assert.ok(bins.length >= 1 && bins.length < GOOD.length, `${bins.length} videos cached before the disk filled`);
    for (const b of bins) assert.equal(readVideoFeatures(cacheDir, b.replace('.bin', '')).frames, 12, `${b} complete`);

    const before = snapshotTree(cacheRoot);
    const roError = remountReadOnly(m.dir);
    if (roError) return void console.log(`# read-only remount not permitted: ${roError}`);
    // Same key: the missing videos cannot be written. Another key: its folder cannot be made.
    await assert.rejects(build(), (e: unknown) => e instanceof OutputError && e.code === 'EROFS' && e.message.startsWith(cacheDir) && /read-only file system \(EROFS\)/.test(e.message));
    await assert.rejects(build({ ...preprocessing, size: 200 }), (e: unknown) => e instanceof OutputError && e.code === 'EROFS' && /cannot create the folder: read-only file system \(EROFS\)/.test(e.message));
    assert.deepEqual(snapshotTree(cacheRoot), before);
  } finally {
    unmount(m.dir);
  }
});
