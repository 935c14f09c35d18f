/**
 * Body of a feature worker thread. The wasm backend is single-threaded in Node, so the cache build runs one
 * backend per worker_thread; each loads the same weights folder and embeds the frames it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../runtime/backend';
import { loadBackboneFromDirectory, type Backbone } from '../backbone/backbone';
import { embedFrames } from '../backbone/embed';
import { describeError } from '../errors';

export interface WorkerInit {
  modelDir: string;
  batchSize: number;
}
export type WorkerRequest = { type: 'embed'; id: number; frames: Uint8Array; count: number; size: number };
export type WorkerReply =
  | { type: 'ready'; weightsHash: string; backend: string }
  | { type: 'result'; id: number; features: Float32Array }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  let backbone: Backbone;
  let backend: string;
  try {
    backend = (await initBackend()).active;
    backbone = await loadBackboneFromDirectory(init.modelDir);
  } catch (error) {
    port.postMessage({ type: 'fatal', message: describeError(error) } satisfies WorkerReply);
    return;
  }
  port.on('message', (request: WorkerRequest) => {
    try {
      const features = embedFrames(backbone, request.frames, request.count, request.size, init.batchSize);
      port.postMessage({ type: 'result', id: request.id, features } satisfies WorkerReply, [features.buffer]);
    } catch (error) {
      port.postMessage({ type: 'error', id: request.id, message: describeError(error) } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready', weightsHash: backbone.info.weightsHash, backend } satisfies WorkerReply);
}

void main();
