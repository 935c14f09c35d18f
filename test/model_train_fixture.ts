import { InMemorySequenceSource } from '../src/dataset/in_memory';
import type { SequenceSample } from '../src/dataset/types';
import { seededNormal } from '../src/model/init';

/**
 * A small learnable sequence task for training tests: class k's sequences are a class direction that moves
 * along time (its order matters) plus noise; several windows per video. Not a test by itself.
 */
export function toySource(options: { videosPerClass: number; classes: number; steps: number; dim: number; windows: number; seed: number; noise?: number }): InMemorySequenceSource {
  const { videosPerClass, classes, steps, dim, windows, seed } = options;
  const noise = options.noise ?? 0.8;
  const normal = seededNormal(seed);
  const directions = Array.from({ length: classes * 2 }, (_, k) => Array.from({ length: dim }, (_, d) => Math.sin((k + 1) * (d + 1) * 0.7)));
  const n = classes * videosPerClass * windows;
  const data = new Float32Array(n * steps * dim);
  const samples: SequenceSample[] = [];
  let i = 0;
  for (let c = 0; c < classes; c++) {
    for (let v = 0; v < videosPerClass; v++) {
      for (let w = 0; w < windows; w++) {
        for (let t = 0; t < steps; t++) {
          const a = t / Math.max(steps - 1, 1);
          for (let d = 0; d < dim; d++) {
            data[((i * steps) + t) * dim + d] = (1 - a) * directions[2 * c]![d]! + a * directions[2 * c + 1]![d]! + noise * normal();
          }
        }
        samples.push({ videoId: `c${c}v${v}`, label: c, start: w * steps, length: steps });
        i++;
      }
    }
  }
  return new InMemorySequenceSource(data, [n, steps, dim], samples, classes);
}
