import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { LstmHead, type HeadConfig } from '../src/model/head';
import { appendVelocity } from '../src/model/preprocess';
import { transpose } from '../src/model/init';
import { seededNormal } from '../src/model/init';
import { mixBatch } from '../src/model/train';

function randomInput(shape: [number, number, number], seed: number): tf.Tensor3D {
  const normal = seededNormal(seed);
  return tf.tensor3d(Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => normal()), shape);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A one-layer mean-pooled head with its weights moved off their initial values (soft-target tests). */
function perturbedHead(): LstmHead {
  const config: HeadConfig = { featureDim: 5, numClasses: 4, hidden: 6, layers: 1, dropout: 0, preprocessing: { stats: null, velocity: false }, pooling: 'mean' };
  const head = LstmHead.create(config, 3);
  head.params().forEach((p, k) => { for (let i = 0; i < p.data.length; i++) p.data[i] += 0.3 * Math.sin(i * 0.7 + k); });
  return head;
}

/** Asserts our loss and gradients equal TF.js autodiff's cross-entropy of the exported model against `target` [B, C]. */
function assertMatchesAutodiff(head: LstmHead, x: tf.Tensor3D, target: tf.Tensor2D, ours: { loss: number; grads: Float32Array[] }): void {
  const model = head.toLayersModel();
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads: ref } = tf.variableGrads(() => {
    const probs = model.apply(x) as tf.Tensor2D;
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(probs)), 1))) as tf.Scalar;
  }, vars);
  assert.ok(Math.abs(value.dataSync()[0]! - ours.loss) < 1e-5, `loss ${ours.loss} vs ${value.dataSync()[0]}`);
  const names = head.params();
  vars.forEach((v, k) => {
    const p = names[k]!;
    const ourGrad = p.shape.length === 2 ? transpose(ours.grads[k]!, p.shape[0]!, p.shape[1]!) : ours.grads[k]!;
    const diff = maxAbsDiff(ourGrad, ref[v.name]!.dataSync());
    assert.ok(diff < 1e-5, `${p.name}: max grad diff ${diff}`);
  });
  model.dispose();
}

// A bidirectional head has one layer (Keras' Bidirectional(LSTM) in the export); the others two.
for (const { pooling, bidirectional } of [{ pooling: 'last', bidirectional: false }, { pooling: 'mean', bidirectional: false }, { pooling: 'last', bidirectional: true }, { pooling: 'mean', bidirectional: true }] as const) {
const variant = `pooling ${pooling}${bidirectional ? ', bidirectional' : ''}`;
const layers = bidirectional ? 1 : 2;
test(`fast LSTM head gives the same probabilities as tf.layers.lstm + dense with the same weights (${variant})`, async () => {
  await initBackend();
  const D = 12;
  const normal = seededNormal(5);
  const config: HeadConfig = {
    featureDim: D, numClasses: 5, hidden: 8, layers, dropout: 0.3,
    preprocessing: { stats: { mean: Array.from({ length: D }, () => normal()), std: Array.from({ length: D }, () => 0.5 + Math.abs(normal())) }, velocity: true },
    pooling, bidirectional,
  };
  const head = LstmHead.create(config, 3);
  // Move away from the initial state so every gate matters.
  head.params().forEach((p, k) => { for (let i = 0; i < p.data.length; i++) p.data[i] += 0.3 * Math.sin(i * 1.7 + k); });
  const x = randomInput([4, 6, D], 11);
  const ours = head.predictProbs(x);
  const model = head.toLayersModel();
  // The exported model takes raw features (standardisation folded in) plus raw velocity.
  const theirs = tf.tidy(() => (model.predict(appendVelocity(x)) as tf.Tensor).dataSync());
  assert.ok(maxAbsDiff(ours, theirs) < 1e-5, `max diff ${maxAbsDiff(ours, theirs)}`);
  // Round trip back into a head gives the same parameters (up to float rounding of the fold).
  const back = LstmHead.fromLayersModel(model, config);
  assert.ok(maxAbsDiff(back.predictProbs(x), ours) < 1e-5);
  model.dispose();
  x.dispose();
});

test(`hand-written backpropagation matches TF.js autodiff through tf.layers.lstm (${variant})`, async () => {
  await initBackend();
  const config: HeadConfig = { featureDim: 7, numClasses: 4, hidden: 6, layers, dropout: 0, preprocessing: { stats: null, velocity: false }, pooling, bidirectional };
  const head = LstmHead.create(config, 9);
  head.params().forEach((p, k) => { for (let i = 0; i < p.data.length; i++) p.data[i] += 0.2 * Math.cos(i * 0.9 + k); });
  const x = randomInput([3, 5, 7], 21);
  const labels = Int32Array.from([2, 0, 3]);
  const { loss, grads } = head.lossAndGrads(x, labels);

  const model = head.toLayersModel();
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads: ref } = tf.variableGrads(() => {
    const probs = model.apply(x) as tf.Tensor2D;
    const picked = tf.sum(tf.mul(probs, tf.oneHot(tf.tensor1d(labels, 'int32'), 4)), 1);
    return tf.neg(tf.mean(tf.log(picked))) as tf.Scalar;
  }, vars);
  assert.ok(Math.abs(value.dataSync()[0]! - loss) < 1e-5, `loss ${loss} vs ${value.dataSync()[0]}`);
  // Keras layout is the transpose of ours for kernels; biases are the same.
  const names = head.params();
  vars.forEach((v, k) => {
    const refGrad = ref[v.name]!.dataSync();
    const p = names[k]!;
    const ourGrad = p.shape.length === 2 ? transpose(grads[k]!, p.shape[0]!, p.shape[1]!) : grads[k]!;
    const diff = maxAbsDiff(ourGrad, refGrad);
    assert.ok(diff < 1e-5, `${p.name}: max grad diff ${diff}`);
  });
  model.dispose();
});
}

test('label smoothing: loss and gradients match TF.js autodiff on the smoothed target; 0 is plain cross-entropy', async () => {
  await initBackend();
  const head = perturbedHead();
  const x = randomInput([3, 4, 5], 5);
  const labels = Int32Array.from([1, 3, 0]);
  const smoothing = 0.2;
  const ours = head.lossAndGrads(x, labels, undefined, smoothing);
  assert.notEqual(ours.loss, head.lossAndGrads(x, labels).loss);
  assert.equal(head.lossAndGrads(x, labels, undefined, 0).loss, head.lossAndGrads(x, labels).loss);
  assertMatchesAutodiff(head, x, tf.add(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), 4), 1 - smoothing), smoothing / 4) as tf.Tensor2D, ours);
});

test('mixup: loss and gradients match TF.js autodiff on the blended target, and mixBatch blends the inputs alike', async () => {
  await initBackend();
  const head = perturbedHead();
  const x = randomInput([4, 4, 5], 5);
  const labels = Int32Array.from([1, 3, 0, 3]);
  const smoothing = 0.1;
  const mixed = mixBatch(x, labels, 0.4, 11);
  const { partners, weights } = mixed.targets;
  // The blend: each sequence is weights[b] of itself and the rest of the partner whose label partners[b] names.
  const xs = x.arraySync();
  const ms = mixed.x.arraySync();
  for (let b = 0; b < 4; b++) {
    assert.ok(weights[b]! >= 0 && weights[b]! <= 1, `weight ${weights[b]}`);
    const from = [0, 1, 2, 3].filter((j) => labels[j] === partners[b] && maxAbsDiff(ms[b]!.flat(), xs[b]!.flat().map((v, i) => weights[b]! * v + (1 - weights[b]!) * xs[j]!.flat()[i]!)) < 1e-5);
    assert.ok(from.length >= 1, `sequence ${b} is not a blend with a partner of label ${partners[b]}`);
  }
  assert.ok(Array.from(weights).some((w) => w > 0.01 && w < 0.99), `no real blend: ${Array.from(weights)}`);
  assert.deepEqual(Array.from(mixBatch(x, labels, 0.4, 11).targets.weights), Array.from(weights), 'the same seed draws the same blend');

  const ours = head.lossAndGrads(mixed.x, labels, undefined, smoothing, mixed.targets);
  // A sequence mixed with itself at weight 1 is the plain target.
  const whole = { partners: labels, weights: new Float32Array(4).fill(1) };
  assert.equal(head.lossAndGrads(x, labels, undefined, smoothing, whole).loss, head.lossAndGrads(x, labels, undefined, smoothing).loss);

  const oneHot = (l: Int32Array) => tf.oneHot(tf.tensor1d(l, 'int32'), 4);
  const w = tf.tensor2d(weights, [4, 1]);
  const blended = tf.add(tf.mul(oneHot(labels), w), tf.mul(oneHot(partners), tf.sub(1, w)));
  assertMatchesAutodiff(head, mixed.x, tf.add(tf.mul(blended, 1 - smoothing), smoothing / 4) as tf.Tensor2D, ours);
});

test('dropout masks are seeded: same seed same loss, no seed no dropout', async () => {
  await initBackend();
  const config: HeadConfig = { featureDim: 5, numClasses: 3, hidden: 16, layers: 1, dropout: 0.5, preprocessing: { stats: null, velocity: false } };
  const head = LstmHead.create(config, 1);
  const x = randomInput([4, 3, 5], 2);
  const labels = Int32Array.from([0, 1, 2, 1]);
  const a = head.lossAndGrads(x, labels, 7).loss;
  const b = head.lossAndGrads(x, labels, 7).loss;
  const c = head.lossAndGrads(x, labels, 8).loss;
  const plain = head.lossAndGrads(x, labels).loss;
  assert.equal(a, b);
  assert.notEqual(a, c);
  const probs = head.predictProbs(x);
  const expected = -[0, 1, 2, 1].reduce((s, y, i) => s + Math.log(probs[i * 3 + y]!), 0) / 4;
  assert.ok(Math.abs(plain - expected) < 1e-5);
});
