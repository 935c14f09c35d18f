import * as path from 'node:path';
import type { FramesConfig } from '../config';
import { CacheError } from '../errors';
import { readVideoFeatures } from '../features/cache';
import { openLandmarkCache } from '../landmarks/cache';
import { landmarkModelFiles } from '../landmarks/human';
import { landmarkVectors, typicalSignerReference } from '../landmarks/normalise';
import { DEFAULT_LANDMARK_PARAMS, type LandmarkParams } from '../landmarks/params';
import type { ClipFrames } from './clip_source';
import { landmarkStreamFrames, type LandmarkStreamOptions } from './landmark_features';

/**
 * Reading a stream's cached per-frame vectors for a list of videos. Each stream has its own cache, built by its
 * own stage (features/build.ts for the CNN, landmarks/stage.ts for the landmarks) over the same frame selection,
 * so frame t of one stream is frame t of the other and the two can be put side by side.
 */

export interface LabeledVideoId {
  videoId: string;
  label: number;
}

export interface LoadedClips {
  clips: ClipFrames[];
  /** Videos without an entry or without a signer to normalise to, with the reason: left out and reported. */
  missing: Array<{ videoId: string; reason: string }>;
}

/** The landmark stream (landmark_features.ts) of each video, from the landmark cache under `landmarksRoot`. */
export async function loadLandmarkClips(
  videos: readonly LabeledVideoId[],
  landmarksRoot: string,
  frames: FramesConfig,
  stream: LandmarkStreamOptions,
  params: LandmarkParams = DEFAULT_LANDMARK_PARAMS,
): Promise<LoadedClips & { cacheDir: string }> {
  const cache = await openLandmarkCache(landmarksRoot, landmarkModelFiles(), params, { window: frames.window, cropToBbox: frames.cropToBbox });
  const clips: ClipFrames[] = [];
  const missing: LoadedClips['missing'] = [];
  for (const v of videos) {
    let entry;
    try {
      entry = cache.read(v.videoId);
    } catch (error) {
      if (!(error instanceof CacheError)) throw error;
      missing.push({ videoId: v.videoId, reason: error.message });
      continue;
    }
    // A clip without both shoulders in any frame is read against the typical signer's place in its crop.
    const vectors = landmarkVectors(entry.frames, params.minBodyScore, typicalSignerReference(entry.geometry.crop))!;
    clips.push({ videoId: v.videoId, label: v.label, frames: vectors.frames, data: landmarkStreamFrames(vectors, stream) });
  }
  return { clips, missing, cacheDir: cache.dir };
}

/** The CNN stream of each video, from a feature cache folder (features/cache.ts). */
export function loadFeatureClips(videos: readonly LabeledVideoId[], featureCacheDir: string): LoadedClips {
  const clips: ClipFrames[] = [];
  const missing: LoadedClips['missing'] = [];
  for (const v of videos) {
    try {
      const f = readVideoFeatures(featureCacheDir, v.videoId);
      clips.push({ videoId: v.videoId, label: v.label, frames: f.frames, data: f.data });
    } catch (error) {
      if (!(error instanceof CacheError)) throw error;
      missing.push({ videoId: v.videoId, reason: error.message });
    }
  }
  return { clips, missing };
}

/**
 * Per-frame concatenation of streams for the videos every stream has: [frames, dA + dB + ...]. The streams must
 * come from the same frame selection; a video whose streams differ in frame count is reported, not guessed at.
 */
export function concatClips(streams: readonly ClipFrames[][]): LoadedClips {
  const byId = streams.map((s) => new Map(s.map((c) => [c.videoId, c])));
  const clips: ClipFrames[] = [];
  const missing: LoadedClips['missing'] = [];
  for (const first of streams[0] ?? []) {
    const parts = byId.map((m) => m.get(first.videoId));
    if (parts.some((p) => !p)) {
      missing.push({ videoId: first.videoId, reason: 'not in every stream' });
      continue;
    }
    const frames = first.frames;
    if (parts.some((p) => p!.frames !== frames)) {
      missing.push({ videoId: first.videoId, reason: `streams differ in frames: ${parts.map((p) => p!.frames).join(' vs ')}` });
      continue;
    }
    const dims = parts.map((p) => p!.data.length / frames);
    const width = dims.reduce((a, b) => a + b, 0);
    const data = new Float32Array(frames * width);
    for (let t = 0; t < frames; t++) {
      let o = t * width;
      parts.forEach((p, k) => {
        data.set(p!.data.subarray(t * dims[k]!, (t + 1) * dims[k]!), o);
        o += dims[k]!;
      });
    }
    clips.push({ videoId: first.videoId, label: first.label, frames, data });
  }
  return { clips, missing };
}

/** The dataset's landmark cache root in the user cache (beside its features/). */
export function landmarksRootOf(datasetCacheDir: string): string {
  return path.join(datasetCacheDir, 'landmarks');
}
