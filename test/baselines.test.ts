import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MEAN_POOL_OPTIONS, MLP_POOL_OPTIONS, trainMeanPool, trainMeanPoolBaseline } from '../src/model/baselines';
import { ClipSequenceSource, type ClipFrames } from '../src/streams/clip_source';
import { initBackend } from '../src/runtime/backend';

/**
 * Two classes with the same mean over time and a different spread: class 0 holds still near its value, class 1
 * swings around the same value. Only a control that pools more than the mean can tell them apart.
 */
function clips(count: number, offset: number): ClipFrames[] {
  const out: ClipFrames[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const frames = 16;
    const dim = 4;
    const data = new Float32Array(frames * dim);
    const centre = Math.sin(i + offset); // the clips' means vary and overlap between classes
    for (let t = 0; t < frames; t++) for (let k = 0; k < dim; k++) data[t * dim + k] = centre + (label ? (t % 2 ? 1 : -1) * (0.5 + 0.1 * k) : 0.02 * Math.cos(t + k));
    out.push({ videoId: `v${offset}-${i}`, label, frames, data });
  }
  return out;
}

test('the order-blind controls: the linear one sees only the mean; the nonlinear one also the spread, and neither the order', async () => {
  await initBackend();
  const train = new ClipSequenceSource(clips(40, 0), 16, 2);
  const heldOut = new ClipSequenceSource(clips(20, 100), 16, 2);
  const linear = await trainMeanPoolBaseline(train, heldOut, { ...DEFAULT_MEAN_POOL_OPTIONS, epochs: 30 });
  const nonlinear = await trainMeanPoolBaseline(train, heldOut, { ...MLP_POOL_OPTIONS, epochs: 30 });
  assert.ok(linear.perVideo.top1 <= 0.75, `the mean alone: ${linear.perVideo.top1}`);
  assert.equal(nonlinear.perVideo.top1, 1);

  // Reversing or shuffling time changes nothing for either control.
  for (const options of [DEFAULT_MEAN_POOL_OPTIONS, MLP_POOL_OPTIONS]) {
    const control = await trainMeanPool(train, { ...options, epochs: 5 });
    const x = tf.tensor3d(clips(4, 7).flatMap((c) => Array.from(c.data)), [4, 16, 4]);
    const reversed = tf.reverse(x, 1) as tf.Tensor3D;
    const a = control.predictProbs(x);
    const b = control.predictProbs(reversed);
    a.forEach((p, i) => assert.ok(Math.abs(p - b[i]!) < 1e-5, `${p} vs ${b[i]}`));
    tf.dispose([x, reversed]);
    control.dispose();
  }
});
