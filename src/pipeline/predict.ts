import * as fs from 'node:fs';
import { DEFAULT_CONFIG, type FramesConfig } from '../config';
import { VideoError } from '../errors';
import type { Bbox } from '../metadata/types';
import { extractFrames } from '../video/extract';
import { loadRecognizerFromDirectory } from '../model/load_model_dir';
import { recognizeFrames, type Recognizer } from '../model/recognize';
import type { RankedGloss } from '../model/head_input';
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
}

const recognizers = new Map<string, Promise<Recognizer>>();

/** Loads (once per process) the recognizer of a model directory. */
export function loadRecognizer(modelDir: string): Promise<Recognizer> {
  let r = recognizers.get(modelDir);
  if (!r) {
    r = initBackend().then(() => loadRecognizerFromDirectory(modelDir));
    recognizers.set(modelDir, r);
    r.catch(() => recognizers.delete(modelDir));
  }
  return r;
}

export function framesConfigOf(recognizer: Recognizer): FramesConfig {
  const { window, size, cropToBbox } = recognizer.info.frames;
  return { ...DEFAULT_CONFIG.frames, window: { ...DEFAULT_CONFIG.frames.window, start: window.start, end: window.end }, size, cropToBbox, output: 'raw' };
}

export async function predictVideo(modelDir: string, video: string, options: { bbox?: Bbox | null; top?: number } = {}): Promise<Prediction> {
  const recognizer = await loadRecognizer(modelDir);
  if (!fs.existsSync(video)) throw new VideoError('no such video file', { file: video });
  const t0 = performance.now();
  const frames = await extractFrames({ videoId: 'predict', path: video, bbox: options.bbox ?? null }, framesConfigOf(recognizer));
  const decodeMs = performance.now() - t0;
  const result = await recognizeFrames(recognizer, frames.frames, frames.count, options.top ?? 5);
  return {
    video,
    top: result.top,
    windows: result.windows,
    frames: frames.count,
    padded: frames.padded,
    timings: { decodeMs, backboneMs: result.timings.backboneMs, headMs: result.timings.headMs, totalMs: performance.now() - t0 },
  };
}
