import * as path from 'node:path';
import { WorkerPool } from '../runtime/worker_pool';
import type { BackboneInfo } from '../backbone/backbone';
import type { FeatureRequest, FeatureWorkerInit } from './worker';

export type FeatureWorkerPool = WorkerPool<FeatureRequest, Float32Array>;

/** `count` feature workers, each with its own copy of the backbone's weights (checked by their hash). */
export function startFeatureWorkers(count: number, backbone: Pick<BackboneInfo, 'modelDir' | 'weightsHash'>, batchSize: number): Promise<FeatureWorkerPool> {
  return WorkerPool.start<FeatureRequest, Float32Array, FeatureWorkerInit>({
    script: path.join(__dirname, 'worker'),
    count,
    init: { modelDir: backbone.modelDir, batchSize },
    name: 'feature worker',
    expectCheck: backbone.weightsHash,
    file: backbone.modelDir,
  });
}
