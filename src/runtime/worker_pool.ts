import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { describeError, WlaslError } from '../errors';

/**
 * A fixed pool of worker threads sharing one queue, for the stages that run a model per clip (CNN features,
 * landmarks): the wasm backend uses one core per thread in Node, so a second core needs a second thread with
 * its own backend and its own copy of the model. Each request carries a clip's frames, whose buffer is
 * transferred, not copied. A clip's error comes back as that clip's rejection; a worker that dies fails its
 * clip and every queued one, and the stage reports them and stops nothing else.
 */

/** What a worker answers: ready (its backend and, for a check, e.g. the weights' hash), a fatal start, a result, an error. */
export type PoolReply<Result> =
  | { type: 'ready'; backend: string; check?: string }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; value: Result }
  | { type: 'error'; id: number; message: string };

export type PoolRequest<Request> = Request & { id: number };

/** A worker script: compiled JavaScript directly; TypeScript (tsx: tests, notebooks, bench) through tsx's hook. */
function startWorker(script: string, init: unknown): Worker {
  // tslab compiles src/ in memory, so __filename may name a .js that is not on disk: prefer what exists.
  const compiled = `${script}.js`;
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: init });
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(`${script}.ts`)});`, { eval: true, workerData: init });
}

interface Task<Request, Result> {
  request: Request & { frames: Uint8Array };
  resolve(result: Result): void;
  reject(error: Error): void;
}

export interface WorkerPoolOptions<Init> {
  /** The worker's module path without extension (e.g. path.join(__dirname, 'worker')). */
  script: string;
  count: number;
  init: Init;
  /** Names the pool in errors: 'feature worker', 'landmark worker'. */
  name: string;
  /** The `check` every worker must report when ready (a worker that loaded other weights is refused). */
  expectCheck?: string;
  /** Names the file behind a worker's start failure (its weights folder). */
  file?: string;
}

export class WorkerPool<Request extends { frames: Uint8Array }, Result> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task<Request, Result>[] = [];
  private readonly inFlight = new Map<Worker, Task<Request, Result>>();
  private nextId = 1;
  private failure: Error | undefined;
  /** The backend the workers run on, as the first one reported it. */
  backend = 'unknown';

  private constructor(private readonly options: WorkerPoolOptions<unknown>) {}

  /** Starts the workers and waits until each is ready (and passed the check). */
  static async start<Request extends { frames: Uint8Array }, Result, Init>(options: WorkerPoolOptions<Init>): Promise<WorkerPool<Request, Result>> {
    const pool = new WorkerPool<Request, Result>(options);
    try {
      const backends = await Promise.all(Array.from({ length: options.count }, () => pool.add()));
      pool.backend = backends[0] ?? 'unknown';
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  private add(): Promise<string> {
    const { script, init, name, expectCheck, file } = this.options;
    const worker = startWorker(script, init);
    this.workers.push(worker);
    return new Promise<string>((resolveReady, rejectReady) => {
      worker.on('message', (reply: PoolReply<Result>) => {
        if (reply.type === 'ready') {
          if (expectCheck !== undefined && reply.check !== expectCheck) {
            rejectReady(new WlaslError(`${name} loaded ${String(reply.check).slice(0, 16)}, expected ${expectCheck.slice(0, 16)}`, { file }));
            return;
          }
          this.idle.push(worker);
          resolveReady(reply.backend);
          this.pump();
        } else if (reply.type === 'fatal') {
          rejectReady(new WlaslError(`${name} could not start: ${reply.message}`, { file }));
        } else {
          const task = this.inFlight.get(worker);
          this.inFlight.delete(worker);
          this.idle.push(worker);
          if (task && reply.type === 'result') task.resolve(reply.value);
          else if (task && reply.type === 'error') task.reject(new WlaslError(reply.message));
          this.pump();
        }
      });
      worker.on('error', (error) => {
        this.failure = error;
        rejectReady(error);
        const task = this.inFlight.get(worker);
        this.inFlight.delete(worker);
        task?.reject(error);
        for (const queued of this.queue.splice(0)) queued.reject(error);
      });
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const task = this.queue.shift()!;
      this.inFlight.set(worker, task);
      const frames = task.request.frames;
      const whole = frames.byteOffset === 0 && frames.byteLength === frames.buffer.byteLength;
      worker.postMessage({ ...task.request, id: this.nextId++ }, whole ? [frames.buffer as ArrayBuffer] : []);
    }
  }

  /** Runs one request; its frames' buffer is transferred to a worker (unusable here afterwards). */
  run(request: Request): Promise<Result> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}

/**
 * The body of a pool worker: `setup` loads the model once (a failure is reported as fatal), then each request
 * is answered in turn with its result (and the buffers to transfer back) or its error.
 */
export function serveWorkerPool<Init, Request, Result>(
  setup: (init: Init) => Promise<{ backend: string; check?: string; handle(request: Request): Promise<{ value: Result; transfer?: ArrayBuffer[] }> }>,
): void {
  const port = parentPort!;
  setup(workerData as Init).then(
    ({ backend, check, handle }) => {
      // One request at a time: the pool sends the next only after this one's reply.
      port.on('message', (request: PoolRequest<Request>) => {
        handle(request).then(
          ({ value, transfer }) => port.postMessage({ type: 'result', id: request.id, value } satisfies PoolReply<Result>, transfer ?? []),
          (error: unknown) => port.postMessage({ type: 'error', id: request.id, message: describeError(error) } satisfies PoolReply<Result>),
        );
      });
      port.postMessage({ type: 'ready', backend, ...(check !== undefined ? { check } : {}) } satisfies PoolReply<Result>);
    },
    (error: unknown) => port.postMessage({ type: 'fatal', message: describeError(error) } satisfies PoolReply<Result>),
  );
}

/** The worker module next to `dirname` named `name`, for WorkerPoolOptions.script. */
export function workerScript(dirname: string, name = 'worker'): string {
  return path.join(dirname, name);
}
