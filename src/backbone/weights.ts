import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { BackboneConfig } from '../config';
import { DownloadError, WeightsError, describeError } from '../errors';
import { publishDirectory, tempDirFor, writeJsonAtomic } from '../runtime/atomic';
import { foldMobileNetV2, type FoldedMobileNetV2 } from './folded';
import type { MobileNetAlpha } from '../config';
import { buildMobileNetV2Base, featureModel, inferAlpha } from './mobilenet_v2';
import { calibrateBatchNorm, hashModelWeights, seedWeights } from './calibrate';
import { MODEL_JSON, directoryLoader, fileChecksums, hashModelDirectory, readModelJson, saveModelToDirectory, shardPaths } from './model_dir';
import { MOBILENET_FEATURE_DIM, MOBILENET_INPUT_SIZE, normalizePixels, type Normalization } from './preprocess';

/**
 * Where backbone weights come from, and the id recorded with every output made from them.
 *
 * 'imagenet' is Keras' MobileNetV2 ImageNet no-top model converted to the TF.js layers format, as served for
 * Teachable Machine and loaded by @teachablemachine/image (libraries/image/src/custom-mobilenet.ts in
 * googlecreativelab/teachablemachine-community): it expects RGB scaled to [-1, 1]. It is downloaded once into
 * a local cache with sha256 checksums; later runs verify and reuse it offline.
 */
export function imagenetWeightsUrl(alpha: MobileNetAlpha): string {
  return `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha.toFixed(2)}_224_no_top/model.json`;
}

export type WeightsSource = 'imagenet' | 'directory' | 'url' | 'random';

/** What every output made with this backbone records about it. */
export interface BackboneInfo {
  /** e.g. 'imagenet-mobilenet_v2_1.00_224@sha256:1a2b..', 'random-mobilenet_v2_0.35_224-seed1-calibrated@sha256:..'. */
  weightsId: string;
  /** sha256 of the weights themselves (names, shapes, values); the feature cache is keyed by it. */
  weightsHash: string;
  source: WeightsSource;
  /** URL or folder the weights came from (null for random). */
  location: string | null;
  alpha: MobileNetAlpha;
  normalization: Normalization;
  inputSize: number;
  featureDim: number;
  /** A folder holding exactly these weights (what feature workers load). */
  modelDir: string;
  /** Why 'imagenet' was replaced by 'random', when it was. */
  fallbackReason?: string;
  calibration?: { frames: number; seed: number; batchNormLayers: number };
}

export interface Backbone {
  /** Frozen: normalised RGB [N,224,224,3] -> [N,1280]. The reference implementation. */
  model: tf.LayersModel;
  /**
   * The same network with BatchNorm folded into fused conv+bias+ReLU6 kernels (2-3x faster on wasm); what
   * embedFrames uses when the weights have Keras MobileNetV2 layer names.
   */
  fast?: FoldedMobileNetV2;
  info: BackboneInfo;
}

export interface BackboneOptions {
  /** Downloaded and calibrated weights live here. Default $WLASL_WEIGHTS_CACHE or ~/.cache/wlasl-cnn-lstm/weights. */
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

export function defaultWeightsCacheDir(): string {
  return process.env.WLASL_WEIGHTS_CACHE ?? path.join(os.homedir(), '.cache', 'wlasl-cnn-lstm', 'weights');
}

const WLASL_META_KEY = 'wlaslBackbone';

interface StoredMeta {
  normalization?: Normalization;
  weightsId?: string;
  calibration?: BackboneInfo['calibration'];
}

/**
 * Loads a MobileNetV2 feature extractor from a TF.js layers-model folder. Accepts Keras' no-top graph
 * (output out_relu [N,7,7,1280]), a model we saved, or a full model with a top (cut at out_relu).
 */
export async function loadBackboneFromDirectory(
  dir: string,
  described: Partial<Pick<BackboneInfo, 'weightsId' | 'source' | 'location' | 'fallbackReason'>> = {},
): Promise<Backbone> {
  const json = readModelJson(dir);
  const stored = (json[WLASL_META_KEY] ?? {}) as StoredMeta;
  let loaded: tf.LayersModel;
  try {
    loaded = await tf.loadLayersModel(directoryLoader(dir));
  } catch (error) {
    if (error instanceof WeightsError) throw error;
    throw new WeightsError(`cannot build the model from its description: ${describeError(error)}`, { file: path.join(dir, MODEL_JSON), cause: error });
  }
  let base = loaded;
  try {
    const outRelu = loaded.getLayer('out_relu');
    if (loaded.outputs[0] !== outRelu.output) base = tf.model({ inputs: loaded.inputs, outputs: outRelu.output as tf.SymbolicTensor });
  } catch {
    // Not a Keras MobileNetV2 naming; accept it if the shapes fit.
  }
  const inShape = base.inputs[0]!.shape;
  const outShape = base.outputs[0]!.shape;
  if (inShape[1] !== MOBILENET_INPUT_SIZE || inShape[2] !== MOBILENET_INPUT_SIZE || inShape[3] !== 3 || outShape[outShape.length - 1] !== MOBILENET_FEATURE_DIM) {
    throw new WeightsError(`expected a MobileNetV2 with input [N,224,224,3] and ${MOBILENET_FEATURE_DIM} output channels, got input [${inShape}] output [${outShape}]`, {
      file: path.join(dir, MODEL_JSON),
    });
  }
  const alpha = inferAlpha(base) ?? 1.0;
  const weightsHash = hashModelDirectory(dir);
  const source = described.source ?? 'directory';
  const weightsId = described.weightsId ?? stored.weightsId ?? `${source === 'directory' ? `dir-${path.basename(path.resolve(dir))}` : source}-mobilenet_v2_${alpha.toFixed(2)}_224@sha256:${weightsHash.slice(0, 16)}`;
  let fast: FoldedMobileNetV2 | undefined;
  try {
    fast = foldMobileNetV2(base, alpha);
  } catch {
    fast = undefined; // not Keras-named: the layers model runs as is
  }
  return {
    model: featureModel(base),
    ...(fast ? { fast } : {}),
    info: {
      weightsId,
      weightsHash,
      source,
      location: described.location ?? path.resolve(dir),
      alpha,
      normalization: stored.normalization ?? 'minus1to1',
      inputSize: MOBILENET_INPUT_SIZE,
      featureDim: MOBILENET_FEATURE_DIM,
      modelDir: path.resolve(dir),
      ...(described.fallbackReason ? { fallbackReason: described.fallbackReason } : {}),
      ...(stored.calibration ? { calibration: stored.calibration } : {}),
    },
  };
}

async function fetchBytes(url: string, timeoutMs: number): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new DownloadError(`cannot reach the server (${cause?.code ?? describeError(error)})`, { file: url, cause: error });
  }
  if (!response.ok) throw new DownloadError(`HTTP ${response.status} ${response.statusText}`, { file: url });
  return Buffer.from(await response.arrayBuffer());
}

interface DownloadRecord {
  url: string;
  downloadedAt: string;
  sha256: Record<string, string>;
}
const DOWNLOAD_RECORD = 'download.json';

/** The cache folder for a URL: readable name plus a hash of the full URL. */
export function urlCacheDir(url: string, weightsCacheDir: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  const name = (parts.length > 1 && parts[parts.length - 1] === MODEL_JSON ? parts[parts.length - 2]! : parts[parts.length - 1] ?? 'model').replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(weightsCacheDir, `${name}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
}

/**
 * Downloads a TF.js layers model (model.json + shards) once into the cache; on later calls verifies the
 * recorded sha256 of every file and returns the folder without touching the network.
 */
export async function fetchModelToCache(url: string, weightsCacheDir: string, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<string> {
  const dir = urlCacheDir(url, weightsCacheDir);
  const recordFile = path.join(dir, DOWNLOAD_RECORD);
  if (fs.existsSync(recordFile)) {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as DownloadRecord;
    let actual: Record<string, string>;
    try {
      actual = fileChecksums(dir);
    } catch (error) {
      throw new WeightsError(`cached weights are incomplete (${describeError(error)}); delete the folder to download again`, { file: dir, cause: error });
    }
    for (const [name, sum] of Object.entries(record.sha256)) {
      if (actual[name] !== sum) {
        throw new WeightsError(`cached file ${name} does not match its recorded sha256 (damaged cache); delete the folder to download again`, { file: dir });
      }
    }
    return dir;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  (options.log ?? defaultLog)(`downloading backbone weights from ${url}`);
  const modelJsonBytes = await fetchBytes(url, timeoutMs);
  let json: Parameters<typeof shardPaths>[0];
  try {
    json = JSON.parse(modelJsonBytes.toString('utf8'));
  } catch (error) {
    throw new WeightsError(`not valid JSON (${describeError(error)})`, { file: url, cause: error });
  }
  const shards = shardPaths(json, url);
  const tmp = tempDirFor(dir);
  await fs.promises.mkdir(tmp, { recursive: true });
  try {
    await fs.promises.writeFile(path.join(tmp, MODEL_JSON), modelJsonBytes);
    for (const shard of shards) {
      await fs.promises.writeFile(path.join(tmp, shard), await fetchBytes(new URL(shard, url).toString(), timeoutMs));
    }
    readModelJson(tmp);
    const record: DownloadRecord = { url, downloadedAt: new Date().toISOString(), sha256: fileChecksums(tmp) };
    await writeJsonAtomic(path.join(tmp, DOWNLOAD_RECORD), record);
    await fs.promises.mkdir(path.dirname(dir), { recursive: true });
    await publishDirectory(tmp, dir);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

function defaultLog(line: string): void {
  process.stderr.write(line + '\n');
}

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

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/**
 * The backbone a config asks for. 'imagenet': the cached download, else download; offline with no cache it
 * fails with one clear message, or continues with 'random' when `allowRandomFallback` is set (recorded in
 * info.fallbackReason). A URL is cached the same way; anything else is a local folder.
 */
export async function loadBackbone(config: BackboneConfig, options: BackboneOptions = {}): Promise<Backbone> {
  const cacheDir = options.weightsCacheDir ?? defaultWeightsCacheDir();
  const log = options.log ?? defaultLog;
  const random = async (fallbackReason?: string): Promise<Backbone> => {
    if (!options.calibrationFrames) {
      throw new WeightsError(`random backbone weights need training frames to calibrate BatchNorm, and none were given${fallbackReason ? ` (fallback after: ${fallbackReason})` : ''}`);
    }
    const backbone = await createRandomBackbone(config.alpha, config.seed, await options.calibrationFrames(), cacheDir);
    if (fallbackReason) backbone.info.fallbackReason = fallbackReason;
    return backbone;
  };

  const weights = config.weights;
  if (weights === 'random') return random();
  if (weights === 'imagenet' || isUrl(weights)) {
    const url = weights === 'imagenet' ? imagenetWeightsUrl(config.alpha) : weights;
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
