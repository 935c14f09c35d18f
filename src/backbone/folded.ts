import * as tf from '@tensorflow/tfjs';
import type { MobileNetAlpha } from '../config';
import { makeDivisible } from './mobilenet_v2';

/**
 * Inference-only MobileNetV2 with every BatchNorm folded into the convolution before it, run as fused
 * conv + bias + ReLU6 kernels (tf.fused.*). The layers model runs conv, batchNorm and relu6 as three passes
 * over memory; the fused kernels do one, which is what TF's own converter does for graph models. Same
 * numbers up to float rounding; the layers model stays the reference.
 */
interface FoldedConv {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  depthwise: boolean;
  strides: 1 | 2;
  /** Keras' correct_pad before a stride-2 conv: zero rows/cols at the bottom/right, then 'valid'. */
  padBottomRight: boolean;
  relu6: boolean;
}

const BLOCKS: ReadonlyArray<[number, number, number]> = [
  [16, 1, 1], [24, 2, 6], [24, 1, 6], [32, 2, 6], [32, 1, 6], [32, 1, 6], [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6], [160, 2, 6], [160, 1, 6], [160, 1, 6], [320, 1, 6],
];

function fold(base: tf.LayersModel, convName: string, bnName: string, opts: Omit<FoldedConv, 'filter' | 'bias'>): FoldedConv {
  const [kernel] = base.getLayer(convName).getWeights() as [tf.Tensor4D];
  const bn = base.getLayer(bnName);
  const epsilon = (bn.getConfig() as { epsilon?: number }).epsilon ?? 1e-3;
  const [gamma, beta, mean, variance] = bn.getWeights() as tf.Tensor1D[];
  return tf.tidy(() => {
    const scale = gamma!.div(variance!.add(epsilon).sqrt()) as tf.Tensor1D;
    // Output channels are the last axis of a conv kernel [kh,kw,in,out]; for a depthwise one [kh,kw,in,1] they are axis 2.
    const filter = (opts.depthwise ? kernel.mul(scale.reshape([1, 1, -1, 1])) : kernel.mul(scale)) as tf.Tensor4D;
    const bias = beta!.sub(mean!.mul(scale)) as tf.Tensor1D;
    return { ...opts, filter: tf.keep(filter), bias: tf.keep(bias) };
  });
}

export interface FoldedMobileNetV2 {
  /** Normalised RGB [N,224,224,3] -> pooled features [N,1280]. */
  predict(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export function foldMobileNetV2(base: tf.LayersModel, alpha: MobileNetAlpha): FoldedMobileNetV2 {
  const convs: FoldedConv[][] = [];
  const residual: boolean[] = [];
  convs.push([fold(base, 'Conv1', 'bn_Conv1', { depthwise: false, strides: 2, padBottomRight: true, relu6: true })]);
  residual.push(false);
  let channels = makeDivisible(32 * alpha);
  BLOCKS.forEach(([filters, stride, expansion], id) => {
    const p = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    const out = makeDivisible(Math.trunc(filters * alpha));
    const block: FoldedConv[] = [];
    if (id > 0) block.push(fold(base, `${p}expand`, `${p}expand_BN`, { depthwise: false, strides: 1, padBottomRight: false, relu6: true }));
    void expansion;
    block.push(fold(base, `${p}depthwise`, `${p}depthwise_BN`, { depthwise: true, strides: stride as 1 | 2, padBottomRight: stride === 2, relu6: true }));
    block.push(fold(base, `${p}project`, `${p}project_BN`, { depthwise: false, strides: 1, padBottomRight: false, relu6: false }));
    convs.push(block);
    residual.push(channels === out && stride === 1);
    channels = out;
  });
  convs.push([fold(base, 'Conv_1', 'Conv_1_bn', { depthwise: false, strides: 1, padBottomRight: false, relu6: true })]);
  residual.push(false);

  const run = (c: FoldedConv, x: tf.Tensor4D): tf.Tensor4D => {
    const input = c.padBottomRight ? tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]) : x;
    const pad = c.padBottomRight || c.filter.shape[0] === 1 ? 'valid' : 'same';
    const args = { x: input, filter: c.filter, bias: c.bias, strides: c.strides, pad, activation: c.relu6 ? 'relu6' : 'linear' } as const;
    return c.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  };
  return {
    predict(x) {
      return tf.tidy(() => {
        let h = x;
        convs.forEach((block, i) => {
          const input = h;
          for (const c of block) h = run(c, h);
          if (residual[i]) h = tf.add(input, h);
        });
        return tf.mean(h, [1, 2]) as tf.Tensor2D;
      });
    },
    dispose() {
      for (const c of convs.flat()) tf.dispose([c.filter, c.bias]);
    },
  };
}
