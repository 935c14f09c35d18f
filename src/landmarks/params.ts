import { ConfigError } from '../errors';

/** Human's model files the stage runs (names in its models/ folder); here so the browser page can name them too. */
export const BODY_MODEL = 'movenet-lightning';
export const HAND_DETECTOR_MODEL = 'handtrack';
export const HAND_LANDMARK_MODEL = 'handlandmark-lite';

/**
 * What the landmark stage does, with the reason for each default. Every field changes the landmarks, so all
 * of them are part of the cache key (cache.ts).
 */
export interface LandmarkParams {
  /**
   * 'wrist': MoveNet's wrists place a hand crop, the landmark model runs on it, Human's detector only when
   * that finds no hand at a visible wrist. 'detector': Human's hand detector on every frame (its own pipeline).
   */
  handStrategy: 'wrist' | 'detector';
  /** Frame size the models see (square): the (squared) bbox crop is scaled to it. */
  size: number;
  /** Widen the bbox to a square around its centre before cropping, so the models see undistorted people. */
  squareCrop: boolean;
  /** A hand counts when the landmark model's presence (its hand flag, 0..1) reaches this. */
  minHandScore: number;
  /** Human's detector keeps boxes scoring at least this (its hand.minConfidence). */
  minDetectorScore: number;
  /** A body keypoint counts as visible from this score; a visible wrist is where a hand is looked for. */
  minBodyScore: number;
  /**
   * Wrist-placed hand crops, tried in order until one holds a hand: side (`scale`) and how far the centre lies
   * beyond the wrist along the forearm (`shift`), both in shoulder widths.
   */
  handBoxes: Array<{ scale: number; shift: number }>;
  /** Rotate a crop so the hand points up, as MediaPipe's landmark model was trained. */
  rotate: boolean;
  /** Place the crop from the previous frame's hand when there is one (MediaPipe's tracking). */
  track: boolean;
  /** Run Human's detector on a frame where a visible wrist got no hand from its crop. */
  detectorFallback: boolean;
  /**
   * A hand belongs to the nearest body wrist when its own wrist lies within this many shoulder widths of it
   * (hands carry no left/right label); a farther one is dropped as a false find.
   */
  maxWristDistance: number;
}

/**
 * Chosen on real wlasl-real10 clips (bench/landmarks.ts; grid on 8 clips, checked on 8 others):
 * - size 224: hand recall was the same at 224, 384 and 512 (68 / 69 / 68% of visible wrists, 8 clips): the
 *   clips' own resolution, not the frame size, limits the hands, and 224 decodes cheapest;
 * - a squared bbox: stretching the bbox to a square cost the wrist crops 4 points (64 vs 68%);
 * - crops of 0.7 shoulder widths, 0.15 beyond the wrist: 69%, against 32-67% for 8 other pairs of size
 *   0.6-1.5 and shift 0.1-0.55;
 * - presence 0.5: the landmark model's presence is bimodal (most crops above 0.9 or below 0.2); 0.3 finds more
 *   hands (70.8% of visible wrists on wlasl100-trainval against 66.1%) but worse ones: the default recipe's val
 *   top-1 (then without hand angles) fell from 44.5% to 40.6% (README, "Landmarks");
 * - no tracking and no detector fallback (see extract.ts): tracking found no more hands, the fallback 2-3
 *   points more at 1.7x the CPU, which would break 20 frames/s on 2 cores.
 */
export const DEFAULT_LANDMARK_PARAMS: LandmarkParams = {
  handStrategy: 'wrist',
  size: 224,
  squareCrop: true,
  minHandScore: 0.5,
  minDetectorScore: 0.3,
  minBodyScore: 0.3,
  handBoxes: [{ scale: 0.7, shift: 0.15 }],
  rotate: true,
  track: false,
  detectorFallback: false,
  maxWristDistance: 0.75,
};

/** Every problem at once, as config.ts's checks do. */
export function checkLandmarkParams(p: LandmarkParams): void {
  const problems: string[] = [];
  if (p.handStrategy !== 'wrist' && p.handStrategy !== 'detector') problems.push(`landmarks.handStrategy must be wrist or detector, got ${String(p.handStrategy)}`);
  if (!Number.isInteger(p.size) || p.size < 64 || p.size > 2048) problems.push(`landmarks.size must be an integer in 64..2048, got ${p.size}`);
  for (const key of ['minHandScore', 'minDetectorScore', 'minBodyScore'] as const) {
    if (!(p[key] >= 0 && p[key] <= 1)) problems.push(`landmarks.${key} must be in 0..1, got ${p[key]}`);
  }
  if (!(Number.isFinite(p.maxWristDistance) && p.maxWristDistance > 0)) problems.push(`landmarks.maxWristDistance must be > 0, got ${p.maxWristDistance}`);
  if (!Array.isArray(p.handBoxes) || p.handBoxes.length === 0) problems.push('landmarks.handBoxes must list at least one crop');
  else if (!p.handBoxes.every((b) => Number.isFinite(b.scale) && b.scale > 0 && Number.isFinite(b.shift))) problems.push(`landmarks.handBoxes must have scale > 0 and a finite shift, got ${JSON.stringify(p.handBoxes)}`);
  if (problems.length) throw new ConfigError(problems.join('; '));
}
