import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MobileNetAlpha } from '../config';
import { WeightsError, describeError } from '../errors';
import { foldMobileNetV2, type FoldedMobileNetV2 } from './folded';
import { featureModel, inferAlpha } from './mobilenet_v2';
import { MODEL_JSON, directoryLoader, hashModelDirectory, readModelJson } from './model_dir';
import { MOBILENET_FEATURE_DIM, MOBILENET_INPUT_SIZE, type Normalization } from './preprocess';

/**
 * A loaded backbone: what it is (the record every output keeps) and loading one from a TF.js folder, which
 * every source ends in (a download is cached to a folder, random weights are saved to one).
 */
export type WeightsSource = 'embedded' | 'imagenet' | 'directory' | 'url' | 'random';

/** What every output made with this backbone records about it. */
export interface BackboneInfo {
  /** e.g. 'imagenet-mobilenet_v2_1.00_224@sha256:1a2b..', 'imagenet-mobilenet_v2_0.35_224-embedded@sha256:..', 'random-mobilenet_v2_0.35_224-seed1-calibrated@sha256:..'. */
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

/** model.json key under which a folder we saved records how its weights were made. */
export const WLASL_META_KEY = 'wlaslBackbone';

export interface StoredMeta {
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

/**
 * The MobileNetV2 width of a weights folder, read from its model.json alone (the graph is built without its
 * weights): lets the CLI refuse an --alpha that contradicts the weights before any work. Undefined when the
 * folder is not a Keras-named MobileNetV2.
 */
export async function alphaOfWeightsFolder(dir: string): Promise<MobileNetAlpha | undefined> {
  const json = readModelJson(dir);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'] });
  } catch (error) {
    throw new WeightsError(`cannot build the model from its description: ${describeError(error)}`, { file: path.join(dir, MODEL_JSON), cause: error });
  }
  try {
    return inferAlpha(model);
  } finally {
    model.dispose();
  }
}
