/**
 * Body of a landmark worker thread. The wasm backend uses one core per thread in Node, so the stage runs one
 * backend (and one copy of the models) per worker_thread, each taking whole clips.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../errors';
import { extractClipLandmarks, type FrameGeometry } from './extract';
import { loadLandmarkModels } from './human';
import type { LandmarkParams } from './params';
import type { ClipLandmarks } from './types';

export interface LandmarkWorkerInit {
  params: LandmarkParams;
}
export type LandmarkWorkerRequest = { id: number; frames: Uint8Array; count: number; geometry: FrameGeometry };
export type LandmarkWorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'result'; id: number; clip: ClipLandmarks }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const { params } = workerData as LandmarkWorkerInit;
  let models: Awaited<ReturnType<typeof loadLandmarkModels>>;
  try {
    models = await loadLandmarkModels();
  } catch (error) {
    port.postMessage({ type: 'fatal', message: describeError(error) } satisfies LandmarkWorkerReply);
    return;
  }
  // One clip at a time: the pool sends the next only after this one's reply.
  port.on('message', (request: LandmarkWorkerRequest) => {
    extractClipLandmarks(models, request.frames, request.count, request.geometry, params).then(
      (clip) => port.postMessage({ type: 'result', id: request.id, clip } satisfies LandmarkWorkerReply),
      (error: unknown) => port.postMessage({ type: 'error', id: request.id, message: describeError(error) } satisfies LandmarkWorkerReply),
    );
  });
  port.postMessage({ type: 'ready', backend: models.info.backend } satisfies LandmarkWorkerReply);
}

void main();
