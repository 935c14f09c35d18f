import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PipelineConfig } from '../config';
import type { Bbox, VideoJob } from '../metadata/types';
import { directoryLoader } from '../backbone/model_dir';
import { extractFrames } from '../video/extract';
import { loadModelDir, configOfModel, type LoadedModel } from '../model/model_dir';
import { frameFeatures } from '../model/recognize';
import { predictSource } from '../model/metrics';
import { topK } from '../model/head_input';
import { extractClipLandmarks } from '../landmarks/extract';
import { loadLandmarkModels, type LandmarkModels } from '../landmarks/human';
import { landmarkVectors, typicalSignerReference } from '../landmarks/normalise';
import { DEFAULT_LANDMARK_PARAMS } from '../landmarks/params';
import { landmarkFrames } from '../landmarks/stage';
import { frameSigner } from '../landmarks/framing';
import { ClipSequenceSource, NO_AUGMENTATION, type ClipFrames } from '../streams/clip_source';
import { landmarkStreamFrames } from '../streams/landmark_features';
import { concatClips } from '../streams/load';
import { evalViewsOf, landmarkStreamOptions, readsLandmarkVectors, usesCnn, usesHandCrops, usesLandmarks } from '../streams/sources';
import { DEFAULT_HAND_CROP, handCropVectors } from '../streams/hand_crops';
import { initBackend } from '../runtime/backend';
import { modelWarnings, type Prediction } from './predict';

/**
 * `predict` for a model that reads whole clips (config.stream.wholeClip: the landmark, fusion, hands and whole-clip
 * CNN recipes): the clip's frames spread over all of it (a user's clip has no WLASL range: its whole length), each
 * stream computed as its stage computes it for training (the same code), read with the model's evaluation
 * views, their probabilities averaged.
 */

interface ClipModel {
  loaded: LoadedModel;
  config: PipelineConfig;
  landmarks: LandmarkModels | null;
  backbone: tf.LayersModel | null;
}

const models = new Map<string, Promise<ClipModel>>();

async function loadClipModel(modelDir: string): Promise<ClipModel> {
  await initBackend();
  const loaded = await loadModelDir(modelDir);
  const config = configOfModel(loaded.meta, modelDir);
  const landmarks = usesLandmarks(config) ? await loadLandmarkModels() : null;
  const backbone = usesCnn(config) ? await tf.loadLayersModel(directoryLoader(path.join(modelDir, loaded.meta.backbone.dir))) : null;
  return { loaded, config, landmarks, backbone };
}

function clipModel(modelDir: string): Promise<ClipModel> {
  let m = models.get(modelDir);
  if (!m) {
    m = loadClipModel(modelDir);
    models.set(modelDir, m);
    m.catch(() => models.delete(modelDir));
  }
  return m;
}

export interface ClipPredictOptions {
  /** Crop to this box first (as WLASL bboxes); null or absent: the whole frame, or the automatic framing. */
  bbox?: Bbox | null;
  top?: number;
  /** Without a bbox, a landmark model finds the signer in a first reading and reads the clip again cut to it (default true). */
  autoFrame?: boolean;
}

export async function predictClipVideo(modelDir: string, video: string, options: ClipPredictOptions = {}): Promise<Prediction> {
  const m = await clipModel(modelDir);
  const { meta, head } = m.loaded;
  // The whole clip: WLASL's "frame_start 1, frame_end -1", at most frames.window.maxFrames of it.
  let job: VideoJob = { videoId: 'predict', path: video, bbox: options.bbox ?? null, frameStart: 1, frameEnd: -1 };
  const t0 = performance.now();
  const parts: ClipFrames[][] = [];
  let frames = 0;
  let padded = 0;
  let decodeMs = 0;
  let backboneMs = 0;
  let framing: Prediction['framing'];
  if (m.landmarks) {
    const models = m.landmarks;
    const readLandmarks = async (clipJob: VideoJob) => {
      const tDecode = performance.now();
      const lf = await landmarkFrames(clipJob, m.config.frames, DEFAULT_LANDMARK_PARAMS);
      const tModels = performance.now();
      decodeMs += tModels - tDecode;
      const clip = await extractClipLandmarks(models, lf.frames, lf.count, lf.geometry, DEFAULT_LANDMARK_PARAMS);
      backboneMs += performance.now() - tModels;
      return { lf, clip };
    };
    let { lf, clip } = await readLandmarks(job);
    // Only a model trained on clips cut to their box is read cut (the frame stage crops only with frames.cropToBbox).
    if (!job.bbox && options.autoFrame !== false && m.config.frames.cropToBbox) {
      const { width, height } = lf.details.video;
      // Without a box the picture is stretched to a square, which squashes a 16:9 signer's hands by 0.56: the
      // second reading, cut to the signer's square as the training clips were, is what makes wide clips work.
      // A box over the whole picture crops nothing: the first reading stands.
      framing = frameSigner(clip.frames, width, height, DEFAULT_LANDMARK_PARAMS.minBodyScore);
      if (framing?.applied) {
        job = { ...job, bbox: framing.bbox };
        ({ lf, clip } = await readLandmarks(job));
      }
    }
    const t1 = performance.now();
    if (readsLandmarkVectors(m.config)) {
      const vectors = landmarkVectors(clip.frames, DEFAULT_LANDMARK_PARAMS.minBodyScore, typicalSignerReference(lf.geometry.crop))!;
      parts.push([{ videoId: job.videoId, label: 0, frames: vectors.frames, data: landmarkStreamFrames(vectors, landmarkStreamOptions(m.config)) }]);
    }
    backboneMs += performance.now() - t1;
    if (usesHandCrops(m.config)) {
      // The hands stream crops the same frames decoded larger, where the landmarks put the hands (as its stage does).
      const t2 = performance.now();
      const large = await landmarkFrames(job, m.config.frames, { ...DEFAULT_LANDMARK_PARAMS, size: DEFAULT_HAND_CROP.frameSize });
      decodeMs += performance.now() - t2;
      const t3 = performance.now();
      const data = await handCropVectors(large, DEFAULT_HAND_CROP.frameSize, { frames: clip.frames, geometry: lf.geometry });
      parts.push([{ videoId: job.videoId, label: 0, frames: lf.count, data }]);
      backboneMs += performance.now() - t3;
    }
    frames = lf.count;
    padded = lf.details.padded;
  }
  if (m.backbone) {
    const t1 = performance.now();
    const decoded = await extractFrames(job, { ...m.config.frames, output: 'raw' });
    const t2 = performance.now();
    decodeMs += t2 - t1;
    const data = await frameFeatures(m.backbone, decoded.frames, decoded.count, decoded.size, meta.backbone.normalization);
    backboneMs += performance.now() - t2;
    parts.push([{ videoId: job.videoId, label: 0, frames: decoded.count, data }]);
    frames = decoded.count;
    padded = decoded.padded;
  }
  const t3 = performance.now();
  const clips = parts.length === 1 ? parts[0]! : concatClips(parts).clips;
  const views = evalViewsOf(m.config);
  const source = new ClipSequenceSource(clips, m.config.sequence.sampleSize, meta.classes.length, NO_AUGMENTATION, views);
  const { probs } = await predictSource(head, source);
  const mean = new Float32Array(meta.classes.length);
  for (let v = 0; v < views.length; v++) for (let c = 0; c < mean.length; c++) mean[c] += probs[v * mean.length + c]! / views.length;
  const t4 = performance.now();
  return {
    video,
    top: topK(mean, meta.classes, options.top ?? 5),
    windows: views.length,
    frames,
    padded,
    timings: { decodeMs, backboneMs, headMs: t4 - t3, totalMs: t4 - t0 },
    classes: meta.classes.length,
    warnings: modelWarnings(meta),
    ...(framing ? { framing } : {}),
  };
}
