import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackboneConfig, MobileNetAlpha } from '../config';
import { WeightsError, describeError } from '../errors';
import { openWeightsCache } from '../runtime/user_cache';
import { loadBackboneFromDirectory, type Backbone } from './backbone';
import { fetchModelToCache, logToStderr, urlCacheDir } from './download';
import { MODEL_JSON, hashModelDirectory } from './model_dir';
import { createRandomBackbone } from './random';

/**
 * Choosing where backbone weights come from: 'imagenet', a URL, a local folder or seeded 'random' weights,
 * with the offline fallback from 'imagenet' to 'random' when allowed.
 *
 * 'imagenet' is Keras' MobileNetV2 ImageNet no-top model converted to the TF.js layers format, as served for
 * Teachable Machine and loaded by @teachablemachine/image (libraries/image/src/custom-mobilenet.ts in
 * googlecreativelab/teachablemachine-community): it expects RGB scaled to [-1, 1]. It is downloaded once into
 * a local cache with sha256 checksums; later runs verify and reuse it offline.
 */
export function imagenetWeightsUrl(alpha: MobileNetAlpha): string {
  return `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha.toFixed(2)}_224_no_top/model.json`;
}

export interface BackboneOptions {
  /** Downloaded and calibrated weights live here. Default: the per-user cache's weights folder (runtime/user_cache.ts). */
  weightsCacheDir?: string;
  /**
   * Training frames for calibrating a 'random' backbone: RGB uint8 [N,224,224,3]. Called only when random
   * weights are needed and not already calibrated for the same frames.
   */
  calibrationFrames?: () => Promise<Uint8Array>;
  /** Network timeout per file, ms. */
  timeoutMs?: number;
  /** One-line notices (fallbacks, downloads). Default: stderr. */
  log?: (line: string) => void;
}

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/**
 * The backbone a config asks for. 'imagenet': the cached download, else download; offline with no cache it
 * fails with one clear message, or continues with 'random' when `allowRandomFallback` is set (recorded in
 * info.fallbackReason). A URL is cached the same way; anything else is a local folder.
 */
export async function loadBackbone(config: BackboneConfig, options: BackboneOptions = {}): Promise<Backbone> {
  // Opened only when needed: a local weights folder never touches (or creates) the cache.
  const openCacheDir = async () => options.weightsCacheDir ?? (await openWeightsCache());
  const log = options.log ?? logToStderr;
  const random = async (fallbackReason?: string): Promise<Backbone> => {
    if (!options.calibrationFrames) {
      throw new WeightsError(`random backbone weights need training frames to calibrate BatchNorm, and none were given${fallbackReason ? ` (fallback after: ${fallbackReason})` : ''}`);
    }
    const backbone = await createRandomBackbone(config.alpha, config.seed, await options.calibrationFrames(), await openCacheDir());
    if (fallbackReason) backbone.info.fallbackReason = fallbackReason;
    return backbone;
  };

  const weights = config.weights;
  if (weights === 'random') return random();
  if (weights === 'imagenet' || isUrl(weights)) {
    const url = weights === 'imagenet' ? imagenetWeightsUrl(config.alpha) : weights;
    const cacheDir = await openCacheDir();
    let dir: string;
    try {
      dir = await fetchModelToCache(url, cacheDir, { timeoutMs: options.timeoutMs, log });
    } catch (error) {
      const reason = `${weights === 'imagenet' ? 'ImageNet MobileNetV2 weights' : 'backbone weights'} unavailable: ${describeError(error)}; no cached copy in ${urlCacheDir(url, cacheDir)}`;
      if (!config.allowRandomFallback) {
        throw new WeightsError(`${reason}. Give a local weights folder (weights: <dir>), go online once, or allow the random fallback.`, { cause: error });
      }
      log(`${reason}. Continuing with seeded random weights (BatchNorm calibrated on the training frames), as allowed.`);
      return random(reason);
    }
    const hash = hashModelDirectory(dir);
    const label = weights === 'imagenet' ? `imagenet-mobilenet_v2_${config.alpha.toFixed(2)}_224` : `url-${path.basename(dir)}`;
    return loadBackboneFromDirectory(dir, { source: weights === 'imagenet' ? 'imagenet' : 'url', location: url, weightsId: `${label}@sha256:${hash.slice(0, 16)}` });
  }
  if (!fs.existsSync(weights) || !fs.statSync(weights).isDirectory()) {
    throw new WeightsError(`backbone weights must be 'imagenet', 'random', an http(s) URL or a folder with ${MODEL_JSON}; this folder does not exist`, { file: weights });
  }
  return loadBackboneFromDirectory(weights);
}
