/**
 * Body of the matmul helper thread (see ./parallel_matmul.ts): its own wasm backend computes the lower rows
 * of A @ B from shared memory while the main thread computes the upper rows. Communication is through
 * SharedArrayBuffers and Atomics only (no messages per job), so a job costs microseconds to hand over.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../runtime/backend';
import { matMulInto } from './parallel_matmul';
import { CTRL, JOB_EXIT, JOB_MATMUL, STATE_BUSY, STATE_DONE, STATE_FAILED, type MatMulWorkerInit } from './parallel_matmul_protocol';

async function main(): Promise<void> {
  const init = workerData as MatMulWorkerInit;
  const ctrl = new Int32Array(init.control);
  const data = new Float32Array(init.data);
  try {
    await initBackend();
  } catch (error) {
    parentPort!.postMessage({ type: 'fatal', message: String((error as Error).message ?? error) });
    return;
  }
  parentPort!.postMessage({ type: 'ready', backend: tf.getBackend() });
  for (;;) {
    const state = Atomics.load(ctrl, CTRL.state);
    if (state !== STATE_BUSY) {
      Atomics.wait(ctrl, CTRL.state, state);
      continue;
    }
    const job = Atomics.load(ctrl, CTRL.job);
    if (job === JOB_EXIT) return;
    if (job === JOB_MATMUL) {
      try {
        const [m, k, n, aOff, bOff, outOff] = [ctrl[CTRL.m]!, ctrl[CTRL.k]!, ctrl[CTRL.n]!, ctrl[CTRL.aOff]!, ctrl[CTRL.bOff]!, ctrl[CTRL.outOff]!];
        matMulInto(data.subarray(aOff, aOff + m * k), m, k, data.subarray(bOff, bOff + k * n), n, data.subarray(outOff, outOff + m * n));
        Atomics.store(ctrl, CTRL.state, STATE_DONE);
      } catch {
        Atomics.store(ctrl, CTRL.state, STATE_FAILED);
      }
      Atomics.notify(ctrl, CTRL.state);
    }
  }
}

void main();
