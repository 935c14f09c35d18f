/**
 * Body of a landmark worker thread (runtime/worker_pool.ts): each loads its own copy of the models once and
 * takes whole clips.
 */
import { serveWorkerPool } from '../runtime/worker_pool';
import { extractClipLandmarks, type FrameGeometry } from './extract';
import { loadLandmarkModels } from './human';
import type { LandmarkParams } from './params';
import type { ClipLandmarks } from './types';

export interface LandmarkWorkerInit {
  params: LandmarkParams;
}
export interface LandmarkRequest {
  frames: Uint8Array;
  count: number;
  geometry: FrameGeometry;
}

serveWorkerPool<LandmarkWorkerInit, LandmarkRequest, ClipLandmarks>(async ({ params }) => {
  const models = await loadLandmarkModels();
  return {
    backend: models.info.backend,
    handle: async (request) => ({ value: await extractClipLandmarks(models, request.frames, request.count, request.geometry, params) }),
  };
});
