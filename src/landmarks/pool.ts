import * as path from 'node:path';
import { WorkerPool } from '../runtime/worker_pool';
import type { LandmarkParams } from './params';
import type { ClipLandmarks } from './types';
import type { LandmarkRequest, LandmarkWorkerInit } from './worker';

export type LandmarkWorkerPool = WorkerPool<LandmarkRequest, ClipLandmarks>;

/** `count` landmark workers, each with its own copy of the models (the wasm backend uses one core a thread). */
export function startLandmarkWorkers(count: number, params: LandmarkParams): Promise<LandmarkWorkerPool> {
  return WorkerPool.start<LandmarkRequest, ClipLandmarks, LandmarkWorkerInit>({ script: path.join(__dirname, 'worker'), count, init: { params }, name: 'landmark worker' });
}
