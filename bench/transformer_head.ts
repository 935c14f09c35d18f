/**
 * A bench-only head that reads every frame beside every other one: a small transformer encoder over the prepared
 * per-frame vectors, in the spirit of SPOTER (Bohacek & Hruz 2022) on pose sequences for WLASL100 (SPOTER decodes
 * a class query; this head averages the encoder's output over time, as the LSTM head averages its states). Each frame is projected to
 * `width` numbers and given a learned position embedding; `layers` pre-norm encoder layers (self-attention with
 * `heads` heads, then a ReLU feed-forward of `ffn` units, each added back to its input, dropout `innerDropout`
 * on both branches); a last layer norm; the mean over time; dropout (the head's `dropout`); dense softmax.
 * Trained as ./autodiff_head.ts says.
 */
import * as tf from '@tensorflow/tfjs';
import { glorotUniform, seededNormal } from '../src/model/init';
import { prepareFeatures, preparedDim } from '../src/model/preprocess';
import type { HeadConfig } from '../src/model/head';
import { AutodiffHead, matMul } from './autodiff_head';

export interface TransformerHeadOptions {
  width: number;
  heads: number;
  layers: number;
  ffn: number;
  innerDropout: number;
  /** Frames a sequence has (the position embedding's length). */
  steps: number;
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

/** [B, T, W] @ [W, N] + [N] -> [B, T, N], as one 2-D product. */
function dense3(x: tf.Tensor3D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor3D {
  const [B, T, W] = x.shape;
  const n = kernel.shape[1]!;
  return tf.reshape(tf.add(matMul(tf.reshape(x, [B * T, W]), kernel), bias), [B, T, n]);
}

const PER_LAYER = 12;

export class TransformerHead extends AutodiffHead {
  constructor(config: HeadConfig, readonly options: TransformerHeadOptions, seed: number) {
    if (!Number.isInteger(options.width / options.heads)) throw new RangeError(`the transformer head's width (${options.width}) must be a multiple of its heads (${options.heads})`);
    const D = preparedDim(config.featureDim, config.preprocessing);
    const { width: W, ffn: F, steps: T } = options;
    const C = config.numClasses;
    const ones = (n: number) => new Float32Array(n).fill(1);
    const zeros = (n: number) => new Float32Array(n);
    const normal = seededNormal(seed * 37 + 5);
    let next = seed * 37 + 11;
    const glorot = (rows: number, cols: number) => glorotUniform(rows * cols, rows, cols, next++);
    const params = [
      { name: 'embed/kernel', shape: [D, W], init: glorot(D, W) },
      { name: 'embed/bias', shape: [W], init: zeros(W) },
      { name: 'embed/position', shape: [T, W], init: Float32Array.from({ length: T * W }, () => 0.02 * normal()) },
    ];
    for (let l = 0; l < options.layers; l++) {
      params.push(
        { name: `layer${l}/norm1/gamma`, shape: [W], init: ones(W) },
        { name: `layer${l}/norm1/beta`, shape: [W], init: zeros(W) },
        { name: `layer${l}/qkv/kernel`, shape: [W, 3 * W], init: glorot(W, 3 * W) },
        { name: `layer${l}/qkv/bias`, shape: [3 * W], init: zeros(3 * W) },
        { name: `layer${l}/out/kernel`, shape: [W, W], init: glorot(W, W) },
        { name: `layer${l}/out/bias`, shape: [W], init: zeros(W) },
        { name: `layer${l}/norm2/gamma`, shape: [W], init: ones(W) },
        { name: `layer${l}/norm2/beta`, shape: [W], init: zeros(W) },
        { name: `layer${l}/ffn1/kernel`, shape: [W, F], init: glorot(W, F) },
        { name: `layer${l}/ffn1/bias`, shape: [F], init: zeros(F) },
        { name: `layer${l}/ffn2/kernel`, shape: [F, W], init: glorot(F, W) },
        { name: `layer${l}/ffn2/bias`, shape: [W], init: zeros(W) },
      );
    }
    params.push(
      { name: 'norm/gamma', shape: [W], init: ones(W) },
      { name: 'norm/beta', shape: [W], init: zeros(W) },
      { name: 'dense/kernel', shape: [W, C], init: glorot(W, C) },
      { name: 'dense/bias', shape: [C], init: zeros(C) },
    );
    super(config, params);
  }

  protected logits(x: tf.Tensor3D, w: tf.Tensor[], dropoutSeed?: number): tf.Tensor2D {
    const { width: W, heads: H, steps, innerDropout } = this.options;
    const [B, T] = x.shape;
    if (T !== steps) throw new RangeError(`the transformer head was built for ${steps} frames a sequence, got ${T}`);
    const dh = W / H;
    let seed = dropoutSeed;
    const drop = (t: tf.Tensor, rate: number) => (seed !== undefined && rate > 0 ? tf.dropout(t, rate, undefined, seed++) : t);
    const prepared = prepareFeatures(x, this.config.preprocessing);
    let z: tf.Tensor3D = tf.add(dense3(prepared, w[0]!, w[1]!), w[2]!);
    for (let l = 0; l < this.options.layers; l++) {
      const [g1, b1, wqkv, bqkv, wo, bo, g2, b2, wf1, bf1, wf2, bf2] = w.slice(3 + l * PER_LAYER, 3 + (l + 1) * PER_LAYER) as tf.Tensor[];
      const qkv = dense3(layerNorm(z, g1!, b1!) as tf.Tensor3D, wqkv!, bqkv!);
      // [B, T, 3W] -> three [B, H, T, dh]
      const [q, k, v] = tf.split(qkv, 3, 2).map((t) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]));
      const attention = tf.softmax(tf.div(matMul(q!, tf.transpose(k!, [0, 1, 3, 2])), Math.sqrt(dh)));
      const mixed = tf.reshape(tf.transpose(matMul(drop(attention, innerDropout), v!), [0, 2, 1, 3]), [B, T, W]) as tf.Tensor3D;
      z = tf.add(z, drop(dense3(mixed, wo!, bo!), innerDropout));
      const hidden = tf.relu(dense3(layerNorm(z, g2!, b2!) as tf.Tensor3D, wf1!, bf1!)) as tf.Tensor3D;
      z = tf.add(z, drop(dense3(hidden, wf2!, bf2!), innerDropout));
    }
    const end = 3 + this.options.layers * PER_LAYER;
    let pooled = tf.mean(layerNorm(z, w[end]!, w[end + 1]!), 1) as tf.Tensor2D;
    pooled = drop(pooled, this.config.dropout) as tf.Tensor2D;
    return tf.add(matMul(pooled, w[end + 2]!), w[end + 3]!) as tf.Tensor2D;
  }
}
