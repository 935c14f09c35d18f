import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CacheError } from '../errors';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker';

/**
 * A fixed pool of feature workers with a shared queue. Under tsx (tests, notebooks, `npx tsx`) the worker is
 * TypeScript, so it is started through tsx's CommonJS hook; compiled JavaScript starts directly.
 */
function startWorker(init: WorkerInit): Worker {
  // tslab compiles src/ in memory, so __filename may name a .js that is not on disk: prefer what exists.
  const compiled = path.join(__dirname, 'worker.js');
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: init });
  const source = path.join(__dirname, 'worker.ts');
  const bootstrap = `require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

interface Task {
  request: Omit<WorkerRequest, 'id' | 'type'>;
  resolve(features: Float32Array): void;
  reject(error: Error): void;
}

export interface PoolInfo {
  workers: number;
  backend: string;
}

export class FeatureWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly inFlight = new Map<Worker, { id: number; task: Task }>();
  private nextId = 1;
  private failure: Error | undefined;
  info: PoolInfo = { workers: 0, backend: 'unknown' };

  private constructor(private readonly expectedWeightsHash: string) {}

  /** Starts `count` workers and waits until each has loaded the weights (and checked their hash). */
  static async start(count: number, init: WorkerInit, expectedWeightsHash: string): Promise<FeatureWorkerPool> {
    const pool = new FeatureWorkerPool(expectedWeightsHash);
    const ready = Array.from({ length: count }, () => pool.add(init));
    try {
      const backends = await Promise.all(ready);
      pool.info = { workers: count, backend: backends[0] ?? 'unknown' };
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private add(init: WorkerInit): Promise<string> {
    const worker = startWorker(init);
    this.workers.push(worker);
    return new Promise<string>((resolveReady, rejectReady) => {
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          if (reply.weightsHash !== this.expectedWeightsHash) {
            rejectReady(new CacheError(`feature worker loaded weights ${reply.weightsHash.slice(0, 16)}, expected ${this.expectedWeightsHash.slice(0, 16)}`, { file: init.modelDir }));
            return;
          }
          this.idle.push(worker);
          resolveReady(reply.backend);
          this.pump();
        } else if (reply.type === 'fatal') {
          rejectReady(new CacheError(`feature worker could not start: ${reply.message}`, { file: init.modelDir }));
        } else {
          const current = this.inFlight.get(worker);
          this.inFlight.delete(worker);
          this.idle.push(worker);
          if (current && reply.type === 'result') current.task.resolve(reply.features);
          else if (current && reply.type === 'error') current.task.reject(new CacheError(reply.message));
          this.pump();
        }
      });
      worker.on('error', (error) => {
        this.failure = error;
        rejectReady(error);
        const current = this.inFlight.get(worker);
        this.inFlight.delete(worker);
        current?.task.reject(error);
        for (const task of this.queue.splice(0)) task.reject(error);
      });
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const task = this.queue.shift()!;
      const id = this.nextId++;
      this.inFlight.set(worker, { id, task });
      const frames = task.request.frames;
      worker.postMessage({ type: 'embed', id, ...task.request } satisfies WorkerRequest, frames.byteOffset === 0 && frames.byteLength === frames.buffer.byteLength ? [frames.buffer as ArrayBuffer] : []);
    }
  }

  /** Features [count, dim] for RGB frames [count, size, size, 3]; the frames' buffer is transferred away. */
  embed(frames: Uint8Array, count: number, size: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { frames, count, size }, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
