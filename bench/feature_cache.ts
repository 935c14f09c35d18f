/**
 * Feature-cache build time on the real sample set (../shared/data/wlasl-real10, 110 WLASL clips): frames
 * 5..35 cropped to the WLASL bbox by the video stage, then the backbone in worker threads. Runs a cold
 * build, a rerun that must reuse everything, and a resumed build (a fresh cache holding the first half, as
 * an interrupted run leaves it, then the whole set). CPU-seconds count this process and its worker threads,
 * not the ffmpeg children.
 *
 *   npx tsx bench/feature_cache.ts [--alpha 0.35|1] [--workers 2] [--batch 8] [--limit 110]
 *
 * alpha 0.35 uses the real ImageNet weights folder; alpha 1 uses seeded random weights calibrated on the
 * sample's own frames (same cost). The machine is shared: timings are noisy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/runtime/backend';
import { DEFAULT_CONFIG } from '../src/config';
import { extractFrames } from '../src/video/extract';
import type { VideoJob, Bbox } from '../src/metadata/types';
import { loadBackbone } from '../src/backbone/source';
import { buildFeatureCache, collectCalibrationFrames } from '../src/features/build';
import { MOBILENET_035_DIR, REAL10_DIR, makeTempDir } from '../test/helpers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  if (!REAL10_DIR) {
    console.log('no ../shared/data/wlasl-real10: nothing to measure');
    return;
  }
  const alpha = Number(arg('alpha', '0.35')) as 1.0 | 0.35;
  const workers = Number(arg('workers', String(os.availableParallelism())));
  const batchSize = Number(arg('batch', '8'));
  const limit = Number(arg('limit', '110'));
  const report = await initBackend();
  console.log(`${report.summary}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const wlasl = JSON.parse(fs.readFileSync(path.join(REAL10_DIR, 'WLASL_v0.3.json'), 'utf8')) as Array<{ instances: Array<{ video_id: string; bbox: Bbox }> }>;
  const jobs: VideoJob[] = [];
  for (const entry of wlasl) {
    for (const inst of entry.instances) {
      const file = path.join(REAL10_DIR, 'videos', `${inst.video_id}.mp4`);
      if (fs.existsSync(file)) jobs.push({ videoId: inst.video_id, path: file, bbox: inst.bbox });
    }
  }
  const selected = jobs.slice(0, limit);
  const frames = DEFAULT_CONFIG.frames;
  const frameProvider = (job: VideoJob) => extractFrames(job, frames);
  const dir = makeTempDir('wlasl-bench-cache-');
  const weights = alpha === 0.35 && MOBILENET_035_DIR ? MOBILENET_035_DIR : 'random';
  let started = Date.now();
  const backbone = await loadBackbone(
    { ...DEFAULT_CONFIG.backbone, alpha, weights },
    { weightsCacheDir: path.join(dir, 'weights'), calibrationFrames: () => collectCalibrationFrames(selected, frameProvider) },
  );
  console.log(`backbone ${backbone.info.weightsId} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const preprocessing = { window: frames.window, size: frames.size, cropToBbox: frames.cropToBbox };
  let cpu = process.cpuUsage();
  const cold = await buildFeatureCache({ jobs: selected, cacheRoot: path.join(dir, 'cache'), backbone, preprocessing, frameProvider, workers, batchSize });
  let cpuSeconds = cpuSince(cpu);
  console.log(
    `cold build: ${cold.computed} videos, ${cold.frames} frames in ${cold.seconds.toFixed(1)} s = ${cold.framesPerSecond.toFixed(1)} frames/s end to end ` +
      `(decode + crop + backbone, ${cold.workers} workers, batch ${batchSize}); ${cpuSeconds.toFixed(1)} CPU-s = ${(cold.frames / cpuSeconds).toFixed(1)} frames per CPU-s; ` +
      `${cold.failed.length} skipped; load ${load()}`,
  );
  for (const f of cold.failed) console.log(`  skipped ${f.videoId}: ${f.reason}`);
  const size = fs.readdirSync(cold.cacheDir).filter((n) => n.endsWith('.bin')).reduce((n, f) => n + fs.statSync(path.join(cold.cacheDir, f)).size, 0);
  console.log(`cache: ${(size / 1e6).toFixed(1)} MB in ${cold.cacheDir}`);
  started = Date.now();
  const warm = await buildFeatureCache({ jobs: selected, cacheRoot: path.join(dir, 'cache'), backbone, preprocessing, frameProvider, workers, batchSize });
  console.log(`rerun: ${warm.reused} reused, ${warm.computed} computed in ${((Date.now() - started) / 1000).toFixed(2)} s; load ${load()}`);

  const resumeRoot = path.join(dir, 'cache-resumed');
  const half = Math.floor(selected.length / 2);
  await buildFeatureCache({ jobs: selected.slice(0, half), cacheRoot: resumeRoot, backbone, preprocessing, frameProvider, workers, batchSize, progress: 'none' });
  cpu = process.cpuUsage();
  const resumed = await buildFeatureCache({ jobs: selected, cacheRoot: resumeRoot, backbone, preprocessing, frameProvider, workers, batchSize });
  cpuSeconds = cpuSince(cpu);
  console.log(
    `resumed build: ${resumed.reused} reused, ${resumed.computed} computed (${resumed.frames} frames) in ${resumed.seconds.toFixed(1)} s = ` +
      `${resumed.framesPerSecond.toFixed(1)} frames/s; ${cpuSeconds.toFixed(1)} CPU-s = ${(resumed.frames / cpuSeconds).toFixed(1)} frames per CPU-s; load ${load()}`,
  );
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ');
}

void main();
