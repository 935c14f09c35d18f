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

/** The stream's per-frame width with or without hand angles. */
export function landmarkStreamDims(handAngles: boolean): number {
  return handAngles ? STREAM_LANDMARK_DIMS : STREAM_POSITION_DIMS;
}
