import { LANDMARK_DIMS } from './normalise';

/**
 * The landmark stream's per-frame widths (src/streams/landmark_features.ts builds the stream; model descriptions
 * and checkpoints are checked against these). Here, below both, so the model code need not import the streams.
 */

/** MediaPipe's fingers from the wrist (point 0) to the tip: thumb, index, middle, ring, pinky. */
export const FINGERS: ReadonlyArray<readonly number[]> = [[0, 1, 2, 3, 4], [0, 5, 6, 7, 8], [0, 9, 10, 11, 12], [0, 13, 14, 15, 16], [0, 17, 18, 19, 20]];
/** A hand's joint angles: three bends a finger, and the spreads between neighbouring fingers. */
export const ANGLES_PER_HAND = FINGERS.length * 3 + (FINGERS.length - 1);
/** Without hand angles (models saved before them): the normalised vector less each hand's wrist depth. */
export const STREAM_POSITION_DIMS = LANDMARK_DIMS - 2;
export const STREAM_LANDMARK_DIMS = STREAM_POSITION_DIMS + 2 * ANGLES_PER_HAND;

/** Face contact: a hand's thumb, index and middle tips about the nose (x, y each), and its palm's length. */
export const CONTACT_TIPS: readonly number[] = [4, 8, 12];
export const CONTACT_PER_HAND = CONTACT_TIPS.length * 2 + 1;

/** What the landmark stream carries beyond positions, shapes and masks (each part is a block appended in this order). */
export interface LandmarkStreamParts {
  /** Each hand's joint angles. */
  handAngles: boolean;
  /** Each hand's fingertips about the face (absent: models saved before it, which read without). */
  faceContact?: boolean;
}

/** Where the face-contact block starts: after the hand angles when the stream has them. */
export function faceContactOffset(parts: LandmarkStreamParts): number {
  return parts.handAngles ? STREAM_LANDMARK_DIMS : STREAM_POSITION_DIMS;
}

/** The stream's per-frame width with the parts it carries. */
export function landmarkStreamDims(parts: LandmarkStreamParts): number {
  return faceContactOffset(parts) + (parts.faceContact ? 2 * CONTACT_PER_HAND : 0);
}
