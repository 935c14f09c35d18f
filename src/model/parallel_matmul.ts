import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { CTRL, CTRL_LENGTH, JOB_EXIT, JOB_MATMUL, STATE_BUSY, STATE_DONE, STATE_IDLE, type MatMulWorkerInit } from './parallel_matmul_protocol';

/**
 * Splits the two large products of a training step (the input projection and its weight gradient, ~85% of
 * the arithmetic) between this thread and one helper thread with its own wasm backend. The wasm backend
 * cannot use threads in Node, and one core of wasm SIMD tops out near 39 GFLOP/s here: a [32, 5, 1280]
 * LSTM(256) step takes 37 ms on one thread and 28 ms with the helper (bench/lstm_step.ts). Results are
 * identical to one thread: each output row is computed by one thread with the same kernel every time.
 */
function startWorker(init: MatMulWorkerInit): Worker {
  const compiled = path.join(__dirname, 'matmul_worker.js');
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: init });
  const source = path.join(__dirname, 'matmul_worker.ts');
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`, { eval: true, workerData: init });
}

export class ParallelMatMul {
  private readonly ctrl: Int32Array;
  private readonly data: Float32Array;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    init: MatMulWorkerInit,
    /** Floats of shared memory available for A, B and the output together. */
    readonly capacity: number,
  ) {
    this.ctrl = new Int32Array(init.control);
    this.data = new Float32Array(init.data);
  }

  /** Starts the helper thread; `capacity` floats of shared memory must hold half of A, all of B and half of C. */
  static async start(capacity: number): Promise<ParallelMatMul> {
    const init: MatMulWorkerInit = { control: new SharedArrayBuffer(4 * CTRL_LENGTH), data: new SharedArrayBuffer(4 * capacity) };
    const worker = startWorker(init);
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (msg: { type: string; message?: string }) => (msg.type === 'ready' ? resolve() : reject(new ConfigError(`matmul helper thread failed to start: ${msg.message}`))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new ConfigError(`matmul helper thread exited (${code}) during start-up`)));
    });
    worker.removeAllListeners('exit');
    worker.unref();
    return new ParallelMatMul(worker, init, capacity);
  }

  /** A [m, k] @ B [k, n] as a Float32Array [m, n]; the helper computes the lower rows. */
  matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
    if (this.closed) throw new ConfigError('ParallelMatMul used after close()');
    const split = Math.ceil(m / 2 / 8) * 8; // rows computed here; a multiple of the GEMM tile height
    const lower = m - split;
    const aOff = 0;
    const bOff = lower * k;
    const outOff = bOff + k * n;
    // Both large products are split, the weight gradient too (a 5 MB output): that pays only because results
    // are copied straight from the wasm heap (matMulInto); through dataSync() it cost more than it saved.
    if (lower <= 0 || outOff + lower * n > this.capacity) return plainMatMul(a, m, k, b, n);
    this.data.set(a.subarray(split * k, m * k), aOff);
    this.data.set(b, bOff);
    const c = this.ctrl;
    c[CTRL.m] = lower;
    c[CTRL.k] = k;
    c[CTRL.n] = n;
    c[CTRL.aOff] = aOff;
    c[CTRL.bOff] = bOff;
    c[CTRL.outOff] = outOff;
    Atomics.store(c, CTRL.job, JOB_MATMUL);
    Atomics.store(c, CTRL.state, STATE_BUSY);
    Atomics.notify(c, CTRL.state);
    const out = new Float32Array(m * n);
    matMulInto(a.subarray(0, split * k), split, k, b, n, out);
    while (Atomics.load(c, CTRL.state) === STATE_BUSY) Atomics.wait(c, CTRL.state, STATE_BUSY, 1000);
    const state = Atomics.load(c, CTRL.state);
    Atomics.store(c, CTRL.state, STATE_IDLE);
    if (state !== STATE_DONE) throw new ConfigError('matmul helper thread failed on a job');
    out.set(this.data.subarray(outOff, outOff + lower * n), split * n);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.job, JOB_EXIT);
    Atomics.store(this.ctrl, CTRL.state, STATE_BUSY);
    Atomics.notify(this.ctrl, CTRL.state);
    await this.worker.terminate();
  }
}

export function plainMatMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(m * n);
  matMulInto(a, m, k, b, n, out);
  return out;
}

interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * A [m, k] @ B [k, n] written into `out` (at least m * n floats). On the wasm backend the result is copied
 * straight from the wasm heap: dataSync() would first copy it into a fresh ArrayBuffer, and fresh pages are
 * what costs on these VMs (first touch of a 2.6 MB result: several ms, against 0.3 ms for the copy itself).
 */
export function matMulInto(a: Float32Array, m: number, k: number, b: Float32Array, n: number, out: Float32Array): void {
  const result = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
  try {
    const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
    const offset = tf.getBackend() === 'wasm' ? backend.dataIdMap?.get(result.dataId)?.memoryOffset : undefined;
    if (offset !== undefined && backend.wasm) out.set(new Float32Array(backend.wasm.HEAPU8.buffer, offset, m * n));
    else out.set(result.dataSync() as Float32Array);
  } finally {
    result.dispose();
  }
}
