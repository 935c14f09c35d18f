/**
 * Landmark extraction on real WLASL clips (../shared/data/wlasl-real10 by default): the whole landmark stage
 * (decode, squared bbox crop, MoveNet, hands, cache write) into a fresh cache, once per hand strategy, and
 * its speed and hand recall.
 *
 *   npx tsx bench/landmarks.ts [--clips 12] [--workers 2] [--strategies wrist,detector] [--size 224]
 *                              [--data DIR] [--window 5..35]
 *
 * Strategies: wrist (crops placed by MoveNet's wrists, the default), wrist+fallback (Human's detector on a
 * frame where a visible wrist got no hand), detector (Human's detector and landmarks on every frame),
 * detector-human (the same without the presence check Human's doubled sigmoid disables: its output as is).
 * --clips N takes N clips spread evenly over the dataset's order (all with --clips 0).
 *
 * Figures: frames/s is frames over the wall time of the stage after its workers have started (each loads the
 * models once per run: a fixed cost, printed apart); CPU-s/frame counts this process and its worker threads
 * plus the ffmpeg children (Linux /proc), the start left out likewise; recall is the share of visible body wrists (MoveNet score at
 * least minBodyScore) given a hand of presence at least minHandScore; hand rates are shares of frames with at
 * least one hand and with both. The machine is shared: the load average is printed with the figures. The last
 * line is one JSON object of all figures.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../src/config';
import type { Bbox, VideoJob } from '../src/metadata/types';
import { initBackend } from '../src/runtime/backend';
import { buildLandmarkCache } from '../src/landmarks/stage';
import type { LandmarkParams } from '../src/landmarks/params';
import { makeTempDir, REAL10_DIR } from '../test/helpers';

const STRATEGIES: Record<string, Partial<LandmarkParams>> = {
  wrist: { handStrategy: 'wrist', detectorFallback: false },
  'wrist+fallback': { handStrategy: 'wrist', detectorFallback: true },
  detector: { handStrategy: 'detector' },
  'detector-human': { handStrategy: 'detector', minHandScore: 0 },
  // A second, larger crop where the first finds no hand (fast hands run ahead of the wrist; big hands overflow it).
  'wrist+box2': { handStrategy: 'wrist', detectorFallback: false, handBoxes: [{ scale: 0.7, shift: 0.15 }, { scale: 1.0, shift: 0.3 }] },
  'wrist-presence0.3': { handStrategy: 'wrist', detectorFallback: false, minHandScore: 0.3 },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of this process (all threads) and of its finished children (ffmpeg), from /proc/self/stat. */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the name start at field 3 (state): cutime and cstime are fields 16 and 17.
    children = (Number(fields[16 - 3]) + Number(fields[17 - 3])) / TICKS;
  } catch {
    // Not Linux: children's CPU is left out (said in the output).
  }
  return (own.user + own.system) / 1e6 + children;
}

function jobsOf(dataDir: string): VideoJob[] {
  const wlasl = JSON.parse(fs.readFileSync(path.join(dataDir, 'WLASL_v0.3.json'), 'utf8')) as Array<{ instances: Array<{ video_id: string; bbox: Bbox; frame_start: number; frame_end: number }> }>;
  const jobs: VideoJob[] = [];
  for (const entry of wlasl) {
    for (const inst of entry.instances) {
      const file = path.join(dataDir, 'videos', `${inst.video_id}.mp4`);
      if (fs.existsSync(file)) jobs.push({ videoId: inst.video_id, path: file, bbox: inst.bbox, frameStart: inst.frame_start, frameEnd: inst.frame_end });
    }
  }
  return jobs;
}

async function main(): Promise<void> {
  const dataDir = arg('data', REAL10_DIR ?? '');
  if (!dataDir || !fs.existsSync(path.join(dataDir, 'WLASL_v0.3.json'))) {
    console.log('no ../shared/data/wlasl-real10 (or --data): nothing to measure');
    return;
  }
  const wanted = Number(arg('clips', '12'));
  const workers = Number(arg('workers', String(os.availableParallelism())));
  const size = Number(arg('size', '224'));
  const [start, end] = arg('window', `${DEFAULT_CONFIG.frames.window.start}..${DEFAULT_CONFIG.frames.window.end}`).split('..').map(Number) as [number, number];
  const names = arg('strategies', 'wrist,detector').split(',');
  for (const name of names) if (!STRATEGIES[name]) throw new Error(`unknown strategy ${name}: one of ${Object.keys(STRATEGIES).join(', ')}`);

  const all = jobsOf(dataDir);
  const jobs = wanted > 0 && wanted < all.length ? Array.from({ length: wanted }, (_, i) => all[Math.floor((i * all.length) / wanted)]!) : all;
  const backend = await initBackend();
  console.log(`${backend.summary}; ${jobs.length} of ${all.length} clips of ${dataDir}, frames ${start}..${end}, size ${size}, ${workers} workers, ${os.availableParallelism()} cores`);

  const figures: Record<string, unknown> = { clips: jobs.length, clipIds: jobs.map((j) => j.videoId), window: `${start}..${end}`, size, workers, cores: os.availableParallelism() };
  for (const name of names) {
    const cacheRoot = makeTempDir('wlasl-bench-landmarks-');
    const load = os.loadavg()[0]!;
    const cpu0 = cpuSeconds();
    const report = await buildLandmarkCache({
      jobs,
      cacheRoot,
      frames: { ...DEFAULT_CONFIG.frames, window: { ...DEFAULT_CONFIG.frames.window, start, end } },
      params: { ...STRATEGIES[name], size },
      workers,
      progress: 'none',
    });
    const cpu = cpuSeconds() - cpu0;
    fs.rmSync(cacheRoot, { recursive: true, force: true });
    const s = report.stats;
    const work = report.seconds - report.startSeconds;
    const row = {
      framesPerSecond: Number((report.frames / Math.max(work, 1e-3)).toFixed(2)),
      cpuSecondsPerFrame: Number(((cpu - report.startCpuSeconds) / Math.max(report.frames, 1)).toFixed(4)),
      recall: Number((s.handsAtVisibleWrists / Math.max(s.visibleWrists, 1)).toFixed(4)),
      visibleWrists: s.visibleWrists,
      handsAtVisibleWrists: s.handsAtVisibleWrists,
      framesWithHand: Number((s.framesWithHand / Math.max(s.frames, 1)).toFixed(4)),
      framesWithBothHands: Number((s.framesWithBothHands / Math.max(s.frames, 1)).toFixed(4)),
      landmarkRunsPerFrame: Number((s.landmarkRuns / Math.max(s.frames, 1)).toFixed(3)),
      detectorRunsPerFrame: Number((s.detectorRuns / Math.max(s.frames, 1)).toFixed(3)),
      frames: report.frames,
      seconds: Number(report.seconds.toFixed(2)),
      startSeconds: Number(report.startSeconds.toFixed(2)),
      startCpuSeconds: Number(report.startCpuSeconds.toFixed(2)),
      failed: report.failed.length,
      badFrames: s.badFrames,
      loadAverage: Number(load.toFixed(2)),
    };
    figures[name] = row;
    console.log(
      `${name.padEnd(15)} ${row.framesPerSecond.toFixed(1)} frames/s, ${(1000 * row.cpuSecondsPerFrame).toFixed(0)} ms CPU/frame, recall ${(100 * row.recall).toFixed(1)}% (${row.handsAtVisibleWrists}/${row.visibleWrists} visible wrists), hands in ${(100 * row.framesWithHand).toFixed(1)}% of frames (both ${(100 * row.framesWithBothHands).toFixed(1)}%), ${row.landmarkRunsPerFrame} landmark + ${row.detectorRunsPerFrame} detector runs/frame, ${row.frames} frames in ${row.seconds} s (${row.startSeconds} s to start the workers), load ${row.loadAverage}`,
    );
  }
  console.log(JSON.stringify(figures));
}

void main();
