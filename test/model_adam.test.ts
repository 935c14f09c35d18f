import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Adam } from '../src/model/adam';
import { createAdamKernel } from '../src/model/adam_wasm';
import { seededNormal } from '../src/model/init';

test('the WebAssembly SIMD Adam matches the plain JS Adam and the textbook formula', () => {
  assert.ok(createAdamKernel(), 'WebAssembly SIMD should be available on Node 20');
  const normal = seededNormal(3);
  const sizes = [7, 1, 33]; // not multiples of 4: the padded tail must not leak into the results
  const init = sizes.map((n) => Float32Array.from({ length: n }, () => normal()));
  const wasmParams = init.map((a) => a.slice());
  const jsParams = init.map((a) => a.slice());
  const wasm = new Adam(sizes, { learningRate: 0.01 });
  const js = new Adam(sizes, { learningRate: 0.01, forceJs: true });
  // Textbook Adam in float64 for parameter 0, element 0.
  let ref = init[0]![0]!;
  let m = 0;
  let v = 0;
  for (let step = 1; step <= 5; step++) {
    const grads = sizes.map((n) => Float32Array.from({ length: n }, () => normal()));
    wasm.apply(wasmParams, grads);
    js.apply(jsParams, grads);
    const g = grads[0]![0]!;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    ref -= (0.01 * (m / (1 - 0.9 ** step))) / (Math.sqrt(v / (1 - 0.999 ** step)) + 1e-8);
  }
  for (let k = 0; k < sizes.length; k++) {
    for (let i = 0; i < sizes[k]!; i++) {
      assert.ok(Math.abs(wasmParams[k]![i]! - jsParams[k]![i]!) < 1e-6, `param ${k}[${i}]: ${wasmParams[k]![i]} vs ${jsParams[k]![i]}`);
      assert.ok(Math.abs(wasm.state.m[k]![i]! - js.state.m[k]![i]!) < 1e-6);
    }
  }
  assert.ok(Math.abs(wasmParams[0]![0]! - ref) < 1e-5, `${wasmParams[0]![0]} vs textbook ${ref}`);
  // State round trip: a copy continues identically.
  const copy = new Adam(sizes, { learningRate: 0.01 });
  copy.setState({ step: wasm.state.step, m: wasm.state.m.map((a) => a.slice()), v: wasm.state.v.map((a) => a.slice()) });
  const grads = sizes.map((n) => Float32Array.from({ length: n }, () => normal()));
  const a = wasmParams.map((p) => p.slice());
  const b = wasmParams.map((p) => p.slice());
  wasm.apply(a, grads);
  copy.apply(b, grads);
  assert.deepEqual(a, b);
});
