/**
 * The whole job, raw clips -> trained model -> test metrics, ours and the original's, on the same clips in one run
 * (issue 18 point 3), and the peak memory of `npm start` against the original on the embedded sample (point 4).
 *
 *   npx tsx bench/end_to_end.ts [--data ../shared/data/wlasl-real10] [--epochs 10] [--no-original] [--no-sample]
 *
 * Ours: `wlasl run` with the default recipe and cold caches (a fresh --cache-dir), two worker threads.
 * The original: its own code (../shared/peer/original_pipeline.py through bench/original_job.py: OpenCV frames,
 * MobileNetV2 recomputed in every forward pass, `--epochs` epochs as its notebook ran), on /usr/bin/python3 with
 * Debian's python3-torch, python3-torchvision and python3-opencv; scored per video on the test split like ours.
 * Each side runs under GNU time (/usr/bin/time -v): wall time, CPU time (user + system, the process and its
 * children: ffmpeg, OpenCV threads) and peak RSS (the largest process of the tree; worker threads count in
 * ours). Run it on an idle machine: the load average is printed. The last line is one JSON object.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { REAL10_DIR, REPO_ROOT, sharedPath } from '../test/helpers';

function arg(name: string, fallback: string | undefined): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Measured {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
  code: number;
}

/** Runs a command under GNU time -v and reads its figures from time's report (written to a file of its own). */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const report = path.join(os.tmpdir(), `wlasl-time-${process.pid}-${Date.now()}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', '-o', report, command, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const text = fs.readFileSync(report, 'utf8');
      fs.rmSync(report, { force: true });
      const field = (label: string) => {
        const line = text.split('\n').find((l) => l.trim().startsWith(label));
        if (!line) throw new Error(`GNU time gave no "${label}":\n${text}`);
        return line.slice(line.lastIndexOf(': ') + 2).trim();
      };
      const wall = field('Elapsed (wall clock) time').split(':').map(Number).reduce((s, v) => s * 60 + v, 0);
      resolve({
        wallSeconds: wall,
        cpuSeconds: Number(field('User time (seconds)')) + Number(field('System time (seconds)')),
        peakRssMb: Number(field('Maximum resident set size (kbytes)')) / 1024,
        stdout,
        code: code ?? -1,
      });
    });
  });
}

function line(name: string, m: Measured, top1: number | null, extra = ''): void {
  const acc = top1 === null ? 'n/a' : `${(100 * top1).toFixed(1)}%`;
  console.log(`${name.padEnd(34)} wall ${m.wallSeconds.toFixed(1).padStart(7)} s  CPU ${m.cpuSeconds.toFixed(1).padStart(7)} s  peak RSS ${m.peakRssMb.toFixed(0).padStart(5)} MB  test top-1 ${acc}${extra}`);
}

/** `wlasl run` on a dataset (or the sample) with a fresh cache: every stage computed. */
async function ours(label: string, runArgs: string[]): Promise<{ m: Measured; top1: number | null; seconds: Record<string, number> }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-e2e-'));
  try {
    const m = await timed(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'run', ...runArgs, '--run-dir', path.join(tmp, 'run'), '--cache-dir', path.join(tmp, 'cache')], { WLASL_PROGRESS: 'none' });
    if (m.code !== 0) throw new Error(`${label}: wlasl run exited with ${m.code}:\n${m.stdout}`);
    const metrics = JSON.parse(fs.readFileSync(path.join(tmp, 'run', 'metrics.json'), 'utf8')) as { test: { perVideo: { count: number; top1: number } } };
    const seconds: Record<string, number> = {};
    const summary = fs.readFileSync(path.join(tmp, 'run', 'summary.txt'), 'utf8');
    for (const part of /^time: (.*)$/m.exec(summary)?.[1]?.split(', ') ?? []) {
      const match = /^(.*) ([\d.]+) s$/.exec(part);
      if (match) seconds[match[1]!] = Number(match[2]);
    }
    return { m, top1: metrics.test.perVideo.count ? metrics.test.perVideo.top1 : null, seconds };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function original(data: string, epochs: number): Promise<{ m: Measured; result: Record<string, unknown> } | { skipped: string }> {
  const peer = sharedPath('peer');
  if (!peer || !fs.existsSync(path.join(peer, 'original_pipeline.py'))) return { skipped: 'no ../shared/peer/original_pipeline.py' };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-e2e-original-'));
  try {
    const m = await timed('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'original_job.py'), '--peer', peer, '--data', data, '--work', path.join(tmp, 'work'), '--epochs', String(epochs), '--threads', String(os.availableParallelism())]);
    if (m.code !== 0) return { skipped: `the original exited with ${m.code} (python3-torch, python3-torchvision, python3-opencv installed?)` };
    return { m, result: JSON.parse(m.stdout.trim().split('\n').pop()!) as Record<string, unknown> };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const data = path.resolve(arg('data', REAL10_DIR) ?? '');
  if (!fs.existsSync(path.join(data, 'WLASL_v0.3.json'))) throw new Error(`no WLASL dataset at ${data} (--data DIR)`);
  const epochs = Number(arg('epochs', '10'));
  const load = () => os.loadavg()[0]!.toFixed(2);
  console.log(`end to end on ${data} (${os.availableParallelism()} cores, load ${load()} before)`);

  const figures: Record<string, unknown> = { bench: 'end_to_end', data: path.basename(data), epochsOriginal: epochs };
  const o = process.argv.includes('--no-original') ? { skipped: '--no-original' } : await original(data, epochs);
  const us = await ours('default recipe', ['--data', data, '--workers', String(os.availableParallelism())]);
  line('ours (default recipe, cold caches)', us.m, us.top1, `  [${Object.entries(us.seconds).map(([k, v]) => `${k} ${v}`).join(', ')}]`);
  Object.assign(figures, { wall_ours: us.m.wallSeconds, cpu_ours: us.m.cpuSeconds, rss_ours_mb: us.m.peakRssMb, top1_ours: us.top1 });
  if ('skipped' in o) {
    console.log(`original: skipped (${o.skipped})`);
  } else {
    const r = o.result;
    line(`original (its code, ${epochs} epochs)`, o.m, (r.test_top1 as number | null) ?? null, `  [extract ${Number(r.extract_s).toFixed(1)}, train ${Number(r.train_s).toFixed(1)}, test ${Number(r.test_s).toFixed(1)} s; ${r.test_videos} test videos]`);
    const speedup = o.m.wallSeconds / us.m.wallSeconds;
    const rssRatio = us.m.peakRssMb / o.m.peakRssMb;
    console.log(`speedup (original wall / ours) ${speedup.toFixed(2)}x, CPU ${(o.m.cpuSeconds / us.m.cpuSeconds).toFixed(2)}x; peak RSS ours / original ${rssRatio.toFixed(2)}`);
    Object.assign(figures, { wall_original: o.m.wallSeconds, cpu_original: o.m.cpuSeconds, rss_original_mb: o.m.peakRssMb, top1_original: r.test_top1, speedup, rss_ratio: rssRatio });
  }

  if (!process.argv.includes('--no-sample')) {
    // Point 4: `npm start` (run --sample) against the original's job on the same 48 clips.
    const sample = path.join(REPO_ROOT, 'data', 'sample');
    const start = await ours('npm start', ['--sample']);
    line('ours: npm start (run --sample)', start.m, start.top1);
    const os2 = process.argv.includes('--no-original') ? { skipped: '--no-original' } : await original(sample, 1);
    if ('skipped' in os2) console.log(`original on the sample: skipped (${os2.skipped})`);
    else {
      line('original on the sample (1 epoch)', os2.m, (os2.result.test_top1 as number | null) ?? null);
      Object.assign(figures, { rss_npm_start_mb: start.m.peakRssMb, rss_original_sample_mb: os2.m.peakRssMb, rss_ratio_sample: start.m.peakRssMb / os2.m.peakRssMb });
    }
    figures.rss_npm_start_mb = start.m.peakRssMb;
    figures.wall_npm_start = start.m.wallSeconds;
  }
  figures.load_after = Number(load());
  console.log(JSON.stringify(figures));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
