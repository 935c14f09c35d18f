import type { FigureColours, FigurePose } from './figure';

/**
 * What the embedded sample shows. Classes come in pairs whose videos differ ONLY in the order of their
 * frames: every video of the second class is a video of the first class played backwards (same figure,
 * colours, background and motion, frame i <-> frame n-1-i). A model that ignores order sees the same bag of
 * frames for both and is at chance within a pair; only a sequence model separates them.
 *
 * What changes over time is what a CNN's global average pool keeps: the hand's shape (fingers opening),
 * its apparent size and its orientation. Position and direction of travel are deliberately NOT the cue
 * (global pooling discards most of where things are).
 */

export type Motion = 'open' | 'grow' | 'turn' | 'point';

export interface SampleClass {
  gloss: string;
  motion: Motion;
  /** True for the second class of a pair: the first class's frames in reverse order. */
  reversed: boolean;
  /** What a viewer sees, for the README and notebooks. */
  description: string;
}

export const SAMPLE_CLASSES: readonly SampleClass[] = [
  { gloss: 'open', motion: 'open', reversed: false, description: 'fist slowly opens to a spread hand, then snaps shut; repeats' },
  { gloss: 'close', motion: 'open', reversed: true, description: "'open' backwards: spread hand slowly closes to a fist, then snaps open" },
  { gloss: 'grow', motion: 'grow', reversed: false, description: 'open hand slowly grows (comes closer), then snaps back small; repeats' },
  { gloss: 'shrink', motion: 'grow', reversed: true, description: "'grow' backwards: open hand slowly shrinks, then snaps back large" },
  { gloss: 'clockwise', motion: 'turn', reversed: false, description: "an 'L' hand (thumb and index out) turns clockwise continuously" },
  { gloss: 'anticlockwise', motion: 'turn', reversed: true, description: "'clockwise' backwards: the 'L' hand turns anticlockwise" },
  { gloss: 'point', motion: 'point', reversed: false, description: 'from a fist the index finger slowly extends as the hand tilts, then snaps back; repeats' },
  { gloss: 'fist', motion: 'point', reversed: true, description: "'point' backwards: the index finger slowly folds into a fist as the hand tilts back, then snaps out" },
];

/** Per-video nuisance: everything that varies between videos of one class and carries no class information. */
export interface VideoStyle {
  width: number;
  height: number;
  frames: number;
  /** Sawtooth period (s) for open/grow/point; degrees per second for turn. */
  period: number;
  turnSpeed: number;
  /** Phase of the motion at frame 0 (start offset), 0..1. */
  phase: number;
  /** Palm height in pixels. */
  palmPx: number;
  /** Palm centre as fractions of width/height, and its slow drift. */
  centreX: number;
  centreY: number;
  driftPx: number;
  driftPhase: number;
  /** Base tilt of the hand (radians) for motions that do not turn it. */
  tilt: number;
  colours: FigureColours;
  background: BackgroundStyle;
}

export interface BackgroundStyle {
  top: [number, number, number];
  bottom: [number, number, number];
  gradientAngle: number;
  torso: { colour: [number, number, number]; x: number; width: number; top: number };
  blobs: { x: number; y: number; rx: number; ry: number; colour: [number, number, number]; alpha: number }[];
}

/** How far (radians, clockwise) the 'point' hand tilts as its index finger extends. */
export const POINT_TIP = 0.5;

/** Fraction of a sawtooth cycle spent on the slow stroke; the rest is the quick return. */
export const SLOW_FRACTION = 0.8;

/** The slow stroke eases in and out; the return is quick. Reversed in time, it becomes quick-then-slow. */
export function sawtooth(u: number): number {
  const x = u - Math.floor(u);
  if (x < SLOW_FRACTION) return 0.5 - 0.5 * Math.cos((Math.PI * x) / SLOW_FRACTION);
  return 0.5 + 0.5 * Math.cos((Math.PI * (x - SLOW_FRACTION)) / (1 - SLOW_FRACTION));
}

/** Poses of the forward (not reversed) motion for frames 0..n-1 at 25 fps. */
export function forwardPoses(motion: Motion, style: VideoStyle, fps: number, jitter: () => number): FigurePose[] {
  const poses: FigurePose[] = [];
  for (let i = 0; i < style.frames; i++) {
    const t = i / fps;
    const u = sawtooth(t / style.period + style.phase);
    const drift = Math.sin(2 * Math.PI * (t / 3.1 + style.driftPhase));
    const pose: FigurePose = {
      cx: style.centreX * style.width + style.driftPx * drift + jitter(),
      cy: style.centreY * style.height + 0.5 * style.driftPx * Math.cos(2 * Math.PI * (t / 2.3 + style.driftPhase)) + jitter(),
      scale: style.palmPx,
      angle: style.tilt,
      extension: [1, 1, 1, 1, 1],
    };
    switch (motion) {
      case 'open':
        pose.extension = [u, u, u, u, u];
        break;
      case 'grow':
        pose.scale = style.palmPx * (0.62 + 0.38 * u);
        break;
      case 'turn':
        pose.extension = [1, 0, 0, 0, 1];
        pose.angle = style.tilt + 2 * Math.PI * style.phase + (style.turnSpeed * Math.PI / 180) * t;
        break;
      case 'point':
        pose.extension = [u, 0, 0, 0, 0];
        // One finger alone is a small change in a frame (this pair was the one an LSTM on ImageNet features missed
        // most): the hand also tilts by up to 29 degrees as it extends, as when pointing at something.
        pose.angle = style.tilt + POINT_TIP * u;
        break;
    }
    poses.push(pose);
  }
  return poses;
}
