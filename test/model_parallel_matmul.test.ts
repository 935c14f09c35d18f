import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { ParallelMatMul, matMulInto, plainMatMul } from '../src/model/parallel_matmul';
import { seededNormal } from '../src/model/init';

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: rows * cols }, () => normal());
}

test('ParallelMatMul: both large shapes of a training step equal the one-thread product bit for bit', async () => {
  await initBackend();
  // The input projection (long inner dimension) and the weight gradient (short inner dimension, wide output),
  // at a size where the helper thread takes half the rows, and an odd row count.
  const shapes: Array<[number, number, number]> = [[96, 200, 24], [96, 24, 200], [37, 50, 9]];
  const pool = await ParallelMatMul.start(100_000);
  try {
    for (const [m, k, n] of shapes) {
      const a = randomMatrix(m, k, m + k);
      const b = randomMatrix(k, n, k + n);
      const expected = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync() as Float32Array);
      assert.deepEqual(pool.matMul(a, m, k, b, n), expected, `[${m},${k}]@[${k},${n}] with the helper`);
      assert.deepEqual(plainMatMul(a, m, k, b, n), expected, `[${m},${k}]@[${k},${n}] in one thread`);
    }
    // Too large for the shared buffer: computed here, still correct.
    const a = randomMatrix(400, 300, 1);
    const b = randomMatrix(300, 200, 2);
    const expected = tf.tidy(() => tf.matMul(tf.tensor2d(a, [400, 300]), tf.tensor2d(b, [300, 200])).dataSync() as Float32Array);
    assert.deepEqual(pool.matMul(a, 400, 300, b, 200), expected);
  } finally {
    await pool.close();
  }
  assert.throws(() => pool.matMul(new Float32Array(4), 2, 2, new Float32Array(4), 2), /after close/);
});

test('matMulInto writes the product into a slice of a larger buffer and leaves the rest alone', async () => {
  await initBackend();
  const a = randomMatrix(5, 3, 7);
  const b = randomMatrix(3, 4, 8);
  const out = new Float32Array(30).fill(-1);
  matMulInto(a, 5, 3, b, 4, out.subarray(5, 25));
  const expected = tf.tidy(() => tf.matMul(tf.tensor2d(a, [5, 3]), tf.tensor2d(b, [3, 4])).dataSync() as Float32Array);
  assert.deepEqual(out.subarray(5, 25), expected);
  assert.ok(out.subarray(0, 5).every((v) => v === -1) && out.subarray(25).every((v) => v === -1));
  assert.equal(tf.memory().numTensors, 0);
});
