import type { PipelineConfig } from '../config';
import type { FitInputs, SequenceSource } from '../dataset/types';
import { entriesOfSplit, type VideoIndex } from '../metadata/video_index';
import type { Split } from '../metadata/types';
import { ClipSequenceSource, EVAL_SPANS, NO_AUGMENTATION, WHOLE_CLIP, type ClipAugmentation, type ClipFrames, type ClipView } from './clip_source';
import { augmentLandmarkRows, DEFAULT_LANDMARK_AUGMENTATION, dropHandFrames, landmarkStreamOptions, mirrorsLeadingHand } from './landmark_features';
import { loadHandCropStream } from './hand_crops';
import { concatClips, loadFeatureClips, loadLandmarkClips, type LoadedClips } from './load';

/**
 * The training data of a run, whatever stream feeds it: one interface (SequenceSource) for the LSTM head and
 * the training loop, built from the caches the stream's stages filled.
 */

/** Where each stream's cache of this run lives: null for a stream the run does not use. */
export interface StreamCaches {
  /** The CNN feature cache folder (features/cache.ts) of the run's backbone and frames. */
  featuresDir: string | null;
  /** The dataset's landmarks/ root (landmark cache folders, one per key, under it). */
  landmarksRoot: string | null;
  /** The hand-crop folder (streams/hand_crops.ts) of the run's landmark cache; absent or null without hand crops. */
  handCropsDir?: string | null;
}

/** The CNN on the whole crop (features/build.ts). */
export const usesCnn = (config: PipelineConfig): boolean => config.stream.features === 'cnn' || config.stream.features === 'fusion';
/** The landmark stage: read as vectors (landmarks, fusion), or to place the hand crops (hands). */
export const usesLandmarks = (config: PipelineConfig): boolean => config.stream.features !== 'cnn';
/** The landmark vectors are (part of) what the LSTM reads. */
export const readsLandmarkVectors = (config: PipelineConfig): boolean => config.stream.features === 'landmarks' || config.stream.features === 'fusion';

export { landmarkStreamOptions, mirrorsLeadingHand };

/** What `fit` must record in a checkpoint about how this recipe reads its clips (FitOptions.inputs). */
export const fitInputsOf = (config: PipelineConfig): FitInputs => {
  // Only whole-clip sources draw training views (wholeClipSource); windows are read as they are.
  const { wholeClip, minSpan } = config.stream;
  return {
    ...(mirrorsLeadingHand(config) ? { rightLeads: true as const } : {}),
    ...(dropsHands(config) ? { handDrop: config.stream.handDrop } : {}),
    ...(wholeClip && minSpan < 1 ? { minSpan } : {}),
    ...(wholeClip && turnsLandmarks(config) ? { turns: true as const } : {}),
  };
};
/** Training views of the landmark vectors are turned, scaled and shifted (stream.augmentLandmarks). */
const turnsLandmarks = (config: PipelineConfig): boolean => config.stream.augmentLandmarks && readsLandmarkVectors(config);
/** Training views of the landmark vectors lose hands (stream.handDrop): the landmark stream and a fusion's landmark half. */
export const dropsHands = (config: PipelineConfig): boolean => config.stream.handDrop > 0 && readsLandmarkVectors(config);
/** The CNN on hand crops located by the landmarks (streams/hand_crops.ts). */
export const usesHandCrops = (config: PipelineConfig): boolean => config.stream.features === 'hands';

/** Training-view augmentation of the stream (evaluation views are never augmented). */
export function streamAugmentation(config: PipelineConfig): ClipAugmentation {
  const { minSpan, handDrop } = config.stream;
  const turns = turnsLandmarks(config);
  const drops = dropsHands(config);
  if (minSpan >= 1 && !turns && !drops) return NO_AUGMENTATION;
  // The landmark stream comes first in a fusion's frame, so the same functions serve both.
  const parts = landmarkStreamOptions(config);
  const values = turns
    ? (rows: Float32Array, dim: number, rng: () => number) => augmentLandmarkRows(rows, dim, parts, rng, { ...DEFAULT_LANDMARK_AUGMENTATION, handDrop })
    : drops
      ? (rows: Float32Array, dim: number, rng: () => number) => dropHandFrames(rows, dim, parts, rng, handDrop)
      : undefined;
  return { minSpan, values };
}

/** The stream's per-frame vectors of some videos, from the caches: landmarks first in a fusion. */
export async function loadStreamClips(videos: ReadonlyArray<{ videoId: string; label: number }>, config: PipelineConfig, caches: StreamCaches): Promise<LoadedClips> {
  const parts: LoadedClips[] = [];
  if (readsLandmarkVectors(config)) {
    if (!caches.landmarksRoot) throw new Error('the landmark stream needs the landmark cache');
    parts.push(await loadLandmarkClips(videos, caches.landmarksRoot, config.frames, landmarkStreamOptions(config)));
  }
  if (usesHandCrops(config)) {
    if (!caches.handCropsDir) throw new Error('the hands stream needs the hand-crop cache');
    parts.push(loadHandCropStream(videos, caches.handCropsDir));
  }
  if (usesCnn(config)) {
    if (!caches.featuresDir) throw new Error('the cnn stream needs the feature cache');
    parts.push(loadFeatureClips(videos, caches.featuresDir));
  }
  if (parts.length === 1) return parts[0]!;
  const fused = concatClips(parts.map((p) => p.clips));
  // A video one stream lacks is reported once, with that stream's reason.
  const reasons = new Map(parts.flatMap((p) => p.missing.map((m) => [m.videoId, m.reason] as const)));
  return { clips: fused.clips, missing: fused.missing.map((m) => ({ videoId: m.videoId, reason: reasons.get(m.videoId) ?? m.reason })) };
}

/** One split's whole-clip sequences (config.stream.wholeClip), augmented when `train`. */
export async function wholeClipSource(
  index: VideoIndex,
  config: PipelineConfig,
  caches: StreamCaches,
  split: Split | readonly Split[],
): Promise<{ source: ClipSequenceSource; missing: LoadedClips['missing']; clips: ClipFrames[] }> {
  // Several splits: one training set of them all (train + val, config.train.trainOn).
  const splits: readonly Split[] = typeof split === 'string' ? [split] : split;
  const training = splits.includes('train');
  const videos = entriesOfSplit(index, split).map((e) => ({ videoId: e.videoId, label: e.label }));
  const { clips, missing } = await loadStreamClips(videos, config, caches);
  const augmentation = training ? streamAugmentation(config) : NO_AUGMENTATION;
  return { source: new ClipSequenceSource(clips, config.sequence.sampleSize, index.classes.length, augmentation, training ? WHOLE_CLIP : evalViewsOf(config)), missing, clips };
}

/** The fixed views a clip is read with at evaluation and prediction. */
export function evalViewsOf(config: Pick<PipelineConfig, 'stream'>): readonly ClipView[] {
  return config.stream.evalViews === 'spans' ? EVAL_SPANS : WHOLE_CLIP;
}

export type { SequenceSource };
