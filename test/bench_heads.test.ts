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

/** Largest gap between the head's gradient and a central difference, over a few entries of every parameter. */
function worstGradientGap(head: AutodiffHead, x: tf.Tensor3D): number {
  const { grads } = head.lossAndGrads(x, labels, undefined, 0.1, mix);
  const loss = () => head.lossAndGrads(x, labels, undefined, 0.1, mix).loss;
  let worst = 0;
  head.params().forEach((p, k) => {
    for (const i of new Set([0, p.data.length >> 1, p.data.length - 1])) {
      const kept = p.data[i]!;
      const eps = 1e-2;
      p.data[i] = kept + eps;
      const up = loss();
      p.data[i] = kept - eps;
      const down = loss();
      p.data[i] = kept;
      worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - grads[k]![i]!));
    }
  });
  return worst;
}

test('the bench heads\' gradients (with mixup targets and label smoothing) match central differences', async () => {
  await initBackend();
  const x = tf.randomNormal([5, 4, 6], 0, 1, 'float32', 3) as tf.Tensor3D;
  try {
    const transformer = new TransformerHead(config, { width: 8, heads: 2, layers: 2, ffn: 16, innerDropout: 0, steps: 4 }, 1);
    const conv = new ConvHead(config, { filters: 8, kernel: 3, dilation: 2 }, 1);
    for (const head of [transformer, conv]) {
      const gap = worstGradientGap(head, x);
      // float32 central differences at eps 1e-2 agree to a few 1e-3; a wrong transpose or target is off by ~0.1.
      assert.ok(gap < 2e-2, `${head.constructor.name}: gradient off by ${gap}`);
    }
    const probs = transformer.predictProbs(x);
    assert.equal(probs.length, 15);
    for (let b = 0; b < 5; b++) assert.ok(Math.abs(probs[3 * b]! + probs[3 * b + 1]! + probs[3 * b + 2]! - 1) < 1e-5);
    assert.throws(() => transformer.predictProbs(tf.zeros([1, 5, 6]) as tf.Tensor3D), /built for 4 frames a sequence, got 5/);
  } finally {
    x.dispose();
  }
});
