/**
 * Body of a feature worker thread (runtime/worker_pool.ts): each loads the same weights folder once and embeds
 * the frames it is sent; it reports the weights' hash, so a worker that loaded other weights is refused.
 */
import { initBackend } from '../runtime/backend';
import { serveWorkerPool } from '../runtime/worker_pool';
import { loadBackboneFromDirectory } from '../backbone/backbone';
import { embedFrames } from '../backbone/embed';

export interface FeatureWorkerInit {
  modelDir: string;
  batchSize: number;
}
/** RGB frames [count, size, size, 3]; the answer is their features [count, dim]. */
export interface FeatureRequest {
  frames: Uint8Array;
  count: number;
  size: number;
}

serveWorkerPool<FeatureWorkerInit, FeatureRequest, Float32Array>(async (init) => {
  const backend = (await initBackend()).active;
  const backbone = await loadBackboneFromDirectory(init.modelDir);
  return {
    backend,
    check: backbone.info.weightsHash,
    async handle(request) {
      const features = embedFrames(backbone, request.frames, request.count, request.size, init.batchSize);
      return { value: features, transfer: [features.buffer as ArrayBuffer] };
    },
  };
});
