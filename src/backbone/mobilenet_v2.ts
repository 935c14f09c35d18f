import * as tf from '@tensorflow/tfjs';
import { checkAlpha, MOBILENET_ALPHAS, type MobileNetAlpha } from '../config';
import { MOBILENET_FEATURE_DIM, MOBILENET_INPUT_SIZE } from './preprocess';

/**
 * MobileNetV2 (Sandler et al. 2018) without the classifier, built with tf.layers using exactly the layer
 * names and shapes of keras.applications.MobileNetV2(include_top=False), so that Keras/TF.js weight files
 * (e.g. Teachable Machine's conversions) load into it by name, and a model saved from it reloads anywhere.
 */

/** Keras' _make_divisible: channel counts rounded to multiples of 8, never dropping more than 10%. */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** [filters, stride, expansion] of the 17 inverted-residual blocks (block_id = index). */
const BLOCKS: ReadonlyArray<[number, number, number]> = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

type Sym = tf.SymbolicTensor;

function bn(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ name, epsilon: 1e-3, momentum: 0.999 });
}
function relu6(name: string): tf.layers.Layer {
  return tf.layers.reLU({ name, maxValue: 6 });
}
function pointwise(name: string, filters: number): tf.layers.Layer {
  return tf.layers.conv2d({ name, filters, kernelSize: 1, padding: 'same', useBias: false });
}

/** Keras' correct_pad for a 3x3 stride-2 conv on an even input: pad one pixel at the bottom/right. */
function correctPad(name: string): tf.layers.Layer {
  return tf.layers.zeroPadding2d({ name, padding: [[0, 1], [0, 1]] });
}

function invertedResidual(x: Sym, inChannels: number, filters: number, stride: number, expansion: number, blockId: number, alpha: number): Sym {
  const outChannels = makeDivisible(Math.trunc(filters * alpha));
  const prefix = blockId === 0 ? 'expanded_conv_' : `block_${blockId}_`;
  let h = x;
  if (blockId > 0) {
    h = pointwise(`${prefix}expand`, expansion * inChannels).apply(h) as Sym;
    h = bn(`${prefix}expand_BN`).apply(h) as Sym;
    h = relu6(`${prefix}expand_relu`).apply(h) as Sym;
  }
  if (stride === 2) h = correctPad(`${prefix}pad`).apply(h) as Sym;
  h = tf.layers
    .depthwiseConv2d({ name: `${prefix}depthwise`, kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false, depthMultiplier: 1 })
    .apply(h) as Sym;
  h = bn(`${prefix}depthwise_BN`).apply(h) as Sym;
  h = relu6(`${prefix}depthwise_relu`).apply(h) as Sym;
  h = pointwise(`${prefix}project`, outChannels).apply(h) as Sym;
  h = bn(`${prefix}project_BN`).apply(h) as Sym;
  if (inChannels === outChannels && stride === 1) h = tf.layers.add({ name: `${prefix}add` }).apply([x, h]) as Sym;
  return h;
}

/** The Keras graph from input_1 [N,224,224,3] to out_relu [N,7,7,1280]; weights are Glorot/ones/zeros. */
export function buildMobileNetV2Base(alpha: MobileNetAlpha): tf.LayersModel {
  checkAlpha(alpha);
  const input = tf.input({ name: 'input_1', shape: [MOBILENET_INPUT_SIZE, MOBILENET_INPUT_SIZE, 3] });
  const firstFilters = makeDivisible(32 * alpha);
  let x = correctPad('Conv1_pad').apply(input) as Sym;
  x = tf.layers.conv2d({ name: 'Conv1', filters: firstFilters, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(x) as Sym;
  x = bn('bn_Conv1').apply(x) as Sym;
  x = relu6('Conv1_relu').apply(x) as Sym;
  let channels = firstFilters;
  BLOCKS.forEach(([filters, stride, expansion], blockId) => {
    x = invertedResidual(x, channels, filters, stride, expansion, blockId, alpha);
    channels = makeDivisible(Math.trunc(filters * alpha));
  });
  // Keras keeps 1280 channels for alpha <= 1 (only wider nets grow the last layer).
  x = tf.layers.conv2d({ name: 'Conv_1', filters: MOBILENET_FEATURE_DIM, kernelSize: 1, useBias: false }).apply(x) as Sym;
  x = bn('Conv_1_bn').apply(x) as Sym;
  x = relu6('out_relu').apply(x) as Sym;
  return tf.model({ name: `mobilenetv2_${alpha.toFixed(2)}_224`, inputs: input, outputs: x });
}

/**
 * The frozen feature extractor: a base whose output is [N,7,7,C] (or already pooled) followed by global
 * average pooling to [N, C], as the original's adaptive_avg_pool2d.
 */
export function featureModel(base: tf.LayersModel): tf.LayersModel {
  const out = base.outputs[0]!;
  const pooled = out.shape.length === 4 ? (tf.layers.globalAveragePooling2d({ name: 'feature_pool' }).apply(out) as Sym) : out;
  const model = tf.model({ name: `${base.name}_features`, inputs: base.inputs, outputs: pooled });
  model.trainable = false;
  return model;
}

/** Width multiplier of a Keras MobileNetV2 graph, read from the widths of a few of its convolutions. */
export function inferAlpha(base: tf.LayersModel): MobileNetAlpha | undefined {
  const filtersOf = (name: string): number | undefined => {
    try {
      return (base.getLayer(name).getConfig() as { filters?: number }).filters;
    } catch {
      return undefined;
    }
  };
  const observed = [filtersOf('Conv1'), filtersOf('block_1_project'), filtersOf('block_16_project')];
  if (observed.some((f) => f === undefined)) return undefined;
  return MOBILENET_ALPHAS.find((a) => {
    const expected = [makeDivisible(32 * a), makeDivisible(Math.trunc(24 * a)), makeDivisible(Math.trunc(320 * a))];
    return expected.every((f, i) => f === observed[i]);
  });
}
