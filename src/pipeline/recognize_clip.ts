import * as tf from '@tensorflow/tfjs';
import { ModelDirError } from '../errors';
import { extractClipLandmarks, type FrameGeometry } from '../landmarks/extract';
import type { LandmarkModels } from '../landmarks/human';
import { landmarkVectors, typicalSignerReference } from '../landmarks/normalise';
import { DEFAULT_LANDMARK_PARAMS } from '../landmarks/params';
import type { ClipLandmarkStats, FrameLandmarks } from '../landmarks/types';
import { ClipSequenceSource, EVAL_SPANS, NO_AUGMENTATION, WHOLE_CLIP } from '../streams/clip_source';
import { landmarkStreamDims, landmarkStreamFrames, landmarkStreamOptions } from '../streams/landmark_features';
import { averageWindows, buildHeadInput, topK, type RankedGloss } from '../model/head_input';
import type { WlaslModelInfo } from '../model/model_info';

/**
 * A whole-clip landmark model on one clip's frames -> top glosses: the browser page's twin of Node's
 * `predict` for such a model (src/pipeline/predict_clip.ts), on the same shared code: the landmark models run
 * as the landmark stage runs them (wrist-placed hand crops), the vectors are normalised as training read them,
 * and the head reads the model's evaluation views. Browser-safe: TensorFlow.js only.
 */
export interface LandmarkRecognizer {
  head: tf.LayersModel;
  info: WlaslModelInfo;
  landmarks: LandmarkModels;
}

export interface LandmarkRecognition {
  probabilities: Float32Array;
  top: RankedGloss[];
  /** Evaluation views averaged. */
  windows: number;
  /** Each frame's landmarks in source pixels (for drawing), and their counts. */
  frames: FrameLandmarks[];
  stats: ClipLandmarkStats;
  timings: { landmarksMs: number; headMs: number };
}

/** Checks that the head reads the landmark stream and gives the model's classes, before any video is read. */
export function checkLandmarkRecognizer(r: Pick<LandmarkRecognizer, 'head' | 'info'>, dir?: string): void {
  const at = (name: string) => (dir ? `${dir.replace(/[\\/]+$/, '')}/${name}` : name);
  if (r.info.stream.features !== 'landmarks' || !r.info.stream.wholeClip) {
    throw new ModelDirError(`reads ${r.info.stream.features} over ${r.info.stream.wholeClip ? 'whole clips' : 'windows'}, not landmarks over whole clips`, { file: at('wlasl-model.json') });
  }
  const input = r.head.inputs[0]!.shape;
  const dims = landmarkStreamDims(r.info.stream);
  const expected = r.info.velocity ? 2 * dims : dims;
  if (input.length !== 3 || input[2] !== expected) {
    throw new ModelDirError(`head input [${input.join(', ')}] does not read ${expected} landmark values a step`, { file: at('model.json') });
  }
  const out = r.head.outputs[0]!.shape;
  if (out[out.length - 1] !== r.info.classes.length) {
    throw new ModelDirError(`head gives ${out[out.length - 1]} classes, wlasl-model.json lists ${r.info.classes.length}`, { file: at('model.json') });
  }
}

/**
 * A whole-clip model's per-frame vectors [frames, dim] -> the head on each evaluation view (sampleSize frames
 * spread over a span of the clip, as ClipSequenceSource gives them to training's evaluation) -> mean probabilities.
 */
export async function classifyClip(head: tf.LayersModel, info: WlaslModelInfo, data: Float32Array, frames: number, dim: number): Promise<{ mean: Float32Array; windows: number }> {
  const T = info.sequence.sampleSize;
  const views = info.stream.evalViews === 'spans' ? EVAL_SPANS : WHOLE_CLIP;
  const clip = { videoId: 'clip', label: 0, frames, data };
  const source = new ClipSequenceSource([clip], T, info.classes.length, NO_AUGMENTATION, views, dim);
  const rows = new Float32Array(views.length * T * dim);
  views.forEach((v, i) => rows.set(source.view(clip, null, v), i * T * dim));
  // Each view is one window of T steps: standardisation and velocity as for any window (velocity 0 at its start).
  const { input, windows, inputDim } = buildHeadInput(rows, views.length * T, dim, { sampleSize: T, stride: T, stats: info.featureStats, velocity: info.velocity });
  const probs = tf.tidy(() => head.predict(tf.tensor3d(input, [windows, T, inputDim])) as tf.Tensor);
  const values = (await probs.data()) as Float32Array;
  probs.dispose();
  return { mean: averageWindows(values, windows, info.classes.length), windows };
}

/** RGB frames [count, size, size, 3] of a whole clip (geometry: which source pixels they show) -> top-k glosses. */
export async function recognizeLandmarkClip(r: LandmarkRecognizer, frames: Uint8Array, count: number, geometry: FrameGeometry, k = 5): Promise<LandmarkRecognition> {
  const t0 = now();
  const clip = await extractClipLandmarks(r.landmarks, frames, count, geometry, DEFAULT_LANDMARK_PARAMS);
  // A clip without both shoulders in any frame is read against the typical signer's place in the picture, as in training.
  const vectors = landmarkVectors(clip.frames, DEFAULT_LANDMARK_PARAMS.minBodyScore, typicalSignerReference(geometry.crop))!;
  const options = landmarkStreamOptions(r.info);
  const data = landmarkStreamFrames(vectors, options);
  const t1 = now();
  const { mean, windows } = await classifyClip(r.head, r.info, data, vectors.frames, landmarkStreamDims(options));
  const t2 = now();
  return { probabilities: mean, top: topK(mean, r.info.classes, k), windows, frames: clip.frames, stats: clip.stats, timings: { landmarksMs: t1 - t0, headMs: t2 - t1 } };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
