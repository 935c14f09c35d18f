/**
 * What the bench-only heads (bench/conv_head.ts, bench/transformer_head.ts) share: parameters in plain
 * Float32Arrays as the LSTM head keeps them, so the same fit() trains them (Adam, early stopping, mixup, label
 * smoothing), and gradients from TF.js autodiff instead of hand-written backward passes. A head is measured here
 * before it is worth a saved-model format of its own.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadConfig, LossAndGrads, MixedTargets, NamedParam } from '../src/model/head';

/** Swap the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1]!, perm[perm.length - 2]!];
  return tf.transpose(t, perm);
}

/**
 * a @ b whose gradients are plain products of explicitly transposed operands. The wasm backend's matMul with a
 * transpose flag (what tf.matMul's own gradients use) runs 10-20 times slower than without one
 * ([256, 388]^T @ [256, 128]: 32 ms against 6.4 ms for a transpose and a plain product, 2026-12-08).
 * Both operands must have the same rank and batch dimensions (no broadcasting), as every use here has.
 */
export const matMul = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = inputs as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor3D, swapLast(saved[1]!) as tf.Tensor3D), tf.matMul(swapLast(saved[0]!) as tf.Tensor3D, dy as tf.Tensor3D)],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export abstract class AutodiffHead {
  readonly config: HeadConfig;
  bigMatMul: undefined;
  private readonly shapes: Array<[string, number[]]>;
  private readonly data: Float32Array[];

  get numClasses(): number {
    return this.config.numClasses;
  }

  protected constructor(config: HeadConfig, params: Array<{ name: string; shape: number[]; init: Float32Array }>) {
    this.config = config;
    this.shapes = params.map((p) => [p.name, p.shape]);
    this.data = params.map((p) => p.init);
  }

  /** Logits [B, C] from raw features [B, T, D]; `dropoutSeed` set while training. */
  protected abstract logits(x: tf.Tensor3D, weights: tf.Tensor[], dropoutSeed?: number): tf.Tensor2D;

  params(): NamedParam[] {
    return this.shapes.map(([name, shape], k) => ({ name, shape, data: this.data[k]! }));
  }

  setParams(values: Float32Array[]): void {
    values.forEach((v, k) => this.data[k]!.set(v));
  }

  snapshot(): Float32Array[] {
    return this.data.map((d) => d.slice());
  }

  private tensors(): tf.Tensor[] {
    return this.shapes.map(([, shape], k) => tf.tensor(this.data[k]!, shape));
  }

  predictProbs(x: tf.Tensor3D): Float32Array {
    const w = this.tensors();
    try {
      return tf.tidy(() => tf.softmax(this.logits(x, w)).dataSync() as Float32Array);
    } finally {
      tf.dispose(w);
    }
  }

  /** The LSTM head's loss: cross-entropy against (1 - e) of the label (split with mixup's partner) plus e / C of each class. */
  lossAndGrads(x: tf.Tensor3D, labels: Int32Array, dropoutSeed?: number, labelSmoothing = 0, mix?: MixedTargets): LossAndGrads {
    const w = this.tensors();
    const C = this.config.numClasses;
    try {
      return tf.tidy(() => {
        const own = tf.oneHot(tf.tensor1d(labels, 'int32'), C);
        const label = mix
          ? tf.add(tf.mul(own, tf.tensor2d(mix.weights, [labels.length, 1])), tf.mul(tf.oneHot(tf.tensor1d(mix.partners, 'int32'), C), tf.tensor2d(mix.weights.map((v) => 1 - v), [labels.length, 1])))
          : own;
        const target = tf.add(tf.mul(label, 1 - labelSmoothing), labelSmoothing / C);
        const f = (...ws: tf.Tensor[]) => tf.losses.softmaxCrossEntropy(target, this.logits(x, ws, dropoutSeed)) as tf.Scalar;
        const { value, grads } = tf.valueAndGrads(f)(w);
        return { loss: value.dataSync()[0]!, grads: grads.map((g) => g.dataSync() as Float32Array) };
      });
    } finally {
      tf.dispose(w);
    }
  }
}
