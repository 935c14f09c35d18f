import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// Each case runs in a fresh process: backend selection is once per process, as in real use.
const root = path.resolve(__dirname, '..');
function runWith(env: Record<string, string | undefined>, code: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const probe = `
const { initBackend } = require('./src/runtime/backend');
const tf = require('@tensorflow/tfjs');
initBackend().then((r) => {
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
  console.log(JSON.stringify({ ...r, result: Array.from(y) }));
}).catch((e) => { console.log(JSON.stringify({ error: e.message })); });
`;

test('auto selection falls back to wasm when native TensorFlow is absent, and says why', () => {
  const report = JSON.parse(runWith({ WLASL_BACKEND: undefined }, probe));
  let nativePresent = true;
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
  } catch {
    nativePresent = false;
  }
  if (nativePresent) {
    assert.ok(['tensorflow-gpu', 'tensorflow'].includes(report.active), report.summary);
  } else {
    assert.equal(report.active, 'wasm');
    assert.equal(report.tfBackend, 'wasm');
    assert.equal(report.forced, false);
    assert.match(report.skipped['tensorflow-gpu'], /not installed/);
    assert.match(report.summary, /^tfjs backend: wasm; not taken: tensorflow-gpu: not installed/);
    assert.ok(!report.summary.includes('\n'), 'summary is one line');
  }
  assert.deepEqual(report.result, [17, 39]);
});

test('WLASL_BACKEND forces the cpu backend', () => {
  const report = JSON.parse(runWith({ WLASL_BACKEND: 'cpu' }, probe));
  assert.equal(report.active, 'cpu');
  assert.equal(report.tfBackend, 'cpu');
  assert.equal(report.forced, true);
  assert.match(report.summary, /forced by WLASL_BACKEND/);
  assert.deepEqual(report.result, [17, 39]);
});

test('forcing an unavailable backend fails with one clear line', () => {
  let nativePresent = true;
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
  } catch {
    nativePresent = false;
  }
  const out = JSON.parse(runWith({ WLASL_BACKEND: nativePresent ? 'nonsense' : 'tensorflow-gpu' }, probe));
  assert.ok(out.error, 'an error is reported');
  assert.ok(!out.error.includes('\n'));
  assert.match(out.error, nativePresent ? /is not one of auto/ : /forced by WLASL_BACKEND but is unavailable.*not installed/);
});
