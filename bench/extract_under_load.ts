/**
 * Stress check for issue 15: are valid clips ever lost when frame extraction runs on a CPU-starved machine?
 * Starts one busy-loop process per core (or --load N), then extracts every clip of the real WLASL folders
 * with the features command's look-ahead (2 videos per core, --concurrency), raw RGB (extractFrames, what
 * `features`/`run` use) and JPEG (extractJpegFrames, what the frame stage uses), --runs times. Each clip's
 * output is compared with a sequential pass of the same code made first without the busy loops: a clip is
 * lost if it throws (every clip of these folders is a valid video), wrong if its frame count or bytes differ.
 * Exits 1 when any clip was lost or wrong, in either pass.
 *
 *   npx tsx bench/extract_under_load.ts [--runs 5] [--data real10,trainval] [--limit N] [--concurrency C]
 *                                       [--load N] [--consumer-ms 25] [--path raw,jpeg]
 *
 * Prints one line per run and path, the totals, and a last line of JSON with the figures.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess, spawn } from 'node:child_process';
import pLimit from 'p-limit';
import { DEFAULT_CONFIG } from '../src/config';
import type { VideoJob } from '../src/metadata/types';
import { ffmpegBinaries, ffmpegVersion } from '../src/runtime/ffmpeg';
import { extractFrames, extractJpegFrames } from '../src/video/extract';
import { resolveConcurrency } from '../src/video/stage';
import { sharedPath } from '../test/helpers';
import { realJobs } from '../test/video_fixtures';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const cores = resolveConcurrency(0);
const runs = Number(arg('runs', '5'));
const datasets = arg('data', 'real10').split(',');
const limitPerSet = Number(arg('limit', '0'));
const concurrency = Number(arg('concurrency', String(2 * cores)));
const loadProcs = Number(arg('load', String(cores)));
const paths = arg('path', 'raw,jpeg').split(',') as ('raw' | 'jpeg')[];
/**
 * Synchronous main-thread work after each clip, standing for what `features` does there (copying the frames,
 * handing them to a worker, embedding them itself with --workers 0, garbage collection): a busy event loop
 * is the other half of a starved machine.
 */
const consumerMs = Number(arg('consumer-ms', '25'));
const config = DEFAULT_CONFIG.frames;

const DATA_DIRS: Record<string, string> = { real10: 'wlasl-real10', trainval: 'wlasl100-trainval' };

function jobsOf(): VideoJob[] {
  const jobs: VideoJob[] = [];
  for (const name of datasets) {
    const dir = DATA_DIRS[name] ? sharedPath('data', DATA_DIRS[name]) : undefined;
    if (!dir) {
      console.log(`${name}: not found under ../shared/data, skipped`);
      continue;
    }
    const found = realJobs(dir).map((j) => ({ videoId: `${name}/${j.videoId}`, path: j.path, bbox: j.bbox }));
    jobs.push(...(limitPerSet > 0 ? found.slice(0, limitPerSet) : found));
  }
  return jobs;
}

interface Outcome {
  count: number;
  hash: string;
}

async function extractOne(job: VideoJob, kind: 'raw' | 'jpeg', scratch: string): Promise<Outcome> {
  if (kind === 'raw') {
    const frames = await extractFrames(job, config, {});
    return { count: frames.count, hash: crypto.createHash('sha1').update(frames.frames).digest('hex') };
  }
  // The frame stage passes threads: 1 when several videos run at once; so does this.
  const dir = fs.mkdtempSync(path.join(scratch, 'clip-'));
  try {
    const result = await extractJpegFrames(job, config, dir, { threads: concurrency > 1 ? 1 : undefined });
    const hash = crypto.createHash('sha1');
    for (const name of result.files) hash.update(name).update(fs.readFileSync(path.join(dir, name)));
    return { count: result.files.length, hash: hash.digest('hex') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function startLoad(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

function stopLoad(procs: ChildProcess[]): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

async function main(): Promise<void> {
  const jobs = jobsOf();
  if (jobs.length === 0) {
    console.log('no clips: ../shared/data/wlasl-real10 (or wlasl100-trainval) is needed');
    return;
  }
  console.log(`${ffmpegVersion()} (${ffmpegBinaries().source}); ${os.cpus().length} CPUs, ${cores} usable`);
  console.log(`${jobs.length} clips (${datasets.join(', ')}), paths ${paths.join(', ')}, concurrency ${concurrency}, ${loadProcs} busy-loop processes, ${consumerMs} ms main-thread work per clip, ${runs} runs`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-extract-load-'));
  let load: ChildProcess[] = [];
  const cleanup = (): void => {
    stopLoad(load);
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));

  // Reference: the same code, one clip at a time, no busy loops. These clips are all valid, so a failure here
  // is a loss too (the old fluent-ffmpeg path lost one even so), not a reason to leave the clip out.
  const reference = new Map<string, Outcome>();
  const referenceLost: { path: string; clip: string; reason: string }[] = [];
  for (const kind of paths) {
    const started = Date.now();
    for (const job of jobs) {
      try {
        reference.set(`${kind}:${job.videoId}`, await extractOne(job, kind, scratch));
      } catch (error) {
        referenceLost.push({ path: kind, clip: job.videoId, reason: (error as Error).message });
      }
    }
    console.log(`reference ${kind}: ${jobs.length} clips in ${((Date.now() - started) / 1000).toFixed(1)} s without busy loops, lost ${referenceLost.filter((i) => i.path === kind).length}`);
  }
  for (const i of referenceLost) console.log(`  lost without busy loops (${i.path}) ${i.clip}: ${i.reason}`);

  let processed = 0;
  let lost = 0;
  let wrong = 0;
  const losses: { run: number; path: string; clip: string; reason: string }[] = [];
  const started = Date.now();
  try {
    load = startLoad(loadProcs);
    for (let run = 1; run <= runs; run++) {
      for (const kind of paths) {
        const runStart = Date.now();
        const limit = pLimit(concurrency);
        let runLost = 0;
        let runWrong = 0;
        let runDone = 0;
        await Promise.all(
          jobs.map((job) =>
            limit(async () => {
              // A clip lost in the reference pass still runs here; only its output cannot be compared.
              const expected = reference.get(`${kind}:${job.videoId}`);
              runDone++;
              try {
                const got = await extractOne(job, kind, scratch);
                busyWait(consumerMs);
                if (expected && (got.count !== expected.count || got.hash !== expected.hash)) {
                  runWrong++;
                  losses.push({ run, path: kind, clip: job.videoId, reason: `wrong output: ${got.count} frames (expected ${expected.count}), hash ${got.hash === expected.hash ? 'same' : 'differs'}` });
                }
              } catch (error) {
                runLost++;
                losses.push({ run, path: kind, clip: job.videoId, reason: (error as Error).message });
              }
            }),
          ),
        );
        processed += runDone;
        lost += runLost;
        wrong += runWrong;
        const seconds = (Date.now() - runStart) / 1000;
        console.log(`run ${run} ${kind}: ${runDone} clips in ${seconds.toFixed(1)} s under load (${os.loadavg()[0].toFixed(1)} load avg), lost ${runLost}, wrong ${runWrong}`);
      }
    }
  } finally {
    stopLoad(load);
  }
  for (const l of losses) console.log(`  run ${l.run} ${l.path} ${l.clip}: ${l.reason}`);
  const seconds = (Date.now() - started) / 1000;
  console.log(`clips processed ${processed}, clips lost ${lost}, wrong ${wrong}, runs ${runs}, ${seconds.toFixed(0)} s under load; lost without busy loops ${referenceLost.length} of ${jobs.length * paths.length}`);
  console.log(
    JSON.stringify({
      bench: 'extract_under_load',
      clips: jobs.length,
      datasets,
      paths,
      runs,
      concurrency,
      loadProcesses: loadProcs,
      consumerMs,
      clipsProcessed: processed,
      clipsLost: lost,
      clipsWrong: wrong,
      referenceClips: jobs.length * paths.length,
      referenceLost: referenceLost.length,
      lossReasons: [...new Set([...referenceLost, ...losses].map((l) => l.reason))],
      secondsUnderLoad: Math.round(seconds),
    }),
  );
  if (lost + wrong + referenceLost.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
