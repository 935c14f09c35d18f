/**
 * Parse + index a WLASL-size metadata file (2,000 glosses, 21,083 instances, generated) from disk.
 * Target: under 2 s on the project machine. Run: npx tsx bench/index_scale.ts [repeats]
 * Figures are wall-clock medians on a shared machine: expect noise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset, readWlaslMetadata, buildVideoIndex, countsRows } from '../src/metadata/index';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const repeats = Number(process.argv[2] ?? 7);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-bench-'));
try {
  // About 91% of the videos present, as in the Kaggle copy (the rest are missing).
  const { jsonPath, videosDir } = writeSyntheticDataset(dir, { missingEvery: 11 });

  const parseMs: number[] = [];
  const indexMs: number[] = [];
  const totalMs: number[] = [];
  // CPU time of this process: on a shared machine it says what the wall clock would be without contention.
  const cpuMs: number[] = [];
  let summary = '';
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const metadata = readWlaslMetadata(jsonPath);
    const t1 = performance.now();
    const index = buildVideoIndex(metadata, { videosDir });
    countsRows(index);
    const t2 = performance.now();
    parseMs.push(t1 - t0);
    indexMs.push(t2 - t1);
    totalMs.push(t2 - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
    summary = `${index.classes.length} glosses, ${index.entries.length} instances, ${index.present.length} present, ${index.missing.length} missing`;
  }
  console.log(`index_scale: ${summary}; file ${(fs.statSync(jsonPath).size / 1e6).toFixed(1)} MB`);
  console.log(`read+validate median ${median(parseMs).toFixed(0)} ms, index median ${median(indexMs).toFixed(0)} ms, total median ${median(totalMs).toFixed(0)} ms (max ${Math.max(...totalMs).toFixed(0)} ms, first run ${totalMs[0]!.toFixed(0)} ms) over ${repeats} runs; CPU time median ${median(cpuMs).toFixed(0)} ms; target < 2000 ms`);
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
