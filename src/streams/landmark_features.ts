import { LANDMARK_DIMS, LANDMARK_LAYOUT, NORMALISED_BODY_POINTS, type LandmarkVectors } from '../landmarks/normalise';
import { HAND_POINTS } from '../landmarks/types';
import { ANGLES_PER_HAND, CONTACT_PER_HAND, CONTACT_TIPS, faceContactOffset, FINGERS, landmarkStreamDims, STREAM_LANDMARK_DIMS, STREAM_POSITION_DIMS, type LandmarkStreamParts } from '../landmarks/stream_width';

/**
 * The landmark stream's per-frame vector, made from the normalised landmarks (landmarks/normalise.ts) for a
 * sequence model. Four changes over the raw vector, each because a sign is read that way:
 * - a hand is split into WHERE it is (its wrist, in shoulder widths from the shoulder centre) and WHAT SHAPE it
 *   makes (its other 20 points relative to its wrist, in units of its own palm length): the handshape then does
 *   not change when the hand moves, and its size in the picture does not matter;
 * - a point or hand missing in a frame is filled from its nearest frames before and after (linear between them,
 *   the nearest one at the ends), so a missed detection reads as "about where it was", not a jump to the
 *   shoulder centre; the masks still say what was seen. A hand never seen in the clip stays zero, mask 0;
 * - each hand's joint angles (handAngles, on by default): the cosine of the bend at each finger's three joints
 *   and of the spread between neighbouring fingers (their bones from the base to the first joint), 19 a hand,
 *   computed from the (gap-filled) shape, so a hand never seen has zeros. They do not change when the hand
 *   turns in the picture or comes nearer, so the head need not learn a handshape anew for every orientation and
 *   distance from 6 clips a gloss: on wlasl100-trainval val they lift the default from 44.5% to 50.1% top-1
 *   (seeds 42, 1, 7; the linear control from 23.8% to 36.4%; README, "Real signs");
 * - each hand's face contact (faceContact): where its thumb, index and middle tips are about the nose (x, y, in
 *   shoulder widths) and its palm's length (shoulder widths, how near the hand is). Many signs differ mostly in
 *   where the hand touches the face or head (MOTHER and FATHER: the same handshape at the chin and the forehead);
 *   the stream otherwise places only the wrist, and the nose only against the shoulders. A hand never seen: zeros.
 *
 * Layout (STREAM_POSITION_DIMS = 147 values without hand angles, STREAM_LANDMARK_DIMS = 185 with them, 199 with face
 * contact too: landmarkStreamDims):
 *   [0, 14)    body x, y (nose, shoulders, elbows, wrists), as normalise.ts
 *   [14, 16)   left hand wrist x, y          [16, 76)  left hand shape: points 1..20 x, y, z
 *   [76, 78)   right hand wrist x, y         [78, 138) right hand shape
 *   [138, 147) masks: 7 body points, left hand, right hand
 *   [147, 166) left hand angles: 5 fingers (thumb .. pinky) x 3 bends, then 4 spreads (thumb-index .. ring-pinky)
 *   [166, 185) right hand angles
 *   [185, 192) left hand contact: thumb, index, middle tip x, y less the nose's, palm length   [192, 199) right
 *   (the contact blocks follow the masks, at 147, in a stream without hand angles)
 */
const BODY_LEN = LANDMARK_LAYOUT.body.length;
const SHAPE_LEN = (HAND_POINTS - 1) * 3;
const HAND_LEN = 2 + SHAPE_LEN;
export const STREAM_LAYOUT = {
  body: { offset: 0, length: BODY_LEN },
  left: { offset: BODY_LEN, length: HAND_LEN },
  right: { offset: BODY_LEN + HAND_LEN, length: HAND_LEN },
  mask: { offset: BODY_LEN + 2 * HAND_LEN, length: LANDMARK_LAYOUT.mask.length },
  // After the masks, which end at STREAM_POSITION_DIMS (landmarks/stream_width.ts, below the model code).
  leftAngles: { offset: STREAM_POSITION_DIMS, length: ANGLES_PER_HAND },
  rightAngles: { offset: STREAM_POSITION_DIMS + ANGLES_PER_HAND, length: ANGLES_PER_HAND },
} as const;
export { STREAM_POSITION_DIMS, STREAM_LANDMARK_DIMS, landmarkStreamDims };

export interface LandmarkStreamOptions extends LandmarkStreamParts {
  /** Append each hand's joint angles (layout above). */
  handAngles: boolean;
  /** Append each hand's fingertips about the face (layout above). */
  faceContact?: boolean;
  /** Mirror a clip whose left wrist is held higher than its right, so the leading hand is always the right (rightLeads). */
  rightLeads?: boolean;
}

/** What a recipe or a model description says about its stream (config.stream, or a model's stream). */
export interface LandmarkStreamSettings {
  stream: { features: string; handAngles: boolean; faceContact: boolean; rightLeads: boolean };
}

/**
 * Whether clips led by the left hand are read mirrored (stream.rightLeads): the landmark stream only, since a
 * fusion's CNN half cannot be mirrored with it and would then disagree about which hand is which.
 */
export const mirrorsLeadingHand = (settings: LandmarkStreamSettings): boolean => settings.stream.rightLeads && settings.stream.features === 'landmarks';

/**
 * How a recipe builds the landmark stream from a clip's vectors (landmarkStreamFrames): the one place, for
 * training, evaluate, predict and the browser page alike.
 */
export const landmarkStreamOptions = (settings: LandmarkStreamSettings): LandmarkStreamOptions => ({
  handAngles: settings.stream.handAngles,
  faceContact: settings.stream.faceContact,
  rightLeads: mirrorsLeadingHand(settings),
});

/** Palm length (wrist to the middle finger's base, MediaPipe point 9) below which a hand's shape is not scaled up. */
const MIN_PALM = 0.05;

/**
 * Fills the frames where `present[t]` is false, for the `length` values at `offset` of each row: linear between
 * the nearest present frames, the nearest one before the first or after the last. Nothing present: left as is.
 */
export function fillGaps(data: Float32Array, dims: number, frames: number, offset: number, length: number, present: (t: number) => boolean): void {
  const seen: number[] = [];
  for (let t = 0; t < frames; t++) if (present(t)) seen.push(t);
  if (seen.length === 0 || seen.length === frames) return;
  let next = 0;
  for (let t = 0; t < frames; t++) {
    while (next < seen.length && seen[next]! < t) next++;
    if (seen[next] === t) continue;
    const after = seen[next];
    const before = next > 0 ? seen[next - 1] : undefined;
    for (let k = 0; k < length; k++) {
      const i = offset + k;
      let value: number;
      if (before === undefined) value = data[after! * dims + i]!;
      else if (after === undefined) value = data[before * dims + i]!;
      else {
        const w = (t - before) / (after - before);
        value = data[before * dims + i]! * (1 - w) + data[after * dims + i]! * w;
      }
      data[t * dims + i] = value;
    }
  }
}

/** Cosine of the angle between two 3-vectors; 0 when either has no length (a hand with its points on one spot). */
function cosine(a: readonly number[], b: readonly number[]): number {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!) * Math.hypot(b[0]!, b[1]!, b[2]!);
  return n > 1e-6 ? (a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!) / n : 0;
}

/**
 * Writes a hand's 19 angle cosines at out[at...] from its shape (points 1..20 relative to the wrist, at
 * out[shape...], the stream layout): per finger the bends between its 4 bones, then the spreads between
 * neighbouring fingers' second bones (base to first joint; a thumb's first bone runs inside the palm).
 */
function writeHandAngles(out: Float32Array, shape: number, at: number): void {
  const coord = (p: number, c: number) => (p === 0 ? 0 : out[shape + (p - 1) * 3 + c]!);
  const bone = (a: number, b: number) => [0, 1, 2].map((c) => coord(b, c) - coord(a, c));
  let k = at;
  for (const f of FINGERS) for (let j = 0; j < 3; j++) out[k++] = cosine(bone(f[j]!, f[j + 1]!), bone(f[j + 1]!, f[j + 2]!));
  const spreads = FINGERS.map((f) => bone(f[1]!, f[2]!));
  for (let j = 0; j + 1 < spreads.length; j++) out[k++] = cosine(spreads[j]!, spreads[j + 1]!);
}

/**
 * A copy of the clip's normalised landmarks [frames, LANDMARK_DIMS] with each body point and hand filled where its
 * mask says missing (fillGaps); the masks are kept. What the stream is made from.
 */
function gapFilledLandmarks(vectors: LandmarkVectors): Float32Array {
  const { frames } = vectors;
  const raw = Float32Array.from(vectors.data);
  const maskAt = (t: number, k: number) => raw[t * LANDMARK_DIMS + LANDMARK_LAYOUT.mask.offset + k]! > 0;
  NORMALISED_BODY_POINTS.forEach((_, k) => fillGaps(raw, LANDMARK_DIMS, frames, k * 2, 2, (t) => maskAt(t, k)));
  (['left', 'right'] as const).forEach((side, h) => {
    const { offset, length } = LANDMARK_LAYOUT[side];
    fillGaps(raw, LANDMARK_DIMS, frames, offset, length, (t) => maskAt(t, NORMALISED_BODY_POINTS.length + h));
  });
  return raw;
}

/**
 * The stream's per-frame vectors of a clip from its normalised landmarks (landmarks/normalise.ts):
 * [frames, landmarkStreamDims(options)], 147 values with positions and shapes only, 185 with hand angles, 199
 * with face contact too.
 */
export function landmarkStreamFrames(vectors: LandmarkVectors, options: LandmarkStreamOptions): Float32Array {
  const dims = landmarkStreamDims(options);
  const { frames } = vectors;
  const raw = gapFilledLandmarks(vectors);
  const out = new Float32Array(frames * dims);
  const contactAt = options.faceContact ? faceContactOffset(options) : -1;
  for (let t = 0; t < frames; t++) {
    const src = t * LANDMARK_DIMS;
    const dst = t * dims;
    out.set(raw.subarray(src, src + BODY_LEN), dst);
    (['left', 'right'] as const).forEach((side, hand) => {
      const h = src + LANDMARK_LAYOUT[side].offset;
      const o = dst + STREAM_LAYOUT[side].offset;
      const wx = raw[h]!;
      const wy = raw[h + 1]!;
      const wz = raw[h + 2]!;
      out[o] = wx;
      out[o + 1] = wy;
      const palmLength = Math.hypot(raw[h + 27]! - wx, raw[h + 28]! - wy);
      const palm = Math.max(MIN_PALM, palmLength);
      const seen = raw[h + 27] !== 0 || raw[h + 28] !== 0 || wx !== 0 || wy !== 0;
      if (!seen) return;
      for (let p = 1; p < HAND_POINTS; p++) {
        out[o + 2 + (p - 1) * 3] = (raw[h + p * 3]! - wx) / palm;
        out[o + 2 + (p - 1) * 3 + 1] = (raw[h + p * 3 + 1]! - wy) / palm;
        out[o + 2 + (p - 1) * 3 + 2] = (raw[h + p * 3 + 2]! - wz) / palm;
      }
      if (contactAt < 0) return;
      // Face contact: fingertips less the nose, then the palm's length. A nose never seen in the clip stays at the
      // shoulder centre, and contact is then about it (the nose's mask says so).
      const k = dst + contactAt + hand * CONTACT_PER_HAND;
      CONTACT_TIPS.forEach((p, i) => {
        out[k + i * 2] = raw[h + p * 3]! - raw[src]!;
        out[k + i * 2 + 1] = raw[h + p * 3 + 1]! - raw[src + 1]!;
      });
      out[k + CONTACT_TIPS.length * 2] = palmLength;
    });
    out.set(raw.subarray(src + LANDMARK_LAYOUT.mask.offset, src + LANDMARK_DIMS), dst + STREAM_LAYOUT.mask.offset);
    if (options.handAngles) {
      writeHandAngles(out, dst + STREAM_LAYOUT.left.offset + 2, dst + STREAM_LAYOUT.leftAngles.offset);
      writeHandAngles(out, dst + STREAM_LAYOUT.right.offset + 2, dst + STREAM_LAYOUT.rightAngles.offset);
    }
  }
  if (options.rightLeads && leftWristHigher(out, dims)) mirrorLandmarkRows(out, dims, options);
  return out;
}

const LEFT_WRIST = NORMALISED_BODY_POINTS.indexOf('leftWrist');
const RIGHT_WRIST = NORMALISED_BODY_POINTS.indexOf('rightWrist');

/**
 * Whether the signer's left wrist is held higher than the right over the clip (stream rows [T, dims], y down),
 * each wrist's height averaged over the frames that saw it: a wrist never seen is gap-filled to shoulder height
 * and must not count as raised. A one-handed sign is made with the dominant hand, which is raised to sign while
 * the other rests, so this reads which hand leads; mirroring such clips (`rightLeads`) lets a left-handed signer's
 * sign look like everyone else's. On wlasl100-trainval it mirrors 128 of 784 clips.
 */
export function leftWristHigher(rows: Float32Array, dims: number): boolean {
  const frames = rows.length / dims;
  const height = (k: number): number => {
    let sum = 0;
    let seen = 0;
    for (let t = 0; t < frames; t++) {
      if (rows[t * dims + STREAM_LAYOUT.mask.offset + k]! <= 0) continue;
      sum -= rows[t * dims + k * 2 + 1]!;
      seen++;
    }
    return seen ? sum / seen : -Infinity;
  };
  return height(LEFT_WRIST) > height(RIGHT_WRIST);
}

export interface LandmarkAugmentation {
  /** Largest rotation about the shoulder centre, radians. */
  rotate: number;
  /** Largest relative change of scale. */
  scale: number;
  /** Largest shift, shoulder widths. */
  shift: number;
  /** Chance of a mirrored view (left and right swapped): a left-handed signer's sign. */
  mirror: number;
  /** Chance that a frame which saw a hand loses it in the view (dropHandFrames); absent: 0. */
  handDrop?: number;
  /** Longest run of frames a hand is lost for at once (dropHandFrames); absent or 1: frame by frame. */
  handDropRun?: number;
  /**
   * Largest relative squeeze of a view: x scaled by 1 + q and y by 1 - q, the camera a little to one side or
   * above (SPOTER's viewpoint augmentation); absent: none, and no draw.
   */
  squeeze?: number;
  /** Largest horizontal shear of a view (x += h y), a camera looking at the signer a little askew; absent: none. */
  shear?: number;
}

/** The stream's hand order (its blocks and masks). */
const SIDES_IN_ORDER = ['left', 'right'] as const;

/**
 * Missed hands for a training view: each frame that saw a hand loses it with chance `rate`, as the landmark stage
 * misses a hand (a third of visible wrists get none on wlasl100-trainval): its mask goes to 0 and its position,
 * shape, angles and face contact are filled from the frames that kept it, as landmarkStreamFrames fills a real
 * miss. A hand keeps at least one of the frames that saw it. No draws at rate 0.
 *
 * `maxRun` > 1 loses a hand for runs of 1..maxRun frames at once: a hand over the face for a while rather than a
 * frame here and there. A frame outside a run starts one with the chance p that keeps the expected share at
 * `rate`: runs of mean length m cover m p / (m p + 1 - p) of the frames, so p = rate / (m - rate (m - 1)).
 * Measured, it loses to frame by frame (README): on wlasl100-trainval the stage's misses between two frames that
 * saw the hand are short (1,035 gaps, 2.2 of a clip's 32 frames on average, median 1); the long ones are before
 * a hand is first seen and after it is last seen (12,978 of the 15,272 frames missing a hand seen elsewhere).
 */
export function dropHandFrames(rows: Float32Array, dims: number, parts: LandmarkStreamParts, rng: () => number, rate: number, maxRun = 1): void {
  if (!(rate > 0)) return;
  const frames = rows.length / dims;
  const contact = parts.faceContact ? faceContactOffset(parts) : -1;
  const meanRun = (maxRun + 1) / 2;
  const startChance = maxRun > 1 ? rate / (meanRun - rate * (meanRun - 1)) : rate;
  SIDES_IN_ORDER.forEach((side, h) => {
    const maskAt = STREAM_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length + h;
    const kept: boolean[] = [];
    const dropped: number[] = [];
    let runLeft = 0;
    for (let t = 0; t < frames; t++) {
      const seen = rows[t * dims + maskAt]! > 0;
      let drop = false;
      if (runLeft > 0) {
        runLeft--;
        drop = seen;
      } else if (seen && rng() < startChance) {
        drop = true;
        // At maxRun 1 no second draw: frame-by-frame drops keep the draws (and the figures) they were measured with.
        if (maxRun > 1) runLeft = Math.floor(rng() * maxRun);
      }
      kept.push(seen && !drop);
      if (drop) dropped.push(t);
    }
    if (dropped.length === 0 || !kept.includes(true)) return;
    for (const t of dropped) rows[t * dims + maskAt] = 0;
    const blocks: Array<{ offset: number; length: number }> = [STREAM_LAYOUT[side]];
    if (parts.handAngles) blocks.push(STREAM_LAYOUT[side === 'left' ? 'leftAngles' : 'rightAngles']);
    if (contact >= 0) blocks.push({ offset: contact + h * CONTACT_PER_HAND, length: CONTACT_PER_HAND });
    for (const block of blocks) fillGaps(rows, dims, frames, block.offset, block.length, (t) => kept[t]!);
  });
}

/**
 * Rotation, scale and shift of a training view: the signer a little turned, nearer or aside. Chosen on
 * wlasl100-trainval val (bench/streams.ts, seed 42): these gave 35.0% top-1 against 31.5% for half of each and
 * 33.6% for 1.3x; mirroring (a left-handed signer) cost 3 points, so it is off.
 */
export const DEFAULT_LANDMARK_AUGMENTATION: LandmarkAugmentation = { rotate: 0.3, scale: 0.25, shift: 0.2, mirror: 0 };

/** Body points (NORMALISED_BODY_POINTS order) that trade places in a mirror: shoulders, elbows, wrists. */
const MIRROR_BODY_PAIRS: ReadonlyArray<[number, number]> = [[1, 2], [3, 4], [5, 6]];

function swapRange(rows: Float32Array, a: number, b: number, length: number): void {
  for (let k = 0; k < length; k++) {
    const v = rows[a + k]!;
    rows[a + k] = rows[b + k]!;
    rows[b + k] = v;
  }
}

/**
 * Mirrors rows [T, dims] of the stream layout in place: x negated, the signer's left and right swapped (with their
 * angles and face contact when the rows have them: a mirror keeps a hand's angles, and negates its contact's x).
 */
export function mirrorLandmarkRows(rows: Float32Array, dims: number, parts: LandmarkStreamParts): void {
  const frames = rows.length / dims;
  const mask = STREAM_LAYOUT.mask.offset;
  const bodyPoints = NORMALISED_BODY_POINTS.length;
  for (let t = 0; t < frames; t++) {
    const r = t * dims;
    for (let k = 0; k < BODY_LEN; k += 2) rows[r + k] = -rows[r + k]!;
    for (const side of ['left', 'right'] as const) {
      const o = r + STREAM_LAYOUT[side].offset;
      rows[o] = -rows[o]!;
      for (let p = 0; p < HAND_POINTS - 1; p++) rows[o + 2 + p * 3] = -rows[o + 2 + p * 3]!;
    }
    for (const [a, b] of MIRROR_BODY_PAIRS) {
      swapRange(rows, r + a * 2, r + b * 2, 2);
      swapRange(rows, r + mask + a, r + mask + b, 1);
    }
    swapRange(rows, r + STREAM_LAYOUT.left.offset, r + STREAM_LAYOUT.right.offset, HAND_LEN);
    swapRange(rows, r + mask + bodyPoints, r + mask + bodyPoints + 1, 1);
    if (parts.handAngles) swapRange(rows, r + STREAM_LAYOUT.leftAngles.offset, r + STREAM_LAYOUT.rightAngles.offset, ANGLES_PER_HAND);
    if (parts.faceContact) {
      const c = r + faceContactOffset(parts);
      swapRange(rows, c, c + CONTACT_PER_HAND, CONTACT_PER_HAND);
      for (let h = 0; h < 2; h++) for (let i = 0; i < CONTACT_TIPS.length; i++) rows[c + h * CONTACT_PER_HAND + i * 2] = -rows[c + h * CONTACT_PER_HAND + i * 2]!;
    }
  }
}

/**
 * Augments rows [T, dims] of the stream layout in place (dims may be wider: a fusion puts other features after
 * the landmarks; `parts`: what the rows carry, as the stream was made), one draw per view: positions (body,
 * wrists) turn, scale and shift together; hand shapes turn with them (their scale is their own); face contact
 * turns and scales with them (it is a difference of positions, so no shift); a squeeze or shear (when asked
 * for) goes with the turn everywhere. Masks and hand angles (3-D, which a turn or another viewpoint does not
 * change) are untouched.
 */
export function augmentLandmarkRows(rows: Float32Array, dims: number, parts: LandmarkStreamParts, rng: () => number, a: LandmarkAugmentation = DEFAULT_LANDMARK_AUGMENTATION): void {
  if (a.mirror > 0 && rng() < a.mirror) mirrorLandmarkRows(rows, dims, parts);
  if (a.handDrop) dropHandFrames(rows, dims, parts, rng, a.handDrop, a.handDropRun);
  const angle = (rng() * 2 - 1) * a.rotate;
  const scale = 1 + (rng() * 2 - 1) * a.scale;
  const dx = (rng() * 2 - 1) * a.shift;
  const dy = (rng() * 2 - 1) * a.shift;
  // Drawn only when asked for, so views without them keep the draws they were measured with.
  const squeeze = a.squeeze ? (rng() * 2 - 1) * a.squeeze : 0;
  const shear = a.shear ? (rng() * 2 - 1) * a.shear : 0;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // The turn after the viewpoint's squeeze and shear: [[cos, -sin], [sin, cos]] x [[1 + q, h], [0, 1 - q]].
  // With q = h = 0 it is the turn alone, to the bit.
  const m00 = cos * (1 + squeeze);
  const m01 = cos * shear - sin * (1 - squeeze);
  const m10 = sin * (1 + squeeze);
  const m11 = sin * shear + cos * (1 - squeeze);
  const frames = rows.length / dims;
  const position = (i: number) => {
    const x = rows[i]!;
    const y = rows[i + 1]!;
    rows[i] = scale * (m00 * x + m01 * y) + dx;
    rows[i + 1] = scale * (m10 * x + m11 * y) + dy;
  };
  const contact = parts.faceContact ? faceContactOffset(parts) : -1;
  for (let t = 0; t < frames; t++) {
    const r = t * dims;
    for (let k = 0; k < BODY_LEN; k += 2) position(r + k);
    if (contact >= 0) {
      for (let h = 0; h < 2; h++) {
        const c = r + contact + h * CONTACT_PER_HAND;
        for (let i = 0; i < CONTACT_TIPS.length; i++) {
          const x = rows[c + i * 2]!;
          const y = rows[c + i * 2 + 1]!;
          rows[c + i * 2] = scale * (m00 * x + m01 * y);
          rows[c + i * 2 + 1] = scale * (m10 * x + m11 * y);
        }
        rows[c + CONTACT_TIPS.length * 2] = scale * rows[c + CONTACT_TIPS.length * 2]!;
      }
    }
    for (const side of ['left', 'right'] as const) {
      const o = r + STREAM_LAYOUT[side].offset;
      const seen = rows[r + STREAM_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length + (side === 'left' ? 0 : 1)]! > 0 || rows[o] !== 0 || rows[o + 1] !== 0;
      if (!seen) continue;
      position(o);
      for (let p = 0; p < HAND_POINTS - 1; p++) {
        const i = o + 2 + p * 3;
        const x = rows[i]!;
        const y = rows[i + 1]!;
        rows[i] = m00 * x + m01 * y;
        rows[i + 1] = m10 * x + m11 * y;
      }
    }
  }
}
