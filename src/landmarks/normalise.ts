import { BODY, HAND_POINTS, type BodyKeypoint, type FrameLandmarks } from './types';

/**
 * The per-frame vector a sequence model takes (issue 16 point 2 plugs it in as a feature stream; velocities
 * are computed downstream). LANDMARK_DIMS = 149 values per frame, in this order:
 *
 *   [0, 14)     body: x, y of nose, left shoulder, right shoulder, left elbow, right elbow, left wrist, right wrist
 *   [14, 77)    left hand: x, y, z of its 21 MediaPipe landmarks (0 wrist, 1-4 thumb, ..., 17-20 pinky)
 *   [77, 140)   right hand: the same
 *   [140, 149)  masks, 1 = present, 0 = missing: the 7 body points, the left hand, the right hand
 *
 * Left and right are the signer's own. A missing point or hand has zeros in its coordinates AND 0 in its mask:
 * the zeros are there only to keep the width fixed; a consumer must read the mask, since (0, 0) is a real
 * position (the shoulder centre). A body point is present when MoveNet's score reaches minBodyScore; a hand
 * when the stage found it.
 *
 * Coordinates are in units of the signer's shoulder width with the origin at the centre of the shoulders
 * (x to the right of the picture, y down; z is the hand model's depth relative to the hand's wrist, same unit),
 * so where the signer stands in the picture and how large they appear do not matter. Both references are
 * the clip's median over the frames that show both shoulders, not each frame's own: a per-frame reference
 * would carry MoveNet's shoulder jitter into every coordinate and erase the body's own motion.
 */
export const NORMALISED_BODY_POINTS: readonly BodyKeypoint[] = ['nose', 'leftShoulder', 'rightShoulder', 'leftElbow', 'rightElbow', 'leftWrist', 'rightWrist'];
const BODY_DIMS = NORMALISED_BODY_POINTS.length * 2;
const HAND_DIMS = HAND_POINTS * 3;
export const LANDMARK_LAYOUT = {
  body: { offset: 0, length: BODY_DIMS },
  left: { offset: BODY_DIMS, length: HAND_DIMS },
  right: { offset: BODY_DIMS + HAND_DIMS, length: HAND_DIMS },
  mask: { offset: BODY_DIMS + 2 * HAND_DIMS, length: NORMALISED_BODY_POINTS.length + 2 },
} as const;
export const LANDMARK_DIMS = LANDMARK_LAYOUT.mask.offset + LANDMARK_LAYOUT.mask.length;

/** The signer's frame of reference in source pixels: shoulder centre and shoulder width. */
export interface SignerReference {
  cx: number;
  cy: number;
  width: number;
}

/** Median of the frames' shoulder widths (both shoulders visible), in the bodies' pixels; null when none has both. */
export function medianShoulderWidth(bodies: ArrayLike<number>[], minScore: number): number | null {
  const widths: number[] = [];
  for (const body of bodies) {
    const l = BODY.leftShoulder * 3;
    const r = BODY.rightShoulder * 3;
    if (body[l + 2]! >= minScore && body[r + 2]! >= minScore) {
      const w = Math.hypot(body[l]! - body[r]!, body[l + 1]! - body[r + 1]!);
      if (w > 0) widths.push(w);
    }
  }
  if (!widths.length) return null;
  widths.sort((a, b) => a - b);
  const mid = widths.length >> 1;
  return widths.length % 2 ? widths[mid]! : (widths[mid - 1]! + widths[mid]!) / 2;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The clip's shoulder centre and width (medians over frames showing both shoulders), or null when none does. */
export function signerReference(frames: readonly FrameLandmarks[], minBodyScore: number): SignerReference | null {
  const width = medianShoulderWidth(frames.filter((f) => !f.error).map((f) => f.body), minBodyScore);
  if (width === null) return null;
  const xs: number[] = [];
  const ys: number[] = [];
  const l = BODY.leftShoulder * 3;
  const r = BODY.rightShoulder * 3;
  for (const f of frames) {
    if (f.error || f.body[l + 2]! < minBodyScore || f.body[r + 2]! < minBodyScore) continue;
    xs.push((f.body[l]! + f.body[r]!) / 2);
    ys.push((f.body[l + 1]! + f.body[r + 1]!) / 2);
  }
  return { cx: median(xs), cy: median(ys), width };
}

/**
 * Where a typical signer's shoulders sit in the model's (squared bbox) crop: medians over the 782 wlasl100-trainval
 * clips that show both shoulders (10th-90th percentiles: width 0.40-0.52 of the crop's width, centre 0.48-0.59
 * across and 0.41-0.53 down). The reference of a clip in which MoveNet never sees both shoulders (a signer
 * turned aside, a dark or cut-off frame: 2 of 784 clips), so its hands are still read, to within a tenth of a
 * shoulder width of where its own reference would put them, rather than the clip being dropped.
 */
export const TYPICAL_SIGNER_IN_CROP = { width: 0.462, cx: 0.523, cy: 0.475 } as const;

export function typicalSignerReference(crop: { x: number; y: number; width: number; height: number }): SignerReference {
  return { cx: crop.x + TYPICAL_SIGNER_IN_CROP.cx * crop.width, cy: crop.y + TYPICAL_SIGNER_IN_CROP.cy * crop.height, width: TYPICAL_SIGNER_IN_CROP.width * crop.width };
}

export interface LandmarkVectors {
  /** Row-major [frames, LANDMARK_DIMS]. */
  data: Float32Array;
  frames: number;
  dims: number;
  /** Per frame: 1 when anything in it is present (a body point or a hand), else 0. */
  valid: Uint8Array;
  reference: SignerReference;
  /** The reference is the clip's own (its shoulders), or the typical signer's place in its crop (fallback). */
  referenceSource: 'shoulders' | 'crop';
}

/**
 * The clip's frames as normalised vectors (layout above). When no frame shows both shoulders there is no signer
 * of its own to normalise to: `fallback` (typicalSignerReference of the clip's crop) serves, else null (the
 * landmark stage counts such clips).
 */
export function landmarkVectors(frames: readonly FrameLandmarks[], minBodyScore: number, fallback?: SignerReference): LandmarkVectors | null {
  const own = signerReference(frames, minBodyScore);
  const reference = own ?? fallback;
  if (!reference) return null;
  const { cx, cy, width } = reference;
  const data = new Float32Array(frames.length * LANDMARK_DIMS);
  const valid = new Uint8Array(frames.length);
  frames.forEach((f, t) => {
    const row = t * LANDMARK_DIMS;
    const mask = row + LANDMARK_LAYOUT.mask.offset;
    if (f.error) return;
    NORMALISED_BODY_POINTS.forEach((name, k) => {
      const i = BODY[name] * 3;
      if (f.body[i + 2]! < minBodyScore) return;
      data[row + k * 2] = (f.body[i]! - cx) / width;
      data[row + k * 2 + 1] = (f.body[i + 1]! - cy) / width;
      data[mask + k] = 1;
    });
    (['left', 'right'] as const).forEach((side, h) => {
      const hand = f[side];
      if (!hand) return;
      const offset = row + LANDMARK_LAYOUT[side].offset;
      for (let p = 0; p < HAND_POINTS; p++) {
        data[offset + p * 3] = (hand.points[p * 3]! - cx) / width;
        data[offset + p * 3 + 1] = (hand.points[p * 3 + 1]! - cy) / width;
        data[offset + p * 3 + 2] = hand.points[p * 3 + 2]! / width;
      }
      data[mask + NORMALISED_BODY_POINTS.length + h] = 1;
    });
    for (let k = 0; k < LANDMARK_LAYOUT.mask.length; k++) if (data[mask + k]) valid[t] = 1;
  });
  return { data, frames: frames.length, dims: LANDMARK_DIMS, valid, reference, referenceSource: own ? 'shoulders' : 'crop' };
}
