/**
 * The command line: `wlasl <command>` (npm run cli -- <command>); `npm start` runs the whole pipeline on the
 * embedded sample. Every option maps to one field of the typed config (src/config.ts), whose defaults live there.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { describeError, WlaslError } from '../errors';
import { resolveConfig, PRESETS, type DeepPartial, type PipelineConfig } from '../config';

export const SAMPLE_DIR = path.resolve(__dirname, '..', '..', 'data', 'sample');

interface CommonOptions {
  data?: string;
  sample?: boolean;
  preset?: string;
  subset?: string;
  splitFile?: string;
  weights?: string;
  alpha?: string;
  allowRandomFallback?: boolean;
  float16?: boolean;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  seed?: string;
  patience?: string;
  sampleSize?: string;
  stride?: string;
  hidden?: string;
  layers?: string;
  dropout?: string;
  standardize?: boolean;
  velocity?: boolean;
  frameStart?: string;
  frameEnd?: string;
  workers?: string;
  cacheDir?: string;
}

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new WlaslError(`--${name} must be a number, got '${value}'`);
  return n;
}

/** The embedded sample runs offline: it may fall back to seeded random weights (recorded in the run). */
export function configFromOptions(o: CommonOptions): PipelineConfig {
  const usingSample = o.sample || !o.data;
  const overrides: DeepPartial<PipelineConfig> = {
    frames: { window: { start: num(o.frameStart, 'frame-start'), end: num(o.frameEnd, 'frame-end') } },
    sequence: { sampleSize: num(o.sampleSize, 'sample-size'), stride: num(o.stride, 'stride') },
    backbone: {
      weights: o.weights,
      alpha: num(o.alpha, 'alpha') as PipelineConfig['backbone']['alpha'] | undefined,
      allowRandomFallback: o.allowRandomFallback ?? (usingSample ? true : undefined),
      cacheFloat16: o.float16,
    },
    model: { hidden: num(o.hidden, 'hidden'), layers: num(o.layers, 'layers'), dropout: num(o.dropout, 'dropout'), standardize: o.standardize, velocity: o.velocity },
    train: { epochs: num(o.epochs, 'epochs'), batchSize: num(o.batchSize, 'batch-size'), learningRate: num(o.lr, 'lr'), seed: num(o.seed, 'seed'), patience: num(o.patience, 'patience') },
  };
  return resolveConfig({ preset: o.preset, overrides });
}

function dataDirOf(o: CommonOptions): string {
  return path.resolve(o.data ?? SAMPLE_DIR);
}

function addDatasetOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'WLASL folder with WLASL_v0.3.json and videos/ (default: the embedded sample)')
    .option('--sample', 'use the embedded sample in data/sample')
    .option('--subset <K>', 'WLASL100, WLASL300, WLASL1000 or WLASL2000 (the first K glosses of the metadata file)')
    .option('--split-file <file>', "an nslt_K.json split file from Kaggle's wlasl-processed")
    .option('--cache-dir <dir>', 'where frames/features caches live (default: <data>/.wlasl-cache)');
}

function addConfigOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--preset <name>', 'a named recipe').choices(Object.keys(PRESETS)))
    .option('--weights <w>', "backbone weights: imagenet, random, a folder or a URL of a TF.js model")
    .option('--alpha <a>', 'MobileNetV2 width: 1.0 (the original) or 0.35 (a fifth of the compute)')
    .option('--allow-random-fallback', 'continue with seeded random weights when imagenet cannot be had')
    .option('--float16', 'store cached features as float16')
    .option('--frame-start <n>', 'first source frame kept (0-based)')
    .option('--frame-end <n>', 'last source frame kept (inclusive)')
    .option('--sample-size <T>', 'frames per sequence')
    .option('--stride <n>', 'frames between sequence starts')
    .option('--hidden <n>', 'LSTM units')
    .option('--layers <n>', 'stacked LSTM layers')
    .option('--dropout <p>', 'dropout before the classifier')
    .option('--standardize', 'standardise features with training-split statistics')
    .option('--velocity', 'append frame-difference features')
    .option('--epochs <n>', 'maximum epochs')
    .option('--batch-size <n>', 'sequences per batch')
    .option('--lr <x>', 'Adam learning rate')
    .option('--seed <n>', 'seed for shuffling and initial weights')
    .option('--patience <n>', 'early-stopping patience (epochs)')
    .option('--workers <n>', 'feature-extraction threads (default: cores)');
}

export function buildProgram(): Command {
  const program = new Command()
    .name('wlasl')
    .description('Isolated ASL sign recognition on WLASL: frozen MobileNetV2 features + LSTM, in TensorFlow.js')
    .showHelpAfterError();

  const run = program
    .command('run')
    .alias('pipeline')
    .description('index, extract frames, cache features, train, evaluate and save a run folder (default: the embedded sample)')
    .option('--run-dir <dir>', 'output folder (default: runs/<timestamp>)')
    .option('--resume', "continue training from the run folder's last checkpoint");
  addConfigOptions(addDatasetOptions(run)).action(async (o: CommonOptions & { runDir?: string; resume?: boolean }) => {
    const { runPipeline, defaultRunDir } = await import('../pipeline/run');
    const config = configFromOptions(o);
    const dataDir = dataDirOf(o);
    const result = await runPipeline({
      dataDir,
      subset: o.subset,
      splitFile: o.splitFile,
      config,
      runDir: o.runDir ?? defaultRunDir(),
      cacheDir: o.cacheDir,
      resume: o.resume,
      workers: num(o.workers, 'workers'),
    });
    console.log('\n' + result.summary);
    console.log(`\nrun folder: ${result.runDir} (model/, metrics.json, history.csv, charts/, summary.txt)`);
  });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`error: ${describeError(error)}`);
      process.exitCode = 1;
    });
}
