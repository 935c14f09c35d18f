/**
 * Landmarks of one clip, as the landmark stage computes and caches them (before normalisation, see
 * normalise.ts for the per-frame vector a sequence model takes).
 *
 * Coordinates are in pixels of the displayed source video (the bbox crop and the scaling to the model's
 * input are undone), so they do not depend on the frame size the models saw; normalise.ts makes them
 * independent of where and how big the signer is in the picture.
 */

/** MoveNet's 17 COCO keypoints, in its order. */
export const BODY_KEYPOINTS = [
  'nose', 'leftEye', 'rightEye', 'leftEar', 'rightEar', 'leftShoulder', 'rightShoulder', 'leftElbow', 'rightElbow',
  'leftWrist', 'rightWrist', 'leftHip', 'rightHip', 'leftKnee', 'rightKnee', 'leftAnkle', 'rightAnkle',
] as const;
export type BodyKeypoint = (typeof BODY_KEYPOINTS)[number];
export const BODY = Object.fromEntries(BODY_KEYPOINTS.map((name, i) => [name, i])) as Record<BodyKeypoint, number>;

/** MediaPipe's 21 hand landmarks: 0 wrist, then 4 per finger from the base (thumb 1-4 ... pinky 17-20). */
export const HAND_POINTS = 21;

/** The signer's own left and right (on a signer facing the camera, left is on the right of the picture). */
export type Side = 'left' | 'right';
export const SIDES: readonly Side[] = ['left', 'right'];

/** How a hand was found: a crop placed by the body's wrist, by the previous frame's hand, or Human's detector. */
export type HandSource = 'wrist' | 'track' | 'detector';

export interface HandLandmarks {
  /** 21 x (x, y, z): x, y in source pixels; z is MediaPipe's depth relative to the wrist, in the same pixel scale. */
  points: number[];
  /** Hand presence from the landmark model, 0..1. */
  score: number;
  source: HandSource;
}

export interface FrameLandmarks {
  /** 17 x (x, y, score) in source pixels; a point with a low score is a guess (see the mask in normalise.ts). */
  body: number[];
  left: HandLandmarks | null;
  right: HandLandmarks | null;
  /** Why this frame has no landmarks at all (the models failed on it); absent for a good frame. */
  error?: string;
}

/** Per-clip counts for reports and the bench. */
export interface ClipLandmarkStats {
  frames: number;
  /** Body wrists whose score passed params.minWristScore: the hands that should be found. */
  visibleWrists: number;
  /** Of those, how many got a hand. */
  handsAtVisibleWrists: number;
  /** Frames with at least one hand, and with both. */
  framesWithHand: number;
  framesWithBothHands: number;
  /** Hand landmark model runs (crops) and Human detector runs: what the frames cost. */
  landmarkRuns: number;
  detectorRuns: number;
  /** Frames the models failed on (FrameLandmarks.error). */
  badFrames: number;
}

export interface ClipLandmarks {
  frames: FrameLandmarks[];
  stats: ClipLandmarkStats;
}
