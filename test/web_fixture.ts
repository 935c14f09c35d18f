import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { saveModelToDirectory } from '../src/backbone/model_dir';
import { DEFAULT_CONFIG, mergeConfig, type FramesConfig } from '../src/config';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { writeJsonAtomic } from '../src/runtime/atomic';
import { extractFrames } from '../src/video/extract';
import { MODEL_INFO_FILE, type WlaslModelInfo } from '../src/model/model_info';
import { frameFeatures, backboneFeatureDim } from '../src/model/recognize';
import { buildHeadInput } from '../src/model/head_input';
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
export function nodeFramesConfig(info: Pick<WlaslModelInfo, 'frames'>): FramesConfig {
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
 * Writes a model directory: head (LSTM 16 -> softmax over the videos' glosses plus distractors) trained for
 * a few epochs on windows of the videos' features, with featureStats and velocity on, so the page exercises
 * every step of the head input.
 */
export async function buildFixtureModel(modelDir: string, videos: FixtureVideo[]): Promise<FixtureModel> {
  const size = 224;
  const window = { start: 5, end: 35 };
  const sampleSize = 5;
  let backboneModel: tf.LayersModel;
  let backboneName: FixtureModel['backbone'];
  if (MOBILENET_035_DIR) {
    const { directoryLoader } = await import('../src/backbone/model_dir');
    backboneModel = await tf.loadLayersModel(directoryLoader(MOBILENET_035_DIR));
    backboneName = 'mobilenet_v2_0.35 (real ImageNet)';
  } else {
    backboneModel = tinyBackbone(size);
    backboneName = 'tiny random conv';
  }
  const classes = [...videos.map((v) => v.gloss), 'distractor_a', 'distractor_b', 'distractor_c'];
  const framesConfig = nodeFramesConfig({ frames: { window, size, cropToBbox: false } });
  const dim = backboneFeatureDim(backboneModel);
  const perVideo: Float32Array[] = [];
  for (const v of videos) {
    const { frames, count } = await extractFrames({ videoId: path.basename(v.path), path: v.path, bbox: null }, framesConfig);
    perVideo.push(await frameFeatures(backboneModel, frames, count, size, 'minus1to1'));
  }
  // Standardisation statistics over all frames of all videos, as training computes them on its split.
  const all = perVideo.flatMap((f) => Array.from(f));
  const frames = all.length / dim;
  const mean = new Array<number>(dim).fill(0);
  const sq = new Array<number>(dim).fill(0);
  for (let i = 0; i < all.length; i++) {
    mean[i % dim] += all[i]! / frames;
    sq[i % dim] += (all[i]! * all[i]!) / frames;
  }
  const std = mean.map((m, k) => Math.max(Math.sqrt(Math.max(sq[k]! - m * m, 0)), 1e-3));
  const featureStats = { mean, std };
  const inputs: Float32Array[] = [];
  const labels: number[] = [];
  let inputDim = 0;
  perVideo.forEach((features, label) => {
    const built = buildHeadInput(features, features.length / dim, dim, { sampleSize, stride: sampleSize, stats: featureStats, velocity: true });
    inputs.push(built.input);
    inputDim = built.inputDim;
    for (let w = 0; w < built.windows; w++) labels.push(label);
  });
  const head = tf.sequential({
    layers: [
      tf.layers.lstm({ units: 16, inputShape: [sampleSize, inputDim], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      tf.layers.dense({ units: classes.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });
  head.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor3d(concat(inputs), [labels.length, sampleSize, inputDim]);
  const y = tf.tensor1d(labels, 'float32');
  await head.fit(x, y, { epochs: 40, batchSize: labels.length, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  await saveModelToDirectory(head, modelDir);
  await saveModelToDirectory(backboneModel, path.join(modelDir, 'backbone'));
  const info: WlaslModelInfo = {
    classes,
    sequence: { sampleSize, stride: sampleSize },
    frames: { window, size, cropToBbox: true },
    normalization: 'minus1to1',
    featureStats,
    velocity: true,
    backbone: { alpha: MOBILENET_035_DIR ? 0.35 : null, weightsId: backboneName, dir: 'backbone' },
  };
  await writeJsonAtomic(path.join(modelDir, MODEL_INFO_FILE), info);
  head.dispose();
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
