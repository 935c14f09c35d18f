import * as fs from 'node:fs';
import type { FramesConfig } from '../config';
import { VideoError } from '../errors';
import type { Bbox } from '../metadata/types';
import type { ClipPredictOptions } from './predict_clip';
import { extractFrames } from '../video/extract';
import { loadRecognizerFromDirectory } from '../model/load_model_dir';
import { configOfModel, readModelMeta } from '../model/model_dir';
import type { ModelMeta } from '../model/model_info';
import { SAMPLE_CLASSES } from '../sample/design';
import * as tf from '@tensorflow/tfjs';
import { classifyFeatures, type Recognizer } from '../model/recognize';
import { topK, type RankedGloss } from '../model/head_input';
import { foldMobileNetV2, type FoldedMobileNetV2 } from '../backbone/folded';
import { inferAlpha } from '../backbone/mobilenet_v2';
import { normalizePixels } from '../backbone/preprocess';
import { initBackend } from '../runtime/backend';

/**
 * `predict <video>`: the video stage, the backbone and the head on one file, with the preprocessing the model
 * directory records (frame window, size, crop, normalisation), so Node, the CLI and the browser agree.
 */
export interface Prediction {
  video: string;
  top: RankedGloss[];
  windows: number;
  frames: number;
  padded: number;
  timings: { decodeMs: number; backboneMs: number; headMs: number; totalMs: number };
  /** How many glosses the model knows (all of them: `predict --list-classes`). */
  classes: number;
  /** What the user must know to read the answer (a model that knows no real sign). */
  warnings: string[];
  /**
   * Landmark models on a clip without a bbox: the signer's box found in a first reading (landmarks/framing.ts),
   * its share of the picture, and whether the clip was read again cut to it (not when it is the whole picture).
   */
  framing?: { bbox: Bbox; share: number; applied: boolean };
}

/**
 * True for a model trained on the embedded synthetic sample (recorded at training; older folders: its classes
 * are the sample's made-up hand motions), which knows no real ASL sign.
 */
export function trainedOnSyntheticSample(meta: ModelMeta): boolean {
  const dataset = meta.training?.dataset as { synthetic?: unknown } | undefined;
  if (typeof dataset?.synthetic === 'boolean') return dataset.synthetic;
  const sample = new Set(SAMPLE_CLASSES.map((c) => c.gloss));
  return meta.classes.every((gloss) => sample.has(gloss));
}

/** Warnings about a model itself, before any clip is read. */
export function modelWarnings(meta: ModelMeta): string[] {
  if (!trainedOnSyntheticSample(meta)) return [];
  return [
    `this model was trained on the embedded synthetic sample: its ${meta.classes.length} classes (${meta.classes.join(', ')}) are made-up hand motions, not ASL signs, ` +
      'so its answer for a real clip means nothing. Use a model trained on WLASL (npm run cli -- run --data <wlasl folder>, then --model <run>/model).',
  ];
}

/** A recognizer plus, in Node, the BatchNorm-folded backbone (2-3x faster on wasm, same features to 2e-5). */
export type NodeRecognizer = Recognizer & { meta: ModelMeta; fast: FoldedMobileNetV2 | null };

const recognizers = new Map<string, Promise<NodeRecognizer>>();

async function load(modelDir: string): Promise<NodeRecognizer> {
  await initBackend();
  const r = await loadRecognizerFromDirectory(modelDir);
  const alpha = inferAlpha(r.backbone);
  let fast: FoldedMobileNetV2 | null = null;
  try {
    fast = alpha ? foldMobileNetV2(r.backbone, alpha) : null;
  } catch {
    fast = null; // not a standard MobileNetV2 layout: use the layers model as the browser does
  }
  return { ...r, fast };
}

/** Loads (once per process) the recognizer of a model directory. */
export function loadRecognizer(modelDir: string): Promise<NodeRecognizer> {
  let r = recognizers.get(modelDir);
  if (!r) {
    r = load(modelDir);
    recognizers.set(modelDir, r);
    r.catch(() => recognizers.delete(modelDir));
  }
  return r;
}

/** The frames the model was trained on, for one video: a user's clip has no WLASL range, so the fixed window. */
export function framesConfigOf(recognizer: NodeRecognizer): FramesConfig {
  const { frames } = configOfModel(recognizer.meta);
  return { ...frames, window: { ...frames.window, useMetadataRange: false, shortVideoPolicy: 'pad' }, output: 'raw' };
}

export async function predictVideo(modelDir: string, video: string, options: ClipPredictOptions = {}): Promise<Prediction> {
  if (readModelMeta(modelDir).stream.wholeClip) {
    if (!fs.existsSync(video)) throw new VideoError('no such video file', { file: video });
    const { predictClipVideo } = await import('./predict_clip');
    return predictClipVideo(modelDir, video, options);
  }
  const recognizer = await loadRecognizer(modelDir);
  if (!fs.existsSync(video)) throw new VideoError('no such video file', { file: video });
  const t0 = performance.now();
  const frames = await extractFrames({ videoId: 'predict', path: video, bbox: options.bbox ?? null }, framesConfigOf(recognizer));
  const decodeMs = performance.now() - t0;
  const t1 = performance.now();
  const features = await embed(recognizer, frames.frames, frames.count, frames.size);
  const t2 = performance.now();
  const { mean, windows } = await classifyFeatures(recognizer, features.data, frames.count, features.dim);
  const t3 = performance.now();
  return {
    video,
    top: topK(mean, recognizer.info.classes, options.top ?? 5),
    windows,
    frames: frames.count,
    padded: frames.padded,
    timings: { decodeMs, backboneMs: t2 - t1, headMs: t3 - t2, totalMs: t3 - t0 },
    classes: recognizer.info.classes.length,
    warnings: modelWarnings(recognizer.meta),
  };
}

async function embed(r: NodeRecognizer, frames: Uint8Array, count: number, size: number): Promise<{ data: Float32Array; dim: number }> {
  if (!r.fast) {
    const { frameFeatures, backboneFeatureDim } = await import('../model/recognize');
    return { data: await frameFeatures(r.backbone, frames, count, size, r.info.normalization), dim: backboneFeatureDim(r.backbone) };
  }
  const batch = 8;
  const frameValues = size * size * 3;
  const chunks: Float32Array[] = [];
  let dim = 0;
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first);
    const pixels = normalizePixels(frames.subarray(first * frameValues, (first + n) * frameValues), r.info.normalization);
    const y = tf.tidy(() => r.fast!.predict(tf.tensor4d(pixels, [n, size, size, 3])));
    dim = y.shape[1];
    chunks.push((await y.data()) as Float32Array);
    y.dispose();
  }
  const data = new Float32Array(count * dim);
  chunks.forEach((c, i) => data.set(c, i * batch * dim));
  return { data, dim };
}
