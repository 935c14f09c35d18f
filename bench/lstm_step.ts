/**
 * ms per training step (Adam, cross-entropy) on [32, 5, 1280] cached features with LSTM(256) + dense(100):
 * tfjs-layers' LSTM (model.trainOnBatch) against this project's LstmHead (hand-written BPTT + Adam).
 *   npx tsx bench/lstm_step.ts [--steps N] [--skip-layers] [--batch 32] [--time 5] [--hidden 256] [--classes 100]
 * The LstmHead is timed on one thread and with one helper thread for the two large matmuls (train.helperThreads).
 * The machine is shared: figures are medians and still noisy.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { LstmHead } from '../src/model/head';
import { Adam } from '../src/model/adam';
import { seededNormal } from '../src/model/init';
import { ParallelMatMul } from '../src/model/parallel_matmul';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const report = await initBackend();
  const B = arg('batch', 32);
  const T = arg('time', 5);
  const D = 1280;
  const H = arg('hidden', 256);
  const C = arg('classes', 100);
  const steps = arg('steps', 30);
  console.log(`${report.summary}; input [${B}, ${T}, ${D}], LSTM(${H}) + dense(${C}), Adam`);
  const normal = seededNormal(1);
  const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => Math.max(0, normal())), [B, T, D]);
  const labels = Int32Array.from({ length: B }, (_, i) => i % C);

  if (!process.argv.includes('--skip-layers')) {
    let t0 = performance.now();
    const model = tf.sequential();
    // glorotNormal instead of the default orthogonal recurrent initialiser (seconds on wasm); step time is the same.
    model.add(tf.layers.lstm({ units: H, inputShape: [T, D], recurrentInitializer: 'glorotNormal', recurrentActivation: 'sigmoid' }));
    model.add(tf.layers.dense({ units: C, activation: 'softmax' }));
    model.compile({ optimizer: tf.train.adam(1e-4), loss: 'sparseCategoricalCrossentropy' });
    const y = tf.tensor1d(Array.from(labels), 'float32');
    console.log(`tfjs-layers build ${(performance.now() - t0).toFixed(0)} ms`);
    const times: number[] = [];
    let cpuLayers = process.cpuUsage();
    for (let i = 0; i < Math.min(steps, 8) + 2; i++) {
      if (i === 2) cpuLayers = process.cpuUsage();
      t0 = performance.now();
      await model.trainOnBatch(x, y);
      if (i >= 2) times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpuLayers);
    console.log(`before: tfjs-layers LSTM  ${median(times).toFixed(1)} ms/step (median of ${times.length}); CPU ${((cpu.user + cpu.system) / 1000 / times.length).toFixed(1)} ms/step`);
    model.dispose();
    y.dispose();
  }

  let t0 = performance.now();
  const head = LstmHead.create({ featureDim: D, numClasses: C, hidden: H, layers: 1, dropout: 0, preprocessing: { stats: null, velocity: false } }, 1);
  const params = head.params().map((p) => p.data);
  const adam = new Adam(params.map((p) => p.length), { learningRate: 1e-4 });
  console.log(`LstmHead init (seeded glorot + orthogonal) ${(performance.now() - t0).toFixed(0)} ms, ${head.parameterCount()} parameters`);
  const pool = await ParallelMatMul.start(2 * (2 * H + 8) * Math.max(D, B * T) + D * B * T);
  for (const helper of [false, true, false, true]) {
    head.bigMatMul = helper ? (a, m, k, b, n) => pool.matMul(a, m, k, b, n) : undefined;
    const total: number[] = [];
    const backprop: number[] = [];
    const update: number[] = [];
    let cpuStart = process.cpuUsage();
    for (let i = 0; i < steps + 3; i++) {
      if (i === 3) cpuStart = process.cpuUsage();
      t0 = performance.now();
      const { grads } = head.lossAndGrads(x, labels, i);
      const t1 = performance.now();
      adam.apply(params, grads);
      const t2 = performance.now();
      if (i >= 3) {
        total.push(t2 - t0);
        backprop.push(t1 - t0);
        update.push(t2 - t1);
      }
    }
    const cpu = process.cpuUsage(cpuStart);
    const label = helper ? 'LstmHead + 1 helper  ' : 'LstmHead, 1 thread  ';
    console.log(`after:  ${label} ${median(total).toFixed(1)} ms/step (forward+backward ${median(backprop).toFixed(1)}, Adam ${median(update).toFixed(1)}; median of ${total.length})`);
    // CPU time is less disturbed than wall time when other work shares the cores (main thread + helper).
    console.log(`        process CPU time      ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)} ms/step (mean), load average ${require('node:os').loadavg()[0].toFixed(1)}`);
  }
  await pool.close();
  console.log(`peak RSS ${(require('node:process').resourceUsage().maxRSS / 1024).toFixed(0)} MB (process, including the helper thread)`);
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
