import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import type { LstmHead } from './head';

/**
 * The end-to-end model for prediction and export: frames [B, T, H, W, 3] (normalised as the backbone
 * expects, e.g. x / 127.5 - 1 for MobileNetV2) -> TimeDistributed(backbone) -> [B, T, D] -> the head's
 * LSTM and softmax classifier. `backbone` is any tf.LayersModel that maps one frame to a feature vector (e.g.
 * MobileNetV2 without top, with global average pooling). A standard tf.Sequential, so it saves and loads
 * with plain TF.js. Velocity features have no standard layer, so a velocity head cannot be made end-to-end:
 * run the backbone, then the model directory's model on [features, differences].
 */
export function buildEndToEnd(backbone: tf.LayersModel, head: LstmHead, sequenceLength: number | null = null): tf.Sequential {
  if (head.config.preprocessing.velocity) {
    throw new ConfigError('an end-to-end model cannot include velocity features (no standard TF.js layer computes frame differences); run the backbone and the head separately');
  }
  const frameShape = backbone.inputs[0]!.shape.slice(1) as number[];
  const featureShape = backbone.outputs[0]!.shape;
  if (featureShape.length !== 2 || featureShape[1] !== head.config.featureDim) {
    throw new ConfigError(`backbone outputs ${JSON.stringify(featureShape)}, the head expects [null, ${head.config.featureDim}] (use a pooled backbone)`);
  }
  const model = tf.sequential({ name: 'wlasl_end_to_end' });
  model.add(tf.layers.timeDistributed({ layer: backbone, inputShape: [sequenceLength, ...frameShape] }));
  head.addLayersTo(model);
  return model;
}
