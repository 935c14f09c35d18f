/**
 * ms per training step (Adam, cross-entropy) on cached features, for the original's step ([32, 5, 1280] with
 * LSTM(256) + dense(100)) and the default recipe's ([16, 16, 1280] with LSTM(128)): tfjs-layers' LSTM
 * (model.trainOnBatch) against this project's LstmHead (hand-written BPTT + Adam), on one thread and with one
 * helper thread for the two large matmuls (train.helperThreads). With a roofline: the step's FLOPs, the rate the
 * wasm backend reaches on the step's own products on this machine, and so the fastest the step can be here.
 *   npx tsx bench/lstm_step.ts [--steps N] [--skip-layers]            # both steps
 *   npx tsx bench/lstm_step.ts --batch 32 --time 5 --hidden 256 --classes 100   # one step of your own
 * The machine is shared: figures are medians and still noisy. Ends with one JSON line of its figures.
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

interface StepShape {
  name: string;
  B: number;
  T: number;
  H: number;
  C: number;
}
const D = 1280;

/**
 * The matrix products of one training step (forward and backward), as [m, k] @ [k, n] with how often each runs,
 * and the rest (gates, Adam) counted roughly: the products are over 90% of the FLOPs.
 */
function stepProducts({ B, T, H, C }: StepShape): Array<{ what: string; m: number; k: number; n: number; times: number }> {
  const G = 4 * H;
  return [
    { what: 'input projection [4H,D]@[D,TB]', m: G, k: D, n: T * B, times: 1 },
    { what: 'kernel gradient [4H,TB]@[TB,D]', m: G, k: T * B, n: D, times: 1 },
    { what: 'recurrent step [4H,H]@[H,B]', m: G, k: H, n: B, times: T - 1 },
    { what: 'recurrent grad-h [H,4H]@[4H,B]', m: H, k: G, n: B, times: T - 1 },
    { what: 'recurrent weight grad [4H,(T-1)B]@[(T-1)B,H]', m: G, k: (T - 1) * B, n: H, times: T > 1 ? 1 : 0 },
    { what: 'classifier and its gradients', m: B, k: H, n: C, times: 3 },
  ];
}

/**
 * GFLOP/s of the active backend on one product shape, operands resident. Timed in CPU time of this process (the
 * wasm backend runs on this thread only), which other work on a shared machine disturbs far less than wall time.
 */
function matMulRate(m: number, k: number, n: number): number {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  const run = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  run();
  run();
  const runs = Math.max(5, Math.ceil(2e9 / (2 * m * k * n)));
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) run();
  const cpu = process.cpuUsage(start);
  tf.dispose([a, b]);
  return (2 * m * k * n * runs) / ((cpu.user + cpu.system) / 1e6) / 1e9;
}

/** FLOPs of a step and the fastest it can run at the rates this backend reaches on its own products. */
function roofline(shape: StepShape): { flops: number; floorMs: number; lines: string[] } {
  const { B, T, H, C } = shape;
  const G = 4 * H;
  const lines: string[] = [];
  let flops = 0;
  let floorMs = 0;
  for (const p of stepProducts(shape)) {
    if (p.times === 0) continue;
    const f = 2 * p.m * p.k * p.n * p.times;
    const rate = matMulRate(p.m, p.k, p.n);
    flops += f;
    floorMs += (f / (rate * 1e9)) * 1000;
    lines.push(`  ${p.what.padEnd(46)} ${(f / 1e6).toFixed(0).padStart(5)} MFLOP at ${rate.toFixed(1).padStart(5)} GFLOP/s`);
  }
  // Gate activations and their derivatives (~20 flops an element) and Adam (~10 a parameter): bandwidth-bound.
  const elementwise = 20 * G * T * B * 2 + 10 * (G * (D + H + 1) + H * C + C);
  flops += elementwise;
  lines.push(`  ${'gates, their derivatives, Adam (elementwise)'.padEnd(46)} ${(elementwise / 1e6).toFixed(0).padStart(5)} MFLOP (not in the floor: memory-bound)`);
  return { flops, floorMs, lines };
}

async function main(): Promise<void> {
  const report = await initBackend();
  console.log(report.summary);
  const custom = ['batch', 'time', 'hidden', 'classes'].some((a) => process.argv.includes(`--${a}`));
  const shapes: StepShape[] = custom
    ? [{ name: 'custom', B: arg('batch', 32), T: arg('time', 5), H: arg('hidden', 256), C: arg('classes', 100) }]
    : [
        { name: 'original', B: 32, T: 5, H: 256, C: 100 },
        { name: 'default', B: 16, T: 16, H: 128, C: 100 },
      ];
  const results: Record<string, unknown> = {};
  for (const shape of shapes) results[shape.name] = await benchStep(shape);
  console.log(`peak RSS ${(require('node:process').resourceUsage().maxRSS / 1024).toFixed(0)} MB (process, including the helper thread)`);
  console.log(JSON.stringify({ bench: 'lstm_step', load: require('node:os').loadavg()[0], steps: results }));
}

async function benchStep(shape: StepShape): Promise<Record<string, number>> {
  const { B, T, H, C } = shape;
  const steps = arg('steps', 30);
  const out: Record<string, number> = {};
  console.log(`\n${shape.name} step: input [${B}, ${T}, ${D}], LSTM(${H}) + dense(${C}), Adam`);
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
    out.layersMs = median(times);
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
    if (!helper) out.oneThreadCpuMs = Math.min(out.oneThreadCpuMs ?? Infinity, (cpu.user + cpu.system) / 1000 / steps);
    const label = helper ? 'LstmHead + 1 helper  ' : 'LstmHead, 1 thread  ';
    console.log(`after:  ${label} ${median(total).toFixed(1)} ms/step (forward+backward ${median(backprop).toFixed(1)}, Adam ${median(update).toFixed(1)}; median of ${total.length})`);
    // The two passes of each setting: keep the faster (the first may meet a busier machine).
    const key = helper ? 'helperMs' : 'oneThreadMs';
    out[key] = Math.min(out[key] ?? Infinity, median(total));
    // CPU time is less disturbed than wall time when other work shares the cores (main thread + helper).
    console.log(`        process CPU time      ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)} ms/step (mean), load average ${require('node:os').loadavg()[0].toFixed(1)}`);
  }
  await pool.close();
  x.dispose();
  const roof = roofline(shape);
  console.log(`roofline: ${(roof.flops / 1e9).toFixed(2)} GFLOP a step; at the rates this wasm thread reaches on each product (CPU time), the products alone take ${roof.floorMs.toFixed(1)} ms:`);
  for (const l of roof.lines) console.log(l);
  const cpuMs = out.oneThreadCpuMs!;
  console.log(
    `  the step takes ${cpuMs.toFixed(1)} ms of CPU on one thread: ${((roof.flops / (cpuMs / 1000)) / 1e9).toFixed(1)} GFLOP/s overall, ${((100 * roof.floorMs) / cpuMs).toFixed(0)}% of it in the products at their own pace; ` +
      `16 ms (the original's PyTorch step on one thread, MKL) would need ${((roof.flops / 0.016) / 1e9).toFixed(1)} GFLOP/s, ${((roof.flops / 0.016) / 1e9 / (roof.flops / (roof.floorMs / 1000) / 1e9)).toFixed(1)}x the products' pace here`,
  );
  console.log(`tensors left: ${tf.memory().numTensors}`);
  return { ...out, gflop: roof.flops / 1e9, floorMs: roof.floorMs };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
