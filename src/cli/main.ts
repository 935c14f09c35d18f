/**
 * The command line: `wlasl <command>` (npm run cli -- <command>); `npm start` runs the whole pipeline on the
 * embedded sample. Every option maps to one field of the typed config (src/config.ts), whose defaults live there.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { describeError, VideoError, WlaslError } from '../errors';
import { checkConfig, checkFramesConfig, checkWorkers, resolveConfig, PRESETS, type DeepPartial, type PipelineConfig } from '../config';

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
  monitor?: 'loss' | 'top1';
  labelSmoothing?: string;
  weightDecay?: string;
  emaMomentum?: string;
  mixup?: string;
  lrSchedule?: 'constant' | 'cosine';
  trainOn?: 'train' | 'train+val';
  helperThreads?: string;
  features?: 'cnn' | 'landmarks' | 'fusion' | 'hands';
  wholeClip?: boolean;
  minSpan?: string;
  augmentLandmarks?: boolean;
  handDrop?: string;
  handAngles?: boolean;
  rightLeads?: boolean;
  faceContact?: boolean;
  evalViews?: 'whole' | 'spans';
  sampleSize?: string;
  stride?: string;
  hidden?: string;
  layers?: string;
  dropout?: string;
  pooling?: 'last' | 'mean';
  bidirectional?: boolean;
  standardize?: boolean;
  velocity?: boolean;
  frameStart?: string;
  frameEnd?: string;
  metadataRange?: boolean;
  maxFrames?: string;
  resample?: boolean;
  shortVideo?: 'pad' | 'skip';
  concurrency?: string;
  workers?: string;
  cacheDir?: string;
  followSymlinks?: boolean;
}

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new WlaslError(`--${name} must be a number, got '${value}'`);
  return n;
}

/** The flag that sets each config field, so the config check names what the user typed. */
const CONFIG_FLAGS: Record<string, string> = {
  'frames.window.start': '--frame-start',
  'frames.window.end': '--frame-end',
  'frames.window.shortVideoPolicy': '--short-video',
  'frames.window.maxFrames': '--max-frames',
  'frames.window.resample': '--resample',
  'frames.concurrency': '--concurrency',
  'stream.features': '--features',
  'stream.wholeClip': '--whole-clip',
  'stream.minSpan': '--min-span',
  'stream.handDrop': '--hand-drop',
  'sequence.sampleSize': '--sample-size',
  'sequence.stride': '--stride',
  'backbone.alpha': '--alpha',
  'backbone.weights': '--weights',
  'model.hidden': '--hidden',
  'model.layers': '--layers',
  'model.dropout': '--dropout',
  'model.pooling': '--pooling',
  'model.bidirectional': '--bidirectional',
  'train.epochs': '--epochs',
  'train.batchSize': '--batch-size',
  'train.learningRate': '--lr',
  'train.seed': '--seed',
  'train.patience': '--patience',
  'train.monitor': '--monitor',
  'train.labelSmoothing': '--label-smoothing',
  'train.weightDecay': '--weight-decay',
  'train.emaMomentum': '--ema-momentum',
  'train.mixup': '--mixup',
  'train.lrSchedule': '--lr-schedule',
  'train.trainOn': '--train-on',
  'train.helperThreads': '--helper-threads',
};

/**
 * The config of a command, checked before any work (every bad flag named at once). The embedded sample gets
 * the sample preset (src/config.ts), as the notebooks do.
 */
export function configFromOptions(o: CommonOptions): PipelineConfig {
  const usingSample = o.sample || !o.data;
  checkWorkers(num(o.workers, 'workers'), '--workers');
  const overrides: DeepPartial<PipelineConfig> = {
    frames: {
      window: { start: num(o.frameStart, 'frame-start'), end: num(o.frameEnd, 'frame-end'), useMetadataRange: fixedWindowAsked(o) ? false : o.metadataRange, shortVideoPolicy: o.shortVideo, maxFrames: num(o.maxFrames, 'max-frames'), resample: o.resample },
      concurrency: num(o.concurrency, 'concurrency'),
    },
    stream: { features: o.features, wholeClip: o.wholeClip, minSpan: num(o.minSpan, 'min-span'), augmentLandmarks: o.augmentLandmarks, handDrop: num(o.handDrop, 'hand-drop'), handAngles: o.handAngles, rightLeads: o.rightLeads, faceContact: o.faceContact, evalViews: o.evalViews },
    sequence: { sampleSize: num(o.sampleSize, 'sample-size'), stride: num(o.stride, 'stride') },
    backbone: {
      weights: o.weights,
      alpha: num(o.alpha, 'alpha') as PipelineConfig['backbone']['alpha'] | undefined,
      allowRandomFallback: o.allowRandomFallback,
      cacheFloat16: o.float16,
    },
    model: { hidden: num(o.hidden, 'hidden'), layers: num(o.layers, 'layers'), dropout: num(o.dropout, 'dropout'), pooling: o.pooling, bidirectional: o.bidirectional, standardize: o.standardize, velocity: o.velocity },
    train: { epochs: num(o.epochs, 'epochs'), batchSize: num(o.batchSize, 'batch-size'), learningRate: num(o.lr, 'lr'), seed: num(o.seed, 'seed'), patience: num(o.patience, 'patience'), monitor: o.monitor, labelSmoothing: num(o.labelSmoothing, 'label-smoothing'), weightDecay: num(o.weightDecay, 'weight-decay'), emaMomentum: num(o.emaMomentum, 'ema-momentum'), mixup: num(o.mixup, 'mixup'), lrSchedule: o.lrSchedule, trainOn: o.trainOn, helperThreads: num(o.helperThreads, 'helper-threads') },
  };
  const config = resolveConfig({ preset: o.preset, overrides, sample: usingSample });
  checkConfig(config, (field) => CONFIG_FLAGS[field] ?? field);
  return config;
}

/** Exit status of a command that finished but left inputs out (each listed with its reason); README says so. */
const EXIT_SKIPPED = 3;

/** --frame-start/--frame-end without --metadata-range ask for the fixed window: never ignore them silently. */
function fixedWindowAsked(o: { metadataRange?: boolean; frameStart?: string; frameEnd?: string }): boolean {
  return o.metadataRange === undefined && (o.frameStart !== undefined || o.frameEnd !== undefined);
}

type RunOptions = CommonOptions & { runDir?: string; resume?: boolean; overwrite?: boolean };

/**
 * The weights a command will use, resolved before any work: 'default' becomes what it stands for (the cached
 * width-1.0 ImageNet download, else the embedded 0.35; an explicit --alpha picks the width: backbone/source.ts
 * resolveWeights), said in one line. An --alpha given next to weights of a fixed width (a folder, 'embedded') must
 * be that width: refused otherwise (the run would record one width and compute with another). Without --alpha,
 * the weights' own width is used.
 */
async function configWithWeightsAlpha(o: CommonOptions): Promise<PipelineConfig> {
  const given = configFromOptions(o);
  const { resolveBackboneConfig, EMBEDDED_ALPHA } = await import('../backbone/source');
  const { cacheRoot, weightsCacheDir } = await import('../runtime/user_cache');
  // Without --alpha, the width a preset set (the sample's 0.35) counts as asked for, as in resolveWeights.
  const resolved = resolveBackboneConfig(given.backbone, weightsCacheDir(cacheRoot(o.cacheDir)), o.alpha !== undefined ? true : undefined);
  if (resolved.reason) console.log(resolved.reason);
  const config = { ...given, backbone: resolved.backbone };
  const weights = config.backbone.weights;
  if (['imagenet', 'random'].includes(weights) || /^[a-z][a-z0-9+.-]*:\/\//i.test(weights)) return config;
  let alpha: PipelineConfig['backbone']['alpha'] | undefined = EMBEDDED_ALPHA;
  let where = 'the embedded weights';
  if (weights !== 'embedded') {
    const fs = await import('node:fs');
    if (!fs.existsSync(weights)) return config; // loadBackbone names the missing folder
    const { initBackend } = await import('../runtime/backend');
    const { alphaOfWeightsFolder } = await import('../backbone/backbone');
    await initBackend();
    alpha = await alphaOfWeightsFolder(weights);
    where = `the weights in ${weights}`;
  }
  if (alpha === undefined) return config;
  if (o.alpha !== undefined && Number(o.alpha) !== alpha) throw new WlaslError(`--alpha ${o.alpha} contradicts ${where}, which are MobileNetV2-${alpha}: give --alpha ${alpha}, or leave --alpha out`);
  return { ...config, backbone: { ...config.backbone, alpha } };
}

/** `run` and `train`: the whole pipeline, its summary printed last. */
async function runCommand(o: RunOptions) {
  const { runPipeline, defaultRunDir } = await import('../pipeline/run');
  const config = await configWithWeightsAlpha(o);
  const result = await runPipeline({
    dataDir: dataDirOf(o),
    subset: o.subset,
    splitFile: o.splitFile,
    followSymlinks: o.followSymlinks,
    config,
    runDir: o.runDir ?? defaultRunDir(),
    cacheDir: o.cacheDir,
    resume: o.resume,
    overwrite: o.overwrite,
    workers: num(o.workers, 'workers'),
  });
  console.log('\n' + result.summary);
  return result;
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
    .option('--cache-dir <dir>', 'cache root for weights and features (default: $XDG_CACHE_HOME/wlasl-cnn-lstm or ~/.cache/wlasl-cnn-lstm)')
    .option('--follow-symlinks', 'read videos that are symbolic links leading out of the dataset folder (refused and reported by default)');
}

function addConfigOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--preset <name>', 'a named recipe').choices(Object.keys(PRESETS)))
    .option('--weights <w>', 'backbone weights: default (cached width-1.0 ImageNet weights, else the embedded 0.35), embedded, imagenet (download), random, a folder or a URL of a TF.js model')
    .option('--alpha <a>', 'MobileNetV2 width: 1.0 (the original) or 0.35 (a fifth of the compute); a folder or embedded weights have their own')
    .option('--allow-random-fallback', 'continue with seeded random weights when imagenet cannot be had')
    .option('--float16', 'store cached features as float16')
    .option('--frame-start <n>', 'first source frame kept (0-based)')
    .option('--frame-end <n>', 'last source frame kept (inclusive)')
    .option('--metadata-range', "use each instance's WLASL frame_start/frame_end (the default; not in presets original and cnn-windows)")
    .option('--no-metadata-range', 'frames --frame-start..--frame-end of every clip (5..35, as the original); implied by --frame-start/--frame-end')
    .option('--max-frames <n>', 'with --metadata-range: at most this many frames per video, spread evenly over its range (default 32)')
    .option('--resample', 'with --metadata-range: exactly --max-frames frames per video, spread over its range (short clips repeat frames)')
    .addOption(new Option('--short-video <policy>', 'a video shorter than the window: pad (repeat its last frame) or skip (and report it)').choices(['pad', 'skip']))
    .option('--concurrency <n>', 'videos decoded at once (default: cores)')
    .addOption(new Option('--features <stream>', 'what the LSTM reads per frame: cnn (backbone features of the crop), landmarks (body and hand keypoints), fusion (both), hands (backbone features of crops of each hand, placed by the landmarks)').choices(['cnn', 'landmarks', 'fusion', 'hands']))
    .option('--whole-clip', 'one sequence per clip: --sample-size frames spread over all its kept frames (the whole sign)')
    .option('--no-whole-clip', 'windows of --sample-size consecutive frames every --stride (the cnn stream only)')
    .option('--min-span <f>', 'whole clip: training views cover a random span of at least this fraction of the clip (1 = no time augmentation)')
    .option('--augment-landmarks', 'training views of the landmarks turn, scale and shift a little')
    .option('--no-augment-landmarks', 'landmarks as computed')
    .option('--hand-drop <rate>', 'training views of the landmarks lose each hand seen in a frame with this chance, as the landmark stage misses hands (default 0.25 on real data, 0 in the presets and the sample: README)')
    .option('--hand-angles', "the landmark stream carries each hand's joint angles (the default)")
    .option('--no-hand-angles', 'no hand angles (with --no-face-contact: positions and shapes only, the stream of models before 2026-12-06)')
    .option('--right-leads', 'mirror clips whose left wrist is held higher, so the leading hand is always the right (the default)')
    .option('--no-right-leads', 'read every clip as filmed (the stream of models before 2026-12-06)')
    .option('--face-contact', "the landmark stream carries where each hand's fingertips are about the face (the default)")
    .option('--no-face-contact', 'no face contact (the stream of models before 2026-12-07)')
    .addOption(new Option('--eval-views <views>', 'whole clip: read a clip at evaluation as one view (whole) or five spans averaged (spans)').choices(['whole', 'spans']))
    .option('--sample-size <T>', 'frames per sequence')
    .option('--stride <n>', 'frames between sequence starts')
    .option('--hidden <n>', 'LSTM units')
    .option('--layers <n>', 'stacked LSTM layers')
    .option('--dropout <p>', 'dropout before the classifier')
    .addOption(new Option('--pooling <what>', "what the classifier reads: the LSTM's mean state over time (mean, the default on real data: +3.9 points val top-1 on WLASL100, README) or its last state (last: presets original and cnn-windows, the sample)").choices(['last', 'mean']))
    .option('--bidirectional', 'a second LSTM reads each sequence backwards and the classifier reads both (one layer; README, "Real signs")')
    .option('--standardize', 'standardise features with training-split statistics (default on)')
    .option('--no-standardize', 'feed raw features, as the original')
    .option('--velocity', 'append frame-difference features (the default recipe does)')
    .option('--no-velocity', 'no frame-difference features (presets original and cnn-windows)')
    .option('--epochs <n>', 'maximum epochs')
    .option('--batch-size <n>', 'sequences per batch')
    .option('--lr <x>', 'Adam learning rate')
    .option('--seed <n>', 'seed for shuffling and initial weights')
    .option('--patience <n>', 'early-stopping patience (epochs)')
    .addOption(new Option('--monitor <what>', 'what early stopping watches: loss (val loss) or top1 (val top-1)').choices(['loss', 'top1']))
    .option('--label-smoothing <x>', 'label smoothing of the training target, in [0, 1) (default 0.1 on real data, 0 in the presets and the sample: README)')
    .option('--weight-decay <x>', 'decoupled weight decay as AdamW (default 0; 0.2 measured: top-1 within noise, top-5 +2, README)')
    .option('--ema-momentum <x>', 'validate and keep a moving average of the weights, moving 1 - x of the way each step, in [0, 1) (default 0: none)')
    .option('--mixup <alpha>', 'blend each training sequence with another of its batch (and their labels), weight ~ Beta(alpha, alpha) (default 0.4 on real data, 0 in the presets and the sample: README)')
    .addOption(new Option('--lr-schedule <how>', 'the learning rate over training: constant, or cosine (from --lr down to 0 over --epochs)').choices(['constant', 'cosine']))
    .addOption(new Option('--train-on <splits>', "what the head learns from: train (validated on val, early stopping) or train+val (the model to keep once the recipe is chosen: all --epochs, the last kept, no val figures)").choices(['train', 'train+val']))
    .option('--helper-threads <n>', 'a second thread for the large matmuls of a training step: 0 (default) or 1')
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
    .option('--run-dir <dir>', 'output folder (default: runs/<timestamp>); an existing one only if it is a run folder, with --resume or --overwrite')
    .option('--resume', "continue training from the run folder's last checkpoint")
    .option('--overwrite', "replace the outputs of the run already in --run-dir");
  addConfigOptions(addDatasetOptions(run)).action(async (o: RunOptions) => {
    const result = await runCommand(o);
    console.log(`\nrun folder: ${result.runDir} (model/, metrics.json, history.csv, charts/, summary.txt)`);
    if (result.skipped.length > 0) process.exitCode = EXIT_SKIPPED;
  });


  const acquire = program
    .command('acquire')
    .description("get WLASL: extract a local wlasl-processed.zip, or download it from Kaggle's API and extract it")
    .option('--zip <file>', 'a local wlasl-processed.zip to extract')
    .option('--kaggle', 'download risangbaskoro/wlasl-processed (needs KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json)')
    .option('--dataset <owner/name>', 'another Kaggle dataset')
    .requiredOption('--out <dir>', 'folder to extract into (the download goes to <out>.zip)');
  acquire.action(async (o: { zip?: string; kaggle?: boolean; dataset?: string; out: string }) => {
    const { extractZip, downloadKaggleDataset } = await import('../acquire/index');
    if (!o.zip && !o.kaggle) throw new WlaslError('give --zip FILE or --kaggle');
    let zip = o.zip;
    if (!zip) {
      zip = `${path.resolve(o.out)}.zip`;
      const r = await downloadKaggleDataset({ dataset: o.dataset, outFile: zip, progress: true });
      console.log(`downloaded ${r.bytes} bytes -> ${r.file}${r.resumedFrom ? ` (resumed from byte ${r.resumedFrom})` : ''}`);
    }
    const result = await extractZip(zip, o.out, { progress: true });
    console.log(`extracted ${result.extracted} files (${result.skipped} already there) -> ${path.resolve(o.out)}`);
  });

  const prepare = program
    .command('prepare')
    .description("organise videos into split/gloss folders (links) and extract cropped JPEG frames (the original's videos_process + capture_frames)")
    .requiredOption('--out <dir>', 'output folder: <out>/videos/<split>/<gloss>/ and <out>/frames/<params>/<video_id>/')
    .addOption(new Option('--link <mode>', 'how videos are placed in split/gloss folders').choices(['hardlink', 'symlink', 'copy']).default('hardlink'))
    .option('--no-frames', 'only organise the videos')
    .option('--batch <n>', 'videos per ffmpeg process when extracting frames (1 = a process per video; default 8)');
  addConfigOptions(addDatasetOptions(prepare)).action(async (o: CommonOptions & { out: string; link: 'hardlink' | 'symlink' | 'copy'; frames: boolean; batch?: string }) => {
    const { loadIndex, jobsOf } = await import('../pipeline/run');
    const { organiseSplits } = await import('../organise/index');
    const { runFrameStage, formatFrameSummary, checkBatch } = await import('../video/stage');
    const config = configFromOptions(o);
    const batch = num(o.batch, 'batch');
    checkBatch(batch, '--batch');
    const index = loadIndex({ dataDir: dataDirOf(o), subset: o.subset, splitFile: o.splitFile, followSymlinks: o.followSymlinks });
    for (const w of index.warnings) console.log(`warning: ${w}`);
    const organised = await organiseSplits(index, path.join(o.out, 'videos'), { mode: o.link, progress: true });
    console.log(`organised: ${organised.created} new ${organised.mode === 'copy' ? 'copies' : `${organised.mode}s`}, ${organised.unchanged} already there, ${organised.missing} missing videos${organised.refused.length ? `, ${organised.refused.length} refused (links out of the dataset folder)` : ''} -> ${organised.outDir}`);
    if (!o.frames) return;
    const summary = await runFrameStage(jobsOf(index.present), { ...config.frames, output: 'jpeg' }, path.join(o.out, 'frames'), { batch });
    console.log(formatFrameSummary(summary));
    if (summary.failed > 0) process.exitCode = EXIT_SKIPPED;
  });

  const features = program
    .command('features')
    .description('run the frozen backbone once over every video and cache the features (resumable)');
  addConfigOptions(addDatasetOptions(features)).action(async (o: CommonOptions) => {
    const { loadIndex, buildFeatures, cacheSummaryLine } = await import('../pipeline/run');
    const config = await configWithWeightsAlpha(o);
    const dataDir = dataDirOf(o);
    const index = loadIndex({ dataDir, subset: o.subset, splitFile: o.splitFile, followSymlinks: o.followSymlinks });
    const { report, cache } = await buildFeatures(index, config, { cacheDir: o.cacheDir, workers: num(o.workers, 'workers') });
    console.log(`features: ${report.weightsId}: ${report.computed} computed, ${report.reused} reused, ${report.failed.length} failed, ${report.framesPerSecond.toFixed(1)} frames/s -> ${report.cacheDir}`);
    console.log(cacheSummaryLine(cache));
    if (report.failed.length > 0) process.exitCode = EXIT_SKIPPED;
  });

  const landmarks = program
    .command('landmarks')
    .description('body and hand landmarks per frame (@vladmandic/human\'s models), computed once per video and cached (resumable)')
    .addOption(new Option('--hands <strategy>', "wrist: hand crops placed by the body's wrists; detector: Human's hand detector on every frame").choices(['wrist', 'detector']))
    .option('--detector-fallback', "with --hands wrist: run the detector on frames where a visible wrist got no hand (slower)")
    .option('--landmark-size <px>', 'frame size the landmark models see (default 224)')
    .option('--frame-start <n>', 'first source frame kept (0-based)')
    .option('--frame-end <n>', 'last source frame kept (inclusive)')
    .option('--metadata-range', "use each instance's WLASL frame_start/frame_end (the default; not in presets original and cnn-windows)")
    .option('--no-metadata-range', 'frames --frame-start..--frame-end of every clip (5..35, as the original); implied by --frame-start/--frame-end')
    .option('--max-frames <n>', 'with --metadata-range: at most this many frames per video, spread evenly over its range (default 32)')
    .addOption(new Option('--short-video <policy>', 'a video shorter than the window: pad (repeat its last frame) or skip (and report it)').choices(['pad', 'skip']))
    .option('--workers <n>', 'landmark threads, one core each (default: cores)');
  addDatasetOptions(landmarks).action(async (o: CommonOptions & { hands?: 'wrist' | 'detector'; detectorFallback?: boolean; landmarkSize?: string }) => {
    const { loadIndex, jobsOf } = await import('../pipeline/run');
    const { openCache } = await import('../runtime/user_cache');
    const { buildLandmarkCache, formatLandmarkSummary } = await import('../landmarks/stage');
    // Only the frame settings apply (no sequence or model here), so only they are checked.
    checkWorkers(num(o.workers, 'workers'), '--workers');
    const window = { start: num(o.frameStart, 'frame-start'), end: num(o.frameEnd, 'frame-end'), useMetadataRange: fixedWindowAsked(o) ? false : o.metadataRange, shortVideoPolicy: o.shortVideo, maxFrames: num(o.maxFrames, 'max-frames') };
    const config = resolveConfig({ overrides: { frames: { window } }, sample: o.sample || !o.data });
    checkFramesConfig(config.frames, (field) => CONFIG_FLAGS[field] ?? field);
    const index = loadIndex({ dataDir: dataDirOf(o), subset: o.subset, splitFile: o.splitFile, followSymlinks: o.followSymlinks });
    const cache = await openCache(index, o.cacheDir);
    const report = await buildLandmarkCache({
      jobs: jobsOf(index.present),
      cacheRoot: path.join(cache.datasetDir, 'landmarks'),
      frames: config.frames,
      params: { handStrategy: o.hands, detectorFallback: o.detectorFallback, size: num(o.landmarkSize, 'landmark-size') },
      workers: num(o.workers, 'workers'),
    });
    console.log(formatLandmarkSummary(report));
    for (const f of report.failed.slice(0, 10)) console.log(`  failed: ${f.videoId} (${f.kind}): ${f.reason}`);
    if (report.failed.length > 10) console.log(`  and ${report.failed.length - 10} more: ${path.join(report.cacheDir, 'failures.json')}`);
    if (report.failed.length > 0) process.exitCode = EXIT_SKIPPED;
  });

  const train = program
    .command('train')
    .description('train the LSTM head on cached features (features are built first if needed), evaluate, save a run folder')
    .option('--run-dir <dir>', 'output folder (default: runs/<timestamp>); an existing one only if it is a run folder, with --resume or --overwrite')
    .option('--resume', "continue from the run folder's last checkpoint")
    .option('--overwrite', "replace the outputs of the run already in --run-dir");
  addConfigOptions(addDatasetOptions(train)).action(async (o: RunOptions) => {
    // Training is the pipeline with every earlier step cached: it reuses frames/features when they exist.
    const result = await runCommand(o);
    if (result.skipped.length > 0) process.exitCode = EXIT_SKIPPED;
  });

  const evaluateCmd = program
    .command('evaluate')
    .description("evaluate a saved model directory on a dataset's test split: top-1/5/10 per video and per sequence")
    .requiredOption('--model <dir>', 'a model directory written by train/run')
    .addOption(new Option('--split <split>', 'which split to evaluate').choices(['train', 'val', 'test']).default('test'))
    .option('--out <file>', 'write the full report as JSON (never inside the model or dataset folders)')
    .option('--overwrite', 'replace an existing --out file that is not an earlier evaluation report');
  addDatasetOptions(evaluateCmd).action(async (o: CommonOptions & { model: string; split: 'train' | 'val' | 'test'; out?: string; overwrite?: boolean }) => {
    const { evaluateModelDir } = await import('../pipeline/evaluate');
    const report = await evaluateModelDir(o.model, { dataDir: dataDirOf(o), subset: o.subset, splitFile: o.splitFile, followSymlinks: o.followSymlinks, cacheDir: o.cacheDir, split: o.split, out: o.out, overwrite: o.overwrite });
    console.log(report.text);
    if (report.failed.length > 0) process.exitCode = EXIT_SKIPPED;
  });

  program
    .command('predict')
    .description('recognise the sign in videos with a saved model directory: top-5 glosses with probabilities for each')
    .argument('[videos...]', 'mp4 files (or any video ffmpeg reads); the model is loaded once for all of them')
    .option('--model <dir>', 'a model directory written by train/run (default: the ready WLASL100 model in models/wlasl100)')
    .option('--list-classes', 'print the glosses the model knows, one a line, and exit')
    .option('--bbox <x0,y0,x1,y1>', 'crop to this box first (as WLASL bboxes; one video only); default: a landmark model finds the signer, other models read the whole frame')
    .option('--no-auto-frame', "a landmark model without --bbox reads the whole frame instead of finding the signer's box first")
    .option('--top <k>', 'how many glosses to show', '5')
    .option('--json', 'print JSON: an object for one video, an array for several (a video that failed: {video, error})')
    .action(async (videos: string[], o: { model?: string; bbox?: string; autoFrame: boolean; top: string; json?: boolean; listClasses?: boolean }) => {
      const { predictVideo, modelWarnings } = await import('../pipeline/predict');
      const { READY_MODEL_DIR } = await import('../model/model_dir');
      const modelDir = o.model ?? READY_MODEL_DIR;
      // On stderr, so --json and --list-classes stay parseable.
      if (o.model === undefined) console.error(`model: the ready WLASL100 model (${path.relative(process.cwd(), READY_MODEL_DIR)}; MODEL_CARD.md there says what it can do); --model DIR uses another`);
      if (o.listClasses) {
        const { readModelMeta } = await import('../model/model_dir');
        const meta = readModelMeta(modelDir);
        for (const w of modelWarnings(meta)) console.error(`warning: ${w}`);
        console.log(meta.classes.join('\n'));
        return;
      }
      if (videos.length === 0) throw new WlaslError('give a video to recognise (or several, or --list-classes)');
      const bbox = o.bbox ? (o.bbox.split(',').map(Number) as [number, number, number, number]) : null;
      if (bbox && (bbox.length !== 4 || bbox.some((v) => !Number.isFinite(v)))) throw new WlaslError(`--bbox must be x0,y0,x1,y1, got '${o.bbox}'`);
      if (bbox && videos.length > 1) throw new WlaslError(`--bbox is one video's box: give one video with it, not ${videos.length}`);
      const top = num(o.top, 'top')!;
      if (!Number.isInteger(top) || top < 1) throw new WlaslError(`--top must be an integer >= 1, got '${o.top}'`);
      type Predicted = Awaited<ReturnType<typeof predictVideo>>;
      const show = (result: Predicted, at: string) => {
        console.log(`${at}${path.basename(result.video)}: ${result.windows} window(s), ${result.frames} frames, backbone ${result.timings.backboneMs.toFixed(0)} ms, head ${result.timings.headMs.toFixed(0)} ms, total ${result.timings.totalMs.toFixed(0)} ms`);
        if (result.framing?.applied) console.log(`signer found at ${result.framing.bbox.join(',')} (${(100 * result.framing.share).toFixed(0)}% of the picture); the clip was read cut to it (--no-auto-frame: the whole frame)`);
        result.top.forEach((t, i) => console.log(`${String(i + 1).padStart(2)}. ${t.gloss.padEnd(20)} ${(100 * t.probability).toFixed(1)}%`));
      };
      if (videos.length === 1) {
        // One video: its error is the command's (exit 1), its JSON an object, as always.
        const result = await predictVideo(modelDir, videos[0]!, { bbox, top, autoFrame: o.autoFrame });
        if (o.json) console.log(JSON.stringify(result, null, 2));
        else {
          show(result, '');
          console.log(`(the model knows ${result.classes} glosses: --list-classes prints them)`);
        }
        for (const w of result.warnings) console.error(`warning: ${w}`);
        return;
      }
      // Several: each video is answered as it is read, the models loaded once (with the first). A video that cannot
      // be read (a VideoError: missing, undecodable, too short) is named and the rest still run, and the command then
      // exits 3, as every command that finished but left inputs out. Anything else (a model or landmark model that
      // cannot be loaded, a bug) ends the command, exit 1, after printing what was answered.
      const { readModelMeta } = await import('../model/model_dir');
      for (const w of modelWarnings(readModelMeta(modelDir))) console.error(`warning: ${w}`);
      const results: Array<Predicted | { video: string; error: string }> = [];
      let failed = 0;
      let classes: number | undefined;
      try {
        for (const [i, video] of videos.entries()) {
          const at = `[${i + 1}/${videos.length}] `;
          try {
            const result = await predictVideo(modelDir, video, { top, autoFrame: o.autoFrame });
            classes = result.classes;
            results.push(result);
            if (!o.json) show(result, at);
          } catch (error) {
            if (!(error instanceof VideoError)) throw error;
            failed++;
            results.push({ video, error: describeError(error) });
            console.error(`${at}error: ${describeError(error)}`);
          }
        }
      } finally {
        if (o.json) console.log(JSON.stringify(results, null, 2));
      }
      if (!o.json) console.log(`${videos.length} videos: ${videos.length - failed} recognised${failed ? `, ${failed} failed (named above)` : ''}${classes ? `; the model knows ${classes} glosses (--list-classes prints them)` : ''}`);
      if (failed > 0) process.exitCode = EXIT_SKIPPED;
    });

  program
    .command('cache')
    .description('show where the cache is and its size per dataset and backbone; --clear deletes it (only folders this program made)')
    .option('--cache-dir <dir>', 'the cache root (default: $XDG_CACHE_HOME/wlasl-cnn-lstm or ~/.cache/wlasl-cnn-lstm)')
    .option('--data <dir>', "only this dataset's part of the cache")
    .option('--clear', 'delete it, asking nothing; prints what was deleted')
    .action(async (o: { cacheDir?: string; data?: string; clear?: boolean }) => {
      const fs = await import('node:fs');
      const { datasetFiles } = await import('../pipeline/run');
      const { cacheRoot, cacheUsage, clearCache, datasetCacheDir, formatBytes, formatCacheUsage, formatClearReport } = await import('../runtime/user_cache');
      const root = cacheRoot(o.cacheDir);
      const dataset = o.data ? datasetFiles({ dataDir: path.resolve(o.data) }) : undefined;
      if (o.clear) console.log(formatClearReport(await clearCache(root, { dataset })));
      else if (dataset) {
        const dir = datasetCacheDir(root, dataset);
        const entry = cacheUsage(root).datasets.find((d) => d.dir === dir);
        console.log(entry ? `${formatBytes(entry.bytes)}  ${dir}` : `nothing cached for ${path.resolve(o.data!)} (its cache would be ${dir})`);
      } else console.log(formatCacheUsage(cacheUsage(root)));
      // Caches used to be written into the data folder; nothing reads them now.
      const old = o.data ? path.join(path.resolve(o.data), '.wlasl-cache') : undefined;
      if (old && fs.existsSync(old)) console.log(`note: ${old} is a cache from before the per-user cache; nothing reads it now, delete it by hand if the folder is yours`);
    });

  return program;
}

/** Runs the CLI on a process's argv (node, script, args...): what `tsx src/cli/main.ts` and bin/wlasl.js do. */
export function main(argv: readonly string[] = process.argv): Promise<void> {
  return buildProgram()
    .parseAsync([...argv])
    .then(() => undefined)
    .catch((error: unknown) => {
      console.error(`error: ${describeError(error)}`);
      process.exitCode = 1;
    });
}

if (require.main === module) void main();
