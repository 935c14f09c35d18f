import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { buildMobileNetV2Base, featureModel, inferAlpha } from '../src/backbone/mobilenet_v2';
import { embedFrames } from '../src/backbone/embed';
import { urlCacheDir } from '../src/backbone/download';
import { createRandomBackbone } from '../src/backbone/random';
import { loadBackbone } from '../src/backbone/source';
import { normalizePixels } from '../src/backbone/preprocess';
import { DEFAULT_CONFIG, type BackboneConfig } from '../src/config';
import { WeightsError } from '../src/errors';
import { MOBILENET_035_DIR, makeTempDir } from './helpers';
import { makeTestVideo, rawFrames } from './features_fixtures';

const FRAME = 224 * 224 * 3;

async function calibrationFrames(dir: string): Promise<Uint8Array> {
  const a = await rawFrames(await makeTestVideo(dir, 'cal0', 0, 4));
  const b = await rawFrames(await makeTestVideo(dir, 'cal1', 1, 4));
  const out = new Uint8Array(a.frames.length + b.frames.length);
  out.set(a.frames);
  out.set(b.frames, a.frames.length);
  return out;
}

function spread(features: Float32Array, dim = 1280): { meanAbs: number; perDimStd: number } {
  const n = features.length / dim;
  let abs = 0;
  for (const v of features) abs += Math.abs(v);
  let std = 0;
  for (let d = 0; d < dim; d++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += features[i * dim + d]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (features[i * dim + d]! - m) ** 2;
    std += Math.sqrt(v / n);
  }
  return { meanAbs: abs / features.length, perDimStd: std / dim };
}

function config(overrides: Partial<BackboneConfig>): BackboneConfig {
  return { ...DEFAULT_CONFIG.backbone, alpha: 0.35, ...overrides };
}

test('the architecture matches Keras MobileNetV2: parameter count, and every weight of the real 0.35 model', async () => {
  await initBackend();
  const full = buildMobileNetV2Base(1.0);
  assert.equal(full.countParams(), 2257984, 'keras MobileNetV2(alpha=1.0, include_top=False) has 2,257,984 parameters');
  assert.deepEqual(full.outputs[0]!.shape, [null, 7, 7, 1280]);
  assert.equal(inferAlpha(full), 1.0);
  for (const alpha of [0.75, 0.5, 0.35] as const) assert.equal(inferAlpha(buildMobileNetV2Base(alpha)), alpha);
  full.dispose();
  if (!MOBILENET_035_DIR) return;
  const manifest = JSON.parse(fs.readFileSync(path.join(MOBILENET_035_DIR, 'model.json'), 'utf8')).weightsManifest as Array<{ weights: Array<{ name: string; shape: number[] }> }>;
  const theirs = manifest.flatMap((g) => g.weights.map((w) => `${w.name} ${w.shape.join('x')}`)).sort();
  const small = buildMobileNetV2Base(0.35);
  const ours = small.weights.map((w) => `${w.originalName} ${w.shape.join('x')}`).sort();
  assert.deepEqual(ours, theirs);
  small.dispose();
});

test('random backbone: [N,1280] features, deterministic per seed, healthy spread only after BatchNorm calibration', async () => {
  await initBackend();
  const dir = makeTempDir();
  const frames = await calibrationFrames(dir);
  const count = frames.length / FRAME;

  // A plain random init (the framework's default initialisers, BatchNorm at its defaults) collapses to
  // ~1e-12, as torchvision's random model does in the original's stack.
  const raw = buildMobileNetV2Base(0.35);
  const rawFeatures = tf.tidy(() => (featureModel(raw).predict(tf.tensor4d(normalizePixels(frames, 'minus1to1'), [count, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array);
  raw.dispose();

  const first = await createRandomBackbone(0.35, 1, frames, path.join(dir, 'w1'));
  const again = await createRandomBackbone(0.35, 1, frames, path.join(dir, 'w2'));
  const other = await createRandomBackbone(0.35, 2, frames, path.join(dir, 'w3'));
  assert.match(first.info.weightsId, /^random-mobilenet_v2_0\.35_224-seed1-calibrated@sha256:[0-9a-f]{16}$/);
  assert.equal(first.info.calibration?.batchNormLayers, 52);
  assert.equal(first.info.weightsHash, again.info.weightsHash, 'same seed and frames give the same weights');
  assert.notEqual(first.info.weightsHash, other.info.weightsHash);

  const features = embedFrames(first, frames, count, 224, 4);
  assert.equal(features.length, count * 1280);
  assert.deepEqual(embedFrames(again, frames, count, 224, 3), features, 'deterministic, whatever the batch size');
  const calibrated = spread(features);
  const collapsed = spread(rawFeatures);
  assert.ok(calibrated.perDimStd > 0.02 && calibrated.meanAbs > 0.05, `calibrated features have spread: ${JSON.stringify(calibrated)}`);
  assert.ok(collapsed.meanAbs < 1e-6 && calibrated.perDimStd > 1e4 * collapsed.perDimStd, `calibration matters: ${JSON.stringify({ calibrated, collapsed })}`);
  for (const b of [first, again, other]) b.model.dispose();
});

test('weights load from the real ImageNet 0.35 folder and give informative features', { skip: !MOBILENET_035_DIR && 'no ../shared weights' }, async () => {
  await initBackend();
  const backbone = await loadBackbone(config({ weights: MOBILENET_035_DIR! }));
  assert.equal(backbone.info.source, 'directory');
  assert.equal(backbone.info.alpha, 0.35);
  assert.equal(backbone.info.normalization, 'minus1to1');
  assert.match(backbone.info.weightsId, /@sha256:[0-9a-f]{16}$/);
  const dir = makeTempDir();
  const { frames, count } = await rawFrames(await makeTestVideo(dir, 'v', 2, 4));
  const features = embedFrames(backbone, frames, count, 224);
  const s = spread(features);
  assert.ok(features.every((v) => v >= 0 && v <= 6), 'pooled ReLU6 outputs');
  assert.ok(s.meanAbs > 0.01, JSON.stringify(s));
  // The fast path (BatchNorm folded into fused conv kernels) computes the same function as the layers model.
  assert.ok(backbone.fast, 'Keras-named weights get the folded path');
  const x = tf.tensor4d(normalizePixels(frames, 'minus1to1'), [count, 224, 224, 3]);
  const reference = backbone.model.predict(x) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(reference, backbone.fast!.predict(x)))).dataSync()[0]!;
  assert.ok(diff < 1e-3 * Math.max(1, tf.max(reference).dataSync()[0]!), `folded differs by ${diff}`);
  tf.dispose([x, reference]);
  backbone.model.dispose();
});

test('weights load from a loopback URL once, are reused offline, and a damaged cache is refused', async () => {
  await initBackend();
  const dir = makeTempDir();
  const frames = await calibrationFrames(dir);
  const served = await createRandomBackbone(0.35, 5, frames, path.join(dir, 'served'));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const file = path.join(served.info.modelDir, path.basename(req.url ?? ''));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/mnv2/model.json`;
  const cacheDir = path.join(dir, 'cache');
  let fromUrl;
  try {
    fromUrl = await loadBackbone(config({ weights: url }), { weightsCacheDir: cacheDir, log: () => undefined });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.deepEqual(requests, ['/models/mnv2/model.json', '/models/mnv2/weights.bin']);
  assert.equal(fromUrl.info.source, 'url');
  assert.equal(fromUrl.info.weightsHash, served.info.weightsHash);
  const direct = embedFrames(served, frames.subarray(0, 2 * FRAME), 2, 224);
  assert.deepEqual(embedFrames(fromUrl, frames.subarray(0, 2 * FRAME), 2, 224), direct);

  // Server gone: the cached copy is verified and used without the network.
  const offline = await loadBackbone(config({ weights: url }), { weightsCacheDir: cacheDir, log: () => undefined });
  assert.equal(offline.info.weightsHash, served.info.weightsHash);

  const shard = path.join(urlCacheDir(url, cacheDir), 'weights.bin');
  const bytes = fs.readFileSync(shard);
  bytes[100] = bytes[100]! ^ 0xff;
  fs.writeFileSync(shard, bytes);
  await assert.rejects(loadBackbone(config({ weights: url }), { weightsCacheDir: cacheDir }), (e: Error) => e instanceof WeightsError && /sha256/.test(e.message));
  for (const b of [served, fromUrl, offline]) b.model.dispose();
});

test('unreachable weights with no cache: one clear error, or the random fallback when allowed (recorded)', async () => {
  await initBackend();
  const dir = makeTempDir();
  // A port nobody listens on: the same path as 'imagenet' offline.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}/mobilenet/model.json`;
  const lines: string[] = [];
  await assert.rejects(loadBackbone(config({ weights: url }), { weightsCacheDir: dir, log: (l) => lines.push(l) }), (e: Error) => {
    assert.ok(e instanceof WeightsError);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, /unavailable: .*ECONNREFUSED.*no cached copy in .*allow the random fallback/);
    return true;
  });
  const frames = await calibrationFrames(dir);
  const fallback = await loadBackbone(config({ weights: url, allowRandomFallback: true }), { weightsCacheDir: dir, log: (l) => lines.push(l), calibrationFrames: async () => frames });
  assert.equal(fallback.info.source, 'random');
  assert.match(fallback.info.fallbackReason ?? '', /ECONNREFUSED/);
  assert.ok(lines.some((l) => /Continuing with seeded random weights/.test(l)));
  await assert.rejects(loadBackbone(config({ weights: path.join(dir, 'nope') })), /this folder does not exist/);
  fallback.model.dispose();
});

test("'imagenet' asks for Teachable Machine's Keras MobileNetV2 no-top URL for the width, and offline with no cache says so in one line", async () => {
  await initBackend();
  const dir = makeTempDir();
  const asked: string[] = [];
  const realFetch = globalThis.fetch;
  // Offline as on these machines (DNS fails), without depending on the network being down.
  globalThis.fetch = (async (input: string | URL | Request) => {
    asked.push(String(input));
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
  }) as typeof fetch;
  try {
    for (const alpha of [1.0, 0.35] as const) {
      await assert.rejects(loadBackbone(config({ alpha, weights: 'imagenet' }), { weightsCacheDir: dir, log: () => undefined }), (e: Error) => {
        assert.ok(e instanceof WeightsError);
        assert.ok(!e.message.includes('\n'), 'one line');
        assert.match(e.message, /^ImageNet MobileNetV2 weights unavailable: .*ENOTFOUND.*no cached copy in .*allow the random fallback/);
        return true;
      });
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  // googlecreativelab/teachablemachine-community libraries/image/src/custom-mobilenet.ts builds these with alpha.toFixed(2).
  assert.deepEqual(asked, [
    'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.00_224_no_top/model.json',
    'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json',
  ]);
});
