/**
 * A bench-only head that sees the whole sequence at once: two temporal convolutions (kernel 3, ReLU) over the
 * prepared per-frame vectors, their mean over time, dropout, dense softmax (trained as ./autodiff_head.ts says).
 */
import * as tf from '@tensorflow/tfjs';
import { glorotUniform } from '../src/model/init';
import { prepareFeatures, preparedDim } from '../src/model/preprocess';
import type { HeadConfig } from '../src/model/head';
import { AutodiffHead, matMul } from './autodiff_head';

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
  return tf.reshape(matMul(columns, tf.reshape(kernel, [K * D, F])), [B, T, F]) as tf.Tensor3D;
}

export class ConvHead extends AutodiffHead {
  constructor(config: HeadConfig, readonly options: ConvHeadOptions, seed: number) {
    const D = preparedDim(config.featureDim, config.preprocessing);
    const { filters: F, kernel: K } = options;
    const C = config.numClasses;
    super(config, [
      { name: 'conv1/kernel', shape: [K, D, F], init: glorotUniform(K * D * F, K * D, K * F, seed * 31 + 1) },
      { name: 'conv1/bias', shape: [F], init: new Float32Array(F) },
      { name: 'conv2/kernel', shape: [K, F, F], init: glorotUniform(K * F * F, K * F, K * F, seed * 31 + 2) },
      { name: 'conv2/bias', shape: [F], init: new Float32Array(F) },
      { name: 'dense/kernel', shape: [F, C], init: glorotUniform(F * C, F, C, seed * 31 + 3) },
      { name: 'dense/bias', shape: [C], init: new Float32Array(C) },
    ]);
  }

  protected logits(x: tf.Tensor3D, w: tf.Tensor[], dropoutSeed?: number): tf.Tensor2D {
    const [w1, b1, w2, b2, wd, bd] = w as [tf.Tensor3D, tf.Tensor1D, tf.Tensor3D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    const prepared = prepareFeatures(x, this.config.preprocessing);
    const h1 = tf.relu(tf.add(temporalConv(prepared, w1, 1), b1)) as tf.Tensor3D;
    const h2 = tf.relu(tf.add(temporalConv(h1, w2, this.options.dilation), b2));
    let pooled = tf.mean(h2, 1) as tf.Tensor2D;
    if (dropoutSeed !== undefined && this.config.dropout > 0) pooled = tf.dropout(pooled, this.config.dropout, undefined, dropoutSeed) as tf.Tensor2D;
    return tf.add(matMul(pooled, wd), bd) as tf.Tensor2D;
  }
}
