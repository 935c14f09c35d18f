/**
 * Scale without the real data: a generated WLASL2000-size metadata file (2,000 glosses, 21,083 instances) with
 * empty placeholder videos goes through index, subset, organise (hard links) and sequence indexing; prints
 * wall time and peak RSS after each step, and the feature-cache size for the full set in float32 and float16.
 *
 *   npx tsx bench/scale.ts [--frames 31] [--dim 1280]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset, readWlaslMetadata, buildVideoIndex } from '../src/metadata/index';
import { organiseSplits } from '../src/organise/index';
import { buildSamples } from '../src/dataset/sequences';
import { DEFAULT_CONFIG } from '../src/config';
import { HEADER_BYTES } from '../src/features/cache';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const frames = arg('frames', 31);
const dim = arg('dim', 1280);
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

async function step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  peak = process.memoryUsage().rss;
  const t0 = performance.now();
  const out = await fn();
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(`${name.padEnd(22)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms   peak RSS ${mb(peak)}`);
  return out;
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-scale-'));
  try {
    const { jsonPath, videosDir, raw } = writeSyntheticDataset(dir);
    console.log(`scale: ${raw.length} glosses, ${raw.reduce((n, g) => n + g.instances.length, 0)} instances, ${(fs.statSync(jsonPath).size / 1e6).toFixed(1)} MB of JSON, empty placeholder videos`);
    const metadata = await step('read + validate', () => readWlaslMetadata(jsonPath));
    const index = await step('index (WLASL2000)', () => buildVideoIndex(metadata, { videosDir }));
    await step('index WLASL100 subset', () => buildVideoIndex(metadata, { videosDir, subset: 100 }));
    const organised = await step('organise (hard links)', () => organiseSplits(index, path.join(dir, 'organised'), { mode: 'hardlink' }));
    // Every video as if it had the full window of cached frames: the windows training would iterate.
    const samples = await step('sequence indexing', () => buildSamples(index.present.map((e) => ({ videoId: e.videoId, label: e.label, frames })), DEFAULT_CONFIG.sequence));
    console.log(`organised ${organised.created} links; ${samples.length} sequences (T=${DEFAULT_CONFIG.sequence.sampleSize}, stride ${DEFAULT_CONFIG.sequence.stride})`);
    const values = index.present.length * frames * dim;
    const size = (bytes: number) => `${((values * bytes + index.present.length * HEADER_BYTES) / 1e9).toFixed(2)} GB`;
    console.log(`feature cache for ${index.present.length} videos x ${frames} frames x ${dim}: float32 ${size(4)}, float16 ${size(2)}`);
  } finally {
    clearInterval(sampler);
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
