import * as tf from '@tensorflow/tfjs';
import type { SequenceSource } from '../dataset/types';
import { summarisePredictions, type EvaluationReport } from './metrics';

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

export async function trainMeanPoolBaseline(train: SequenceSource, test: SequenceSource, options: MeanPoolOptions, classNames?: string[]): Promise<EvaluationReport> {
  const C = train.numClasses;
  const D = train.featureDim;
  // Standardise with training statistics, as the sequence model's option does.
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
  const batches = await meanPooled(test, 0, false, 256);
  const probs = new Float32Array(test.numSamples * C);
  const labels: number[] = [];
  const videoIds: string[] = [];
  let offset = 0;
  for (const b of batches) {
    const p = tf.tidy(() => tf.softmax(b.x.sub(mean).div(std).matMul(kernel).add(bias)));
    probs.set(p.dataSync(), offset);
    offset += p.size;
    p.dispose();
    b.x.dispose();
    labels.push(...b.labels);
    videoIds.push(...b.videoIds);
  }
  tf.dispose([kernel, bias, mean, std, variance]);
  optimizer.dispose();
  return summarisePredictions(probs, labels, videoIds, C, classNames);
}
