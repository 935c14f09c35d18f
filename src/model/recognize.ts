import * as tf from '@tensorflow/tfjs';
import { normalizePixels } from '../backbone/preprocess';
import { ModelDirError } from '../errors';
import { averageWindows, buildHeadInput, topK, type RankedGloss } from './head_input';
import type { WlaslModelInfo } from './model_info';

/**
 * One video's frames -> top glosses, with a loaded model directory (backbone + head + wlasl-model.json).
 * Browser-safe: TensorFlow.js only, so the page (web/) and Node run the same steps. Loading differs per
 * platform (fetch in the browser, src/model/load_model_dir.ts in Node); everything after loading is here.
 */
export interface Recognizer {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  info: WlaslModelInfo;
}

export interface Recognition {
  /** Mean of the windows' softmax outputs, one per class (info.classes order). */
  probabilities: Float32Array;
  top: RankedGloss[];
  windows: number;
  featureDim: number;
  /** Milliseconds spent in the backbone and in the head. */
  timings: { backboneMs: number; headMs: number };
}

/**
 * Checks that the head and backbone fit together and with wlasl-model.json, before any video is read.
 * `dir` (the model directory or URL) prefixes the files named in errors.
 */
export function checkRecognizer(r: Recognizer, dir?: string): void {
  const at = (name: string) => (dir ? `${dir.replace(/[\\/]+$/, '')}/${name}` : name);
  const head = r.head.inputs[0]!.shape;
  const out = r.head.outputs[0]!.shape;
  const { sampleSize } = r.info.sequence;
  if (head.length !== 3) throw new ModelDirError(`head input must be [batch, steps, features], got [${head.join(', ')}]`, { file: at('model.json') });
  if (head[1] !== null && head[1] !== sampleSize) {
    throw new ModelDirError(`head expects ${head[1]} steps, wlasl-model.json says sequence.sampleSize ${sampleSize}`, { file: at('model.json') });
  }
  if (out[out.length - 1] !== r.info.classes.length) {
    throw new ModelDirError(`head gives ${out[out.length - 1]} classes, wlasl-model.json lists ${r.info.classes.length}`, { file: at('model.json') });
  }
  const dim = backboneFeatureDim(r.backbone);
  const expected = r.info.velocity ? 2 * dim : dim;
  if (head[2] !== expected) {
    throw new ModelDirError(`head expects ${head[2]} features per step, the backbone gives ${dim}${r.info.velocity ? ' (x2 with velocity)' : ''}`, { file: at('model.json') });
  }
}

/** Feature width of a backbone whose output is [N, h, w, C] (pooled here) or [N, C]. */
export function backboneFeatureDim(backbone: tf.LayersModel): number {
  const shape = backbone.outputs[0]!.shape;
  const dim = shape[shape.length - 1];
  if (typeof dim !== 'number' || (shape.length !== 2 && shape.length !== 4)) {
    throw new ModelDirError(`backbone output [${shape.join(', ')}] is neither [N, h, w, C] nor [N, C]`, { file: 'backbone/model.json' });
  }
  return dim;
}

/** Pooled backbone features of RGB uint8 frames [count, size, size, 3] -> Float32Array [count, dim]. */
export async function frameFeatures(backbone: tf.LayersModel, frames: Uint8Array, count: number, size: number, normalization: WlaslModelInfo['normalization'], batchSize = 8): Promise<Float32Array> {
  const frameValues = size * size * 3;
  if (frames.length !== count * frameValues) throw new ModelDirError(`frames hold ${frames.length} bytes, expected ${count} x ${size}x${size}x3`);
  const dim = backboneFeatureDim(backbone);
  const out = new Float32Array(count * dim);
  for (let first = 0; first < count; first += batchSize) {
    const n = Math.min(batchSize, count - first);
    const pixels = normalizePixels(frames.subarray(first * frameValues, (first + n) * frameValues), normalization);
    const features = tf.tidy(() => {
      const y = backbone.predict(tf.tensor4d(pixels, [n, size, size, 3])) as tf.Tensor;
      return y.rank === 4 ? tf.mean(y, [1, 2]) : y;
    });
    out.set(await features.data(), first * dim);
    features.dispose();
  }
  return out;
}

/** Frames of the model's window (already selected and padded) -> averaged probabilities and top-k glosses. */
export async function recognizeFrames(r: Recognizer, frames: Uint8Array, count: number, k = 5): Promise<Recognition> {
  const t0 = now();
  const dim = backboneFeatureDim(r.backbone);
  const features = await frameFeatures(r.backbone, frames, count, r.info.frames.size, r.info.normalization);
  const t1 = now();
  const probabilities = await classifyFeatures(r, features, count, dim);
  const t2 = now();
  return {
    probabilities: probabilities.mean,
    top: topK(probabilities.mean, r.info.classes, k),
    windows: probabilities.windows,
    featureDim: dim,
    timings: { backboneMs: t1 - t0, headMs: t2 - t1 },
  };
}

/** Features [count, dim] -> head on every window -> mean probabilities. */
export async function classifyFeatures(r: Recognizer, features: Float32Array, count: number, dim: number): Promise<{ mean: Float32Array; windows: number }> {
  const { sampleSize, stride } = r.info.sequence;
  const { input, windows, inputDim } = buildHeadInput(features, count, dim, { sampleSize, stride, stats: r.info.featureStats, velocity: r.info.velocity });
  const probs = tf.tidy(() => r.head.predict(tf.tensor3d(input, [windows, sampleSize, inputDim])) as tf.Tensor);
  const data = (await probs.data()) as Float32Array;
  probs.dispose();
  return { mean: averageWindows(data, windows, r.info.classes.length), windows };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
