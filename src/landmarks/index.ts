/**
 * Landmarks per frame (issue 16 point 1): body and hand keypoints from @vladmandic/human's models, cached once
 * per clip, normalised to the signer. The stage: buildLandmarkCache; the per-frame vector: landmarkVectors.
 */
export { buildLandmarkCache, formatLandmarkSummary, landmarkFrames, squareBbox } from './stage';
export type { BuildLandmarkCacheOptions, BuildLandmarkCacheReport, LandmarkFailure } from './stage';
export { openLandmarkCache, readLandmarkEntry, landmarkCacheKey, landmarkFile } from './cache';
export type { LandmarkEntry, LandmarkCacheMeta } from './cache';
export { landmarkVectors, signerReference, LANDMARK_DIMS, LANDMARK_LAYOUT, NORMALISED_BODY_POINTS } from './normalise';
export type { LandmarkVectors, SignerReference } from './normalise';
export { DEFAULT_LANDMARK_PARAMS, checkLandmarkParams } from './params';
export type { LandmarkParams } from './params';
export { loadLandmarkModels, landmarkModelFiles } from './human';
export { extractClipLandmarks } from './extract';
export * from './types';
