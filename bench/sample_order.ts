/**
 * Does the embedded sample need a sequence model? Extracts frozen ImageNet MobileNetV2-0.35 features of
 * frames 5..35 (bbox crop, 224 px, as the original) for every sample video, then trains on 5-frame windows:
 *   - an LSTM (order-aware), and
 *   - the same head on the mean of the window's features (order-blind),
 * and prints per-video test accuracy (mean of window probabilities). Within each pair the order-blind model
 * sees identical inputs for both classes, so it cannot exceed 50% overall.
 * Run: npx tsx bench/sample_order.ts [epochs]   (a few minutes; shared machine: timings are noisy)
 */
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { readWlaslMetadata } from '../src/metadata/parse';
import { buildVideoIndex } from '../src/metadata/video_index';
import { directoryLoader } from '../src/backbone/model_dir';
import { featureModel } from '../src/backbone/mobilenet_v2';

const REPO = path.resolve(__dirname, '..');
const WEIGHTS = path.resolve(REPO, '..', 'shared', 'weights', 'mobilenet_v2_0.35_224_no_top');
const SAMPLE = path.join(REPO, 'data', 'sample');
const WINDOW = 5;

function frames(file: string, bbox: [number, number, number, number]): Float32Array {
  const [x0, y0, x1, y1] = bbox;
  const vf = `select='between(n\\,5\\,35)',crop=${x1 - x0}:${y1 - y0}:${x0}:${y0},scale=224:224`;
  const raw = execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-i', file, '-vf', vf, '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! / 127.5 - 1;
  return out;
}

async function main(): Promise<void> {
  const epochs = Number(process.argv[2] ?? 40);
  console.log((await initBackend()).summary);
  const index = buildVideoIndex(readWlaslMetadata(path.join(SAMPLE, 'WLASL_v0.3.json')), { videosDir: path.join(SAMPLE, 'videos') });
  const base = await tf.loadLayersModel(directoryLoader(WEIGHTS));
  const features = featureModel(base);
  const t0 = Date.now();
  const perVideo: { split: string; label: number; windows: number[][][] }[] = [];
  for (const [i, e] of index.present.entries()) {
    const px = frames(e.path!, e.bbox!);
    const n = px.length / (224 * 224 * 3);
    const f = tf.tidy(() => (features.predict(tf.tensor4d(px, [n, 224, 224, 3])) as tf.Tensor2D).arraySync());
    const windows: number[][][] = [];
    for (let s = 0; s + WINDOW <= n; s += WINDOW) windows.push(f.slice(s, s + WINDOW));
    perVideo.push({ split: e.split, label: e.label, windows });
    if ((i + 1) % 32 === 0) console.log(`features: ${i + 1}/${index.present.length} videos, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const dim = perVideo[0]!.windows[0]![0]!.length;
  const classes = index.classes.length;
  const set = (split: string) => perVideo.filter((v) => v.split === split);
  const xs = (vs: typeof perVideo) => tf.tensor3d(vs.flatMap((v) => v.windows));
  const ys = (vs: typeof perVideo) => tf.oneHot(tf.tensor1d(vs.flatMap((v) => v.windows.map(() => v.label)), 'int32'), classes);

  async function run(kind: 'lstm' | 'mean'): Promise<{ train: number; test: number; pairs: number }> {
    const model = tf.sequential();
    if (kind === 'lstm') model.add(tf.layers.lstm({ units: 64, inputShape: [WINDOW, dim], recurrentInitializer: 'glorotUniform', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
    else {
      model.add(tf.layers.globalAveragePooling1d({ inputShape: [WINDOW, dim] }));
      model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
    }
    model.add(tf.layers.dropout({ rate: 0.3 }));
    model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const trainX = xs(set('train'));
    const trainY = ys(set('train'));
    await model.fit(trainX, trainY, { epochs, batchSize: 32, shuffle: true, verbose: 0, validationData: [xs(set('val')), ys(set('val'))] });
    const videoAcc = (vs: typeof perVideo) => {
      let right = 0;
      let pairRight = 0;
      for (const v of vs) {
        const p = tf.tidy(() => (model.predict(tf.tensor3d(v.windows)) as tf.Tensor2D).mean(0).arraySync() as number[]);
        const guess = p.indexOf(Math.max(...p));
        if (guess === v.label) right++;
        if (guess >> 1 === v.label >> 1) pairRight++;
      }
      return { acc: right / vs.length, pairs: pairRight / vs.length };
    };
    const tr = videoAcc(set('train'));
    const te = videoAcc(set('test'));
    return { train: tr.acc, test: te.acc, pairs: te.pairs };
  }
  for (const kind of ['lstm', 'mean'] as const) {
    const t = Date.now();
    const r = await run(kind);
    console.log(`${kind === 'lstm' ? 'LSTM(64) on 5-frame windows  ' : 'order-blind (mean of window) '}: per-video train ${(100 * r.train).toFixed(0)}%, test ${(100 * r.test).toFixed(0)}% (right pair ${(100 * r.pairs).toFixed(0)}%), ${epochs} epochs, ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
