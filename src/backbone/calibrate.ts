import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../runtime/random';

/**
 * The 'random' backbone: seeded weights, then BatchNorm statistics calibrated on real frames.
 *
 * A randomly initialised MobileNetV2 with default BatchNorm statistics (mean 0, variance 1) collapses: the
 * signal shrinks through 52 conv layers and pooled features come out ~1e-9 (measured with the original's
 * torchvision model). Setting each BatchNorm's moving mean/variance to the statistics of its own input on a
 * few training frames (a data-dependent initialisation) keeps every layer at unit scale, so the frozen
 * features carry information.
 */

/** Fills every weight from a seeded generator: He-uniform kernels, BatchNorm at identity. Deterministic. */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const rand = seededRandom(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const className = layer.getClassName();
    const fresh = weights.map((w, i) => {
      const shape = w.shape;
      if (className === 'BatchNormalization') {
        // gamma, beta, moving_mean, moving_variance
        return tf.fill(shape, i === 0 || i === 3 ? 1 : 0);
      }
      const isKernel = shape.length === 4;
      if (!isKernel) return tf.zeros(shape);
      const fanIn = className === 'DepthwiseConv2D' ? shape[0]! * shape[1]! : shape[0]! * shape[1]! * shape[2]!;
      const limit = Math.sqrt(6 / fanIn);
      const values = new Float32Array(w.size);
      for (let k = 0; k < values.length; k++) values[k] = (rand() * 2 - 1) * limit;
      return tf.tensor(values, shape);
    });
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

interface LayerWithNodes {
  name: string;
  inboundNodes: Array<{ inboundLayers: Array<{ name: string }> }>;
}

/**
 * One eager pass through a functional model in topological order; before each BatchNormalization runs, its
 * moving mean/variance are set to the per-channel moments of its actual input. Because earlier layers are
 * already calibrated when a later one is measured, one pass calibrates the whole net.
 * `frames` is normalised input [N, H, W, 3]; returns the number of BatchNorm layers calibrated.
 */
export function calibrateBatchNorm(model: tf.LayersModel, frames: tf.Tensor4D): number {
  const layers = model.layers as unknown as Array<tf.layers.Layer & LayerWithNodes>;
  const uses = new Map<string, number>();
  for (const layer of layers) {
    for (const inbound of layer.inboundNodes[0]?.inboundLayers ?? []) uses.set(inbound.name, (uses.get(inbound.name) ?? 0) + 1);
  }
  const outputs = new Map<string, tf.Tensor>();
  let calibrated = 0;
  for (const layer of layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') {
      outputs.set(layer.name, frames);
      continue;
    }
    const inputs = (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => outputs.get(l.name)!);
    const input = inputs.length === 1 ? inputs[0]! : inputs;
    if (className === 'BatchNormalization') {
      const x = input as tf.Tensor;
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      const [gamma, beta] = layer.getWeights();
      layer.setWeights([gamma!, beta!, mean, variance]);
      tf.dispose([mean, variance]);
      calibrated++;
    }
    const out = tf.tidy(() => layer.apply(input) as tf.Tensor);
    outputs.set(layer.name, out);
    for (const inbound of layer.inboundNodes[0]?.inboundLayers ?? []) {
      const left = (uses.get(inbound.name) ?? 1) - 1;
      uses.set(inbound.name, left);
      const t = outputs.get(inbound.name);
      if (left === 0 && t && t !== frames) {
        t.dispose();
        outputs.delete(inbound.name);
      }
    }
  }
  for (const t of outputs.values()) if (t !== frames) t.dispose();
  return calibrated;
}

/** sha256 over every weight's name, shape and values: identifies seeded+calibrated weights exactly. */
export function hashModelWeights(model: tf.LayersModel): string {
  const hash = createHash('sha256');
  for (const w of model.weights) {
    const values = w.read().dataSync() as Float32Array;
    hash.update(`${w.originalName}:${w.shape.join('x')};`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
