import { HAND_POINTS, type FrameLandmarks } from './types';

/**
 * A frame's keypoints for drawing (the dataset notebook's overlay, the browser page's): body points the stage
 * trusts (score at least minBodyScore: the stage masks the others) and both hands' 21 points, mapped to the
 * picture by `toPicture`. Browser-safe.
 */
export type KeypointPart = 'body' | 'left hand' | 'right hand';

export interface DrawnPoint {
  x: number;
  y: number;
  part: KeypointPart;
}

/** Colours by part (the signer's sides): the notebook's legend and the page's dots agree. */
export const KEYPOINT_COLORS: Record<KeypointPart, string> = { body: '#f5d90a', 'left hand': '#e4572e', 'right hand': '#2e86de' };

export function framePoints(frame: FrameLandmarks, minBodyScore: number, toPicture: (x: number, y: number) => { x: number; y: number }): DrawnPoint[] {
  const points: DrawnPoint[] = [];
  for (let k = 0; k * 3 < frame.body.length; k++) {
    if (frame.body[k * 3 + 2]! >= minBodyScore) points.push({ ...toPicture(frame.body[k * 3]!, frame.body[k * 3 + 1]!), part: 'body' });
  }
  for (const [hand, part] of [[frame.left, 'left hand'], [frame.right, 'right hand']] as const) {
    if (!hand) continue;
    for (let p = 0; p < HAND_POINTS; p++) points.push({ ...toPicture(hand.points[p * 3]!, hand.points[p * 3 + 1]!), part });
  }
  return points;
}
