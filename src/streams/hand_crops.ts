/**
 * The CNN on hand crops (issue 16 point 2): the frozen ImageNet backbone looks where the sign is. Each frame's
 * hands, located by the cached landmarks, are cut out of the frame as squares, scaled to `cropSize` and embedded;
 * a frame's vector is [left hand features, right hand features, left seen, right seen] (the signer's sides), zeros
 * and a 0 mask where a hand was not found. Measured in bench/streams.ts (`hands-*` rows) before it becomes a
 * pipeline stream: stored per clip under the dataset's cache, keyed by the landmark cache, the options and the
 * backbone, written atomically, so a killed computation resumes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { FramesConfig } from '../config';
import type { VideoJob } from '../metadata/types';
import { writeFileAtomic } from '../runtime/atomic';
import { directoryLoader } from '../backbone/model_dir';
import { foldMobileNetV2, type FoldedMobileNetV2 } from '../backbone/folded';
import { EMBEDDED_ALPHA, EMBEDDED_WEIGHTS_DIR } from '../backbone/source';
import { normalizePixels } from '../backbone/preprocess';
import { DEFAULT_LANDMARK_PARAMS, landmarkFrames, type LandmarkEntry, type LandmarkParams } from '../landmarks/index';
import { HAND_POINTS, SIDES } from '../landmarks/types';
import type { ClipFrames } from './clip_source';

export interface HandCropOptions {
  /** Side of the square the backbone sees. */
  cropSize: number;
  /** Side of the decoded frame the crops are cut from (the landmark stage's square bbox crop, at this size). */
  frameSize: number;
  /** Crop side as a multiple of the hand's larger extent (its 21 points' box). */
  margin: number;
}

/** 128: the hands are 40-90 source pixels in WLASL clips, so a larger crop only upsamples; a third of 224's cost. */
export const DEFAULT_HAND_CROP: HandCropOptions = { cropSize: 128, frameSize: 448, margin: 1.5 };

export const HAND_FEATURE_DIM = 1280;
export const HAND_CROP_DIMS = 2 * HAND_FEATURE_DIM + 2;

/** [y1, x1, y2, x2] in 0..1 of the decoded frame (tf.image.cropAndResize's boxes). */
export type CropBox = [number, number, number, number];

/** Each frame's hand boxes, per side (left, right); null where the landmarks have no hand. */
export function handCropBoxes(entry: Pick<LandmarkEntry, 'frames' | 'geometry'>, margin: number): (CropBox | null)[][] {
  const { crop } = entry.geometry;
  return entry.frames.map((frame) =>
    SIDES.map((side) => {
      const hand = frame[side];
      if (!hand) return null;
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let p = 0; p < HAND_POINTS; p++) {
        const x = hand.points[p * 3]!;
        const y = hand.points[p * 3 + 1]!;
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
      const half = (margin * Math.max(x1 - x0, y1 - y0, 1)) / 2;
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      return [(cy - half - crop.y) / crop.height, (cx - half - crop.x) / crop.width, (cy + half - crop.y) / crop.height, (cx + half - crop.x) / crop.width];
    }),
  );
}

let backbone: Promise<FoldedMobileNetV2> | undefined;
function embeddedBackbone(): Promise<FoldedMobileNetV2> {
  backbone ??= tf.loadLayersModel(directoryLoader(EMBEDDED_WEIGHTS_DIR)).then((m) => foldMobileNetV2(m, EMBEDDED_ALPHA));
  return backbone;
}

/** One clip's hand-crop vectors [frames, HAND_CROP_DIMS], from its frames decoded as the landmark stage did. */
export async function handCropFeatures(job: VideoJob, entry: LandmarkEntry, frames: FramesConfig, options: HandCropOptions = DEFAULT_HAND_CROP, params: LandmarkParams = DEFAULT_LANDMARK_PARAMS): Promise<Float32Array> {
  const decoded = await landmarkFrames(job, frames, { ...params, size: options.frameSize });
  if (decoded.count !== entry.frames.length || decoded.details.sourceFrames.some((f, i) => f !== entry.sourceFrames[i])) {
    throw new Error(`${job.path}: decoded frames ${decoded.details.sourceFrames.join(',')} differ from the landmark entry's ${entry.sourceFrames.join(',')}`);
  }
  const boxes = handCropBoxes(entry, options.margin);
  const wanted: { frame: number; side: number; box: CropBox }[] = [];
  boxes.forEach((sides, frame) => sides.forEach((box, side) => box && wanted.push({ frame, side, box })));
  const out = new Float32Array(entry.frames.length * HAND_CROP_DIMS);
  if (wanted.length === 0) return out;
  const size = options.frameSize;
  const pixels = normalizePixels(decoded.frames, 'minus1to1');
  const model = await embeddedBackbone();
  const batch = 32;
  const images = tf.tensor4d(pixels, [decoded.count, size, size, 3]);
  for (let first = 0; first < wanted.length; first += batch) {
    const part = wanted.slice(first, first + batch);
    const features = tf.tidy(() => {
      const crops = tf.image.cropAndResize(images, part.map((w) => w.box), part.map((w) => w.frame), [options.cropSize, options.cropSize], 'bilinear', 0);
      return model.predict(crops);
    });
    const values = (await features.data()) as Float32Array;
    features.dispose();
    part.forEach((w, i) => {
      const row = w.frame * HAND_CROP_DIMS;
      out.set(values.subarray(i * HAND_FEATURE_DIM, (i + 1) * HAND_FEATURE_DIM), row + w.side * HAND_FEATURE_DIM);
      out[row + 2 * HAND_FEATURE_DIM + w.side] = 1;
    });
  }
  images.dispose();
  return out;
}

/** The folder of hand-crop vectors for one landmark cache folder and these options. */
export function handCropCacheDir(datasetCacheDir: string, landmarkCacheDir: string, options: HandCropOptions = DEFAULT_HAND_CROP): string {
  const key = createHash('sha256').update(JSON.stringify({ landmarks: path.basename(landmarkCacheDir), options, backbone: 'embedded-0.35', version: 1 })).digest('hex').slice(0, 16);
  return path.join(datasetCacheDir, 'hand-crops', key);
}

/**
 * Hand-crop clips for these videos, computed where missing (resumable: one atomic file per clip). `entries`
 * gives each video's landmark entry; a video without one is left out and listed.
 */
export async function loadHandCropClips(
  videos: readonly (VideoJob & { label: number })[],
  entryOf: (videoId: string) => LandmarkEntry | null,
  frames: FramesConfig,
  dir: string,
  options: HandCropOptions = DEFAULT_HAND_CROP,
  log: (line: string) => void = () => undefined,
): Promise<{ clips: ClipFrames[]; missing: { videoId: string; reason: string }[] }> {
  fs.mkdirSync(dir, { recursive: true });
  const clips: ClipFrames[] = [];
  const missing: { videoId: string; reason: string }[] = [];
  let computed = 0;
  const t0 = Date.now();
  for (const [i, v] of videos.entries()) {
    const file = path.join(dir, `${v.videoId}.f32`);
    let data: Float32Array;
    if (fs.existsSync(file)) {
      const bytes = fs.readFileSync(file);
      data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    } else {
      const entry = entryOf(v.videoId);
      if (!entry) {
        missing.push({ videoId: v.videoId, reason: 'no landmark entry' });
        continue;
      }
      try {
        data = await handCropFeatures(v, entry, frames, options);
      } catch (error) {
        missing.push({ videoId: v.videoId, reason: (error as Error).message });
        continue;
      }
      await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      computed++;
      if (computed % 25 === 0) log(`hand crops: ${i + 1}/${videos.length} clips (${computed} computed, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    clips.push({ videoId: v.videoId, label: v.label, frames: data.length / HAND_CROP_DIMS, data });
  }
  log(`hand crops: ${clips.length} clips (${computed} computed, ${missing.length} missing) in ${((Date.now() - t0) / 1000).toFixed(0)} s -> ${dir}`);
  return { clips, missing };
}
