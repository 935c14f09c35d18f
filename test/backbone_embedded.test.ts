import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { initBackend } from '../src/runtime/backend';
import { alphaOfWeightsFolder } from '../src/backbone/backbone';
import { buildMobileNetV2Base } from '../src/backbone/mobilenet_v2';
import { hashModelDirectory, saveModelToDirectory } from '../src/backbone/model_dir';
import { fetchModelToCache, urlCacheDir } from '../src/backbone/download';
import { EMBEDDED_WEIGHTS_DIR, imagenetWeightsUrl, loadBackbone, resolveWeights } from '../src/backbone/source';
import { embedFrames } from '../src/backbone/embed';
import { DEFAULT_CONFIG, type BackboneConfig } from '../src/config';
import { notebookContext } from '../src/notebook/context';
import { weightsCacheDir } from '../src/runtime/user_cache';
import { makeTempDir, runCli } from './helpers';
import { makeSampleSubset } from '../scripts/kill_trials';
import { makeTestVideo, rawFrames } from './features_fixtures';

const backbone = (overrides: Partial<BackboneConfig>): BackboneConfig => ({ ...DEFAULT_CONFIG.backbone, ...overrides });

test('the embedded weights are the files their README lists: sizes and sha256 of every file', () => {
  const readme = fs.readFileSync(path.join(EMBEDDED_WEIGHTS_DIR, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$/gm)].map((m) => ({ file: m[1]!, bytes: Number(m[2]), sha256: m[3]! }));
  assert.deepEqual(rows.map((r) => r.file).sort(), fs.readdirSync(EMBEDDED_WEIGHTS_DIR).filter((f) => f !== 'README.md').sort(), 'every file is listed');
  for (const row of rows) {
    const bytes = fs.readFileSync(path.join(EMBEDDED_WEIGHTS_DIR, row.file));
    assert.equal(bytes.length, row.bytes, row.file);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), row.sha256, row.file);
  }
  // The Teachable Machine / Keras weights file named in ../shared/weights/README.md.
  assert.equal(rows.find((r) => r.file === 'weights.bin')?.sha256, 'e159deb3afa15bc63a53edb3eb31d0d6de1a25f0d8d72d9b8372b5088a902a8a');
  assert.match(readme, /Apache License 2\.0/);
  assert.match(fs.readFileSync(path.join(EMBEDDED_WEIGHTS_DIR, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
});

test("'embedded' loads the committed ImageNet MobileNetV2-0.35: recorded as such, width from its graph, informative features", async () => {
  await initBackend();
  assert.equal(await alphaOfWeightsFolder(EMBEDDED_WEIGHTS_DIR), 0.35);
  const b = await loadBackbone(backbone({ weights: 'embedded' }), { weightsCacheDir: path.join(makeTempDir(), 'never-made') });
  assert.equal(b.info.source, 'embedded');
  assert.equal(b.info.alpha, 0.35);
  assert.equal(b.info.modelDir, EMBEDDED_WEIGHTS_DIR);
  assert.equal(b.info.weightsHash, hashModelDirectory(EMBEDDED_WEIGHTS_DIR));
  assert.match(b.info.weightsId, /^imagenet-mobilenet_v2_0\.35_224-embedded@sha256:[0-9a-f]{16}$/);
  assert.ok(b.fast, 'Keras layer names: the folded fast path applies');
  const { frames, count } = await rawFrames(await makeTestVideo(makeTempDir(), 'v', 3, 4));
  const features = embedFrames(b, frames, count, 224);
  assert.equal(features.length, count * 1280);
  // ImageNet features of a real picture: non-negative (ReLU6), not collapsed, and different from frame to frame.
  let mean = 0;
  for (const v of features) mean += v / features.length;
  assert.ok(features.every((v) => v >= 0 && v <= 6) && mean > 0.01, `mean ${mean}`);
  b.model.dispose();
});

/** A finished 'imagenet' width-1.0 download in `cacheDir`, written by download.ts from a loopback server. */
async function cacheImagenet10(cacheDir: string): Promise<string> {
  const source = path.join(makeTempDir(), 'mnv2-1.0');
  const model = buildMobileNetV2Base(1.0);
  await saveModelToDirectory(model, source);
  model.dispose();
  const server = http.createServer((req, res) => {
    const file = path.join(source, path.basename(req.url ?? ''));
    if (fs.existsSync(file)) res.writeHead(200).end(fs.readFileSync(file));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/model.json`;
  try {
    await fetchModelToCache(url, cacheDir, { log: () => undefined });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  // Where a download of the real URL lands (the folder name is derived from the URL).
  const dir = urlCacheDir(imagenetWeightsUrl(1.0), cacheDir);
  fs.renameSync(urlCacheDir(url, cacheDir), dir);
  return dir;
}

test("'default' weights: the cached width-1.0 ImageNet download when present, else the embedded 0.35; an explicit width decides", async () => {
  await initBackend();
  const xdg = makeTempDir();
  const cacheDir = weightsCacheDir(path.join(xdg, 'wlasl-cnn-lstm'));
  const dataDir = makeTempDir();
  const env = { XDG_CACHE_HOME: xdg };

  // Nothing cached (the folder does not even exist): the embedded weights, and the reason says so.
  const empty = resolveWeights(backbone({}), cacheDir);
  assert.deepEqual([empty.weights, empty.alpha], ['embedded', 0.35]);
  assert.match(empty.reason ?? '', /the embedded ImageNet MobileNetV2-0\.35 \(no width-1\.0 ImageNet weights cached in .*--weights imagenet downloads them\)/);
  const ctx = notebookContext(dataDir, env, { requireData: false });
  assert.deepEqual([ctx.config.backbone.weights, ctx.config.backbone.alpha], ['embedded', 0.35]);
  const loaded = await loadBackbone(backbone({}), { weightsCacheDir: cacheDir, log: () => undefined });
  assert.deepEqual([loaded.info.source, loaded.info.alpha], ['embedded', 0.35]);
  loaded.model.dispose();
  assert.ok(!fs.existsSync(cacheDir), 'choosing created no cache');

  // An explicit width: 0.35 is the embedded copy, another width is ImageNet at that width; others are left alone.
  assert.deepEqual(resolveWeights(backbone({ alpha: 0.35 }), cacheDir), { weights: 'embedded', alpha: 0.35, reason: 'default weights at width 0.35: the embedded ImageNet MobileNetV2-0.35' });
  assert.deepEqual([resolveWeights(backbone({ alpha: 1.0 }), cacheDir, true).weights, resolveWeights(backbone({ alpha: 0.5 }), cacheDir).weights], ['imagenet', 'imagenet']);
  assert.deepEqual(resolveWeights(backbone({ weights: 'random', alpha: 0.5 }), cacheDir), { weights: 'random', alpha: 0.5 });
  assert.deepEqual(resolveWeights(backbone({ weights: 'embedded' }), cacheDir), { weights: 'embedded', alpha: 0.35 });
  // The embedded sample keeps its 0.35 whatever is cached (its preset asks for that width).
  assert.equal(notebookContext('data/sample', env).config.backbone.weights, 'embedded');

  // A finished width-1.0 download in the cache: taken, offline.
  const cached = await cacheImagenet10(cacheDir);
  const hit = resolveWeights(backbone({}), cacheDir);
  assert.deepEqual([hit.weights, hit.alpha], ['imagenet', 1.0]);
  assert.match(hit.reason ?? '', /the cached width-1\.0 ImageNet MobileNetV2 in /);
  const ctx10 = notebookContext(dataDir, env, { requireData: false });
  assert.deepEqual([ctx10.config.backbone.weights, ctx10.config.backbone.alpha], ['imagenet', 1.0]);
  const lines: string[] = [];
  const fromCache = await loadBackbone(backbone({}), { weightsCacheDir: cacheDir, log: (l) => lines.push(l) });
  assert.deepEqual([fromCache.info.source, fromCache.info.alpha, fromCache.info.modelDir], ['imagenet', 1.0, cached]);
  assert.match(fromCache.info.weightsId, /^imagenet-mobilenet_v2_1\.00_224@sha256:/);
  assert.ok(!lines.some((l) => /downloading/.test(l)), lines.join('\n'));
  fromCache.model.dispose();
  assert.deepEqual(resolveWeights(backbone({ alpha: 0.35 }), cacheDir).weights, 'embedded');

  // An unfinished download (no download record) is not a cached copy.
  fs.rmSync(path.join(cached, 'download.json'));
  assert.equal(resolveWeights(backbone({}), cacheDir).weights, 'embedded');
});

test('the CLI with no cache runs on the embedded weights end to end (run folder, bundled backbone, evaluate, predict); --weights random still works', { timeout: 600_000 }, async () => {
  const root = makeTempDir();
  const data = path.join(root, 'data');
  fs.mkdirSync(data);
  makeSampleSubset(data, { train: 2, val: 1, test: 1 }, 4);
  const env = { XDG_CACHE_HOME: path.join(root, 'xdg') };
  // SMALL_SETTINGS without its --weights random and --alpha 0.35: the defaults decide.
  const small = ['--preset', 'cnn-windows', '--sample-size', '5', '--stride', '5', '--frame-start', '0', '--frame-end', '11', '--epochs', '2', '--hidden', '16', '--batch-size', '8', '--seed', '7'];
  const runDir = path.join(root, 'run');
  const run = await runCli(['run', '--data', data, '--run-dir', runDir, ...small], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^default weights: the embedded ImageNet MobileNetV2-0\.35 \(no width-1\.0 ImageNet weights cached/m);
  assert.match(fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8'), /^backbone: imagenet-mobilenet_v2_0\.35_224-embedded@sha256:[0-9a-f]{16} \(alpha 0\.35\)/m);
  const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { backbone: BackboneConfig };
  assert.deepEqual([config.backbone.weights, config.backbone.alpha, config.backbone.allowRandomFallback], ['embedded', 0.35, false]);
  // The model folder carries the weights it was trained on, licence included.
  for (const file of ['model.json', 'weights.bin', 'LICENSE']) {
    assert.ok(fs.readFileSync(path.join(runDir, 'model', 'backbone', file)).equals(fs.readFileSync(path.join(EMBEDDED_WEIGHTS_DIR, file))), file);
  }
  const evaluated = await runCli(['evaluate', '--model', path.join(runDir, 'model'), '--data', data], env);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /per video \(4\): top-1 /);
  assert.ok(!/WARNING/.test(evaluated.stdout));
  const video = path.join(data, 'videos', fs.readdirSync(path.join(data, 'videos'))[0]!);
  const predicted = await runCli(['predict', video, '--model', path.join(runDir, 'model'), '--json'], env);
  assert.equal(predicted.code, 0, predicted.stderr);
  assert.equal((JSON.parse(predicted.stdout) as { top: unknown[] }).top.length, 4);

  const randomDir = path.join(root, 'random');
  const random = await runCli(['run', '--data', data, '--run-dir', randomDir, '--weights', 'random', '--alpha', '0.35', ...small], env);
  assert.equal(random.code, 0, random.stderr);
  assert.match(fs.readFileSync(path.join(randomDir, 'summary.txt'), 'utf8'), /^backbone: random-mobilenet_v2_0\.35_224-seed1-calibrated@sha256:[0-9a-f]{16} /m);
  assert.match(random.stdout, /WARNING: this run used seeded random backbone weights/);

  const refused = await runCli(['run', '--data', data, '--run-dir', path.join(root, 'refused'), '--weights', 'embedded', '--alpha', '1.0'], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--alpha 1\.0 contradicts the embedded weights, which are MobileNetV2-0\.35: give --alpha 0\.35, or leave --alpha out/);
});
