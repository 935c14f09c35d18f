import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WlaslGlossJson } from './schema';

/**
 * A WLASL-sized metadata list (default 2,000 glosses and 21,083 instances, as WLASL_v0.3.json) with valid
 * fields, for scale tests and the index benchmark. Glosses are sorted by decreasing instance count, as in the
 * real file, so the WLASL100/300/... subsets behave the same way. Deterministic.
 */
export function generateWlaslLikeMetadata(options: { glosses?: number; instances?: number } = {}): WlaslGlossJson[] {
  const glossCount = options.glosses ?? 2000;
  const instanceCount = options.instances ?? 21083;
  // Counts fall from about 40 to 6 per gloss (real WLASL: 40 for 'book' down to 6), then are nudged to the total.
  const counts = Array.from({ length: glossCount }, (_, i) => Math.max(1, Math.round(6 + 34 * Math.pow(1 - i / glossCount, 6))));
  let diff = instanceCount - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % glossCount) {
    if (diff > 0) {
      counts[i]!++;
      diff--;
    } else if (counts[i]! > 1) {
      counts[i]!--;
      diff++;
    }
  }
  counts.sort((a, b) => b - a);
  const splits = ['train', 'train', 'train', 'train', 'train', 'train', 'val', 'val', 'test', 'test'] as const;
  let videoId = 0;
  return counts.map((n, g) => ({
    gloss: `gloss${String(g).padStart(4, '0')}`,
    instances: Array.from({ length: n }, (_, i) => {
      videoId++;
      const x = (videoId * 37) % 200;
      return {
        bbox: [x, 10, x + 300, 400] as [number, number, number, number],
        fps: 25,
        frame_end: -1,
        frame_start: 1,
        instance_id: i,
        signer_id: (videoId * 7) % 120,
        source: 'synthetic',
        split: splits[(videoId * 3) % splits.length]!,
        url: `https://sample.wlasl.invalid/${g}/${videoId}.mp4`,
        variation_id: 0,
        video_id: String(videoId).padStart(5, '0'),
      };
    }),
  }));
}

/**
 * A generated WLASL-size dataset folder for benchmarks: <dir>/WLASL_v0.3.json and empty placeholder videos in
 * <dir>/videos, one for each instance except every `missingEvery`-th (0 = none missing; 11 leaves about 9% out,
 * as in Kaggle's copy).
 */
export function writeSyntheticDataset(dir: string, options: { missingEvery?: number } = {}): { jsonPath: string; videosDir: string; raw: WlaslGlossJson[] } {
  const jsonPath = path.join(dir, 'WLASL_v0.3.json');
  const raw = generateWlaslLikeMetadata();
  fs.writeFileSync(jsonPath, JSON.stringify(raw));
  const videosDir = path.join(dir, 'videos');
  fs.mkdirSync(videosDir, { recursive: true });
  const every = options.missingEvery ?? 0;
  let n = 0;
  for (const g of raw) {
    for (const i of g.instances) if (every === 0 || n++ % every !== 0) fs.writeFileSync(path.join(videosDir, `${i.video_id}.mp4`), '');
  }
  return { jsonPath, videosDir, raw };
}
