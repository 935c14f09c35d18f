import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, mergeConfig, type FramesConfig, type PipelineConfig, type SequenceConfig, type StreamConfig } from '../config';
import { describeError, ModelDirError, WlaslError } from '../errors';
import { directoryLoader, MODEL_JSON, WEIGHTS_BIN, writeModelFiles } from '../backbone/model_dir';
import { writeDirectoryAtomic } from '../runtime/atomic';
import { LstmHead, type HeadConfig } from './head';
import type { Classifier } from './metrics';
import { BACKBONE_SUBDIR, MODEL_INFO_FILE, modelMetaSchema, parseModelMeta, type ModelMeta } from './model_info';
import { appendVelocity } from './preprocess';

/**
 * A trained model directory, loadable by plain @tensorflow/tfjs in Node and in a browser:
 *   model.json     TF.js layers format (tf.loadLayersModel('<url>/model.json') in a browser)
 *   weights.bin    its weights
 *   wlasl-model.json  classes, preprocessing and backbone config, feature statistics, training summary
 *                  (schema: src/model/model_info.ts): the preprocessing travels with the model so it gives the
 *                  same results wherever it runs.
 *   backbone/      the backbone's own TF.js folder, when one is bundled
 * The model takes raw backbone features [B, T, D] (standardisation is folded into its first kernel); with
 * `head.velocity` its input is [features, features_t - features_{t-1}] ([B, T, 2D], zero difference at t=0).
 */
export { MODEL_JSON, WEIGHTS_BIN, BACKBONE_SUBDIR };
export const META_JSON = MODEL_INFO_FILE;

/**
 * The WLASL100 recogniser committed with the project (models/wlasl100, its MODEL_CARD.md says how it was made):
 * what `predict` uses when no --model is given, so a clip can be recognised right after `npm ci`.
 */
export const READY_MODEL_DIR = path.resolve(__dirname, '..', '..', 'models', 'wlasl100');

export interface ModelMetaInput {
  classes: string[];
  sequence: SequenceConfig;
  /** What the head reads per frame and how clips became sequences (config.stream); absent: cnn windows. */
  stream?: StreamConfig;
  /** How to turn a video into the model's input. */
  frames?: FramesConfig;
  /** Backbone identity: alpha, weights id, input size and normalisation (e.g. x / 127.5 - 1). */
  backbone?: Record<string, unknown>;
  /** Training summary (config, best epoch, metrics); free-form. */
  training?: Record<string, unknown>;
  /**
   * A TF.js backbone folder (model.json + weights) to copy into <dir>/backbone, so the directory is
   * self-contained for `predict` and the browser page (which read backbone.dir, default 'backbone').
   */
  backboneSourceDir?: string;
}

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
  const metaFile = path.join(dir, META_JSON);
  if (info.classes.length !== c.numClasses) {
    throw new ModelDirError(`${info.classes.length} class names for a model with ${c.numClasses} outputs`, { file: metaFile });
  }
  const written = {
    format: 'wlasl-model',
    version: 1,
    classes: info.classes,
    featureDim: c.featureDim,
    head: { hidden: c.hidden, layers: c.layers, dropout: c.dropout, standardize: c.preprocessing.stats !== null, velocity: c.preprocessing.velocity, ...(c.pooling === 'mean' ? { pooling: 'mean' } : {}), ...(c.bidirectional ? { bidirectional: true } : {}) },
    featureStats: c.preprocessing.stats,
    frames: info.frames ?? DEFAULT_CONFIG.frames,
    sequence: info.sequence,
    ...(info.stream ? { stream: info.stream } : {}),
    backbone: info.backboneSourceDir ? { dir: BACKBONE_SUBDIR, ...info.backbone } : info.backbone,
    training: info.training,
    createdAt: new Date().toISOString(),
  };
  // The reader's schema checks the writer too: a folder that would not load is never written.
  const checked = modelMetaSchema.safeParse(written);
  if (!checked.success) throw new ModelDirError(`would write an invalid model description: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { file: metaFile });
  if (info.backboneSourceDir && !fs.existsSync(path.join(info.backboneSourceDir, MODEL_JSON))) throw new ModelDirError('backbone folder has no model.json', { file: info.backboneSourceDir });
  const model = head.toLayersModel();
  try {
    await writeDirectoryAtomic(dir, async (tmp) => {
      await writeModelFiles(model, tmp);
      if (info.backboneSourceDir) await fs.promises.cp(info.backboneSourceDir, path.join(tmp, BACKBONE_SUBDIR), { recursive: true });
      await fs.promises.writeFile(path.join(tmp, META_JSON), JSON.stringify(written, null, 2) + '\n');
    });
  } finally {
    model.dispose();
  }
  return parseModelMeta(written, metaFile);
}

/** Reads and checks a model directory's wlasl-model.json (any version this code wrote), defaults filled in. */
export function readModelMeta(dir: string): ModelMeta {
  const file = path.join(dir, META_JSON);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelDirError('missing (not a model directory, or an unfinished save)', { file });
    throw new ModelDirError(code ? `cannot read the model description (${code})` : `not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
  return parseModelMeta(json, file);
}

/**
 * The pipeline settings a model folder fixes for anyone who feeds it new videos (evaluate, predict): how frames
 * are taken, the sequence windows, and its own backbone (the bundled copy, at the width it was trained with).
 */
export function configOfModel(meta: ModelMeta, dir?: string): PipelineConfig {
  return mergeConfig(DEFAULT_CONFIG, {
    frames: meta.frames,
    sequence: meta.sequence,
    stream: meta.stream,
    backbone: { ...(dir !== undefined ? { weights: path.join(dir, meta.backbone.dir) } : {}), ...(meta.backbone.alpha !== null ? { alpha: meta.backbone.alpha as PipelineConfig['backbone']['alpha'] } : {}) },
  });
}

/** A TF.js layers model from a folder, its errors (missing or truncated files) as ModelDirErrors naming the file. */
async function loadLayersFrom(dir: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(directoryLoader(dir));
  } catch (error) {
    if (error instanceof WlaslError) {
      const reason = error.file && error.message.startsWith(`${error.file}: `) ? error.message.slice(error.file.length + 2) : error.message;
      throw new ModelDirError(reason, { file: error.file ?? path.join(dir, MODEL_JSON), cause: error });
    }
    throw new ModelDirError(`TF.js cannot build the model: ${describeError(error)}`, { file: path.join(dir, MODEL_JSON), cause: error });
  }
}

/** Loads a model directory; any missing, truncated or inconsistent file gives a ModelDirError naming it. */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelDirError('model directory not found', { file: dir });
  const metaFile = path.join(dir, META_JSON);
  const model = await loadLayersFrom(dir);
  let meta: ModelMeta;
  try {
    meta = readModelMeta(dir);
  } catch (error) {
    model.dispose();
    throw error;
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
    pooling: meta.head.pooling,
    bidirectional: meta.head.bidirectional,
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
