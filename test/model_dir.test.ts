import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { ModelDirError, ConfigError } from '../src/errors';
import { LstmHead, type HeadConfig } from '../src/model/head';
import { configOfModel, loadModelDir, readModelMeta, saveModelDir, layersClassifier, META_JSON, WEIGHTS_BIN, MODEL_JSON, BACKBONE_SUBDIR } from '../src/model/model_dir';
import { parseModelInfo } from '../src/model/model_info';
import { buildEndToEnd } from '../src/model/end_to_end';
import { seededNormal } from '../src/model/init';
import { makeTempDir, REPO_ROOT } from './helpers';
import { DEFAULT_CONFIG } from '../src/config';

const D = 10;
function config(velocity: boolean): HeadConfig {
  const normal = seededNormal(4);
  return {
    featureDim: D, numClasses: 3, hidden: 8, layers: 1, dropout: 0.2,
    preprocessing: { stats: { mean: Array.from({ length: D }, () => normal()), std: Array.from({ length: D }, () => 1 + Math.abs(normal())) }, velocity },
  };
}
function input(seed: number, b = 3, t = 5): tf.Tensor3D {
  const normal = seededNormal(seed);
  return tf.tensor3d(Float32Array.from({ length: b * t * D }, () => normal()), [b, t, D]);
}

test('model directory round trip: same outputs from the loaded TF.js model and the loaded head', async () => {
  await initBackend();
  const root = makeTempDir();
  const dir = path.join(root, 'model');
  const backboneSource = path.join(root, 'backbone-src');
  fs.mkdirSync(backboneSource);
  fs.writeFileSync(path.join(backboneSource, MODEL_JSON), '{}');
  fs.writeFileSync(path.join(backboneSource, 'group1-shard1of1.bin'), Buffer.alloc(16));
  const head = LstmHead.create(config(true), 2);
  const x = input(1);
  const before = head.predictProbs(x);
  const exported = head.toLayersModel();
  const exportedOut = layersClassifier(exported, { classes: ['a', 'b', 'c'], head: { velocity: true } as never }).predictProbs(x);
  exported.dispose();
  await saveModelDir(dir, head, { classes: ['hello', 'world', 'thanks'], sequence: { sampleSize: 5, stride: 5 }, backbone: { alpha: 0.35, weightsId: 'test' }, backboneSourceDir: backboneSource });
  assert.deepEqual(fs.readdirSync(dir).sort(), [MODEL_JSON, WEIGHTS_BIN, META_JSON, BACKBONE_SUBDIR].sort());
  assert.deepEqual(fs.readdirSync(path.join(dir, BACKBONE_SUBDIR)).sort(), ['group1-shard1of1.bin', MODEL_JSON]);
  const loaded = await loadModelDir(dir);
  assert.deepEqual(loaded.meta.classes, ['hello', 'world', 'thanks']);
  assert.equal(loaded.meta.head.velocity, true);
  assert.equal(loaded.meta.backbone?.dir, BACKBONE_SUBDIR);
  // The browser recogniser's parser reads our description (stats folded: it must not apply them again).
  const info = parseModelInfo(JSON.parse(fs.readFileSync(path.join(dir, META_JSON), 'utf8')));
  assert.equal(info.featureStats, null);
  assert.equal(info.velocity, true);
  assert.equal(info.backbone.dir, BACKBONE_SUBDIR);
  // The TF.js model's outputs are bit-identical after the round trip.
  const after = layersClassifier(loaded.model, loaded.meta).predictProbs(x);
  assert.deepEqual(Array.from(after), Array.from(exportedOut));
  // And equal (to float rounding of the folded standardisation) to the head that was saved.
  const headAfter = loaded.head.predictProbs(x);
  for (let i = 0; i < before.length; i++) assert.ok(Math.abs(headAfter[i]! - before[i]!) < 1e-5);
  // model.json is the standard format a browser's tf.loadLayersModel reads.
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8'));
  assert.equal(modelJson.format, 'layers-model');
  assert.deepEqual(modelJson.weightsManifest[0].paths, [WEIGHTS_BIN]);
  loaded.model.dispose();
});

test('damaged model directories give a ModelDirError naming the file', async () => {
  await initBackend();
  const root = makeTempDir();
  const head = LstmHead.create(config(false), 3);
  const fresh = async (name: string) => {
    const dir = path.join(root, name);
    await saveModelDir(dir, head, { classes: ['a', 'b', 'c'], sequence: { sampleSize: 5, stride: 5 } });
    return dir;
  };
  const expectError = async (dir: string, file: string, pattern: RegExp) => {
    await assert.rejects(loadModelDir(dir), (e: unknown) => e instanceof ModelDirError && e.file === path.join(dir, file) && pattern.test(e.message));
  };
  const missing = await fresh('missing');
  fs.rmSync(path.join(missing, WEIGHTS_BIN));
  await expectError(missing, WEIGHTS_BIN, /missing/);
  const truncated = await fresh('truncated');
  const bin = fs.readFileSync(path.join(truncated, WEIGHTS_BIN));
  fs.writeFileSync(path.join(truncated, WEIGHTS_BIN), bin.subarray(0, bin.length - 8));
  await expectError(truncated, WEIGHTS_BIN, /bytes/);
  const classes = await fresh('classes');
  const meta = JSON.parse(fs.readFileSync(path.join(classes, META_JSON), 'utf8'));
  meta.classes.push('extra');
  fs.writeFileSync(path.join(classes, META_JSON), JSON.stringify(meta));
  await expectError(classes, META_JSON, /4 classes but the model has 3 outputs/);
  const badJson = await fresh('badjson');
  fs.writeFileSync(path.join(badJson, MODEL_JSON), '{"modelTopology": ');
  await expectError(badJson, MODEL_JSON, /not valid JSON/);
  await assert.rejects(loadModelDir(path.join(root, 'nowhere')), ModelDirError);
  await assert.rejects(saveModelDir(path.join(root, 'x'), head, { classes: ['a'], sequence: { sampleSize: 5, stride: 5 } }), ModelDirError);
});

test('end-to-end model (tiny stand-in CNN backbone) equals backbone features then head', async () => {
  await initBackend();
  const backbone = tf.sequential();
  backbone.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: D, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  backbone.add(tf.layers.globalAveragePooling2d({}));
  const head = LstmHead.create(config(false), 5);
  const e2e = buildEndToEnd(backbone, head, 4);
  const normal = seededNormal(9);
  const frames = tf.tensor5d(Float32Array.from({ length: 2 * 4 * 12 * 12 * 3 }, () => normal()), [2, 4, 12, 12, 3]);
  const viaE2e = tf.tidy(() => (e2e.predict(frames) as tf.Tensor).dataSync());
  const features = tf.tidy(() => tf.reshape(backbone.predict(tf.reshape(frames, [8, 12, 12, 3])) as tf.Tensor, [2, 4, D])) as tf.Tensor3D;
  const viaParts = head.predictProbs(features);
  for (let i = 0; i < viaParts.length; i++) assert.ok(Math.abs(viaE2e[i]! - viaParts[i]!) < 1e-5, `output ${i}: ${viaE2e[i]} vs ${viaParts[i]}`);
  // It is a standard model: it serialises and reloads with plain TF.js.
  let saved: tf.io.ModelArtifacts | undefined;
  await e2e.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const viaReloaded = tf.tidy(() => (reloaded.predict(frames) as tf.Tensor).dataSync());
  assert.deepEqual(Array.from(viaReloaded), Array.from(viaE2e));
  assert.throws(() => buildEndToEnd(backbone, LstmHead.create(config(true), 1)), ConfigError);
});

test('a model folder written before the one schema (sequenceLength beside sequence) still loads and predicts the same', async () => {
  await initBackend();
  // Written by saveModelDir at commit bfa11b0 (test/fixtures/model-dir-2026-12-04); the probabilities it gave then.
  const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'model-dir-2026-12-04');
  const expected = [0.3598310351371765, 0.33410507440567017, 0.3060638904571533, 0.3550717234611511, 0.3152042031288147, 0.3297240734100342];
  const loaded = await loadModelDir(dir);
  assert.deepEqual(loaded.meta.classes, ['book', 'drink', 'computer']);
  assert.deepEqual(loaded.meta.sequence, { sampleSize: 6, stride: 3 });
  // Window fields the old folder lacks take the values of the code that wrote it (a fixed window, up to 64 frames).
  assert.deepEqual(loaded.meta.frames.window, { ...DEFAULT_CONFIG.frames.window, useMetadataRange: false, maxFrames: 64, resample: false });
  assert.deepEqual(loaded.meta.stream, { features: 'cnn', wholeClip: false, minSpan: 1, augmentLandmarks: false, handDrop: 0, handAngles: false, rightLeads: false, faceContact: false, evalViews: 'whole' });
  const x = tf.tensor3d(Float32Array.from({ length: 2 * 6 * 8 }, (_, i) => Math.sin(i)), [2, 6, 8]);
  const probs = loaded.head.predictProbs(x);
  probs.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 1e-5, `output ${i}: ${p} vs ${expected[i]}`));
  const config = configOfModel(loaded.meta, dir);
  assert.deepEqual([config.sequence.sampleSize, config.backbone.alpha, config.backbone.weights], [6, 0.35, path.join(dir, 'backbone')]);
  x.dispose();
  loaded.model.dispose();
});

test('saveModelDir writes what the reader accepts, and refuses to write what it would not', async () => {
  await initBackend();
  const dir = path.join(makeTempDir(), 'model');
  const head = LstmHead.create(config(true), 3);
  const meta = await saveModelDir(dir, head, { classes: ['a', 'b', 'c'], sequence: { sampleSize: 5, stride: 2 } });
  assert.deepEqual(readModelMeta(dir), meta);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, META_JSON), 'utf8')).sequenceLength, undefined, 'the sequence length is stored once, as sequence.sampleSize');
  await assert.rejects(saveModelDir(path.join(dir, '..', 'bad'), head, { classes: ['a', 'b', ''], sequence: { sampleSize: 5, stride: 2 } }), /classes\.2/);
  assert.ok(!fs.existsSync(path.join(dir, '..', 'bad')));
});

test('a head that reads the mean over time is saved and loaded as one: same outputs from the TF.js model and the loaded head', async () => {
  await initBackend();
  const dir = path.join(makeTempDir(), 'model');
  const head = LstmHead.create({ ...config(true), pooling: 'mean' }, 6);
  const x = input(3, 2, 7);
  const before = head.predictProbs(x);
  await saveModelDir(dir, head, { classes: ['a', 'b', 'c'], sequence: { sampleSize: 7, stride: 7 } });
  const loaded = await loadModelDir(dir);
  assert.equal(loaded.meta.head.pooling, 'mean');
  assert.equal(loaded.head.config.pooling, 'mean');
  const viaModel = layersClassifier(loaded.model, loaded.meta).predictProbs(x);
  const viaHead = loaded.head.predictProbs(x);
  for (let i = 0; i < before.length; i++) {
    assert.ok(Math.abs(viaModel[i]! - before[i]!) < 1e-5, `model ${viaModel[i]} vs ${before[i]}`);
    assert.ok(Math.abs(viaHead[i]! - before[i]!) < 1e-5, `head ${viaHead[i]} vs ${before[i]}`);
  }
  // The same weights read as last-step pooling give other probabilities: the flag is not decoration.
  const asLast = LstmHead.fromLayersModel(loaded.model, { ...loaded.head.config, pooling: 'last' });
  assert.ok(asLast.predictProbs(x).some((p, i) => Math.abs(p - before[i]!) > 1e-3));
  loaded.model.dispose();
  x.dispose();
});

test('a bidirectional head is saved as a standard Bidirectional(LSTM) layer and loads back to the same outputs', async () => {
  await initBackend();
  const dir = path.join(makeTempDir(), 'model');
  const head = LstmHead.create({ ...config(true), pooling: 'mean', bidirectional: true }, 8);
  const x = input(3, 2, 7);
  const before = head.predictProbs(x);
  await saveModelDir(dir, head, { classes: ['a', 'b', 'c'], sequence: { sampleSize: 7, stride: 7 } });
  const loaded = await loadModelDir(dir);
  assert.equal(loaded.meta.head.bidirectional, true);
  assert.deepEqual(loaded.model.layers.map((l) => l.getClassName()), ['Bidirectional', 'GlobalAveragePooling1D', 'Dense']);
  const viaModel = layersClassifier(loaded.model, loaded.meta).predictProbs(x);
  const viaHead = loaded.head.predictProbs(x);
  for (let i = 0; i < before.length; i++) {
    assert.ok(Math.abs(viaModel[i]! - before[i]!) < 1e-5, `model ${viaModel[i]} vs ${before[i]}`);
    assert.ok(Math.abs(viaHead[i]! - before[i]!) < 1e-5, `head ${viaHead[i]} vs ${before[i]}`);
  }
  // Reversing time changes what it says: the backward LSTM is not a copy of the forward one.
  const reversed = tf.reverse(x, 1) as tf.Tensor3D;
  assert.ok(head.predictProbs(reversed).some((p, i) => Math.abs(p - before[i]!) > 1e-4));
  assert.throws(() => LstmHead.create({ ...config(true), layers: 2, bidirectional: true }, 1), /one LSTM layer/);
  loaded.model.dispose();
  tf.dispose([x, reversed]);
});
