/**
 * Kill-and-resume trials: start the CLI on a subset of the embedded sample, SIGKILL its process group at a
 * random point of frame extraction (prepare), feature caching or training, rerun it (run: --resume), and
 * compare every output with an uninterrupted run: JPEG frames and feature files byte for byte, metrics,
 * model weights and history (without timings) with the same seed. Prints trials and mismatches (must be 0).
 *
 *   npx tsx scripts/kill_trials.ts --trials 10 [--seed 1] [--per-class 3,1,1] [--glosses 8] [--keep DIR]
 *
 * test/reliability_kill.test.ts runs a short version of the same code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
// The project's seeded PRNG, so a trial schedule can be replayed with --seed.
import { seededRandom } from '../src/runtime/random';

const REPO_ROOT = path.resolve(__dirname, '..');
const SAMPLE_DIR = path.join(REPO_ROOT, 'data', 'sample');
const CLI = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

export type Phase = 'prepare' | 'features' | 'training';
export const PHASES: readonly Phase[] = ['prepare', 'features', 'training'];

/** Small settings so a trial takes seconds: 12 frames per video in 5-frame windows, the 0.35 backbone with random weights. */
export const SMALL_SETTINGS = ['--preset', 'cnn-windows', '--sample-size', '5', '--stride', '5', '--alpha', '0.35', '--weights', 'random', '--frame-start', '0', '--frame-end', '11', '--epochs', '3', '--hidden', '32', '--batch-size', '8', '--seed', '7'];

export interface InstanceJson {
  video_id: string;
  split: 'train' | 'val' | 'test';
  [field: string]: unknown;
}
export interface GlossJson {
  gloss: string;
  instances: InstanceJson[];
}

/**
 * The first `glosses` glosses of the sample with, per gloss, the first perSplit[split] instances of each split;
 * their videos are copied into <dir>/videos (a few MB; a symbolic link out of the dataset folder would be
 * refused, see src/video/containment.ts). Returns the kept metadata, not yet written.
 */
export function linkSampleSubset(dir: string, perSplit: Record<'train' | 'val' | 'test', number>, glosses = 8): GlossJson[] {
  const metadata = JSON.parse(fs.readFileSync(path.join(SAMPLE_DIR, 'WLASL_v0.3.json'), 'utf8')) as GlossJson[];
  const kept = metadata.slice(0, glosses).map((g) => {
    const counts = { train: 0, val: 0, test: 0 };
    return { ...g, instances: g.instances.filter((i) => counts[i.split]++ < perSplit[i.split]) };
  });
  fs.mkdirSync(path.join(dir, 'videos'), { recursive: true });
  for (const g of kept) {
    for (const i of g.instances) fs.copyFileSync(path.join(SAMPLE_DIR, 'videos', `${i.video_id}.mp4`), path.join(dir, 'videos', `${i.video_id}.mp4`));
  }
  return kept;
}

/** A WLASL-layout data dir (WLASL_v0.3.json + videos/) holding that subset of the sample. */
export function makeSampleSubset(dir: string, perSplit: Record<'train' | 'val' | 'test', number>, glosses = 8): string {
  fs.writeFileSync(path.join(dir, 'WLASL_v0.3.json'), JSON.stringify(linkSampleSubset(dir, perSplit, glosses)));
  return dir;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** ms after start at which each marker line first appeared. */
  marks: Record<string, number>;
  ms: number;
  killedAt?: number;
}

/** Lines of the CLI's output that mark the start of a phase. */
const MARKERS: Record<string, RegExp> = { index: /^index: /m, frames: /^frames: /m, sequences: /^sequences: /m, epoch: /^epoch \d+\/\d+: /m };

/**
 * Runs the CLI in its own process group. With `kill`, sends SIGKILL to the whole group (ffmpeg children,
 * worker threads) `kill.delayMs` after the marker line appears (or after start when marker is 'start').
 */
export function runCli(args: string[], kill?: { marker: string; delayMs: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      detached: true,
      env: { ...process.env, WLASL_PROGRESS: 'lines' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const marks: Record<string, number> = {};
    let killedAt: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const armKill = () => {
      if (!kill || timer) return;
      timer = setTimeout(() => {
        killedAt = Date.now() - started;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone: the trial then checks a complete run, which must match too.
        }
      }, kill.delayMs);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const [name, re] of Object.entries(MARKERS)) {
        if (marks[name] === undefined && re.test(output)) {
          marks[name] = Date.now() - started;
          if (kill?.marker === name) armKill();
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (kill?.marker === 'start') armKill();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, output, marks, ms: Date.now() - started, killedAt });
    });
  });
}

/** Every file under dir, relative paths, sorted; skips our own temporaries (hidden .*.tmp). */
export function listFiles(dir: string, relative = ''): string[] {
  const out: string[] = [];
  if (!fs.existsSync(path.join(dir, relative))) return out;
  for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
    const rel = path.join(relative, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

export function isTemporary(rel: string): boolean {
  return /(^|\/)\.[^/]*\.tmp(\/|$)/.test(rel);
}

/** Removes fields that legitimately differ between runs (timings, timestamps). */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !['seconds', 'createdAt', 'updatedAt', 'finishedAt', 'ms', 'timings'].includes(k))
        .map(([k, v]) => [k, withoutTimes(v)]),
    );
  }
  return value;
}

/**
 * Differences between two output folders over the files `select` keeps: missing, extra or different files.
 * JSON files listed in `jsonWithoutTimes` are compared without timings; everything else byte for byte.
 */
export function compareTrees(reference: string, candidate: string, select: (rel: string) => boolean, jsonWithoutTimes: (rel: string) => boolean = () => false, pathsAlike?: { reference: string; candidate: string }): string[] {
  // Absolute paths recorded in JSON (where the backbone was cached) differ by the run's folder only.
  const json = (buf: Buffer, own: string | undefined) => {
    const text = pathsAlike && own ? buf.toString().split(own).join('<root>') : buf.toString();
    return JSON.stringify(withoutTimes(JSON.parse(text)));
  };
  const refFiles = listFiles(reference).filter((f) => !isTemporary(f) && select(f));
  const candFiles = new Set(listFiles(candidate).filter((f) => !isTemporary(f) && select(f)));
  const problems: string[] = [];
  if (refFiles.length === 0) problems.push(`reference ${reference} has no files to compare`);
  for (const rel of refFiles) {
    if (!candFiles.has(rel)) {
      problems.push(`missing ${rel}`);
      continue;
    }
    candFiles.delete(rel);
    const a = fs.readFileSync(path.join(reference, rel));
    const b = fs.readFileSync(path.join(candidate, rel));
    const same = jsonWithoutTimes(rel)
      ? json(a, pathsAlike?.reference) === json(b, pathsAlike?.candidate)
      : a.equals(b);
    if (!same) problems.push(`differs ${rel}`);
  }
  for (const rel of candFiles) problems.push(`extra ${rel}`);
  return problems;
}

export interface TrialResult {
  trial: number;
  phase: Phase;
  delayMs: number;
  killed: boolean;
  /** Marker lines seen before the kill (how far the killed run got). */
  reached: string[];
  mismatches: string[];
  leftoverTemporaries: number;
}

export interface KillTrialsOptions {
  workDir: string;
  trials: number;
  seed?: number;
  perSplit?: Record<'train' | 'val' | 'test', number>;
  glosses?: number;
  /** Phases to cycle through (default all three). */
  phases?: readonly Phase[];
  extraArgs?: string[];
  log?: (line: string) => void;
}

export interface KillTrialsReport {
  trials: TrialResult[];
  mismatches: number;
  reference: { prepareMs: number; runMs: number; marks: Record<string, number> };
}

/** Frame outputs to compare: JPEGs and manifests (report.json has timings and is rewritten by each run). */
const frameFiles = (rel: string) => rel.startsWith('frames/') && !rel.endsWith('report.json');
// Under the cache root the features are in datasets/<data>-<hash>/features/<key>/ (runtime/user_cache.ts).
const featureFiles = (rel: string) => /(^|\/)features\//.test(rel) && (rel.endsWith('.bin') || rel.endsWith('failures.json'));
const runFiles = (rel: string) => ['metrics.json', 'history.json', 'model/weights.bin', 'model/model.json', 'model/wlasl-model.json', 'data/counts.json', 'data/bbox.json'].includes(rel);
const runJsonWithTimes = (rel: string) => rel === 'history.json' || rel === 'model/wlasl-model.json' || rel.endsWith('failures.json');

function check(run: CliRun, what: string): void {
  if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code ?? run.signal}):\n${run.output.slice(-3000)}`);
}

export async function runKillTrials(options: KillTrialsOptions): Promise<KillTrialsReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const random = seededRandom(options.seed ?? 1);
  const phases = options.phases ?? PHASES;
  const work = path.resolve(options.workDir);
  const data = makeSampleSubset(path.join(work, 'data'), options.perSplit ?? { train: 3, val: 1, test: 1 }, options.glosses ?? 8);
  const settings = [...SMALL_SETTINGS, ...(options.extraArgs ?? [])];
  const prepareArgs = (out: string) => ['prepare', '--data', data, '--out', out, '--link', 'symlink', ...settings];
  const runArgs = (runDir: string, cacheDir: string, resume: boolean) => ['run', '--data', data, '--run-dir', runDir, '--cache-dir', cacheDir, ...settings, ...(resume ? ['--resume'] : [])];

  log(`kill trials: reference runs in ${work}`);
  const refPrepare = await runCli(prepareArgs(path.join(work, 'ref', 'prepared')));
  check(refPrepare, 'reference prepare');
  const refRun = await runCli(runArgs(path.join(work, 'ref', 'run'), path.join(work, 'ref', 'cache'), false));
  check(refRun, 'reference run');
  const marks = refRun.marks;
  log(`reference: prepare ${refPrepare.ms} ms, run ${refRun.ms} ms (index at ${marks.index} ms, sequences at ${marks.sequences} ms)`);
  if (marks.index === undefined || marks.sequences === undefined) throw new Error(`reference run printed no index/sequences line:\n${refRun.output.slice(-2000)}`);

  const results: TrialResult[] = [];
  for (let trial = 0; trial < options.trials; trial++) {
    const phase = phases[trial % phases.length]!;
    const dir = path.join(work, `trial-${trial}`);
    let delayMs: number;
    let first: CliRun;
    let mismatches: string[];
    let outputs: string[];
    if (phase === 'prepare') {
      const out = path.join(dir, 'prepared');
      // Process start to exit: covers start-up, organising and frame extraction.
      delayMs = Math.round(random() * refPrepare.ms);
      first = await runCli(prepareArgs(out), { marker: 'start', delayMs });
      check(await runCli(prepareArgs(out)), `trial ${trial} rerun of prepare`);
      mismatches = compareTrees(path.join(work, 'ref', 'prepared'), out, (rel) => frameFiles(rel) || rel.startsWith('videos/'));
      outputs = [out];
    } else {
      const runDir = path.join(dir, 'run');
      const cacheDir = path.join(dir, 'cache');
      let marker: string;
      if (phase === 'features') {
        // From the index line to the sequences line: calibration of the random backbone and feature caching.
        marker = 'index';
        delayMs = Math.round(random() * (marks.sequences - marks.index));
      } else {
        // Features already cached (a copy of the reference cache): from the sequences line to exit.
        fs.cpSync(path.join(work, 'ref', 'cache'), cacheDir, { recursive: true });
        marker = 'sequences';
        delayMs = Math.round(random() * (refRun.ms - marks.sequences));
      }
      first = await runCli(runArgs(runDir, cacheDir, false), { marker, delayMs });
      check(await runCli(runArgs(runDir, cacheDir, true)), `trial ${trial} resumed run`);
      mismatches = [
        ...compareTrees(path.join(work, 'ref', 'cache'), cacheDir, featureFiles, runJsonWithTimes),
        ...compareTrees(path.join(work, 'ref', 'run'), runDir, runFiles, runJsonWithTimes, { reference: path.join(work, 'ref'), candidate: dir }),
      ];
      outputs = [runDir, cacheDir];
    }
    const killed = first.signal === 'SIGKILL';
    const leftoverTemporaries = outputs.reduce((n, o) => n + listFiles(o).filter(isTemporary).length, 0);
    const result: TrialResult = { trial, phase, delayMs, killed, reached: Object.keys(first.marks), mismatches, leftoverTemporaries };
    results.push(result);
    log(
      `trial ${trial + 1}/${options.trials}: ${phase}, kill after ${delayMs} ms -> ${killed ? `killed at ${first.killedAt} ms (reached ${result.reached.join(', ') || 'nothing'})` : 'finished before the kill'}; ` +
        `${mismatches.length} mismatch(es)${mismatches.length ? `: ${mismatches.slice(0, 5).join('; ')}` : ''}; ${leftoverTemporaries} leftover temporary file(s)`,
    );
  }
  return { trials: results, mismatches: results.filter((r) => r.mismatches.length > 0).length, reference: { prepareMs: refPrepare.ms, runMs: refRun.ms, marks } };
}

async function main(): Promise<void> {
  const { Command } = await import('commander');
  const opts = new Command()
    .name('kill_trials')
    .description('SIGKILL the pipeline at random points, resume it, and compare every output with an uninterrupted run')
    .option('--trials <n>', 'number of trials (cycling prepare, features, training)', '10')
    .option('--seed <n>', 'seed of the kill schedule', '1')
    .option('--per-class <train,val,test>', 'videos per gloss and split taken from the sample', '3,1,1')
    .option('--glosses <n>', 'glosses taken from the sample', '8')
    .option('--keep <dir>', 'work in this folder and keep it (default: a temporary folder, removed)')
    .parse()
    .opts<{ trials: string; seed: string; perClass: string; glosses: string; keep?: string }>();
  const [train, val, test] = opts.perClass.split(',').map(Number);
  const workDir = opts.keep ? path.resolve(opts.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-kill-'));
  if (opts.keep) fs.mkdirSync(workDir, { recursive: true });
  const started = Date.now();
  try {
    const report = await runKillTrials({ workDir, trials: Number(opts.trials), seed: Number(opts.seed), perSplit: { train: train!, val: val!, test: test! }, glosses: Number(opts.glosses) });
    const byPhase = PHASES.map((p) => {
      const t = report.trials.filter((r) => r.phase === p);
      return `${p} ${t.length} (${t.filter((r) => r.killed).length} killed)`;
    }).join(', ');
    const leftovers = report.trials.reduce((n, r) => n + r.leftoverTemporaries, 0);
    console.log(`\nkill trials: ${report.trials.length} trials [${byPhase}], ${report.mismatches} mismatches, ${leftovers} leftover temporary files, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (report.mismatches > 0) process.exitCode = 1;
  } finally {
    if (!opts.keep) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
