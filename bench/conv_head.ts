/**
 * A bench-only head that sees the whole sequence at once: two temporal convolutions (kernel 3, ReLU) over the
 * prepared per-frame vectors, their mean over time, dropout, dense softmax. Trained by the same fit() as the LSTM
 * (it offers the same methods), with TF.js autodiff for its gradients: a measurement of whether a convolutional
 * head beats the LSTM on the landmarks before it is worth a saved-model format of its own.
 */
import * as tf from '@tensorflow/tfjs';
import { glorotUniform } from '../src/model/init';
import { prepareFeatures, preparedDim } from '../src/model/preprocess';
import type { HeadConfig, LossAndGrads, MixedTargets, NamedParam } from '../src/model/head';

export interface ConvHeadOptions {
  filters: number;
  kernel: number;
  /** Dilation of the second convolution (1 = plain): a wider view of time for the same weights. */
  dilation: number;
}

/**
 * 'same' 1-D convolution over time as one matrix product of shifted copies (im2col): the wasm backend has no
 * gradient kernel for conv1d's filter (Conv2DBackpropFilter).
 */
function temporalConv(x: tf.Tensor3D, kernel: tf.Tensor3D, dilation: number): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const [K, , F] = kernel.shape;
  const half = ((K - 1) / 2) * dilation;
  const padded = tf.pad(x, [[0, 0], [half, half], [0, 0]]);
  const shifted = Array.from({ length: K }, (_, k) => tf.slice(padded, [0, k * dilation, 0], [B, T, D]));
  const columns = tf.reshape(tf.concat(shifted, 2), [B * T, K * D]);
  return tf.reshape(tf.matMul(columns, tf.reshape(kernel, [K * D, F])), [B, T, F]) as tf.Tensor3D;
}

export class ConvHead {
  readonly config: HeadConfig;
  bigMatMul: undefined;
  private readonly shapes: Array<[string, number[]]>;
  private readonly data: Float32Array[];

  get numClasses(): number {
    return this.config.numClasses;
  }

  constructor(config: HeadConfig, readonly options: ConvHeadOptions, seed: number) {
    this.config = config;
    const D = preparedDim(config.featureDim, config.preprocessing);
    const { filters: F, kernel: K } = options;
    const C = config.numClasses;
    this.shapes = [
      ['conv1/kernel', [K, D, F]],
      ['conv1/bias', [F]],
      ['conv2/kernel', [K, F, F]],
      ['conv2/bias', [F]],
      ['dense/kernel', [F, C]],
      ['dense/bias', [C]],
    ];
    this.data = [
      glorotUniform(K * D * F, K * D, K * F, seed * 31 + 1),
      new Float32Array(F),
      glorotUniform(K * F * F, K * F, K * F, seed * 31 + 2),
      new Float32Array(F),
      glorotUniform(F * C, F, C, seed * 31 + 3),
      new Float32Array(C),
    ];
  }

  params(): NamedParam[] {
    return this.shapes.map(([name, shape], k) => ({ name, shape, data: this.data[k]! }));
  }

  setParams(values: Float32Array[]): void {
    values.forEach((v, k) => this.data[k]!.set(v));
  }

  snapshot(): Float32Array[] {
    return this.data.map((d) => d.slice());
  }

  private logits(x: tf.Tensor3D, w: tf.Tensor[], dropoutSeed?: number): tf.Tensor2D {
    const [w1, b1, w2, b2, wd, bd] = w as [tf.Tensor3D, tf.Tensor1D, tf.Tensor3D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const prepared = prepareFeatures(x, this.config.preprocessing);
    const h1 = tf.relu(tf.add(temporalConv(prepared, w1, 1), b1)) as tf.Tensor3D;
    const h2 = tf.relu(tf.add(temporalConv(h1, w2, this.options.dilation), b2));
    let pooled = tf.mean(h2, 1) as tf.Tensor2D;
    if (dropoutSeed !== undefined && this.config.dropout > 0) pooled = tf.dropout(pooled, this.config.dropout, undefined, dropoutSeed) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, wd), bd) as tf.Tensor2D;
  }

  private tensors(): tf.Tensor[] {
    return this.shapes.map(([, shape], k) => tf.tensor(this.data[k]!, shape));
  }

  predictProbs(x: tf.Tensor3D): Float32Array {
    const w = this.tensors();
    const probs = tf.tidy(() => tf.softmax(this.logits(x, w)).dataSync() as Float32Array);
    tf.dispose(w);
    return probs;
  }

  lossAndGrads(x: tf.Tensor3D, labels: Int32Array, dropoutSeed?: number, labelSmoothing = 0, mix?: MixedTargets): LossAndGrads {
    // Mixup's blended inputs need blended targets, which this head does not build: refuse rather than train on wrong ones.
    if (mix) throw new Error('the convolution head does not take mixup targets: train it with train.mixup 0');
    const w = this.tensors();
    const C = this.config.numClasses;
    const out = tf.tidy(() => {
      const target = tf.add(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), C), 1 - labelSmoothing), labelSmoothing / C);
      const f = (...ws: tf.Tensor[]) => tf.losses.softmaxCrossEntropy(target, this.logits(x, ws, dropoutSeed)) as tf.Scalar;
      const { value, grads } = tf.valueAndGrads(f)(w);
      return { loss: value.dataSync()[0]!, grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
    tf.dispose(w);
    return out;
  }
}
