import * as tf from '@tensorflow/tfjs';
import type { SequenceSource } from '../dataset/types';
import { evaluate, type Classifier, type EvaluationReport } from './metrics';

/**
 * The frame-order-blind control: the mean of a sequence's frame features -> dense softmax. It sees the same
 * features as the LSTM but no order, so on the embedded sample's time-reversed pairs it cannot beat chance
 * within a pair. A sequence model that does not clearly beat it has not learnt temporal order.
 */
export interface MeanPoolOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /**
   * 0 or absent: the linear control. N > 0: a hidden ReLU layer of N units (with `dropout` before it while
   * training): the nonlinear control, which asks whether a sequence model's gain over the linear one is order
   * or only nonlinearity.
   */
  hidden?: number;
  dropout?: number;
  /** 'mean' (default) or 'meanStd': the clip's mean and standard deviation over time, both order-blind. */
  pooling?: 'mean' | 'meanStd';
}

/** The nonlinear order-blind control's settings (bench/streams.ts, rows *-mlp-control). */
export const MLP_POOL_OPTIONS: MeanPoolOptions = { epochs: 60, learningRate: 1e-3, batchSize: 16, seed: 42, hidden: 256, dropout: 0.5, pooling: 'meanStd' };

/**
 * The control's own recipe (a linear model on 1280-d means needs a faster rate and more epochs than the LSTM's
 * Adam 1e-4): the settings bench/recipes.ts measured it with. Callers override the seed to match a run.
 */
export const DEFAULT_MEAN_POOL_OPTIONS: MeanPoolOptions = { epochs: 60, learningRate: 1e-3, batchSize: 16, seed: 42 };

function pool(x: tf.Tensor3D, pooling: MeanPoolOptions['pooling']): tf.Tensor2D {
  return tf.tidy(() => {
    if (pooling !== 'meanStd') return x.mean(1) as tf.Tensor2D;
    const { mean, variance } = tf.moments(x, 1);
    return tf.concat([mean, tf.sqrt(variance)], 1) as tf.Tensor2D;
  });
}

async function meanPooled(source: SequenceSource, seed: number, shuffle: boolean, batchSize: number, pooling?: MeanPoolOptions['pooling']) {
  const out: { x: tf.Tensor2D; labels: Int32Array; videoIds: string[] }[] = [];
  for await (const b of source.batches(batchSize, { shuffle, seed })) {
    out.push({ x: pool(b.x, pooling), labels: b.labels, videoIds: b.videoIds });
    b.x.dispose();
  }
  return out;
}

/** The trained control: a Classifier (features [B, T, D] -> [B, C]) holding its tensors until disposed. */
export interface MeanPoolClassifier extends Classifier {
  dispose(): void;
}

/** Trains the control on `train`'s sequences (standardised with their statistics, as the sequence model's option). */
export async function trainMeanPool(train: SequenceSource, options: MeanPoolOptions): Promise<MeanPoolClassifier> {
  const C = train.numClasses;
  const pooling = options.pooling ?? 'mean';
  const D = train.featureDim * (pooling === 'meanStd' ? 2 : 1);
  const H = options.hidden ?? 0;
  const dropout = options.dropout ?? 0;
  const all = await meanPooled(train, options.seed, false, 1024, pooling);
  const stacked = tf.concat(all.map((b) => b.x));
  const { mean, variance } = tf.moments(stacked, 0);
  const std = tf.sqrt(variance).add(1e-6);
  stacked.dispose();
  all.forEach((b) => b.x.dispose());
  const width = H > 0 ? H : D;
  const hiddenKernel = H > 0 ? tf.variable(tf.randomNormal([D, H], 0, Math.sqrt(2 / D), 'float32', options.seed + 1)) : null;
  const hiddenBias = H > 0 ? tf.variable(tf.zeros([H])) : null;
  const kernel = tf.variable(tf.randomNormal([width, C], 0, Math.sqrt(1 / width), 'float32', options.seed));
  const bias = tf.variable(tf.zeros([C]));
  const logitsOf = (pooled: tf.Tensor2D, training: boolean): tf.Tensor2D => {
    let h: tf.Tensor2D = pooled.sub(mean).div(std);
    if (hiddenKernel && hiddenBias) {
      if (training && dropout > 0) h = tf.dropout(h, dropout) as tf.Tensor2D;
      h = tf.relu(h.matMul(hiddenKernel).add(hiddenBias)) as tf.Tensor2D;
    }
    return h.matMul(kernel).add(bias);
  };
  const optimizer = tf.train.adam(options.learningRate);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const b of await meanPooled(train, options.seed + epoch, true, options.batchSize, pooling)) {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.labels, 'int32'), C), logitsOf(b.x, true)) as tf.Scalar);
      b.x.dispose();
    }
  }
  optimizer.dispose();
  const weights = [kernel, bias, ...(hiddenKernel && hiddenBias ? [hiddenKernel, hiddenBias] : [])];
  return {
    numClasses: C,
    predictProbs: (x) => tf.tidy(() => tf.softmax(logitsOf(pool(x, pooling), false)).dataSync() as Float32Array),
    dispose: () => tf.dispose([...weights, mean, std, variance]),
  };
}

/** Trains the control on `train` and reports it on `test` (per sequence, and per video over its sequences). */
export async function trainMeanPoolBaseline(train: SequenceSource, test: SequenceSource, options: MeanPoolOptions, classNames?: string[]): Promise<EvaluationReport> {
  const control = await trainMeanPool(train, options);
  try {
    return await evaluate(control, test, { classNames });
  } finally {
    control.dispose();
  }
}
