import * as tf from '@tensorflow/tfjs';
import type { SequenceSource } from '../dataset/types';

/**
 * Feature preprocessing that travels with the model: per-dimension standardisation with statistics computed
 * on the training split, and optional frame-difference (velocity) features. The exported model folds the
 * standardisation into its first LSTM kernel, so the only step a consumer must repeat is `appendVelocity`.
 */
export interface FeatureStats {
  /** Per-dimension mean of the training features, length D. */
  mean: number[];
  /** Per-dimension standard deviation (floored at `STD_FLOOR`), length D. */
  std: number[];
}

export interface FeaturePreprocessing {
  /** Standardisation statistics, or null for none (the original's behaviour). */
  stats: FeatureStats | null;
  /** Append s_t - s_{t-1} (zero at t = 0) to each step's standardised features: D -> 2D. */
  velocity: boolean;
}

/** Dimensions that never vary (dead ReLU channels) would divide by ~0. */
export const STD_FLOOR = 1e-3;

/** Mean and standard deviation of every feature dimension over all steps of all training sequences. */
export async function computeFeatureStats(source: SequenceSource, batchSize = 256): Promise<FeatureStats> {
  const d = source.featureDim;
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  let count = 0;
  for await (const batch of source.batches(batchSize, { shuffle: false, seed: 0 })) {
    const data = batch.x.dataSync();
    batch.x.dispose();
    for (let off = 0; off < data.length; off += d) {
      for (let k = 0; k < d; k++) {
        const v = data[off + k]!;
        sum[k] += v;
        sumSq[k] += v * v;
      }
    }
    count += data.length / d;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < d; k++) {
    const m = count ? sum[k]! / count : 0;
    mean.push(m);
    std.push(Math.max(Math.sqrt(Math.max(count ? sumSq[k]! / count - m * m : 0, 0)), STD_FLOOR));
  }
  return { mean, std };
}

/** Input width the LSTM sees for raw features of width `featureDim`. */
export function preparedDim(featureDim: number, pre: FeaturePreprocessing): number {
  return pre.velocity ? 2 * featureDim : featureDim;
}

/** [B, T, D] -> [B, T, 2D]: each step followed by its difference to the previous step (zero at t = 0). */
export function appendVelocity(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t, d] = x.shape;
    if (t < 2) return tf.concat([x, tf.zeros([b, t, d])], 2) as tf.Tensor3D;
    const diff = tf.sub(tf.slice(x, [0, 1, 0], [b, t - 1, d]), tf.slice(x, [0, 0, 0], [b, t - 1, d]));
    return tf.concat([x, tf.concat([tf.zeros([b, 1, d]), diff], 1)], 2) as tf.Tensor3D;
  });
}

/** Standardise (if stats) and append velocity (if asked): what the LSTM is trained on. */
export function prepareFeatures(x: tf.Tensor3D, pre: FeaturePreprocessing): tf.Tensor3D {
  return tf.tidy(() => {
    let out: tf.Tensor3D = x;
    if (pre.stats) {
      if (pre.stats.mean.length !== x.shape[2]) {
        throw new RangeError(`features have ${x.shape[2]} dimensions, the standardisation statistics ${pre.stats.mean.length}`);
      }
      const mean = tf.tensor1d(pre.stats.mean);
      const invStd = tf.tensor1d(pre.stats.std.map((s) => 1 / s));
      out = tf.mul(tf.sub(out, mean), invStd);
    }
    return pre.velocity ? appendVelocity(out) : tf.clone(out);
  });
}
