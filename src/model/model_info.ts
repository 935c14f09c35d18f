import { z } from 'zod';
import { DEFAULT_CONFIG, type FramesConfig, type SequenceConfig, type StreamConfig } from '../config';
import { ModelDirError } from '../errors';
import { landmarkStreamDims } from '../landmarks/stream_width';

/**
 * <modelDir>/wlasl-model.json: what a trained model needs besides its weights (classes, how frames were taken,
 * the sequence length, the backbone), so Node and the browser page feed the head exactly what training fed it.
 * One zod schema serves the writer (saveModelDir validates what it writes) and every reader (loadModelDir,
 * predict, evaluate, the server and the page). Browser-safe: zod and config only, no Node imports.
 */
export const MODEL_INFO_FILE = 'wlasl-model.json';

/** Sub-folder of a model directory that holds its backbone. */
export const BACKBONE_SUBDIR = 'backbone';

const positiveInt = z.number().int().positive();
const normalizationSchema = z.enum(['minus1to1', 'zero1']);

/** Frames as FramesConfig, every field optional: folders written before a field existed get its default. */
const framesSchema = z
  .object({
    window: z
      .object({
        start: z.number().int().min(0),
        end: z.number().int().min(0),
        useMetadataRange: z.boolean().optional(),
        maxFrames: z.number().int().positive().optional(),
        resample: z.boolean().optional(),
        shortVideoPolicy: z.enum(['pad', 'skip']).optional(),
      })
      .passthrough()
      .optional(),
    size: positiveInt.optional(),
    cropToBbox: z.boolean().optional(),
  })
  .passthrough();

export const modelMetaSchema = z
  .object({
    format: z.literal('wlasl-model'),
    version: z.literal(1),
    /** Gloss of each output, in output order. */
    classes: z.array(z.string().min(1)).min(1),
    /** Raw feature width from the backbone. */
    featureDim: positiveInt,
    head: z.object({ hidden: positiveInt, layers: positiveInt, dropout: z.number().min(0).lt(1), standardize: z.boolean(), velocity: z.boolean(), pooling: z.enum(['last', 'mean']).optional(), bidirectional: z.boolean().optional() }).passthrough(),
    /** Training-split statistics, already folded into model.json's first kernel: never applied again. */
    featureStats: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).nullable(),
    frames: framesSchema.optional(),
    sequence: z.object({ sampleSize: positiveInt, stride: positiveInt }).passthrough().optional(),
    /** What the head reads per frame (config.stream); absent in folders written before the landmarks: cnn windows. */
    stream: z
      .object({ features: z.enum(['cnn', 'landmarks', 'fusion', 'hands']), wholeClip: z.boolean(), minSpan: z.number().positive().max(1), augmentLandmarks: z.boolean(), handDrop: z.number().min(0).max(0.9).optional(), handAngles: z.boolean().optional(), rightLeads: z.boolean().optional(), faceContact: z.boolean().optional(), evalViews: z.enum(['whole', 'spans']) })
      .passthrough()
      .optional(),
    /** The sequence length under its old name: folders written before `sequence` was required. */
    sequenceLength: positiveInt.optional(),
    backbone: z
      .object({ alpha: z.number().positive().optional(), weightsId: z.string().optional(), normalization: normalizationSchema.optional(), dir: z.string().min(1).optional() })
      .passthrough()
      .optional(),
    /** Training summary (config, best epoch, metrics); free-form. */
    training: z.record(z.unknown()).optional(),
    createdAt: z.string().optional(),
  })
  .passthrough();

/** wlasl-model.json as written by saveModelDir, with every default filled in. */
export interface ModelMeta {
  format: 'wlasl-model';
  version: 1;
  classes: string[];
  featureDim: number;
  head: { hidden: number; layers: number; dropout: number; standardize: boolean; velocity: boolean; pooling?: 'last' | 'mean'; bidirectional?: boolean };
  featureStats: { mean: number[]; std: number[] } | null;
  frames: FramesConfig;
  sequence: SequenceConfig;
  stream: StreamConfig;
  backbone: { alpha: number | null; weightsId: string; normalization: 'minus1to1' | 'zero1'; dir: string; [key: string]: unknown };
  training?: Record<string, unknown>;
  createdAt?: string;
}

/** What the recognizer (Node and the page) needs of a model description. */
export interface WlaslModelInfo {
  classes: string[];
  sequence: { sampleSize: number; stride: number };
  /** maxFrames: the most frames a whole-clip model reads, spread over the clip. */
  frames: { window: { start: number; end: number; maxFrames: number }; size: number; cropToBbox: boolean };
  /** What the head reads per frame, and how (windows of frames, or whole clips read with evaluation views). */
  stream: Pick<StreamConfig, 'features' | 'wholeClip' | 'evalViews' | 'handAngles' | 'rightLeads' | 'faceContact'>;
  normalization: 'minus1to1' | 'zero1';
  /** Standardise features with these before the head; null when already folded into the head. */
  featureStats: { mean: number[]; std: number[] } | null;
  /** Head input is [features, features_t - features_{t-1}] (2D wide). */
  velocity: boolean;
  backbone: { alpha: number | null; weightsId: string; dir: string };
}

function fail(file: string, issues: z.ZodIssue[] | string): never {
  const text = typeof issues === 'string' ? issues : issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ModelDirError(`not a valid model description: ${text}`, { file });
}

/** Validates parsed wlasl-model.json and fills defaults (from src/config.ts); every problem names the file and field. */
export function parseModelMeta(json: unknown, file = MODEL_INFO_FILE): ModelMeta {
  const result = modelMetaSchema.safeParse(json);
  if (!result.success) fail(file, result.error.issues);
  const m = result.data;
  const length = m.sequence?.sampleSize ?? m.sequenceLength;
  if (length === undefined) fail(file, 'sequence: missing (neither sequence.sampleSize nor the older sequenceLength)');
  const defaults = DEFAULT_CONFIG.frames;
  // A field an older folder lacks takes the value its writer used, not today's default (the whole sign).
  const legacyWindow = { useMetadataRange: false, maxFrames: 64, resample: false };
  const window = m.frames?.window;
  // Fields rebuilt one by one, not spread: tslab compiles without strictNullChecks, where zod infers every key
  // as optional and a parsed object would not fit the interface (notebook 07 imports this file).
  const meta: ModelMeta = {
    format: 'wlasl-model',
    version: 1,
    classes: m.classes,
    featureDim: m.featureDim,
    head: { hidden: m.head.hidden, layers: m.head.layers, dropout: m.head.dropout, standardize: m.head.standardize, velocity: m.head.velocity, ...(m.head.pooling ? { pooling: m.head.pooling } : {}), ...(m.head.bidirectional ? { bidirectional: true } : {}) },
    featureStats: m.featureStats ? { mean: m.featureStats.mean, std: m.featureStats.std } : null,
    frames: {
      ...defaults,
      window: {
        start: window?.start ?? defaults.window.start,
        end: window?.end ?? defaults.window.end,
        useMetadataRange: window?.useMetadataRange ?? legacyWindow.useMetadataRange,
        shortVideoPolicy: window?.shortVideoPolicy ?? defaults.window.shortVideoPolicy,
        maxFrames: window?.maxFrames ?? legacyWindow.maxFrames,
        resample: window?.resample ?? legacyWindow.resample,
      },
      size: m.frames?.size ?? defaults.size,
      cropToBbox: m.frames?.cropToBbox ?? defaults.cropToBbox,
    },
    sequence: { sampleSize: length, stride: m.sequence?.stride ?? length },
    stream: m.stream
      ? // Models saved before hand angles read the landmark stream without them.
        { features: m.stream.features, wholeClip: m.stream.wholeClip, minSpan: m.stream.minSpan, augmentLandmarks: m.stream.augmentLandmarks, handDrop: m.stream.handDrop ?? 0, handAngles: m.stream.handAngles ?? false, rightLeads: m.stream.rightLeads ?? false, faceContact: m.stream.faceContact ?? false, evalViews: m.stream.evalViews }
      : { features: 'cnn', wholeClip: false, minSpan: 1, augmentLandmarks: false, handDrop: 0, handAngles: false, rightLeads: false, faceContact: false, evalViews: 'whole' },
    backbone: {
      ...m.backbone,
      alpha: m.backbone?.alpha ?? null,
      weightsId: m.backbone?.weightsId ?? 'unknown',
      normalization: m.backbone?.normalization ?? 'minus1to1',
      dir: m.backbone?.dir ?? BACKBONE_SUBDIR,
    },
    training: m.training,
    createdAt: m.createdAt,
  };
  const { start, end } = meta.frames.window;
  if (end < start) fail(file, `frames.window: end ${end} is before start ${start}`);
  // The stream's width follows stream.handAngles and stream.faceContact: a description that says otherwise would fail later, unnamed.
  if (meta.stream.features === 'landmarks' && meta.featureDim !== landmarkStreamDims(meta.stream)) {
    const angles = meta.stream.handAngles ? 'with hand angles (stream.handAngles true)' : 'without hand angles (stream.handAngles false or absent)';
    const contact = meta.stream.faceContact ? 'with face contact (stream.faceContact true)' : 'without face contact (stream.faceContact false or absent)';
    fail(file, `featureDim ${meta.featureDim}: the landmark stream ${angles} and ${contact} has ${landmarkStreamDims(meta.stream)} values a frame`);
  }
  if (meta.featureStats && (meta.featureStats.mean.length !== meta.featureStats.std.length || meta.featureStats.mean.length !== meta.featureDim)) {
    fail(file, `featureStats: ${meta.featureStats.mean.length} means and ${meta.featureStats.std.length} stds for ${meta.featureDim} features`);
  }
  // The backbone folder is fetched relative to the model folder in the browser: keep it inside.
  if (/(^|[\\/])\.\.([\\/]|$)|^[\\/]|:/.test(meta.backbone.dir)) fail(file, `backbone.dir: '${meta.backbone.dir}' must be a relative folder inside the model directory`);
  return meta;
}

/** The recognizer's view of a model description. */
export function modelInfoOf(meta: ModelMeta): WlaslModelInfo {
  const { window, size, cropToBbox } = meta.frames;
  return {
    classes: meta.classes,
    sequence: { sampleSize: meta.sequence.sampleSize, stride: meta.sequence.stride },
    frames: { window: { start: window.start, end: window.end, maxFrames: window.maxFrames }, size, cropToBbox },
    stream: { features: meta.stream.features, wholeClip: meta.stream.wholeClip, evalViews: meta.stream.evalViews, handAngles: meta.stream.handAngles, rightLeads: meta.stream.rightLeads, faceContact: meta.stream.faceContact },
    normalization: meta.backbone.normalization,
    featureStats: null, // folded into model.json by saveModelDir
    velocity: meta.head.velocity,
    backbone: { alpha: meta.backbone.alpha, weightsId: meta.backbone.weightsId, dir: meta.backbone.dir },
  };
}

/** Validates parsed wlasl-model.json and returns what the recognizer needs. */
export function parseModelInfo(json: unknown, file = MODEL_INFO_FILE): WlaslModelInfo {
  return modelInfoOf(parseModelMeta(json, file));
}
