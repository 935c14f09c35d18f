import type { Bbox } from '../metadata/types';
import { cropRect, squareBbox } from '../video/geometry';
import type { CropRect } from '../video/types';
import { BODY, type FrameLandmarks } from './types';

/**
 * Where the signer is in a clip without a bbox, from MoveNet's body keypoints over the whole clip.
 *
 * The models were trained on WLASL clips cut to a square around the signer's person box. A clip without a box
 * is read whole and stretched to the models' square input, which squashes a 16:9 picture's hands to 0.56 of
 * their width, and the signer is smaller: the ready model was right on 16 of 50 training-split clips of
 * wlasl-real10 read that way, on 39 when cut to the box found here and on 41 with WLASL's own boxes
 * (bench/framing.ts). A first
 * reading of the whole frame is enough to place the body (MoveNet finds it even when small and squashed); the
 * box then spans every upper-body point of the clip, widened by the shoulder width around it so the signing
 * space (hands raised above the head, out to the sides) stays inside, and reaching down as a person box does.
 */

/** Keypoints that place the signer: face, shoulders, arms and hips (knees and ankles are often out of the picture). */
const UPPER_BODY = [
  BODY.nose, BODY.leftEye, BODY.rightEye, BODY.leftEar, BODY.rightEar, BODY.leftShoulder, BODY.rightShoulder,
  BODY.leftElbow, BODY.rightElbow, BODY.leftWrist, BODY.rightWrist, BODY.leftHip, BODY.rightHip,
];

export interface SignerFraming {
  /** The box to crop to, in source pixels, clamped to the frame. */
  bbox: Bbox;
  /** The box's share of the frame's area. */
  share: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The signer's box over a clip, or null when no frame shows both shoulders (then nothing can be said: keep the
 * whole frame). `minScore` is the body score a point needs (the landmark params' minBodyScore).
 */
export function signerBox(frames: readonly FrameLandmarks[], width: number, height: number, minScore: number): SignerFraming | null {
  const xs: number[] = [];
  const ys: number[] = [];
  const shoulderWidths: number[] = [];
  const shoulderYs: number[] = [];
  for (const frame of frames) {
    const body = frame.body;
    if (!body || body.length < 51) continue;
    const score = (k: number) => body[3 * k + 2]!;
    if (score(BODY.leftShoulder) < minScore || score(BODY.rightShoulder) < minScore) continue;
    const lx = body[3 * BODY.leftShoulder]!;
    const rx = body[3 * BODY.rightShoulder]!;
    const ly = body[3 * BODY.leftShoulder + 1]!;
    const ry = body[3 * BODY.rightShoulder + 1]!;
    shoulderWidths.push(Math.hypot(lx - rx, ly - ry));
    shoulderYs.push((ly + ry) / 2);
    for (const k of UPPER_BODY) {
      if (score(k) < minScore) continue;
      xs.push(body[3 * k]!);
      ys.push(body[3 * k + 1]!);
    }
  }
  if (shoulderWidths.length === 0) return null;
  const shoulder = median(shoulderWidths);
  if (!(shoulder > 0)) return null;
  // A raised hand reaches about a shoulder width above the head; a WLASL person box reaches well below the
  // shoulders (most clips show the signer to the waist or the frame's edge).
  const x0 = Math.min(...xs) - 0.6 * shoulder;
  const x1 = Math.max(...xs) + 0.6 * shoulder;
  const y0 = Math.min(...ys) - 0.8 * shoulder;
  const y1 = Math.max(Math.max(...ys) + 0.4 * shoulder, median(shoulderYs) + 2.5 * shoulder);
  const clamped: Bbox = [Math.max(0, x0), Math.max(0, y0), Math.min(width, x1), Math.min(height, y1)].map(Math.round) as Bbox;
  const share = ((clamped[2] - clamped[0]) * (clamped[3] - clamped[1])) / (width * height);
  return { bbox: clamped, share };
}

export interface FramingDecision extends SignerFraming {
  /** Whether the clip is read again cut to the box: not when the box is the whole picture (nothing to cut). */
  applied: boolean;
}

/**
 * The automatic framing of a clip without a bbox, from its first (whole-picture) reading: the signer's box and
 * whether to read the clip again cut to it; undefined when no frame shows both shoulders. One rule for `predict`
 * and the browser page, so both read a user's clip the same way.
 */
export function frameSigner(frames: readonly FrameLandmarks[], width: number, height: number, minScore: number): FramingDecision | undefined {
  const found = signerBox(frames, width, height, minScore);
  return found ? { ...found, applied: found.share < 0.999 } : undefined;
}

/**
 * The source pixels the landmark models read for a box: squared about its centre, then clamped to the picture, as
 * the landmark stage crops (landmarks/stage.ts landmarkFrames with params.squareCrop). The browser page draws
 * this rectangle of each frame where Node has ffmpeg crop it.
 */
export function signerCrop(bbox: Bbox, width: number, height: number): CropRect {
  return cropRect(squareBbox(bbox), width, height);
}
