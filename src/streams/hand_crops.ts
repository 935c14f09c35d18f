/**
 * The CNN on hand crops (issue 16 point 2): the frozen ImageNet backbone looks where the sign is. Each frame's
 * hands, located by the cached landmarks, are cut out of the frame as squares, scaled to `cropSize` and embedded;
 * a frame's vector is [left hand features, right hand features, left seen, right seen] (the signer's sides), zeros
 * and a 0 mask where a hand was not found. The `hands` stream of the pipeline (--features hands), measured in
 * bench/streams.ts (`hands-*` rows): stored per clip under the dataset's cache, keyed by the landmark cache, the options and the
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
import { CacheError, OutputError } from '../errors';
import { initBackend } from '../runtime/backend';
import { createProgress, type ProgressMode } from '../runtime/progress';
import type { LandmarkCache } from '../landmarks/cache';
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

/** A clip's hand-crop vectors [frames, HAND_CROP_DIMS] from its decoded frames (size x size RGB, the landmark stage's crop). */
export async function handCropVectors(decoded: { frames: Uint8Array; count: number }, size: number, entry: Pick<LandmarkEntry, 'frames' | 'geometry'>, options: HandCropOptions = DEFAULT_HAND_CROP): Promise<Float32Array> {
  const boxes = handCropBoxes(entry, options.margin);
  const wanted: { frame: number; side: number; box: CropBox }[] = [];
  boxes.forEach((sides, frame) => sides.forEach((box, side) => box && wanted.push({ frame, side, box })));
  const out = new Float32Array(entry.frames.length * HAND_CROP_DIMS);
  if (wanted.length === 0) return out;
  const model = await embeddedBackbone();
  const batch = 32;
  // Crop first, normalise the crops: 2 x 128^2 pixels a frame instead of 448^2.
  const images = tf.tensor4d(decoded.frames, [decoded.count, size, size, 3], 'float32');
  try {
    for (let first = 0; first < wanted.length; first += batch) {
      const part = wanted.slice(first, first + batch);
      const features = tf.tidy(() => {
        const crops = tf.image.cropAndResize(images, part.map((w) => w.box), part.map((w) => w.frame), [options.cropSize, options.cropSize], 'bilinear', 127.5);
        // Outside the frame is mid-grey: 0 after the [-1, 1] normalisation, as the measured bench computed it.
        return model.predict(crops.div(127.5).sub(1) as tf.Tensor4D);
      });
      const values = (await features.data()) as Float32Array;
      features.dispose();
      part.forEach((w, i) => {
        const row = w.frame * HAND_CROP_DIMS;
        out.set(values.subarray(i * HAND_FEATURE_DIM, (i + 1) * HAND_FEATURE_DIM), row + w.side * HAND_FEATURE_DIM);
        out[row + 2 * HAND_FEATURE_DIM + w.side] = 1;
      });
    }
  } finally {
    images.dispose();
  }
  return out;
}

/** One clip's hand-crop vectors, its frames decoded as the landmark stage decoded them (at options.frameSize). */
export async function handCropFeatures(job: VideoJob, entry: LandmarkEntry, frames: FramesConfig, options: HandCropOptions = DEFAULT_HAND_CROP, params: LandmarkParams = DEFAULT_LANDMARK_PARAMS): Promise<Float32Array> {
  const decoded = await landmarkFrames(job, frames, { ...params, size: options.frameSize });
  if (decoded.count !== entry.frames.length || decoded.details.sourceFrames.some((f, i) => f !== entry.sourceFrames[i])) {
    throw new Error(`decoded frames ${decoded.details.sourceFrames.join(',')} differ from the landmark entry's ${entry.sourceFrames.join(',')}`);
  }
  return handCropVectors(decoded, options.frameSize, entry, options);
}

/** The folder of hand-crop vectors for one landmark cache folder and these options. */
export function handCropCacheDir(datasetCacheDir: string, landmarkCacheDir: string, options: HandCropOptions = DEFAULT_HAND_CROP): string {
  const key = createHash('sha256').update(JSON.stringify({ landmarks: path.basename(landmarkCacheDir), options, backbone: 'embedded-0.35', version: 1 })).digest('hex').slice(0, 16);
  return path.join(datasetCacheDir, 'hand-crops', key);
}

/** What a clip's vectors were made from: its landmark entry's video stamp and frames (a recomputed entry changes it). */
function entryStamp(entry: LandmarkEntry): string {
  return JSON.stringify({ source: entry.source, sourceFrames: entry.sourceFrames, hands: entry.stats.handsAtVisibleWrists });
}

const vectorsFile = (dir: string, videoId: string) => path.join(dir, `${videoId}.f32`);
const stampFile = (dir: string, videoId: string) => path.join(dir, `${videoId}.json`);

/** A clip's cached vectors, or null when absent, damaged or made from another landmark entry. */
function readCached(dir: string, videoId: string, stamp: string | null, frames: number | null): Float32Array | null {
  try {
    if (stamp !== null && fs.readFileSync(stampFile(dir, videoId), 'utf8') !== stamp) return null;
    const bytes = fs.readFileSync(vectorsFile(dir, videoId));
    if (bytes.byteLength === 0 || bytes.byteLength % (4 * HAND_CROP_DIMS) !== 0) return null;
    if (frames !== null && bytes.byteLength !== frames * HAND_CROP_DIMS * 4) return null;
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
  } catch {
    return null;
  }
}

/** Computes and stores one clip (vectors first, then the stamp that makes them valid: a kill between leaves them unused). */
async function computeClip(job: VideoJob, entry: LandmarkEntry, frames: FramesConfig, dir: string, options: HandCropOptions): Promise<Float32Array> {
  const data = await handCropFeatures(job, entry, frames, options);
  await writeFileAtomic(vectorsFile(dir, job.videoId), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await writeFileAtomic(stampFile(dir, job.videoId), entryStamp(entry));
  return data;
}

export interface BuildHandCropReport {
  cacheDir: string;
  total: number;
  computed: number;
  reused: number;
  /** Clips without a landmark entry or whose frames could not be decoded again, with the reason. */
  failed: { videoId: string; reason: string }[];
  seconds: number;
  /** Clips computed per second in this run. */
  clipsPerSecond: number;
}

/**
 * The hand-crop stage: every clip's vectors from its landmark entry (which must exist: the landmark stage runs
 * first), cached under the dataset's cache, one atomic file per clip, so a killed run resumes; an entry the
 * landmark stage recomputed makes its clip recomputed here too. Runs in this thread: the backbone on 2 x 128^2
 * crops is a fifth of the landmark stage's cost (bench/streams.ts), not worth a worker pool's model copies.
 */
export async function buildHandCropCache(options: {
  jobs: readonly VideoJob[];
  datasetCacheDir: string;
  landmarks: LandmarkCache;
  frames: FramesConfig;
  crop?: HandCropOptions;
  progress?: ProgressMode;
}): Promise<BuildHandCropReport> {
  await initBackend();
  const crop = options.crop ?? DEFAULT_HAND_CROP;
  const dir = handCropCacheDir(options.datasetCacheDir, options.landmarks.dir, crop);
  fs.mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const failed: BuildHandCropReport['failed'] = [];
  let computed = 0;
  let reused = 0;
  const progress = createProgress('hand crops', options.jobs.length, { mode: options.progress, unit: 'videos' });
  for (const job of options.jobs) {
    let entry: LandmarkEntry;
    try {
      entry = options.landmarks.read(job.videoId);
    } catch (error) {
      if (!(error instanceof CacheError)) throw error;
      failed.push({ videoId: job.videoId, reason: `no landmarks: ${error.message}` });
      progress.tick(1, job.videoId);
      continue;
    }
    if (readCached(dir, job.videoId, entryStamp(entry), entry.frames.length)) {
      reused++;
    } else {
      try {
        await computeClip(job, entry, options.frames, dir, crop);
        computed++;
      } catch (error) {
        if (error instanceof OutputError) throw error;
        failed.push({ videoId: job.videoId, reason: `${job.path}: ${(error as Error).message}` });
      }
    }
    progress.tick(1, job.videoId);
  }
  const seconds = (Date.now() - t0) / 1000;
  progress.stop();
  return { cacheDir: dir, total: options.jobs.length, computed, reused, failed, seconds, clipsPerSecond: computed / Math.max(seconds, 1e-9) };
}

export function formatHandCropSummary(r: BuildHandCropReport): string {
  return `hand crops: ${r.computed} computed, ${r.reused} reused, ${r.failed.length} failed${r.computed ? `, ${r.clipsPerSecond.toFixed(2)} clips/s` : ''} -> ${r.cacheDir}`;
}

/** The hand-crop stream of each video from the stage's folder (stamps were checked when the stage ran). */
export function loadHandCropStream(videos: readonly { videoId: string; label: number }[], dir: string): { clips: ClipFrames[]; missing: { videoId: string; reason: string }[] } {
  const clips: ClipFrames[] = [];
  const missing: { videoId: string; reason: string }[] = [];
  for (const v of videos) {
    const data = readCached(dir, v.videoId, null, null);
    if (data) clips.push({ videoId: v.videoId, label: v.label, frames: data.length / HAND_CROP_DIMS, data });
    else missing.push({ videoId: v.videoId, reason: `no hand-crop vectors in ${dir}: run the hand-crop stage` });
  }
  return { clips, missing };
}

/**
 * Hand-crop clips for these videos, computed where missing (bench/streams.ts): `entryOf` gives each video's
 * landmark entry; a video without one is left out and listed.
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
    const entry = entryOf(v.videoId);
    if (!entry) {
      missing.push({ videoId: v.videoId, reason: 'no landmark entry' });
      continue;
    }
    let data = readCached(dir, v.videoId, entryStamp(entry), entry.frames.length);
    if (!data) {
      try {
        data = await computeClip(v, entry, frames, dir, options);
      } catch (error) {
        missing.push({ videoId: v.videoId, reason: (error as Error).message });
        continue;
      }
      computed++;
      if (computed % 25 === 0) log(`hand crops: ${i + 1}/${videos.length} clips (${computed} computed, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    clips.push({ videoId: v.videoId, label: v.label, frames: data.length / HAND_CROP_DIMS, data });
  }
  log(`hand crops: ${clips.length} clips (${computed} computed, ${missing.length} missing) in ${((Date.now() - t0) / 1000).toFixed(0)} s -> ${dir}`);
  return { clips, missing };
}
