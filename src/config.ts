/**
 * The one typed configuration, with every default and every validity rule in this file. The CLI and the
 * notebooks override fields; they never re-declare defaults or rules. Presets are named partial overrides
 * (see PRESETS). Browser-safe: the page reads a model's settings with these defaults.
 */
import { ConfigError } from './errors';

/** MobileNetV2 width multipliers with published ImageNet weights. */
export const MOBILENET_ALPHAS = [1.0, 0.75, 0.5, 0.35] as const;
export type MobileNetAlpha = (typeof MOBILENET_ALPHAS)[number];

export interface FrameWindowConfig {
  /** First frame kept, 0-based. 5 as in the original: WLASL clips often start before the sign. */
  start: number;
  /** Last frame kept, inclusive. 35 as in the original (31 frames). */
  end: number;
  /** Use WLASL's per-instance frame_start/frame_end instead of start/end. */
  useMetadataRange: boolean;
  /**
   * With useMetadataRange, at most this many frames per video, spread evenly over the range: a WLASL clip may be
   * minutes long (frame_end -1), and every frame kept costs decoding, memory and cache space.
   */
  maxFrames: number;
  /**
   * With useMetadataRange: every clip gives exactly maxFrames frames spread evenly over its range (a shorter clip
   * repeats frames), so the sequence model sees each whole sign at one length.
   */
  resample: boolean;
  /** What to do with a video shorter than the window: repeat its last frame, or skip it and report. */
  shortVideoPolicy: 'pad' | 'skip';
}

export interface FramesConfig {
  window: FrameWindowConfig;
  /** Output frame size (square), the backbone's input size. */
  size: number;
  /** Crop to the instance bbox (clamped to the frame) before resizing, as the original. */
  cropToBbox: boolean;
  /** Write JPEG frames to disk, or keep raw RGB frames in memory for the next stage. */
  output: 'jpeg' | 'raw';
  jpegQuality: number;
  /** Videos processed at once; 0 = number of cores. */
  concurrency: number;
}

export interface SequenceConfig {
  /** Frames per training sample. The original uses 5 (0.2 s of a 1-3 s sign). */
  sampleSize: number;
  /** Step between window starts; equal to sampleSize gives the original's non-overlapping windows. */
  stride: number;
}

/** What the sequence model reads per frame, and how a clip becomes training sequences. */
export interface StreamConfig {
  /**
   * 'cnn': the frozen backbone's features of the bbox crop (the original's input); 'landmarks': body and hand
   * keypoints (src/landmarks/, made for a sequence model by src/streams/landmark_features.ts); 'fusion': both side
   * by side in each frame; 'hands': the embedded backbone on crops of each hand, placed by the landmarks
   * (src/streams/hand_crops.ts).
   */
  features: 'cnn' | 'landmarks' | 'fusion' | 'hands';
  /**
   * One sequence per clip: sequence.sampleSize frames spread over all the clip's kept frames (the whole sign),
   * instead of windows of sequence.sampleSize consecutive frames every sequence.stride. Landmarks need it.
   */
  wholeClip: boolean;
  /** Whole clip: a training view covers a random span of at least this fraction of the clip (1 = always all of it). */
  minSpan: number;
  /** Training views of the landmarks turn, scale and shift a little (streams/landmark_features.ts). */
  augmentLandmarks: boolean;
  /**
   * Training views of the landmarks lose each hand seen in a frame with this chance, filled from the frames
   * around as a real miss is (streams/landmark_features.ts dropHandFrames): the landmark stage misses a third of
   * the hands at visible wrists, and a model that has seen misses in training reads them better. 0: off.
   */
  handDrop: number;
  /**
   * The landmark stream carries each hand's joint angles (streams/landmark_features.ts): handshape read the same
   * whatever the hand's orientation and distance. Models saved before them read without (their meta lacks it).
   */
  handAngles: boolean;
  /**
   * The landmark stream of a clip whose left wrist is held higher than its right is mirrored, so the leading
   * (dominant) hand is always the right (streams/landmark_features.ts leftWristHigher): a left-handed signer's
   * sign reads like a right-handed one's. The landmark stream only (features 'landmarks'; not a fusion, whose CNN
   * half cannot be mirrored with it). Models saved before it read without (their meta lacks it).
   */
  rightLeads: boolean;
  /**
   * The landmark stream carries each hand's face contact (streams/landmark_features.ts): its thumb, index and
   * middle tips about the nose and its palm's length, so signs told apart by where they touch the face read
   * apart. Models saved before it read without (their meta lacks it).
   */
  faceContact: boolean;
  /**
   * Whole clip: how a clip is read at evaluation and prediction: 'whole' (one view, all of it) or 'spans' (five
   * fixed spans, their predictions averaged: streams/clip_source.ts EVAL_SPANS).
   */
  evalViews: 'whole' | 'spans';
}

export interface BackboneConfig {
  /** MobileNetV2 width multiplier: 1.0 is the original's; 0.35 is about a fifth of the compute. */
  alpha: MobileNetAlpha;
  /**
   * 'default' (ImageNet weights without a download where possible: the cached width-1.0 download, else the
   * embedded 0.35; backbone/source.ts resolveWeights), 'embedded' (the ImageNet MobileNetV2-0.35 in models/),
   * 'imagenet' (download/cache, at `alpha`), 'random' (seeded, BatchNorm-calibrated), or a local directory / URL.
   */
  weights: string;
  /** Allow falling back to 'random' when 'imagenet' cannot be had (offline, no cache). */
  allowRandomFallback: boolean;
  /** Seed for 'random' weights and BatchNorm calibration. */
  seed: number;
  /** Store cached features as float16 (half the disk) instead of float32. */
  cacheFloat16: boolean;
}

export interface ModelConfig {
  /** LSTM hidden units (the original: 256). */
  hidden: number;
  /** Stacked LSTM layers: 1 as in the original. */
  layers: number;
  /** Dropout on the LSTM output before the classifier (0 = none, as in the original). */
  dropout: number;
  /** Standardise each feature dimension with mean/std of the training split (stored with the model). */
  standardize: boolean;
  /** Append frame-difference (velocity) features s_t - s_{t-1}: doubles the LSTM input width. */
  velocity: boolean;
  /** What the classifier reads: the LSTM's last hidden state ('last', the original) or their mean over time. */
  pooling?: 'last' | 'mean';
  /** A second LSTM reads each sequence backwards; the classifier reads both (one layer only). */
  bidirectional?: boolean;
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Early stopping (the original: on validation loss, patience 5, min_delta 0, restore best). */
  patience: number;
  /** What early stopping watches: val loss (the original), or val top-1 per sequence (per video for whole clips). */
  monitor: 'loss' | 'top1';
  minDelta: number;
  restoreBest: boolean;
  /** Label smoothing of the cross-entropy target, in [0, 1) (0: none). */
  labelSmoothing?: number;
  /** Decoupled weight decay (AdamW): each step shrinks every weight by learningRate x weightDecay (0: none). */
  weightDecay?: number;
  /**
   * Exponential moving average of the weights (Keras' optimizer `ema_momentum`; 0: none): after each step the
   * average moves (1 - momentum) of the way to the weights; validation, early stopping and the trained head use
   * the average, which is smoother than the last step's weights.
   */
  emaMomentum?: number;
  /**
   * Mixup: each training sequence blended with another of its batch, weight ~ Beta(mixup, mixup), the targets
   * alike (0: none). 0.4 on real data: +2.2 top-1 under cross-validation on WLASL100 (README, "Real signs").
   */
  mixup?: number;
  /**
   * The learning rate over training: 'constant' (the original), or 'cosine': from learningRate down to 0 along
   * half a cosine over `epochs` epochs, step by step (Loshchilov & Hutter's SGDR without restarts), so the last
   * epochs take small steps about the minimum instead of jumping around it.
   */
  lrSchedule?: 'constant' | 'cosine';
  /**
   * The splits the head learns from: 'train' (the default), validated on val with early stopping; or 'train+val',
   * for the model to keep once a recipe is chosen: val's clips join the training set, nothing is held out, so
   * training runs all `epochs` and keeps the last epoch's weights (no early stopping, no val figures). Under
   * cross-validation on WLASL100 the last epoch costs no top-1 against early stopping, and 83% of the training
   * clips (about train's share of train + val) cost 3.6 points (README, "Real signs").
   */
  trainOn?: 'train' | 'train+val';
  /**
   * Helper threads for the two large matmuls of a training step (0 or 1): the wasm backend is
   * single-threaded in Node, so a second core needs its own thread. Same results either way.
   */
  helperThreads: number;
}

export interface PipelineConfig {
  frames: FramesConfig;
  stream: StreamConfig;
  sequence: SequenceConfig;
  backbone: BackboneConfig;
  model: ModelConfig;
  train: TrainConfig;
}

/**
 * The default recipe, chosen on wlasl100-trainval's val split with seeds 42, 1 and 7 (README, "Real signs";
 * bench/streams.ts): body and hand landmarks of the whole sign (up to 32 frames spread over each clip's WLASL
 * range) with each hand's joint angles, 16 frames spread over the clip per sequence, with frame differences,
 * into an LSTM(128); training views are random spans of at least half the clip, turned (up to 0.3 rad), scaled
 * (+-25%) and shifted (0.2 shoulder widths); the classifier reads the mean of the LSTM's states over time;
 * evaluation averages five fixed spans; cross-entropy with label smoothing 0.1. 52.4% top-1 / 76.7% top-5 per val
 * video (mean of seeds 42, 1, 7; on seeds 2-6 51.0% against 47.6% without smoothing; 50.1% / 74.6% without
 * smoothing, 44.5% / 73.7% also without the hand angles, 40.6% / 69.9% also with the last state classified)
 * against 36.4% / 62.5% for the linear order-blind control on the same landmarks, and 17-24% for the frame-CNN
 * recipes.
 */
export const DEFAULT_CONFIG: PipelineConfig = {
  frames: {
    window: { start: 5, end: 35, useMetadataRange: true, shortVideoPolicy: 'pad', maxFrames: 32, resample: false },
    size: 224,
    cropToBbox: true,
    output: 'raw',
    jpegQuality: 92,
    concurrency: 0,
  },
  stream: { features: 'landmarks', wholeClip: true, minSpan: 0.5, augmentLandmarks: true, handDrop: 0.25, handAngles: true, rightLeads: true, faceContact: true, evalViews: 'spans' },
  sequence: { sampleSize: 16, stride: 2 },
  // alpha is the width of 'imagenet' and 'random'; 'default' and a folder take their weights' own width.
  backbone: { alpha: 1.0, weights: 'default', allowRandomFallback: false, seed: 1, cacheFloat16: false },
  model: { hidden: 128, layers: 1, dropout: 0, standardize: true, velocity: true, pooling: 'mean' },
  train: { epochs: 60, batchSize: 16, learningRate: 1e-3, seed: 42, patience: 10, minDelta: 0, monitor: 'loss', restoreBest: true, labelSmoothing: 0.1, weightDecay: 0, mixup: 0.4, helperThreads: 0 },
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Named recipes. 'original' reproduces the original notebook's choices (5-frame windows, LSTM 256,
 * Adam 1e-4); the default recipe is chosen by measurement (see README, "Presets"). 'sample' holds the settings
 * of the embedded sample, which resolveConfig layers under any other preset when the data is the sample.
 */
export const PRESETS: Record<string, DeepPartial<PipelineConfig>> = {
  /** The original notebook's recipe: 5-frame non-overlapping windows, LSTM(256), raw features, Adam 1e-4. */
  original: {
    frames: { window: { start: 5, end: 35, useMetadataRange: false } },
    stream: { features: 'cnn', wholeClip: false, minSpan: 1, augmentLandmarks: false, handDrop: 0, handAngles: false, rightLeads: false, faceContact: false, evalViews: 'spans' },
    sequence: { sampleSize: 5, stride: 5 },
    model: { hidden: 256, layers: 1, dropout: 0, standardize: false, velocity: false, pooling: 'last' },
    train: { learningRate: 1e-4, batchSize: 32, epochs: 10, patience: 5, minDelta: 0, restoreBest: true, labelSmoothing: 0, mixup: 0 },
  },
  /**
   * The default recipe before the landmarks (issue 16): frozen CNN features of frames 5..35 in 16-frame windows
   * (0.64 s, about one stroke of a sign instead of the original's 0.2 s) starting every 2nd frame, so each video
   * gives 8 overlapping windows at different offsets; features standardised with training statistics; LSTM(128),
   * Adam 1e-3, early stopping. It learns the sample's time-reversed pairs and doubles the original's score on real
   * WLASL clips, but on wlasl100-trainval's val split it stays below the order-blind control (README, "Real signs").
   */
  'cnn-windows': {
    frames: { window: { start: 5, end: 35, useMetadataRange: false } },
    stream: { features: 'cnn', wholeClip: false, minSpan: 1, augmentLandmarks: false, handDrop: 0, handAngles: false, rightLeads: false, faceContact: false, evalViews: 'spans' },
    sequence: { sampleSize: 16, stride: 2 },
    model: { velocity: false, pooling: 'last' },
    train: { labelSmoothing: 0, mixup: 0 },
  },
  /**
   * The embedded sample runs offline and quickly (CI, a first `npm start`): the 0.35-wide MobileNetV2 (a fifth of
   * the compute of the original's 1.0), which with the default weights is the embedded ImageNet copy. Its classes
   * differ only in the order of frames, a change over time that frame differences (velocity) show directly: chosen
   * on the sample's val split (README, "Recipes"); real WLASL keeps the default recipe.
   */
  sample: {
    frames: { window: { start: 5, end: 35, useMetadataRange: false } },
    stream: { features: 'cnn', wholeClip: false, minSpan: 1, augmentLandmarks: false, handDrop: 0, handAngles: false, rightLeads: false, faceContact: false, evalViews: 'spans' },
    sequence: { sampleSize: 16, stride: 2 },
    backbone: { alpha: 0.35 },
    model: { velocity: true, pooling: 'last' },
    train: { labelSmoothing: 0, mixup: 0 },
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The splits a head learns from (config.train.trainOn): train, or train and val. */
export function trainingSplitsOf(train: Pick<TrainConfig, 'trainOn'>): Array<'train' | 'val'> {
  return train.trainOn === 'train+val' ? ['train', 'val'] : ['train'];
}

export function mergeConfig<T>(base: T, override: DeepPartial<T> | undefined): T {
  if (!override) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? mergeConfig(prev, value as DeepPartial<typeof prev>) : value;
  }
  return out as T;
}

/**
 * How a setting is called where the user typed it: `--epochs` on the command line, `train.epochs` in code.
 * Every message of the checks below names a setting through it.
 */
export type SettingName = (path: string) => string;
const byPath: SettingName = (p) => p;

/** Collects every problem of one check, so a user fixes them all in one go. */
class Problems {
  readonly list: string[] = [];
  constructor(readonly name: SettingName) {}
  integer(path: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      this.list.push(`${this.name(path)} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`}, got ${value}`);
    }
  }
  range(path: string, value: number, min: number, max: number, text: string): void {
    if (!(Number.isFinite(value) && value >= min && value <= max)) this.list.push(`${this.name(path)} must be ${text}, got ${value}`);
  }
  oneOf<T>(path: string, value: T, allowed: readonly T[]): void {
    if (!allowed.includes(value)) this.list.push(`${this.name(path)} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  add(message: string): void {
    this.list.push(message);
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new ConfigError(this.list.join('; '));
  }
}

/** Upper bounds that keep a typo from asking for gigabytes (an LSTM of 1e9 units) rather than tuning limits. */
const LIMITS = { frameSize: 4096, hidden: 4096, layers: 8, batchSize: 65536, epochs: 100000, maxFrames: 1024 } as const;

function windowProblems(window: FrameWindowConfig, p: Problems): void {
  const { start, end, shortVideoPolicy } = window;
  p.integer('frames.window.start', start, 0);
  if (!Number.isInteger(end) || end < start) p.add(`${p.name('frames.window.end')} must be an integer >= ${p.name('frames.window.start')} (${start}), got ${end}`);
  p.oneOf('frames.window.shortVideoPolicy', shortVideoPolicy, ['pad', 'skip']);
  p.integer('frames.window.maxFrames', window.maxFrames, 1, LIMITS.maxFrames);
  if (typeof window.resample !== 'boolean') p.add(`${p.name('frames.window.resample')} must be true or false, got ${String(window.resample)}`);
}

function framesProblems(frames: FramesConfig, p: Problems): void {
  windowProblems(frames.window, p);
  p.integer('frames.size', frames.size, 1, LIMITS.frameSize);
  p.range('frames.jpegQuality', frames.jpegQuality, 1, 100, 'in 1..100');
  p.oneOf('frames.output', frames.output, ['jpeg', 'raw']);
  p.integer('frames.concurrency', frames.concurrency, 0, 64);
}

function sequenceProblems(sequence: SequenceConfig, p: Problems, window?: FrameWindowConfig): void {
  p.integer('sequence.sampleSize', sequence.sampleSize, 1);
  p.integer('sequence.stride', sequence.stride, 1);
  // A fixed window gives every video (padded if short) exactly its length: a longer sequence fits no video.
  if (window && !window.useMetadataRange && Number.isInteger(window.end - window.start)) {
    const length = window.end - window.start + 1;
    if (sequence.sampleSize > length) {
      p.add(`${p.name('sequence.sampleSize')} (${sequence.sampleSize}) is longer than the frame window ${window.start}..${window.end} (${length} frames): no video would give a sequence`);
    }
  }
}

function streamProblems(stream: StreamConfig, p: Problems): void {
  p.oneOf('stream.features', stream.features, ['cnn', 'landmarks', 'fusion', 'hands']);
  p.range('stream.minSpan', stream.minSpan, 0.1, 1, 'in 0.1..1');
  p.range('stream.handDrop', stream.handDrop, 0, 0.9, 'in 0..0.9');
  p.oneOf('stream.evalViews', stream.evalViews, ['whole', 'spans']);
  for (const key of ['wholeClip', 'augmentLandmarks', 'handAngles', 'rightLeads', 'faceContact'] as const) {
    if (typeof stream[key] !== 'boolean') p.add(`${p.name(`stream.${key}`)} must be true or false, got ${String(stream[key])}`);
  }
  if (stream.features !== 'cnn' && stream.wholeClip === false) {
    p.add(`${p.name('stream.features')} ${stream.features} reads whole clips: it needs ${p.name('stream.wholeClip')} (windows of cached frames exist for the cnn stream only)`);
  }
}

function alphaProblems(alpha: number, p: Problems): void {
  p.oneOf('backbone.alpha', alpha, MOBILENET_ALPHAS as readonly number[]);
}

function backboneProblems(backbone: BackboneConfig, p: Problems): void {
  alphaProblems(backbone.alpha, p);
  if (typeof backbone.weights !== 'string' || backbone.weights.trim() === '') p.add(`${p.name('backbone.weights')} must name default, embedded, imagenet, random, a folder or a URL`);
  p.integer('backbone.seed', backbone.seed, 0, 0xffffffff);
}

function modelProblems(model: ModelConfig, p: Problems): void {
  p.integer('model.hidden', model.hidden, 1, LIMITS.hidden);
  p.integer('model.layers', model.layers, 1, LIMITS.layers);
  if (!(model.dropout >= 0 && model.dropout < 1)) p.add(`${p.name('model.dropout')} must be in [0, 1), got ${model.dropout}`);
  if (model.pooling !== undefined) p.oneOf('model.pooling', model.pooling, ['last', 'mean']);
  if (model.bidirectional !== undefined && typeof model.bidirectional !== 'boolean') p.add(`${p.name('model.bidirectional')} must be true or false, got ${String(model.bidirectional)}`);
  if (model.bidirectional && model.layers !== 1) p.add(`${p.name('model.bidirectional')} takes one LSTM layer (${p.name('model.layers')} 1), got ${model.layers}`);
}

function trainProblems(train: TrainConfig, p: Problems): void {
  p.integer('train.epochs', train.epochs, 1, LIMITS.epochs);
  p.integer('train.batchSize', train.batchSize, 1, LIMITS.batchSize);
  p.range('train.learningRate', train.learningRate, Number.MIN_VALUE, 10, 'a number in (0, 10]');
  p.integer('train.seed', train.seed, 0, 0xffffffff);
  p.integer('train.patience', train.patience, 0);
  p.range('train.minDelta', train.minDelta, 0, Number.MAX_VALUE, 'a number >= 0');
  p.oneOf('train.monitor', train.monitor, ['loss', 'top1']);
  if (train.labelSmoothing !== undefined && !(train.labelSmoothing >= 0 && train.labelSmoothing < 1)) p.add(`${p.name('train.labelSmoothing')} must be in [0, 1), got ${train.labelSmoothing}`);
  if (train.weightDecay !== undefined) {
    p.range('train.weightDecay', train.weightDecay, 0, 1e6, 'a number >= 0');
    // Each step multiplies the weights by 1 - learningRate x weightDecay: at 0 or below they vanish or flip sign.
    if (train.learningRate * train.weightDecay >= 1) p.add(`${p.name('train.weightDecay')} x ${p.name('train.learningRate')} must be below 1 (each step scales the weights by 1 minus it), got ${train.weightDecay} x ${train.learningRate}`);
  }
  // Below 0.01 the Beta draw's U^(1/alpha) underflows to 0 (src/runtime/random.ts): refuse rather than blend at 0.5.
  if (train.mixup !== undefined && train.mixup !== 0) p.range('train.mixup', train.mixup, 0.01, 100, '0 (none) or a number in [0.01, 100]');
  if (train.lrSchedule !== undefined) p.oneOf('train.lrSchedule', train.lrSchedule, ['constant', 'cosine']);
  if (train.trainOn !== undefined) p.oneOf('train.trainOn', train.trainOn, ['train', 'train+val']);
  if (train.emaMomentum !== undefined && !(train.emaMomentum >= 0 && train.emaMomentum < 1)) p.add(`${p.name('train.emaMomentum')} must be in [0, 1), got ${train.emaMomentum}`);
  // The wasm backend is single-threaded in Node: at most one helper thread takes the second core.
  p.oneOf('train.helperThreads', train.helperThreads ?? 0, [0, 1]);
}

function check(fill: (p: Problems) => void, name: SettingName): void {
  const problems = new Problems(name);
  fill(problems);
  problems.throwIfAny();
}

/**
 * The one configuration check: throws a ConfigError listing every setting no run can use, each under the name
 * the user gave it. The CLI, runPipeline and the notebooks call it before any work, so a bad flag fails in
 * milliseconds rather than after hours of feature extraction. Each stage also checks its own section (the
 * functions below) for callers that use it directly.
 */
export function checkConfig(config: PipelineConfig, name: SettingName = byPath): void {
  check((p) => {
    framesProblems(config.frames, p);
    streamProblems(config.stream, p);
    sequenceProblems(config.sequence, p, config.stream.wholeClip ? undefined : config.frames.window);
    backboneProblems(config.backbone, p);
    modelProblems(config.model, p);
    trainProblems(config.train, p);
  }, name);
}

export function checkFrameWindow(window: FrameWindowConfig, name: SettingName = byPath): void {
  check((p) => windowProblems(window, p), name);
}
export function checkFramesConfig(frames: FramesConfig, name: SettingName = byPath): void {
  check((p) => framesProblems(frames, p), name);
}
export function checkStreamConfig(stream: StreamConfig, name: SettingName = byPath): void {
  check((p) => streamProblems(stream, p), name);
}
export function checkSequenceConfig(sequence: SequenceConfig, name: SettingName = byPath): void {
  check((p) => sequenceProblems(sequence, p), name);
}
export function checkBackboneConfig(backbone: BackboneConfig, name: SettingName = byPath): void {
  check((p) => backboneProblems(backbone, p), name);
}
export function checkAlpha(alpha: number, name: SettingName = byPath): asserts alpha is MobileNetAlpha {
  check((p) => alphaProblems(alpha, p), name);
}
export function checkModelConfig(model: ModelConfig, name: SettingName = byPath): void {
  check((p) => modelProblems(model, p), name);
}
export function checkTrainConfig(train: TrainConfig, name: SettingName = byPath): void {
  check((p) => trainProblems(train, p), name);
}

/** Feature-extraction threads: 0 means one per core; more than 16 only multiplies memory (a backbone each). */
export function checkWorkers(workers: number | undefined, name = 'workers'): void {
  if (workers !== undefined) check((p) => p.integer(name, workers, 0, 16), byPath);
}

/**
 * Defaults, then the sample's settings when the data is the embedded sample, then a preset, then explicit
 * overrides.
 */
export function resolveConfig(options: { preset?: string; overrides?: DeepPartial<PipelineConfig>; sample?: boolean } = {}): PipelineConfig {
  let config = DEFAULT_CONFIG;
  if (options.sample) config = mergeConfig(config, PRESETS.sample);
  if (options.preset !== undefined) {
    const preset = PRESETS[options.preset];
    if (!preset) throw new ConfigError(`unknown preset '${options.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
    config = mergeConfig(config, preset);
  }
  return mergeConfig(config, options.overrides);
}
