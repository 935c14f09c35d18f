import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { MobileNetAlpha } from '../config';
import { WeightsError } from '../errors';
import { loadBackboneFromDirectory, WLASL_META_KEY, type Backbone, type StoredMeta } from './backbone';
import { calibrateBatchNorm, hashModelWeights, seedWeights } from './calibrate';
import { buildMobileNetV2Base } from './mobilenet_v2';
import { MODEL_JSON, saveModelToDirectory } from './model_dir';
import { MOBILENET_INPUT_SIZE, normalizePixels } from './preprocess';

/**
 * Builds a seeded MobileNetV2, calibrates its BatchNorm statistics on `frames` (RGB uint8 [N,224,224,3]),
 * and saves it under the cache, so workers and later runs load identical weights. A folder calibrated on the
 * same frames with the same seed is reused.
 */
export async function createRandomBackbone(alpha: MobileNetAlpha, seed: number, frames: Uint8Array, weightsCacheDir: string): Promise<Backbone> {
  const frameCount = frames.length / (MOBILENET_INPUT_SIZE * MOBILENET_INPUT_SIZE * 3);
  if (!Number.isInteger(frameCount) || frameCount < 2) {
    throw new WeightsError(`random backbone calibration needs at least 2 RGB frames of 224x224, got ${frames.length} bytes`);
  }
  const framesHash = createHash('sha256').update(frames).digest('hex').slice(0, 12);
  const dir = path.join(weightsCacheDir, `random-mobilenet_v2_${alpha.toFixed(2)}-seed${seed}-frames${framesHash}`);
  if (fs.existsSync(path.join(dir, MODEL_JSON))) return loadBackboneFromDirectory(dir, { source: 'random', location: null });

  const base = buildMobileNetV2Base(alpha);
  seedWeights(base, seed);
  const input = tf.tensor4d(normalizePixels(frames, 'minus1to1'), [frameCount, MOBILENET_INPUT_SIZE, MOBILENET_INPUT_SIZE, 3]);
  const batchNormLayers = calibrateBatchNorm(base, input);
  input.dispose();
  const weightsHash = hashModelWeights(base);
  const weightsId = `random-mobilenet_v2_${alpha.toFixed(2)}_224-seed${seed}-calibrated@sha256:${weightsHash.slice(0, 16)}`;
  const calibration = { frames: frameCount, seed, batchNormLayers };
  const meta: StoredMeta = { normalization: 'minus1to1', weightsId, calibration };
  await saveModelToDirectory(base, dir, { [WLASL_META_KEY]: meta });
  base.dispose();
  return loadBackboneFromDirectory(dir, { source: 'random', location: null, weightsId });
}
