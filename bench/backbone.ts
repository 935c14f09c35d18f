/**
 * Backbone throughput: frames/s through MobileNetV2 (alpha 1.0 and 0.35) on the active backend, for the
 * layers model and the folded fast path at several batch sizes in one thread, then with N worker threads
 * (one wasm backend each) as the feature-cache build runs it. Weights do not change the timing; the real
 * ImageNet 0.35 folder is used when present, seeded+calibrated random weights otherwise.
 *
 *   npx tsx bench/backbone.ts [--seconds 3] [--workers 2] [--alphas 1,0.35] [--batches 1,2,4,8,16]
 *
 * The machine is shared: numbers are noisy, run it twice. When /usr/bin/python3 has torch (Debian's
 * python3-torch, the original's stack), the original's backbone (torchvision MobileNetV2 features + pooling,
 * eval, no_grad) is timed too with 1 and 2 threads, and the BLAS library torch loaded is named: Debian's
 * torch uses whatever libblas.so.3 the alternatives point at, and the reference BLAS makes its 1x1
 * convolutions several times slower than OpenBLAS does.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/runtime/backend';
import { loadBackboneFromDirectory, type Backbone } from '../src/backbone/backbone';
import { createRandomBackbone } from '../src/backbone/random';
import type { MobileNetAlpha } from '../src/config';
import { startFeatureWorkers } from '../src/features/worker_pool';
import { MOBILENET_035_DIR, makeTempDir } from '../test/helpers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const seconds = Number(arg('seconds', '3'));
const workers = Number(arg('workers', String(os.availableParallelism())));
const alphas = arg('alphas', '1,0.35').split(',').map(Number) as MobileNetAlpha[];
const batches = arg('batches', '1,2,4,8,16').split(',').map(Number);

/** Wall-clock frames/s, and frames per CPU-second (all threads): the second is robust to a busy machine. */
interface Rate {
  wall: number;
  perCpuSecond: number;
}
function show(r: Rate): string {
  return `${r.wall.toFixed(1).padStart(5)} frames/s (${r.perCpuSecond.toFixed(1)} per CPU-s)`;
}
function rate(fn: () => number): Rate {
  fn(); // warm-up: kernels and weights uploaded
  const start = Date.now();
  const cpu = process.cpuUsage();
  let frames = 0;
  while (Date.now() - start < seconds * 1000) frames += fn();
  return finish(frames, start, cpu);
}
function finish(frames: number, start: number, cpu: NodeJS.CpuUsage): Rate {
  const used = process.cpuUsage(cpu);
  return { wall: frames / ((Date.now() - start) / 1000), perCpuSecond: frames / ((used.user + used.system) / 1e6) };
}

async function backboneFor(alpha: MobileNetAlpha, dir: string): Promise<Backbone> {
  if (alpha === 0.35 && MOBILENET_035_DIR) return loadBackboneFromDirectory(MOBILENET_035_DIR);
  const frames = new Uint8Array(8 * 224 * 224 * 3).map((_, i) => (i * 7919) % 251);
  return createRandomBackbone(alpha, 1, frames, dir);
}

async function main(): Promise<void> {
  const report = await initBackend();
  console.log(`${report.summary}; ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = makeTempDir('wlasl-bench-');
  for (const alpha of alphas) {
    const backbone = await backboneFor(alpha, path.join(dir, 'weights'));
    console.log(`\nMobileNetV2 alpha ${alpha} (${backbone.info.weightsId})`);
    let best = { batch: 1, fps: 0 };
    for (const batch of batches) {
      const x = tf.randomUniform([batch, 224, 224, 3], -1, 1) as tf.Tensor4D;
      const layers = rate(() => {
        const y = backbone.model.predict(x) as tf.Tensor;
        y.dataSync();
        y.dispose();
        return batch;
      });
      const folded = rate(() => {
        const y = backbone.fast!.predict(x);
        y.dataSync();
        y.dispose();
        return batch;
      });
      x.dispose();
      if (folded.perCpuSecond > best.fps) best = { batch, fps: folded.perCpuSecond };
      console.log(`  1 thread  batch ${String(batch).padStart(2)}: layers ${show(layers)}   folded ${show(folded)}`);
    }
    for (const n of [...new Set([1, workers])]) {
      const pool = await startFeatureWorkers(n, backbone.info, best.batch);
      const clip = 31; // the original's frames 5..35
      const send = () => Promise.all(Array.from({ length: n * 2 }, () => pool.run({ frames: new Uint8Array(clip * 224 * 224 * 3), count: clip, size: 224 })));
      await send();
      const start = Date.now();
      const cpu = process.cpuUsage();
      let frames = 0;
      while (Date.now() - start < seconds * 2000) {
        await send();
        frames += n * 2 * clip;
      }
      await pool.close();
      console.log(`  ${n} worker${n > 1 ? 's' : ' '} batch ${String(best.batch).padStart(2)}: folded ${show(finish(frames, start, cpu))} (31-frame clips)`);
    }
    backbone.model.dispose();
    backbone.fast?.dispose();
  }
  torchBaseline();
}

const TORCH_SCRIPT = `
import os, sys, time, torch, torchvision
seconds, batches = float(sys.argv[1]), [int(b) for b in sys.argv[2].split(',')]
model = torchvision.models.mobilenet_v2(weights=None).features.eval()
blas = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l and l.split()[-1].startswith('/')})
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, BLAS {' '.join(blas) or 'none loaded'}")
for threads in (1, 2):
    torch.set_num_threads(threads)
    for batch in batches:
        x = torch.rand(batch, 3, 224, 224) * 2 - 1
        with torch.no_grad():
            model(x).mean((2, 3))
            n, t0, c0 = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - t0 < seconds:
                model(x).mean((2, 3)); n += batch
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"  {threads} thread{'s' if threads > 1 else ' '} batch {batch:2d}: {n / wall:5.1f} frames/s ({n / cpu:.1f} per CPU-s); load {os.getloadavg()[0]:.1f}")
`;

/** The original's backbone in PyTorch on this machine, for the >= 37 frames/s (2 threads) comparison. */
function torchBaseline(): void {
  console.log('\nOriginal stack: torchvision MobileNetV2 (alpha 1.0) features + average pool, PyTorch CPU');
  try {
    process.stdout.write(execFileSync('/usr/bin/python3', ['-c', TORCH_SCRIPT, String(seconds), batches.filter((b) => b <= 16).join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    console.log(`  skipped: /usr/bin/python3 with torch and torchvision is not usable here (${(error as Error).message.split('\n')[0]})`);
  }
}

void main();
