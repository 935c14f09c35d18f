/**
 * The one typed configuration, with every default in this file. The CLI and the notebooks override fields;
 * they never re-declare defaults. Presets are named partial overrides (see PRESETS).
 */

export interface FrameWindowConfig {
  /** First frame kept, 0-based. 5 as in the original: WLASL clips often start before the sign. */
  start: number;
  /** Last frame kept, inclusive. 35 as in the original (31 frames). */
  end: number;
  /** Use WLASL's per-instance frame_start/frame_end instead of start/end. */
  useMetadataRange: boolean;
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

export interface BackboneConfig {
  /** MobileNetV2 width multiplier: 1.0 is the original's; 0.35 is about a fifth of the compute. */
  alpha: 1.0 | 0.75 | 0.5 | 0.35;
  /** 'imagenet' (download/cache), 'random' (seeded, BatchNorm-calibrated), or a local directory / URL. */
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
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Early stopping on validation loss (the original: patience 5, min_delta 0, restore best). */
  patience: number;
  minDelta: number;
  restoreBest: boolean;
  /**
   * Helper threads for the two large matmuls of a training step (0 or 1): the wasm backend is
   * single-threaded in Node, so a second core needs its own thread. Same results either way.
   */
  helperThreads: number;
}

export interface PipelineConfig {
  frames: FramesConfig;
  sequence: SequenceConfig;
  backbone: BackboneConfig;
  model: ModelConfig;
  train: TrainConfig;
}

export const DEFAULT_CONFIG: PipelineConfig = {
  frames: {
    window: { start: 5, end: 35, useMetadataRange: false, shortVideoPolicy: 'pad' },
    size: 224,
    cropToBbox: true,
    output: 'raw',
    jpegQuality: 92,
    concurrency: 0,
  },
  // The default recipe, chosen by measurement (README, "Recipes"): 16-frame windows (0.64 s, about one stroke
  // of a sign instead of the original's 0.2 s) starting every 2nd frame, so each video gives 8 overlapping
  // windows at different offsets (augmentation); features standardised with training statistics; a smaller
  // LSTM and a faster rate, with early stopping to catch the epoch before it memorises. On frozen ImageNet
  // MobileNetV2-0.35 features it learns the sample's time-reversed pairs (75% per video, 3 seeds, against 50% for
  // the original's recipe and for the order-blind control) and doubles the original's score on real WLASL clips.
  sequence: { sampleSize: 16, stride: 2 },
  backbone: { alpha: 1.0, weights: 'imagenet', allowRandomFallback: false, seed: 1, cacheFloat16: false },
  model: { hidden: 128, layers: 1, dropout: 0, standardize: true, velocity: false },
  train: { epochs: 60, batchSize: 16, learningRate: 1e-3, seed: 42, patience: 10, minDelta: 0, restoreBest: true, helperThreads: 0 },
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Named recipes. 'original' reproduces the original notebook's choices (5-frame windows, LSTM 256,
 * Adam 1e-4); the default recipe is chosen by measurement (see README, "Presets").
 */
export const PRESETS: Record<string, DeepPartial<PipelineConfig>> = {
  /** The original notebook's recipe: 5-frame non-overlapping windows, LSTM(256), raw features, Adam 1e-4. */
  original: {
    sequence: { sampleSize: 5, stride: 5 },
    model: { hidden: 256, layers: 1, dropout: 0, standardize: false, velocity: false },
    train: { learningRate: 1e-4, batchSize: 32, epochs: 10, patience: 5, minDelta: 0, restoreBest: true },
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** Imported lazily to keep config free of other modules at load time. */
function configError(message: string): Error {
  const { ConfigError } = require('./errors') as typeof import('./errors');
  return new ConfigError(message);
}

/**
 * Throws a ConfigError for training settings no run can use. fit() calls it; the CLI calls it too, naming its
 * flags, so a bad flag fails before feature extraction (hours on WLASL) rather than after.
 */
export function checkTrainConfig(train: TrainConfig, name: (field: keyof TrainConfig) => string = (field) => `train.${field}`): void {
  if (!(train.batchSize >= 1) || !(train.epochs >= 1) || !(train.learningRate > 0)) {
    throw configError(`${name('batchSize')} (${train.batchSize}), ${name('epochs')} (${train.epochs}) and ${name('learningRate')} (${train.learningRate}) must be positive`);
  }
  const helperThreads = train.helperThreads ?? 0;
  if (helperThreads !== 0 && helperThreads !== 1) throw configError(`${name('helperThreads')} must be 0 or 1 (one helper thread at most), got ${helperThreads}`);
}

/** Defaults, then a preset, then explicit overrides. */
export function resolveConfig(options: { preset?: string; overrides?: DeepPartial<PipelineConfig> } = {}): PipelineConfig {
  let config = DEFAULT_CONFIG;
  if (options.preset !== undefined) {
    const preset = PRESETS[options.preset];
    if (!preset) throw configError(`unknown preset '${options.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
    config = mergeConfig(config, preset);
  }
  return mergeConfig(config, options.overrides);
}
