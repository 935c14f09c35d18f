import * as tf from '@tensorflow/tfjs';
import type { Backbone } from './backbone';
import { normalizePixels } from './preprocess';

/**
 * Features for frames: RGB uint8 [count, size, size, 3] -> Float32Array [count, 1280], in batches of
 * `batchSize` (frames of another size are resized bilinearly to 224).
 */
export function embedFrames(backbone: Backbone, frames: Uint8Array, count: number, size: number, batchSize = 4): Float32Array {
  const frameBytes = size * size * 3;
  if (frames.length !== count * frameBytes) throw new RangeError(`${frames.length} bytes for ${count} frames of ${size}x${size} RGB`);
  const dim = backbone.info.featureDim;
  const out = new Float32Array(count * dim);
  const scratch = new Float32Array(Math.min(batchSize, count) * frameBytes);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const input = normalizePixels(frames.subarray(start * frameBytes, (start + n) * frameBytes), backbone.info.normalization, scratch.subarray(0, n * frameBytes));
    const features = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(input, [n, size, size, 3]);
      if (size !== backbone.info.inputSize) x = tf.image.resizeBilinear(x, [backbone.info.inputSize, backbone.info.inputSize]);
      return backbone.fast ? backbone.fast.predict(x) : (backbone.model.predict(x) as tf.Tensor2D);
    });
    out.set(features.dataSync() as Float32Array, start * dim);
    features.dispose();
  }
  return out;
}
