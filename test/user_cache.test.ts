import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadBackbone } from '../src/backbone/source';
import { DEFAULT_CONFIG } from '../src/config';
import { CacheError, WeightsError } from '../src/errors';
import { datasetFiles } from '../src/pipeline/run';
import { notebookContext } from '../src/notebook/context';
import { CACHE_TAG_FILE, cacheRoot, clearCache, datasetCacheDir, isOurCache, openCache, weightsCacheDir } from '../src/runtime/user_cache';
import { SMALL_SETTINGS, makeSampleSubset } from '../scripts/kill_trials';
import { REPO_ROOT, makeTempDir, runCli, type CliResult } from './helpers';
import { SAMPLE_DIR } from './reliability_fixtures';

/**
 * Issue 15, point 3: caches live in a per-user folder ($XDG_CACHE_HOME/wlasl-cnn-lstm, --cache-dir to move it),
 * never in the dataset folder, one folder per dataset under it; `wlasl cache` shows and clears only what it made.
 * Every test points XDG_CACHE_HOME and HOME at temporary folders, so nothing reaches the real home.
 */

type Cli = CliResult;
const cli = (args: string[], env: NodeJS.ProcessEnv): Promise<Cli> => runCli(args, env);

/** Every entry under `root` with its type, permissions, size, content hash or link target, and folder mtimes. */
function listing(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const p = path.join(root, rel, name);
    const st = fs.lstatSync(p);
    const id = `${path.join(rel, name)} mode=${st.mode.toString(8)}`;
    if (st.isSymbolicLink()) out.push(`${id} -> ${fs.readlinkSync(p)}`);
    else if (st.isDirectory()) out.push(`${id} dir mtime=${st.mtimeMs}`, ...listing(root, path.join(rel, name)));
    else out.push(`${id} ${st.size} sha256=${createHash('sha256').update(fs.readFileSync(p)).digest('hex')} mtime=${st.mtimeMs}`);
  }
  return out;
}

/** chmod a-w on folders and files, never through a symlink (the videos link to data/sample). */
function setWritable(root: string, writable: boolean): void {
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    fs.chmodSync(p, writable ? st.mode | 0o200 : st.mode & ~0o222);
  };
  walk(root);
}

test('the cache root: --cache-dir, else $XDG_CACHE_HOME/wlasl-cnn-lstm, else ~/.cache/wlasl-cnn-lstm (a relative XDG_CACHE_HOME is ignored)', () => {
  assert.equal(cacheRoot(undefined, { XDG_CACHE_HOME: '/srv/xdg', HOME: '/home/u' }), '/srv/xdg/wlasl-cnn-lstm');
  assert.equal(cacheRoot(undefined, { XDG_CACHE_HOME: 'relative/xdg', HOME: '/home/u' }), '/home/u/.cache/wlasl-cnn-lstm');
  assert.equal(cacheRoot(undefined, { HOME: '/home/u' }), '/home/u/.cache/wlasl-cnn-lstm');
  assert.equal(cacheRoot('some/dir', { XDG_CACHE_HOME: '/srv/xdg' }), path.resolve('some/dir'));
  assert.equal(weightsCacheDir('/c'), '/c/weights');
  // The notebooks use the same root as `npm start`, so features computed by either serve both.
  assert.equal(notebookContext(SAMPLE_DIR, { XDG_CACHE_HOME: '/srv/xdg' }).cacheDir, '/srv/xdg/wlasl-cnn-lstm');
});

test('each dataset gets its own folder, named by the data folder and a hash of its resolved path', () => {
  const tmp = makeTempDir();
  const a = path.join(tmp, 'lab', 'wlasl');
  const b = path.join(tmp, 'kaggle', 'wlasl');
  for (const d of [a, b]) fs.mkdirSync(path.join(d, 'videos'), { recursive: true });
  fs.symlinkSync(a, path.join(tmp, 'link'));
  const dirA = datasetCacheDir('/c', datasetFiles({ dataDir: a }));
  const dirB = datasetCacheDir('/c', datasetFiles({ dataDir: b }));
  assert.match(path.basename(dirA), /^wlasl-[0-9a-f]{12}$/);
  assert.equal(path.dirname(dirA), '/c/datasets');
  assert.notEqual(dirA, dirB, 'same folder name, different datasets: video ids repeat, so their features must not mix');
  assert.equal(datasetCacheDir('/c', datasetFiles({ dataDir: path.join(tmp, 'link') })), dirA, 'through a symlink: the same dataset');
  assert.equal(datasetCacheDir('/c', datasetFiles({ dataDir: path.relative(process.cwd(), a) })), dirA, 'a relative path: the same dataset');
});

test('without a dataset, loadBackbone caches weights in weights/ of the same per-user root, marked as ours', async () => {
  const tmp = makeTempDir();
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = path.join(tmp, 'xdg');
  const root = path.join(tmp, 'xdg', 'wlasl-cnn-lstm');
  try {
    // A port nobody listens on: the download fails after the cache is opened, and the error says where it looked.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/mnv2/model.json`;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(loadBackbone({ ...DEFAULT_CONFIG.backbone, weights: url }, { log: () => undefined }), (e: unknown) => e instanceof WeightsError && e.message.includes(`no cached copy in ${path.join(root, 'weights', 'mnv2-')}`));
    assert.ok(isOurCache(root));
    // A local weights folder never creates the cache.
    fs.rmSync(root, { recursive: true });
    await assert.rejects(loadBackbone({ ...DEFAULT_CONFIG.backbone, weights: path.join(tmp, 'no-such-folder') }), /this folder does not exist/);
    assert.ok(!fs.existsSync(root));
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('a --cache-dir that is not ours and not empty is refused before anything is written; clearing refuses it too', async () => {
  const tmp = makeTempDir();
  const dataset = datasetFiles({ dataDir: path.join(tmp, 'data') });
  const someones = path.join(tmp, 'home-like');
  fs.mkdirSync(path.join(someones, 'weights'), { recursive: true });
  fs.writeFileSync(path.join(someones, 'thesis.tex'), 'mine');
  const before = listing(someones);
  await assert.rejects(openCache(dataset, someones), (e: unknown) => e instanceof CacheError && e.message.startsWith(`${someones}: not a wlasl-cnn-lstm cache folder`) && /thesis\.tex/.test(e.message));
  await assert.rejects(clearCache(someones), (e: unknown) => e instanceof CacheError && e.message === `${someones}: not a wlasl-cnn-lstm cache folder (no CACHEDIR.TAG of ours); nothing deleted`);
  assert.deepEqual(listing(someones), before);

  // A cache folder from before the per-user cache (features/ and weights/ at its top) is named as such.
  const old = path.join(tmp, 'old-cache');
  fs.mkdirSync(path.join(old, 'features'), { recursive: true });
  await assert.rejects(openCache(dataset, old), /looks like a cache from before the per-user cache/);

  // Where the weights cache used to be (an untagged ~/.cache/wlasl-cnn-lstm/weights) is adopted, not refused.
  const former = path.join(tmp, 'former');
  fs.mkdirSync(path.join(former, 'weights', 'mobilenet'), { recursive: true });
  const location = await openCache(dataset, former);
  assert.ok(isOurCache(former));
  assert.equal(location.weightsDir, path.join(former, 'weights'));
  assert.ok(fs.existsSync(path.join(former, 'weights', 'mobilenet')));

  // Under our root, a dataset folder without our record is not deleted.
  const stray = datasetCacheDir(former, datasetFiles({ dataDir: path.join(tmp, 'other') }));
  fs.mkdirSync(stray, { recursive: true });
  await assert.rejects(clearCache(former, { dataset: datasetFiles({ dataDir: path.join(tmp, 'other') }) }), (e: unknown) => e instanceof CacheError && e.message.startsWith(`${stray}: not a dataset cache of ours`));
  assert.ok(fs.existsSync(stray));
});

test('run on a read-only dataset: the data folder is untouched, the cache goes to XDG_CACHE_HOME; `cache` shows it, `cache --clear` removes only our folders', { timeout: 180_000 }, async () => {
  const tmp = makeTempDir('wlasl-user-cache-');
  const folder = (...parts: string[]) => {
    const dir = path.join(tmp, ...parts);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const data = makeSampleSubset(folder('lab', 'data'), { train: 1, val: 1, test: 1 }, 2);
  // Another dataset with the same folder name and the same video ids: it must get a folder of its own.
  const other = makeSampleSubset(folder('share', 'data'), { train: 1, val: 0, test: 0 }, 2);
  const xdg = path.join(tmp, 'xdg');
  const home = path.join(tmp, 'home');
  const env = { XDG_CACHE_HOME: xdg, HOME: home };
  const root = path.join(xdg, 'wlasl-cnn-lstm');

  setWritable(data, false);
  const before = listing(data);
  try {
    const run = await cli(['run', '--data', data, '--run-dir', path.join(tmp, 'run'), ...SMALL_SETTINGS], env);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const features = await cli(['features', '--data', other, ...SMALL_SETTINGS], env);
    assert.equal(features.code, 0, `${features.stdout}\n${features.stderr}`);
    // Tests run as root here, where permissions do not bind: the listing is what proves nothing was written.
    assert.deepEqual(listing(data), before, 'the dataset folder is byte-for-byte unchanged');
  } finally {
    setWritable(data, true);
  }
  assert.ok(!fs.existsSync(home), 'nothing under HOME when XDG_CACHE_HOME is set');

  const dataCache = datasetCacheDir(root, datasetFiles({ dataDir: data }));
  const otherCache = datasetCacheDir(root, datasetFiles({ dataDir: other }));
  assert.notEqual(dataCache, otherCache);
  assert.deepEqual(fs.readdirSync(path.join(root, 'datasets')).sort(), [path.basename(dataCache), path.basename(otherCache)].sort());
  assert.match(path.basename(dataCache), /^data-[0-9a-f]{12}$/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dataCache, 'dataset.json'), 'utf8')).dataDir, fs.realpathSync(data));
  const [key] = fs.readdirSync(path.join(dataCache, 'features'));
  assert.equal(fs.readdirSync(path.join(dataCache, 'features', key!)).filter((n) => n.endsWith('.bin')).length, 6);
  const [otherKey] = fs.readdirSync(path.join(otherCache, 'features'));
  assert.equal(fs.readdirSync(path.join(otherCache, 'features', otherKey!)).filter((n) => n.endsWith('.bin')).length, 2);
  // Both datasets calibrate the random backbone on the same two training videos: one weights folder serves both.
  assert.deepEqual(fs.readdirSync(path.join(root, 'weights')).map((n) => n.replace(/seed\d+-frames[0-9a-f]{12}$/, '')), ['random-mobilenet_v2_0.35-']);
  const summary = fs.readFileSync(path.join(tmp, 'run', 'summary.txt'), 'utf8');
  assert.ok(summary.includes(`cache: features and landmarks in ${dataCache}, weights in ${path.join(root, 'weights')}; size: wlasl cache, delete: wlasl cache --clear`), summary);

  const shown = await cli(['cache'], env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^cache: ${root} \\(\\d+\\.\\d [KM]iB\\)`));
  assert.match(shown.stdout, new RegExp(`\\d KiB  datasets/${path.basename(dataCache)}  ${fs.realpathSync(data)}\n`));
  assert.match(shown.stdout, new RegExp(`\\d KiB  datasets/${path.basename(otherCache)}  ${fs.realpathSync(other)}\n`));
  assert.match(shown.stdout, /\d MiB {2}weights\/random-mobilenet_v2_0\.35-seed\d+-frames[0-9a-f]{12}\n/);

  // Things under the root that we did not make: a note, and a folder in datasets/ without our dataset.json.
  fs.writeFileSync(path.join(root, 'notes.txt'), 'keep me');
  fs.mkdirSync(path.join(root, 'datasets', 'by-hand'));
  fs.writeFileSync(path.join(root, 'datasets', 'by-hand', 'x.bin'), 'keep me too');

  const one = await cli(['cache', '--clear', '--data', data], env);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, new RegExp(`^removed ${dataCache} \\(\\d+\\.\\d KiB\\)\nfreed `));
  assert.ok(!fs.existsSync(dataCache) && fs.existsSync(otherCache) && fs.existsSync(path.join(root, 'weights')), 'only that dataset');

  const all = await cli(['cache', '--clear'], env);
  assert.equal(all.code, 0, all.stderr);
  assert.ok(all.stdout.includes(`removed ${otherCache} (`) && all.stdout.includes(`removed ${path.join(root, 'weights')} (`), all.stdout);
  assert.ok(all.stdout.includes(`left alone (not created by wlasl-cnn-lstm): ${path.join(root, 'datasets', 'by-hand')}`), all.stdout);
  assert.ok(all.stdout.includes(`left alone (not created by wlasl-cnn-lstm): ${path.join(root, 'notes.txt')}`), all.stdout);
  assert.deepEqual(listing(root).map((l) => l.split(' ')[0]).sort(), [CACHE_TAG_FILE, 'datasets', 'datasets/by-hand', 'datasets/by-hand/x.bin', 'notes.txt']);
  const withoutMode = (lines: string[]) => lines.map((l) => l.replace(/ mode=\d+/, ''));
  assert.deepEqual(withoutMode(listing(data)), withoutMode(before), 'clearing never touches the dataset (made writable again since)');

  // A folder that is not ours: refused with the folder named, nothing deleted.
  const notOurs = path.join(tmp, 'lab');
  const labBefore = listing(notOurs);
  const refused = await cli(['cache', '--clear', '--cache-dir', notOurs], env);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr.trim(), `error: ${notOurs}: not a wlasl-cnn-lstm cache folder (no CACHEDIR.TAG of ours); nothing deleted`);
  assert.deepEqual(listing(notOurs), labBefore);
});
