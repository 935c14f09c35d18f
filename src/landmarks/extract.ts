import * as tf from '@tensorflow/tfjs';
import type { Human } from '@vladmandic/human';
import { describeError } from '../errors';
import type { LandmarkModels } from './human';
import type { LandmarkParams } from './params';
import { medianShoulderWidth } from './normalise';
import { BODY, BODY_KEYPOINTS, HAND_POINTS, SIDES, type ClipLandmarks, type ClipLandmarkStats, type FrameLandmarks, type HandLandmarks, type HandSource, type Side } from './types';

/**
 * Frames -> landmarks per frame: MoveNet for the body, MediaPipe's hand landmark model for the hands, both from
 * @vladmandic/human's package.
 *
 * The body model is run here on the model itself rather than through Human.detect: Human's MoveNet step keeps
 * a module-level jitter filter (a keypoint that moved less than 0.5% of the frame keeps its old position,
 * matched by array index) shared by the whole process. On 224-px frames of a real clip it froze 114 of 117
 * keypoints at the previous frame's position (frames 5..14 of 09966; none when MoveNet is run directly), and it
 * could carry positions from one clip into the next. Run directly, every frame's body depends on that frame
 * only. Human's hand step (detector + landmarks) is stateless with cacheSensitivity 0 and is used as is.
 *
 * Hand crops ('wrist' strategy): Human's detector is the cost (~100 ms of CPU a frame against ~25 ms for one
 * landmark run) and the weak point (hands over the face, blur). MoveNet's wrist already says where each hand
 * is, so a square crop is placed just beyond the wrist along the forearm, sized by the clip's shoulder width,
 * and rotated so the forearm points up (MediaPipe's landmark model was trained on hands pointing up; without
 * the rotation 7 points fewer wrists got a hand). The landmark model's own presence output decides whether a
 * hand is there. Options, measured and off by default (bench/landmarks.ts): tracking (the previous frame's hand
 * places the crop: no gain), further crops, and Human's detector on frames where a visible wrist got no hand
 * (+2-3 points of recall for ~45 ms of CPU a frame).
 */

const BODY_INPUT = 192;
const HAND_INPUT = 224;
/** A tracked crop's side, in units of the hand's own extent: MediaPipe's hand-to-ROI margin is of this order. */
const TRACK_MARGIN = 1.5;
/** Two hands whose wrists are closer than this (in shoulder widths) are one hand found from both sides. */
const SAME_HAND = 0.25;
/** A forearm shorter than this (shoulder widths) points at the camera: its direction says nothing. */
const MIN_FOREARM = 0.1;

/** Maps a crop's pixels to frame pixels: x' = a0 x + a1 y + a2, y' = b0 x + b1 y + b2 (tf.image.transform's form). */
interface Affine {
  a0: number;
  a1: number;
  a2: number;
  b0: number;
  b1: number;
  b2: number;
  /** Frame pixels per crop pixel (for z). */
  scale: number;
}

/** Which source pixels the model frames show: the crop rectangle scaled to size x size. */
export interface FrameGeometry {
  size: number;
  crop: { x: number; y: number; width: number; height: number };
}

type Point = [number, number];

function dist(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function bodyPoint(body: Float32Array | number[], index: number): Point {
  return [body[index * 3]!, body[index * 3 + 1]!];
}

/**
 * A square crop of side `side` centred on (cx, cy), rotated so that `up` (a unit vector in the frame) becomes
 * the crop's up; null keeps the frame's orientation.
 */
function cropAffine(cx: number, cy: number, side: number, up: Point | null): Affine {
  const s = side / HAND_INPUT;
  // The rotation R sends the crop's up (0, -1) to `up`: R = [[-uy, -ux], [ux, -uy]].
  const [ux, uy] = up ?? [0, -1];
  const r00 = -uy;
  const r01 = -ux;
  const r10 = ux;
  const r11 = -uy;
  const h = HAND_INPUT / 2;
  return { a0: s * r00, a1: s * r01, a2: cx - h * s * (r00 + r01), b0: s * r10, b1: s * r11, b2: cy - h * s * (r10 + r11), scale: s };
}

/** MoveNet on one frame: 17 x (x, y, score) in frame pixels. */
function runBody(model: tf.GraphModel, frame: tf.Tensor4D, size: number): Float32Array {
  const raw = tf.tidy(() => {
    const input = tf.cast(tf.image.resizeBilinear(frame, [BODY_INPUT, BODY_INPUT]), 'int32');
    return (model.execute(input) as tf.Tensor).dataSync() as Float32Array;
  });
  // MoveNet gives (y, x, score) in 0..1 of its (square) input.
  const out = new Float32Array(BODY_KEYPOINTS.length * 3);
  for (let i = 0; i < BODY_KEYPOINTS.length; i++) {
    out[i * 3] = raw[i * 3 + 1]! * size;
    out[i * 3 + 1] = raw[i * 3]! * size;
    out[i * 3 + 2] = raw[i * 3 + 2]!;
  }
  return out;
}

/** The landmark model on one crop: presence 0..1 and 21 x (x, y, z) in frame pixels. */
function runHandCrop(model: tf.GraphModel, frame: tf.Tensor4D, affine: Affine): { score: number; points: number[] } {
  const [rawScore, raw] = tf.tidy(() => {
    const transform = tf.tensor2d([[affine.a0, affine.a1, affine.a2, affine.b0, affine.b1, affine.b2, 0, 0]]);
    const crop = tf.div(tf.image.transform(frame, transform, 'bilinear', 'constant', 0, [HAND_INPUT, HAND_INPUT]), 255);
    const [score, keypoints] = model.execute(crop, ['Identity_1', 'Identity']) as tf.Tensor[];
    return [score!.dataSync()[0]!, keypoints!.dataSync() as Float32Array];
  });
  const points: number[] = new Array(HAND_POINTS * 3);
  for (let i = 0; i < HAND_POINTS; i++) {
    const x = raw[i * 3]!;
    const y = raw[i * 3 + 1]!;
    points[i * 3] = affine.a0 * x + affine.a1 * y + affine.a2;
    points[i * 3 + 1] = affine.b0 * x + affine.b1 * y + affine.b2;
    points[i * 3 + 2] = raw[i * 3 + 2]! * affine.scale;
  }
  // Identity_1 is the model's own sigmoid output: a probability already (Human applies a second sigmoid, so its
  // fingerScore for this model always lies in 0.50..0.73 and its minConfidence never rejects a hand).
  return { score: rawScore, points };
}

/** The hand presence Human's doubled sigmoid hides: fingerScore = 1 - trunc(100 / (1 + e^p)) / 100 for presence p. */
export function presenceOfFingerScore(fingerScore: number): number {
  const f = Math.min(Math.max(fingerScore, 0.5), 0.731);
  return Math.min(1, Math.max(0, Math.log(f / (1 - f))));
}

/**
 * Human's own hand pipeline (detector boxes with a score of at least minDetectorScore, then landmarks on them):
 * hands with 21 points in frame pixels and the presence recovered from Human's fingerScore.
 */
async function runDetector(human: Human | null, frame: tf.Tensor4D, p: LandmarkParams): Promise<Array<{ score: number; points: number[] }>> {
  if (!human) throw new Error("Human's hand detector is not loaded here: use the wrist strategy without detector fallback");
  const image = tf.squeeze(frame, [0]);
  try {
    const result = await human.detect(image as never, { body: { enabled: false }, hand: { enabled: true, minConfidence: p.minDetectorScore } } as never);
    if (result.error) throw new Error(`Human: ${result.error}`);
    return result.hand
      .filter((h) => h.keypoints.length === HAND_POINTS)
      .map((h) => ({ score: presenceOfFingerScore(h.fingerScore), points: h.keypoints.flatMap((k) => [k[0], k[1], k[2] ?? 0]) }))
      .filter((h) => h.score >= p.minHandScore);
  } finally {
    image.dispose();
  }
}

const WRIST: Record<Side, number> = { left: BODY.leftWrist, right: BODY.rightWrist };
const ELBOW: Record<Side, number> = { left: BODY.leftElbow, right: BODY.rightElbow };

/** The crop a wrist places: beyond the wrist along the forearm, rotated so the forearm points up. */
function wristCrop(body: Float32Array, side: Side, unit: number, p: LandmarkParams, box: { scale: number; shift: number }): Affine {
  const wrist = bodyPoint(body, WRIST[side]);
  const elbow = bodyPoint(body, ELBOW[side]);
  const forearm = dist(wrist, elbow);
  const elbowSeen = body[ELBOW[side] * 3 + 2]! >= p.minBodyScore && forearm >= MIN_FOREARM * unit;
  const up: Point | null = elbowSeen ? [(wrist[0] - elbow[0]) / forearm, (wrist[1] - elbow[1]) / forearm] : null;
  const shift = up ? box.shift * unit : 0;
  return cropAffine(wrist[0] + shift * (up?.[0] ?? 0), wrist[1] + shift * (up?.[1] ?? 0), box.scale * unit, p.rotate ? up : null);
}

/** The crop the previous frame's hand places: its extent along its own wrist-to-middle-finger axis, with a margin. */
function trackCrop(hand: HandLandmarks, rotate: boolean): Affine {
  const pts = hand.points;
  const wrist: Point = [pts[0]!, pts[1]!];
  const middle: Point = [pts[9 * 3]!, pts[9 * 3 + 1]!];
  const len = dist(wrist, middle) || 1;
  const up: Point = rotate ? [(middle[0] - wrist[0]) / len, (middle[1] - wrist[1]) / len] : [0, -1];
  // Extent in the hand's own axes (u across, v along).
  let minU = Infinity;
  let maxU = -Infinity;
  let minV = Infinity;
  let maxV = -Infinity;
  for (let i = 0; i < HAND_POINTS; i++) {
    const x = pts[i * 3]!;
    const y = pts[i * 3 + 1]!;
    const u = -up[1] * x + up[0] * y;
    const v = up[0] * x + up[1] * y;
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  const cx = -up[1] * cu + up[0] * cv;
  const cy = up[0] * cu + up[1] * cv;
  return cropAffine(cx, cy, TRACK_MARGIN * Math.max(maxU - minU, maxV - minV), rotate ? up : null);
}

function handWrist(points: number[]): Point {
  return [points[0]!, points[1]!];
}

/**
 * Assigns found hands to the body's wrists: the closest pairs first, each within maxWristDistance shoulder
 * widths. Used for the detector's hands, which carry no left/right label.
 */
function assignToWrists(hands: Array<{ score: number; points: number[] }>, body: Float32Array, unit: number, maxDistance: number, free: Side[]): Map<Side, { score: number; points: number[] }> {
  const pairs: Array<{ side: Side; hand: number; d: number }> = [];
  hands.forEach((hand, i) => {
    for (const side of free) pairs.push({ side, hand: i, d: dist(handWrist(hand.points), bodyPoint(body, WRIST[side])) });
  });
  pairs.sort((a, b) => a.d - b.d);
  const out = new Map<Side, { score: number; points: number[] }>();
  const used = new Set<number>();
  for (const pair of pairs) {
    if (pair.d > maxDistance * unit || out.has(pair.side) || used.has(pair.hand)) continue;
    out.set(pair.side, hands[pair.hand]!);
    used.add(pair.hand);
  }
  return out;
}

interface FrameWork {
  landmarkRuns: number;
  detectorRuns: number;
}

/** One frame's hands by the 'wrist' strategy; `previous` is the previous frame's hands of this clip. */
async function wristHands(models: LandmarkModels, frame: tf.Tensor4D, body: Float32Array, unit: number, p: LandmarkParams, previous: FrameLandmarks | null, work: FrameWork): Promise<Record<Side, HandLandmarks | null>> {
  const hands: Record<Side, HandLandmarks | null> = { left: null, right: null };
  const visible = SIDES.filter((side) => body[WRIST[side] * 3 + 2]! >= p.minBodyScore);
  for (const side of visible) {
    const wrist = bodyPoint(body, WRIST[side]);
    const tracked = p.track ? previous?.[side] : null;
    const attempts: Array<[Affine, HandSource]> = [];
    if (tracked && dist(handWrist(tracked.points), wrist) <= p.maxWristDistance * unit) attempts.push([trackCrop(tracked, p.rotate), 'track']);
    for (const box of p.handBoxes) attempts.push([wristCrop(body, side, unit, p, box), 'wrist']);
    for (const [affine, source] of attempts) {
      const found = runHandCrop(models.handLandmarks, frame, affine);
      work.landmarkRuns++;
      if (found.score >= p.minHandScore && dist(handWrist(found.points), wrist) <= p.maxWristDistance * unit) {
        hands[side] = { points: found.points, score: found.score, source };
        break;
      }
    }
  }
  // Both crops may hold the same hand (hands crossed or touching): it stays with the nearer body wrist.
  if (hands.left && hands.right && dist(handWrist(hands.left.points), handWrist(hands.right.points)) < SAME_HAND * unit) {
    const dl = dist(handWrist(hands.left.points), bodyPoint(body, WRIST.left));
    const dr = dist(handWrist(hands.right.points), bodyPoint(body, WRIST.right));
    if (dl <= dr) hands.right = null;
    else hands.left = null;
  }
  const missing = visible.filter((side) => !hands[side]);
  if (missing.length && p.detectorFallback) {
    work.detectorRuns++;
    const taken = SIDES.filter((side) => hands[side]).map((side) => handWrist(hands[side]!.points));
    const detected = (await runDetector(models.human, frame, p)).filter((h) => taken.every((w) => dist(w, handWrist(h.points)) >= SAME_HAND * unit));
    for (const [side, hand] of assignToWrists(detected, body, unit, p.maxWristDistance, missing)) hands[side] = { ...hand, source: 'detector' };
  }
  return hands;
}

/** One frame's hands by Human's detector, assigned to the nearest body wrists. */
async function detectorHands(models: LandmarkModels, frame: tf.Tensor4D, body: Float32Array, unit: number, p: LandmarkParams, work: FrameWork): Promise<Record<Side, HandLandmarks | null>> {
  work.detectorRuns++;
  const assigned = assignToWrists(await runDetector(models.human, frame, p), body, unit, p.maxWristDistance, [...SIDES]);
  const hand = (side: Side): HandLandmarks | null => {
    const h = assigned.get(side);
    return h ? { ...h, source: 'detector' } : null;
  };
  return { left: hand('left'), right: hand('right') };
}

function toSource(values: ArrayLike<number>, stride: number, g: FrameGeometry): number[] {
  const sx = g.crop.width / g.size;
  const sy = g.crop.height / g.size;
  const out = Array.from(values);
  for (let i = 0; i + 1 < out.length; i += stride) {
    out[i] = g.crop.x + out[i]! * sx;
    out[i + 1] = g.crop.y + out[i + 1]! * sy;
    // z shares the picture's scale; a stretched crop has two, their geometric mean stands for both.
    if (stride === 3 && values.length === HAND_POINTS * 3) out[i + 2] = out[i + 2]! * Math.sqrt(sx * sy);
  }
  return out;
}

function handToSource(hand: HandLandmarks | null, g: FrameGeometry): HandLandmarks | null {
  return hand ? { ...hand, points: toSource(hand.points, 3, g) } : null;
}

/**
 * Landmarks of a clip's frames (RGB uint8, row-major [count, size, size, 3]). Frames are independent of other
 * clips: nothing is kept between calls but the loaded models. A frame the models fail on is kept, with its
 * error and no landmarks, and counted in stats.badFrames; the clip goes on.
 */
export async function extractClipLandmarks(models: LandmarkModels, frames: Uint8Array, count: number, geometry: FrameGeometry, p: LandmarkParams): Promise<ClipLandmarks> {
  const size = geometry.size;
  const frameBytes = size * size * 3;
  if (frames.length < count * frameBytes) throw new RangeError(`${count} frames of ${size}x${size} need ${count * frameBytes} bytes, got ${frames.length}`);
  const tensorOf = (i: number): tf.Tensor4D => tf.tensor4d(new Float32Array(frames.subarray(i * frameBytes, (i + 1) * frameBytes)), [1, size, size, 3]);

  // Pass 1: bodies, so every hand crop of the clip is sized by the same shoulder width (the clip's median).
  const bodies: Array<Float32Array | null> = [];
  const errors: Array<string | undefined> = [];
  for (let i = 0; i < count; i++) {
    const frame = tensorOf(i);
    try {
      const body = runBody(models.body, frame, size);
      if (!body.every(Number.isFinite)) throw new Error('the body model gave a non-finite value');
      bodies.push(body);
      errors.push(undefined);
    } catch (error) {
      bodies.push(null);
      errors.push(`body: ${describeError(error)}`);
    } finally {
      frame.dispose();
    }
  }
  // Without a shoulder in the whole clip, a quarter of the frame stands for the signer's shoulder width.
  const unit = medianShoulderWidth(bodies.filter((b): b is Float32Array => b !== null), p.minBodyScore) ?? size / 4;

  const work: FrameWork = { landmarkRuns: 0, detectorRuns: 0 };
  const out: FrameLandmarks[] = [];
  let previous: FrameLandmarks | null = null;
  for (let i = 0; i < count; i++) {
    const body = bodies[i];
    if (!body) {
      out.push({ body: new Array(BODY_KEYPOINTS.length * 3).fill(0), left: null, right: null, error: errors[i] });
      previous = null;
      continue;
    }
    const frame = tensorOf(i);
    let hands: Record<Side, HandLandmarks | null>;
    let error: string | undefined;
    try {
      hands = p.handStrategy === 'wrist' ? await wristHands(models, frame, body, unit, p, previous, work) : await detectorHands(models, frame, body, unit, p, work);
      if (SIDES.some((side) => hands[side] && !hands[side]!.points.every(Number.isFinite))) throw new Error('the hand model gave a non-finite value');
    } catch (e) {
      hands = { left: null, right: null };
      error = `hands: ${describeError(e)}`;
    } finally {
      frame.dispose();
    }
    // Tracking works in frame pixels: the previous frame is kept before the mapping to source pixels.
    previous = { body: Array.from(body), left: hands.left, right: hands.right };
    out.push({ body: toSource(body, 3, geometry), left: handToSource(hands.left, geometry), right: handToSource(hands.right, geometry), ...(error ? { error } : {}) });
  }
  return { frames: out, stats: clipStats(out, p.minBodyScore, work) };
}

export function clipStats(frames: FrameLandmarks[], minBodyScore: number, work: FrameWork = { landmarkRuns: 0, detectorRuns: 0 }): ClipLandmarkStats {
  const stats: ClipLandmarkStats = { frames: frames.length, visibleWrists: 0, handsAtVisibleWrists: 0, framesWithHand: 0, framesWithBothHands: 0, badFrames: 0, ...work };
  for (const f of frames) {
    if (f.error) stats.badFrames++;
    for (const side of SIDES) {
      if (f.body[WRIST[side] * 3 + 2]! >= minBodyScore) {
        stats.visibleWrists++;
        if (f[side]) stats.handsAtVisibleWrists++;
      }
    }
    if (f.left || f.right) stats.framesWithHand++;
    if (f.left && f.right) stats.framesWithBothHands++;
  }
  return stats;
}
