import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import type { HeadConfig } from '../src/model/head';
import { ConvHead } from '../bench/conv_head';
import { TransformerHead } from '../bench/transformer_head';
import type { AutodiffHead } from '../bench/autodiff_head';

const config: HeadConfig = { featureDim: 6, numClasses: 3, hidden: 8, layers: 1, dropout: 0, preprocessing: { stats: null, velocity: true }, pooling: 'mean' };
const labels = Int32Array.from([0, 1, 2, 1, 0]);
const mix = { partners: Int32Array.from([1, 2, 0, 0, 1]), weights: Float32Array.from([0.7, 0.5, 0.9, 1, 0.6]) };

/**
 * Largest gap between the head's gradient and a central difference, relative to their size (with a floor for
 * gradients near 0), over ten entries spread through every parameter (the q, k and v columns of attention alike).
 */
function worstGradientGap(head: AutodiffHead, x: tf.Tensor3D): number {
  const { grads } = head.lossAndGrads(x, labels, undefined, 0.1, mix);
  const loss = () => head.lossAndGrads(x, labels, undefined, 0.1, mix).loss;
  let worst = 0;
  head.params().forEach((p, k) => {
    const n = p.data.length;
    for (const i of new Set(Array.from({ length: 10 }, (_, j) => Math.floor(((j + 0.37) * n) / 10)))) {
      const kept = p.data[i]!;
      const eps = 3e-3;
      p.data[i] = kept + eps;
      const up = loss();
      p.data[i] = kept - eps;
      const down = loss();
      p.data[i] = kept;
      const numeric = (up - down) / (2 * eps);
      const analytic = grads[k]![i]!;
      worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(Math.abs(numeric), Math.abs(analytic), 0.05));
    }
  });
  return worst;
}

/** The LSTM head's loss written out in plain JS: targets (1 - e) of the label, split with mixup's partner, plus e / C. */
function expectedLoss(probs: Float32Array, classes: number, smoothing: number): number {
  let sum = 0;
  labels.forEach((y, b) => {
    for (let c = 0; c < classes; c++) {
      const onLabel = (c === y ? mix.weights[b]! : 0) + (c === mix.partners[b]! ? 1 - mix.weights[b]! : 0);
      sum -= ((1 - smoothing) * onLabel + smoothing / classes) * Math.log(probs[b * classes + c]!);
    }
  });
  return sum / labels.length;
}

test('the bench heads\' gradients (with mixup targets and label smoothing) match central differences', async () => {
  await initBackend();
  const x = tf.randomNormal([5, 4, 6], 0, 1, 'float32', 3) as tf.Tensor3D;
  try {
    const transformer = new TransformerHead(config, { width: 8, heads: 2, layers: 2, ffn: 16, innerDropout: 0, steps: 4 }, 1);
    const conv = new ConvHead(config, { filters: 8, kernel: 3, dilation: 2 }, 1);
    for (const head of [transformer, conv]) {
      const gap = worstGradientGap(head, x);
      // float32 central differences at eps 3e-3 agree to about 1%; a gradient 10% off or a wrong transpose is caught.
      assert.ok(gap < 0.05, `${head.constructor.name}: gradient off by ${(100 * gap).toFixed(1)}%`);
      const loss = head.lossAndGrads(x, labels, undefined, 0.1, mix).loss;
      assert.ok(Math.abs(loss - expectedLoss(head.predictProbs(x), 3, 0.1)) < 1e-4, `${head.constructor.name}: loss ${loss} is not the mixed, smoothed cross-entropy`);
    }
    const probs = transformer.predictProbs(x);
    assert.equal(probs.length, 15);
    for (let b = 0; b < 5; b++) assert.ok(Math.abs(probs[3 * b]! + probs[3 * b + 1]! + probs[3 * b + 2]! - 1) < 1e-5);
    const wrongLength = tf.zeros([1, 5, 6]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    assert.throws(() => transformer.predictProbs(wrongLength), /built for 4 frames a sequence, got 5/);
    assert.equal(tf.memory().numTensors, before, 'a refused input leaks no tensors');
    wrongLength.dispose();
    assert.throws(() => new TransformerHead(config, { width: 8, heads: 3, layers: 1, ffn: 8, innerDropout: 0, steps: 4 }, 1), /multiple of its heads/);
  } finally {
    x.dispose();
  }
});
