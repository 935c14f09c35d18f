import { ModelDirError } from '../errors';
import { windowStarts } from '../dataset/sequences';
import { evenlySpreadFrames } from '../video/geometry';

/**
 * The arithmetic between "frames of one video" and "one prediction", shared verbatim by Node and the browser
 * page (web/), so both give the same answer for the same frames. Plain TypeScript on typed arrays: nothing
 * here imports Node or TensorFlow.js.
 */

/** Standardisation statistics carried by a model directory (per feature dimension). */
export interface HeadFeatureStats {
  mean: number[];
  std: number[];
}

/** Which source frames feed the model, and how many of them repeat the last one because the video is short. */
export interface FrameSelection {
  /** 0-based source frame indices, in order; padded entries repeat the last decoded index. */
  indices: number[];
  padded: number;
}

/**
 * Source frames of the window start..end (inclusive) for a video of `frameCount` frames. A video ending
 * inside the window is padded by repeating its last frame (Node's shortVideoPolicy 'pad'); one with no frame
 * in the window cannot be used.
 */
export function selectWindowFrames(window: { start: number; end: number }, frameCount: number, file = 'video'): FrameSelection {
  if (!Number.isInteger(window.start) || !Number.isInteger(window.end) || window.start < 0 || window.end < window.start) {
    throw new ModelDirError(`frame window ${window.start}..${window.end} is not a valid 0-based inclusive range`);
  }
  if (frameCount <= window.start) {
    throw new ModelDirError(`clip too short: it has ${frameCount} frame(s), the model reads frames ${window.start}..${window.end}`, { file });
  }
  const indices: number[] = [];
  const last = Math.min(window.end, frameCount - 1);
  for (let k = window.start; k <= last; k++) indices.push(k);
  const padded = window.end - last;
  for (let i = 0; i < padded; i++) indices.push(last);
  return { indices, padded };
}

/**
 * Source frames of a whole clip for a whole-clip model: every frame, or `maxFrames` spread evenly over a longer
 * clip; what Node's frame stage takes of a user's clip (WLASL range 1..-1: src/video/geometry.ts selectFrames).
 */
export function selectClipFrames(frameCount: number, maxFrames: number, file = 'video'): FrameSelection {
  if (frameCount < 1) throw new ModelDirError('clip too short: it has no frame', { file });
  if (frameCount <= maxFrames) return { indices: Array.from({ length: frameCount }, (_, i) => i), padded: 0 };
  return { indices: evenlySpreadFrames(0, frameCount, maxFrames), padded: 0 };
}

/** Presentation time (seconds) that shows source frame `index` of a constant-rate video: mid-frame, so rounding cannot land on a neighbour. */
export function frameTime(index: number, fps: number): number {
  return (index + 0.5) / fps;
}

/**
 * The head's input for every window of a video: features [frames, dim] (row-major) -> [windows, sampleSize,
 * dim'] where dim' = dim, or 2*dim with velocity. Standardises first when stats are given, then appends
 * s_t - s_{t-1} (0 at t = 0, per window) as training did (src/model/preprocess.ts prepareFeatures).
 * Windows: one every `stride` frames, the last incomplete one dropped (src/dataset/sequences.ts).
 */
export function buildHeadInput(
  features: Float32Array,
  frames: number,
  dim: number,
  options: { sampleSize: number; stride: number; stats: HeadFeatureStats | null; velocity: boolean },
): { input: Float32Array; windows: number; starts: number[]; inputDim: number } {
  if (features.length !== frames * dim) {
    throw new ModelDirError(`features hold ${features.length} values, expected ${frames} frames x ${dim}`);
  }
  const { sampleSize, stats, velocity } = options;
  if (stats && (stats.mean.length !== dim || stats.std.length !== dim)) {
    throw new ModelDirError(`featureStats have ${stats.mean.length} means and ${stats.std.length} stds, the backbone gives ${dim} features`);
  }
  const starts = windowStarts(frames, sampleSize, options.stride);
  if (starts.length === 0) {
    throw new ModelDirError(`${frames} frames make no window of ${sampleSize}: the frame window is shorter than the model's sequence length`);
  }
  const standardised = stats ? standardise(features, dim, stats) : features;
  const inputDim = velocity ? 2 * dim : dim;
  const input = new Float32Array(starts.length * sampleSize * inputDim);
  starts.forEach((start, w) => {
    for (let t = 0; t < sampleSize; t++) {
      const src = (start + t) * dim;
      const dst = (w * sampleSize + t) * inputDim;
      input.set(standardised.subarray(src, src + dim), dst);
      if (!velocity || t === 0) continue; // velocity at t = 0 stays 0
      for (let k = 0; k < dim; k++) input[dst + dim + k] = standardised[src + k]! - standardised[src - dim + k]!;
    }
  });
  return { input, windows: starts.length, starts, inputDim };
}

function standardise(features: Float32Array, dim: number, stats: HeadFeatureStats): Float32Array {
  const out = new Float32Array(features.length);
  const inv = stats.std.map((s) => 1 / s);
  for (let i = 0; i < features.length; i++) {
    const k = i % dim;
    out[i] = (features[i]! - stats.mean[k]!) * inv[k]!;
  }
  return out;
}

/** Mean of the windows' probability rows: [windows, classes] -> [classes]. */
export function averageWindows(probabilities: Float32Array, windows: number, classes: number): Float32Array {
  if (probabilities.length !== windows * classes) {
    throw new ModelDirError(`head returned ${probabilities.length} probabilities, expected ${windows} windows x ${classes} classes`);
  }
  const mean = new Float32Array(classes);
  for (let w = 0; w < windows; w++) for (let c = 0; c < classes; c++) mean[c] += probabilities[w * classes + c]!;
  for (let c = 0; c < classes; c++) mean[c] /= windows;
  return mean;
}

export interface RankedGloss {
  gloss: string;
  index: number;
  probability: number;
}

/** The k most probable glosses, most probable first (ties keep class order). */
export function topK(probabilities: ArrayLike<number>, classes: readonly string[], k = 5): RankedGloss[] {
  if (probabilities.length !== classes.length) {
    throw new ModelDirError(`${probabilities.length} probabilities for ${classes.length} classes`);
  }
  return Array.from(probabilities, (probability, index) => ({ gloss: classes[index]!, index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}
