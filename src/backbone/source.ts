import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, type BackboneConfig, type MobileNetAlpha } from '../config';
import { WeightsError, describeError } from '../errors';
import { homeRelative, openWeightsCache, weightsCacheDir } from '../runtime/user_cache';
import { loadBackboneFromDirectory, type Backbone } from './backbone';
import { DOWNLOAD_RECORD, fetchModelToCache, logToStderr, urlCacheDir } from './download';
import { MODEL_JSON, hashModelDirectory } from './model_dir';
import { createRandomBackbone } from './random';

/**
 * Choosing where backbone weights come from: 'default' (resolved below), 'embedded', 'imagenet', a URL, a local
 * folder or seeded 'random' weights, with the offline fallback from 'imagenet' to 'random' when allowed.
 *
 * 'imagenet' is Keras' MobileNetV2 ImageNet no-top model converted to the TF.js layers format, as served for
 * Teachable Machine and loaded by @teachablemachine/image (libraries/image/src/custom-mobilenet.ts in
 * googlecreativelab/teachablemachine-community): it expects RGB scaled to [-1, 1]. It is downloaded once into
 * a local cache with sha256 checksums; later runs verify and reuse it offline.
 */
export function imagenetWeightsUrl(alpha: MobileNetAlpha): string {
  return `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha.toFixed(2)}_224_no_top/model.json`;
}

/**
 * The ImageNet MobileNetV2-0.35 committed with the project (its README gives source, sha256 and licence): real
 * ImageNet features offline, so the sample, the notebooks, CI and the page never need a download.
 */
export const EMBEDDED_WEIGHTS_DIR = path.resolve(__dirname, '..', '..', 'models', 'mobilenet_v2_0.35_224_no_top');
export const EMBEDDED_ALPHA: MobileNetAlpha = 0.35;

/** The cached 'imagenet' download of this width, when a finished one is there (its download record is written last). */
export function cachedImagenetDir(alpha: MobileNetAlpha, cacheDir: string): string | undefined {
  const dir = urlCacheDir(imagenetWeightsUrl(alpha), cacheDir);
  return fs.existsSync(path.join(dir, DOWNLOAD_RECORD)) ? dir : undefined;
}

export interface WeightsChoice {
  /** What to load: never 'default'. */
  weights: string;
  alpha: MobileNetAlpha;
  /** Why 'default' chose this (one line for logs and summaries); absent for any other setting. */
  reason?: string;
}

/**
 * What the weights setting stands for. 'default' means ImageNet weights found without a download where possible:
 * the cached width-1.0 download when present, else the embedded 0.35. A width asked for explicitly (`alphaGiven`,
 * else any alpha other than the default config's) decides instead: 0.35 is the embedded copy, another width
 * 'imagenet' at that width (cached or downloaded). Only checks for files; creates nothing.
 */
export function resolveWeights(config: Pick<BackboneConfig, 'weights' | 'alpha'>, cacheDir: string, alphaGiven = config.alpha !== DEFAULT_CONFIG.backbone.alpha): WeightsChoice {
  if (config.weights === 'embedded') return { weights: 'embedded', alpha: EMBEDDED_ALPHA };
  if (config.weights !== 'default') return { weights: config.weights, alpha: config.alpha };
  if (alphaGiven) {
    return config.alpha === EMBEDDED_ALPHA
      ? { weights: 'embedded', alpha: EMBEDDED_ALPHA, reason: `default weights at width ${EMBEDDED_ALPHA}: the embedded ImageNet MobileNetV2-${EMBEDDED_ALPHA}` }
      : { weights: 'imagenet', alpha: config.alpha, reason: `default weights at width ${config.alpha}: ImageNet MobileNetV2-${config.alpha}, ${cachedImagenetDir(config.alpha, cacheDir) ? 'cached' : 'to download'}` };
  }
  const cached = cachedImagenetDir(1.0, cacheDir);
  if (cached) return { weights: 'imagenet', alpha: 1.0, reason: `default weights: the cached width-1.0 ImageNet MobileNetV2 in ${homeRelative(cached)}` };
  return {
    weights: 'embedded',
    alpha: EMBEDDED_ALPHA,
    reason: `default weights: the embedded ImageNet MobileNetV2-${EMBEDDED_ALPHA} (no width-1.0 ImageNet weights cached in ${homeRelative(cacheDir)}; --weights imagenet downloads them)`,
  };
}

/** A config whose weights are resolved (never 'default'), with the width they have; and why, when 'default' chose. */
export function resolveBackboneConfig(config: BackboneConfig, cacheDir: string, alphaGiven?: boolean): { backbone: BackboneConfig; reason?: string } {
  const choice = resolveWeights(config, cacheDir, alphaGiven);
  return { backbone: { ...config, weights: choice.weights, alpha: choice.alpha }, ...(choice.reason ? { reason: choice.reason } : {}) };
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
 * The backbone a config asks for. 'default': see resolveWeights. 'embedded': the copy in models/. 'imagenet': the
 * cached download, else download; offline with no cache it
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
  if (weights === 'default') {
    // Resolved here too for library callers that pass the config as is; runPipeline and the CLI resolve earlier.
    const { backbone, reason } = resolveBackboneConfig(config, options.weightsCacheDir ?? weightsCacheDir());
    if (reason) log(reason);
    return loadBackbone(backbone, options);
  }
  if (weights === 'embedded') {
    const dir = EMBEDDED_WEIGHTS_DIR;
    const hash = hashModelDirectory(dir);
    return loadBackboneFromDirectory(dir, { source: 'embedded', location: dir, weightsId: `imagenet-mobilenet_v2_${EMBEDDED_ALPHA.toFixed(2)}_224-embedded@sha256:${hash.slice(0, 16)}` });
  }
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
    throw new WeightsError(`backbone weights must be 'default', 'embedded', 'imagenet', 'random', an http(s) URL or a folder with ${MODEL_JSON}; this folder does not exist`, { file: weights });
  }
  return loadBackboneFromDirectory(weights);
}
