/**
 * Builds the embedded sample dataset (data/sample by default): `npx tsx scripts/make_sample.ts [--out DIR]`.
 * Deterministic for a given ffmpeg binary; finished videos are kept on a rerun (use --overwrite to redo).
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { describeError } from '../src/errors';
import { generateSample, DEFAULT_SAMPLE_OPTIONS } from '../src/sample/generate';

const program = new Command()
  .name('make_sample')
  .description('Generate the WLASL-shaped sample dataset (classes in pairs that differ only in frame order)')
  .option('--out <dir>', 'output folder', path.resolve(__dirname, '..', 'data', 'sample'))
  .option('--videos-per-class <n>', 'videos per class', String(DEFAULT_SAMPLE_OPTIONS.videosPerClass))
  .option('--nuisance <k>', 'nuisance level: 0 none, 0.5 the default, 1 moderate', String(DEFAULT_SAMPLE_OPTIONS.nuisance))
  .option('--seed <n>', 'seed', String(DEFAULT_SAMPLE_OPTIONS.seed))
  .option('--crf <n>', 'x264 quality (lower = bigger files)', String(DEFAULT_SAMPLE_OPTIONS.crf))
  .option('--concurrency <n>', 'videos encoded at once (default: cores)')
  .option('--only <ids>', 'comma-separated video ids to (re)generate')
  .option('--overwrite', 'regenerate existing videos', false)
  .parse();

const opts = program.opts<{ out: string; videosPerClass: string; nuisance: string; seed: string; crf: string; concurrency?: string; only?: string; overwrite: boolean }>();

generateSample(path.resolve(opts.out), {
  videosPerClass: Number(opts.videosPerClass),
  nuisance: Number(opts.nuisance),
  seed: Number(opts.seed),
  crf: Number(opts.crf),
  concurrency: opts.concurrency ? Number(opts.concurrency) : undefined,
  only: opts.only ? opts.only.split(',').map((s) => s.trim()) : undefined,
  overwrite: opts.overwrite,
}).catch((error) => {
  console.error(`make_sample: ${describeError(error)}`);
  process.exitCode = 1;
});
