import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CacheError } from '../errors';
import type { FrameGeometry } from './extract';
import type { ClipLandmarks } from './types';
import type { LandmarkWorkerInit, LandmarkWorkerReply, LandmarkWorkerRequest } from './worker';

/** Starts a worker: compiled JavaScript directly, TypeScript (tsx: tests, notebooks, bench) through tsx's hook. */
function startWorker(init: LandmarkWorkerInit): Worker {
  const compiled = path.join(__dirname, 'worker.js');
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: init });
  const source = path.join(__dirname, 'worker.ts');
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`, { eval: true, workerData: init });
}

interface Task {
  request: Omit<LandmarkWorkerRequest, 'id'>;
  resolve(clip: ClipLandmarks): void;
  reject(error: Error): void;
}

/**
 * A fixed pool of landmark workers with one shared queue. A clip's error comes back as that clip's rejection;
 * a worker that dies fails its clip and every queued one (the stage reports them and stops no other).
 */
export class LandmarkWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly inFlight = new Map<Worker, { id: number; task: Task }>();
  private nextId = 1;
  private failure: Error | undefined;
  backend = 'unknown';

  static async start(count: number, init: LandmarkWorkerInit): Promise<LandmarkWorkerPool> {
    const pool = new LandmarkWorkerPool();
    try {
      const backends = await Promise.all(Array.from({ length: count }, () => pool.add(init)));
      pool.backend = backends[0] ?? 'unknown';
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private add(init: LandmarkWorkerInit): Promise<string> {
    const worker = startWorker(init);
    this.workers.push(worker);
    return new Promise<string>((resolveReady, rejectReady) => {
      worker.on('message', (reply: LandmarkWorkerReply) => {
        if (reply.type === 'ready') {
          this.idle.push(worker);
          resolveReady(reply.backend);
          this.pump();
          return;
        }
        if (reply.type === 'fatal') {
          rejectReady(new CacheError(`landmark worker could not start: ${reply.message}`));
          return;
        }
        const current = this.inFlight.get(worker);
        this.inFlight.delete(worker);
        this.idle.push(worker);
        if (current && reply.type === 'result') current.task.resolve(reply.clip);
        else if (current && reply.type === 'error') current.task.reject(new CacheError(reply.message));
        this.pump();
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
      const whole = frames.byteOffset === 0 && frames.byteLength === frames.buffer.byteLength;
      worker.postMessage({ id, ...task.request } satisfies LandmarkWorkerRequest, whole ? [frames.buffer as ArrayBuffer] : []);
    }
  }

  /** A clip's landmarks; the frames' buffer is transferred to the worker (unusable here afterwards). */
  run(frames: Uint8Array, count: number, geometry: FrameGeometry): Promise<ClipLandmarks> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { frames, count, geometry }, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
