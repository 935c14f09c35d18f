import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { directoryLoader, saveModelToDirectory } from '../src/backbone/model_dir';
import { DEFAULT_CONFIG, mergeConfig, type FramesConfig } from '../src/config';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { extractFrames } from '../src/video/extract';
import { MODEL_INFO_FILE, parseModelInfo, type WlaslModelInfo } from '../src/model/model_info';
import { saveModelDir } from '../src/model/model_dir';
import { createHead, fit } from '../src/model/train';
import { windowStarts } from '../src/dataset/sequences';
import { InMemorySequenceSource } from '../src/dataset/in_memory';
import type { SequenceSample } from '../src/dataset/types';
import { frameFeatures, backboneFeatureDim } from '../src/model/recognize';
import { MOBILENET_035_DIR, REAL10_DIR, REPO_ROOT } from './helpers';

/**
 * Real inputs for the browser tests and bench: sample videos (the embedded sample, else real WLASL clips, else
 * clips made here with ffmpeg) and a model directory in the contract's layout, with the real MobileNetV2-0.35
 * backbone when present and a small LSTM head trained a few steps on these videos' own features.
 */
export interface FixtureVideo {
  path: string;
  gloss: string;
}

/** Frames as Node's predict reads a user video: the model's window, no bbox, whole frame stretched to size. */
export function nodeFramesConfig(info: { frames: { window: { start: number; end: number }; size: number } }): FramesConfig {
  return mergeConfig(DEFAULT_CONFIG.frames, { window: { start: info.frames.window.start, end: info.frames.window.end, shortVideoPolicy: 'pad', useMetadataRange: false }, size: info.frames.size, cropToBbox: false });
}

function makeVideo(file: string, pattern: string, seconds = 2): void {
  execFileSync(ffmpegBinaries().ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', pattern, '-t', String(seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-r', '25', file]);
}

/**
 * Up to `count` H.264 mp4 clips with distinct glosses: data/sample/videos first (the embedded dataset), then
 * ../shared/data/wlasl-real10, then synthetic ffmpeg clips in `tmpDir` whose pixels change every frame (so
 * a frame read one off shows).
 */
export function fixtureVideos(tmpDir: string, count = 3): { videos: FixtureVideo[]; source: string } {
  const sampleDir = path.join(REPO_ROOT, 'data', 'sample', 'videos');
  const sampleMeta = path.join(REPO_ROOT, 'data', 'sample', 'WLASL_v0.3.json');
  for (const [dir, meta, source] of [
    [sampleDir, sampleMeta, 'embedded sample'],
    [REAL10_DIR && path.join(REAL10_DIR, 'videos'), REAL10_DIR && path.join(REAL10_DIR, 'WLASL_v0.3.json'), 'wlasl-real10'],
  ] as const) {
    if (!dir || !meta || !fs.existsSync(dir) || !fs.existsSync(meta)) continue;
    const glossOf = new Map<string, string>();
    for (const entry of JSON.parse(fs.readFileSync(meta, 'utf8')) as { gloss: string; instances: { video_id: string }[] }[]) {
      for (const inst of entry.instances) glossOf.set(inst.video_id, entry.gloss);
    }
    const videos: FixtureVideo[] = [];
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.mp4')).sort()) {
      const gloss = glossOf.get(name.replace(/\.mp4$/, ''));
      if (gloss && !videos.some((v) => v.gloss === gloss)) videos.push({ path: path.join(dir, name), gloss });
      if (videos.length === count) return { videos, source };
    }
  }
  const patterns = [
    "testsrc=size=320x240:rate=25,geq=r='mod(X+N*9,256)':g='mod(Y*2+N*5,256)':b='mod(N*7,256)'",
    "testsrc2=size=320x240:rate=25,hue=H=t*3",
    "mandelbrot=size=320x240:rate=25",
  ];
  const videos = patterns.slice(0, count).map((pattern, i) => {
    const file = path.join(tmpDir, `synthetic_${i}.mp4`);
    makeVideo(file, pattern);
    return { path: file, gloss: ['alpha', 'beta', 'gamma'][i]! };
  });
  return { videos, source: 'ffmpeg synthetic' };
}

/** A tiny seeded convolutional backbone, [N,224,224,3] -> [N,7,7,32], when the real weights are absent. */
function tinyBackbone(size: number): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [size, size, 3], filters: 16, kernelSize: 8, strides: 8, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: 32, kernelSize: 4, strides: 4, activation: 'relu', kernelInitializer: init(2) }),
    ],
  });
}

export interface FixtureModel {
  modelDir: string;
  info: WlaslModelInfo;
  backbone: 'mobilenet_v2_0.35 (real ImageNet)' | 'tiny random conv';
}

/**
 * Writes a model directory the way training does (createHead, fit, saveModelDir): an LSTM 16 head with
 * standardisation and velocity, trained a few epochs on windows of the videos' features, over their glosses
 * plus distractors, so the page exercises every step of the head input.
 */
export async function buildFixtureModel(modelDir: string, videos: FixtureVideo[]): Promise<FixtureModel> {
  const size = 224;
  const window = { start: 5, end: 35 };
  const sampleSize = 5;
  let backboneModel: tf.LayersModel;
  let backboneName: FixtureModel['backbone'];
  if (MOBILENET_035_DIR) {
    backboneModel = await tf.loadLayersModel(directoryLoader(MOBILENET_035_DIR));
    backboneName = 'mobilenet_v2_0.35 (real ImageNet)';
  } else {
    backboneModel = tinyBackbone(size);
    backboneName = 'tiny random conv';
  }
  const classes = [...videos.map((v) => v.gloss), 'distractor_a', 'distractor_b', 'distractor_c'];
  const framesConfig = nodeFramesConfig({ frames: { window, size } });
  const dim = backboneFeatureDim(backboneModel);
  const rows: Float32Array[] = [];
  const samples: SequenceSample[] = [];
  for (const [label, v] of videos.entries()) {
    const { frames, count } = await extractFrames({ videoId: path.basename(v.path), path: v.path, bbox: null }, framesConfig);
    const features = await frameFeatures(backboneModel, frames, count, size, 'minus1to1');
    for (const start of windowStarts(count, sampleSize, sampleSize)) {
      rows.push(features.subarray(start * dim, (start + sampleSize) * dim));
      samples.push({ videoId: path.basename(v.path), label, start, length: sampleSize });
    }
  }
  const source = new InMemorySequenceSource(concat(rows), [samples.length, sampleSize, dim], samples, classes.length);
  const head = await createHead(source, { hidden: 16, layers: 1, dropout: 0, standardize: true, velocity: true }, 3);
  await fit(head, source, source, { ...DEFAULT_CONFIG.train, epochs: 40, batchSize: samples.length, learningRate: 0.01, patience: 40, seed: 5 }, { progress: 'none' });
  // The backbone travels inside the model folder, as a training run saves it.
  const backboneSourceDir = MOBILENET_035_DIR ?? path.join(path.dirname(modelDir), `${path.basename(modelDir)}-backbone-source`);
  if (!MOBILENET_035_DIR) await saveModelToDirectory(backboneModel, backboneSourceDir);
  await saveModelDir(modelDir, head, {
    classes,
    sequence: { sampleSize, stride: sampleSize },
    frames: mergeConfig(DEFAULT_CONFIG.frames, { window, size }),
    backbone: { alpha: MOBILENET_035_DIR ? 0.35 : undefined, weightsId: backboneName, normalization: 'minus1to1' },
    backboneSourceDir,
  });
  const info = parseModelInfo(JSON.parse(fs.readFileSync(path.join(modelDir, MODEL_INFO_FILE), 'utf8')));
  backboneModel.dispose();
  return { modelDir, info, backbone: backboneName };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
