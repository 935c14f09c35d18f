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
}

/**
 * The control's own recipe (a linear model on 1280-d means needs a faster rate and more epochs than the LSTM's
 * Adam 1e-4): the settings bench/recipes.ts measured it with. Callers override the seed to match a run.
 */
export const DEFAULT_MEAN_POOL_OPTIONS: MeanPoolOptions = { epochs: 60, learningRate: 1e-3, batchSize: 16, seed: 42 };

async function meanPooled(source: SequenceSource, seed: number, shuffle: boolean, batchSize: number) {
  const out: { x: tf.Tensor2D; labels: Int32Array; videoIds: string[] }[] = [];
  for await (const b of source.batches(batchSize, { shuffle, seed })) {
    out.push({ x: tf.tidy(() => b.x.mean(1) as tf.Tensor2D), labels: b.labels, videoIds: b.videoIds });
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
  const D = train.featureDim;
  const all = await meanPooled(train, options.seed, false, 1024);
  const stacked = tf.concat(all.map((b) => b.x));
  const { mean, variance } = tf.moments(stacked, 0);
  const std = tf.sqrt(variance).add(1e-6);
  stacked.dispose();
  all.forEach((b) => b.x.dispose());
  const kernel = tf.variable(tf.randomNormal([D, C], 0, Math.sqrt(1 / D), 'float32', options.seed));
  const bias = tf.variable(tf.zeros([C]));
  const optimizer = tf.train.adam(options.learningRate);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const b of await meanPooled(train, options.seed + epoch, true, options.batchSize)) {
      optimizer.minimize(() => {
        const logits = b.x.sub(mean).div(std).matMul(kernel).add(bias);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.labels, 'int32'), C), logits) as tf.Scalar;
      });
      b.x.dispose();
    }
  }
  optimizer.dispose();
  return {
    numClasses: C,
    predictProbs: (x) => tf.tidy(() => tf.softmax(x.mean(1).sub(mean).div(std).matMul(kernel).add(bias)).dataSync() as Float32Array),
    dispose: () => tf.dispose([kernel, bias, mean, std, variance]),
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
