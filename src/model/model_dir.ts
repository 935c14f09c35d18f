import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { FramesConfig, SequenceConfig } from '../config';
import { ModelDirError } from '../errors';
import { publishDirectory, tempDirFor } from '../runtime/atomic';
import { LstmHead, type HeadConfig } from './head';
import type { Classifier } from './metrics';
import { appendVelocity, type FeatureStats } from './preprocess';

/**
 * A trained model directory, loadable by plain @tensorflow/tfjs in Node and in a browser:
 *   model.json     TF.js layers format (tf.loadLayersModel('<url>/model.json') in a browser)
 *   weights.bin    its weights
 *   wlasl-model.json  classes, preprocessing and backbone config, feature statistics, training summary:
 *                  the preprocessing travels with the model so it gives the same results wherever it runs.
 * The model takes raw backbone features [B, T, D] (standardisation is folded into its first kernel); with
 * `head.velocity` its input is [features, features_t - features_{t-1}] ([B, T, 2D], zero difference at t=0).
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const META_JSON = 'wlasl-model.json';

export interface ModelMeta {
  format: 'wlasl-model';
  version: 1;
  /** Gloss of each output, in output order. */
  classes: string[];
  /** Frames per sequence the model was trained on (it accepts any length). */
  sequenceLength: number;
  /** Raw feature width from the backbone. */
  featureDim: number;
  head: { hidden: number; layers: number; dropout: number; standardize: boolean; velocity: boolean };
  /** Training-split statistics (already folded into model.json; kept for re-training and inspection). */
  featureStats: FeatureStats | null;
  /** How to turn a video into the model's input. */
  frames?: FramesConfig;
  sequence?: SequenceConfig;
  /** Backbone identity: alpha, weights id, input size and normalisation (e.g. x / 127.5 - 1). */
  backbone?: Record<string, unknown>;
  /** Training summary (config, best epoch, metrics); free-form. */
  training?: Record<string, unknown>;
  createdAt: string;
}

export type ModelMetaInput = Pick<ModelMeta, 'classes' | 'sequenceLength'> &
  Partial<Pick<ModelMeta, 'frames' | 'sequence' | 'backbone' | 'training'>> & {
    /**
     * A TF.js backbone folder (model.json + weights) to copy into <dir>/backbone, so the directory is
     * self-contained for `predict` and the browser page (which read backbone.dir, default 'backbone').
     */
    backboneSourceDir?: string;
  };

/** Sub-folder of a model directory that holds the backbone when one is bundled. */
export const BACKBONE_SUBDIR = 'backbone';

export interface LoadedModel {
  /** The standard TF.js model (input: raw features, plus raw velocity when meta.head.velocity). */
  model: tf.LayersModel;
  meta: ModelMeta;
  /** The same weights as a fast head (training, evaluation). */
  head: LstmHead;
}

/** Saves `head` as a model directory, atomically (built beside `dir`, then renamed into place). */
export async function saveModelDir(dir: string, head: LstmHead, info: ModelMetaInput): Promise<ModelMeta> {
  const c = head.config;
  if (info.classes.length !== c.numClasses) {
    throw new ModelDirError(`${info.classes.length} class names for a model with ${c.numClasses} outputs`, { file: path.join(dir, META_JSON) });
  }
  const meta: ModelMeta = {
    format: 'wlasl-model',
    version: 1,
    classes: info.classes,
    sequenceLength: info.sequenceLength,
    featureDim: c.featureDim,
    head: { hidden: c.hidden, layers: c.layers, dropout: c.dropout, standardize: c.preprocessing.stats !== null, velocity: c.preprocessing.velocity },
    featureStats: c.preprocessing.stats,
    frames: info.frames,
    sequence: info.sequence,
    backbone: info.backboneSourceDir ? { dir: BACKBONE_SUBDIR, ...info.backbone } : info.backbone,
    training: info.training,
    createdAt: new Date().toISOString(),
  };
  const model = head.toLayersModel();
  const tmp = tempDirFor(dir);
  try {
    await fs.promises.mkdir(tmp, { recursive: true });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightData = artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData : tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer[]);
        const modelJson = {
          modelTopology: artifacts.modelTopology,
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
        };
        await fs.promises.writeFile(path.join(tmp, WEIGHTS_BIN), Buffer.from(weightData));
        await fs.promises.writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (info.backboneSourceDir) {
      if (!fs.existsSync(path.join(info.backboneSourceDir, MODEL_JSON))) throw new ModelDirError('backbone folder has no model.json', { file: info.backboneSourceDir });
      await fs.promises.cp(info.backboneSourceDir, path.join(tmp, BACKBONE_SUBDIR), { recursive: true });
    }
    await fs.promises.writeFile(path.join(tmp, META_JSON), JSON.stringify(meta, null, 2) + '\n');
    await publishDirectory(tmp, dir);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  } finally {
    model.dispose();
  }
  return meta;
}

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) throw new ModelDirError('missing (not a model directory, or an unfinished save)', { file });
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelDirError(`not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Loads a model directory; any missing, truncated or inconsistent file gives a ModelDirError naming it. */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelDirError('model directory not found', { file: dir });
  const modelFile = path.join(dir, MODEL_JSON);
  const metaFile = path.join(dir, META_JSON);
  const modelJson = readJson(modelFile) as { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string };
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) throw new ModelDirError('not a TF.js layers model (no modelTopology or weightsManifest)', { file: modelFile });
  const meta = readJson(metaFile) as ModelMeta;
  if (meta.format !== 'wlasl-model' || !Array.isArray(meta.classes) || typeof meta.featureDim !== 'number' || !meta.head) {
    throw new ModelDirError('not a wlasl-model description (format, classes, featureDim or head missing)', { file: metaFile });
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    let expected = 0;
    for (const spec of group.weights) expected += spec.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[spec.dtype ?? 'float32'] ?? 4);
    let actual = 0;
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (path.relative(dir, file).startsWith('..')) throw new ModelDirError(`weights path ${p} points outside the directory`, { file: modelFile });
      if (!fs.existsSync(file)) throw new ModelDirError('weights file missing', { file });
      const data = fs.readFileSync(file);
      actual += data.length;
      buffers.push(data);
    }
    if (actual !== expected) {
      throw new ModelDirError(`weights are ${actual} bytes, model.json describes ${expected} (truncated or from another model)`, { file: path.join(dir, group.paths[group.paths.length - 1] ?? WEIGHTS_BIN) });
    }
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      }),
    );
  } catch (error) {
    throw new ModelDirError(`TF.js cannot build the model: ${(error as Error).message}`, { file: modelFile, cause: error });
  }
  const outputs = (model.outputs[0]!.shape as number[])[1];
  if (outputs !== meta.classes.length) {
    model.dispose();
    throw new ModelDirError(`lists ${meta.classes.length} classes but the model has ${outputs} outputs`, { file: metaFile });
  }
  const config: HeadConfig = {
    featureDim: meta.featureDim,
    numClasses: meta.classes.length,
    hidden: meta.head.hidden,
    layers: meta.head.layers,
    dropout: meta.head.dropout,
    preprocessing: { stats: meta.featureStats, velocity: meta.head.velocity },
  };
  let head: LstmHead;
  try {
    head = LstmHead.fromLayersModel(model, config);
  } catch (error) {
    model.dispose();
    throw new ModelDirError(`model does not match its description: ${(error as Error).message}`, { file: metaFile, cause: error });
  }
  return { model, meta, head };
}

/** A Classifier over the standard TF.js model itself (what a browser runs), for checks and comparisons. */
export function layersClassifier(model: tf.LayersModel, meta: Pick<ModelMeta, 'classes' | 'head'>): Classifier {
  return {
    numClasses: meta.classes.length,
    predictProbs(x: tf.Tensor3D): Float32Array {
      return tf.tidy(() => (model.predict(meta.head.velocity ? appendVelocity(x) : x) as tf.Tensor).dataSync() as Float32Array);
    },
  };
}
