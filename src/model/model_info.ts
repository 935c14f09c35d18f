import { z } from 'zod';
import { ModelDirError } from '../errors';

/**
 * <modelDir>/wlasl-model.json: the preprocessing that travels with a trained model, so Node and the browser
 * page feed the head exactly what training fed it. Browser-safe (zod only, no Node imports).
 *
 * Two spellings are read, both turned into one WlaslModelInfo:
 *  - the flat contract (classes, sequence, frames, normalization, featureStats, velocity, backbone.dir), where
 *    featureStats, when present, must be applied before the head;
 *  - src/model/model_dir.ts saveModelDir's { format: 'wlasl-model', version: 1, ... }, whose featureStats are
 *    already folded into model.json's first kernel (so they are NOT applied again) and whose velocity flag
 *    is head.velocity.
 */
export const MODEL_INFO_FILE = 'wlasl-model.json';

/** Defaults for fields an older description may lack: the original notebook's choices (see src/config.ts). */
const DEFAULT_WINDOW = { start: 5, end: 35 };
const DEFAULT_SIZE = 224;
const DEFAULT_BACKBONE_DIR = 'backbone';

export interface WlaslModelInfo {
  classes: string[];
  sequence: { sampleSize: number; stride: number };
  frames: { window: { start: number; end: number }; size: number; cropToBbox: boolean };
  normalization: 'minus1to1' | 'zero1';
  /** Standardise features with these before the head; null when none (or already folded into the head). */
  featureStats: { mean: number[]; std: number[] } | null;
  /** Head input is [features, features_t - features_{t-1}] (2D wide). */
  velocity: boolean;
  backbone: { alpha: number | null; weightsId: string; dir: string };
}

const positiveInt = z.number().int().positive();
const windowSchema = z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }).passthrough();
const statsSchema = z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) });
const normalizationSchema = z.enum(['minus1to1', 'zero1']);

const flatSchema = z
  .object({
    classes: z.array(z.string().min(1)).min(1),
    sequence: z.object({ sampleSize: positiveInt, stride: positiveInt }).passthrough(),
    frames: z.object({ window: windowSchema, size: positiveInt, cropToBbox: z.boolean() }).passthrough(),
    normalization: normalizationSchema,
    featureStats: statsSchema.nullable(),
    velocity: z.boolean(),
    backbone: z.object({ alpha: z.number().positive().nullable(), weightsId: z.string(), dir: z.string().min(1) }).passthrough(),
  })
  .passthrough();

const savedSchema = z
  .object({
    format: z.literal('wlasl-model'),
    version: z.literal(1),
    classes: z.array(z.string().min(1)).min(1),
    sequenceLength: positiveInt,
    featureDim: positiveInt,
    head: z.object({ velocity: z.boolean() }).passthrough(),
    frames: z.object({ window: windowSchema.optional(), size: positiveInt.optional(), cropToBbox: z.boolean().optional() }).passthrough().optional(),
    sequence: z.object({ sampleSize: positiveInt, stride: positiveInt }).passthrough().optional(),
    backbone: z
      .object({
        alpha: z.number().positive().optional(),
        weightsId: z.string().optional(),
        normalization: normalizationSchema.optional(),
        dir: z.string().min(1).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

function fail(file: string, issues: z.ZodIssue[] | string): never {
  const text = typeof issues === 'string' ? issues : issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ModelDirError(`not a valid model description: ${text}`, { file });
}

/** Validates parsed wlasl-model.json (either spelling); every problem names the file and the field. */
export function parseModelInfo(json: unknown, file = MODEL_INFO_FILE): WlaslModelInfo {
  let info: WlaslModelInfo;
  if (typeof json === 'object' && json !== null && 'format' in json) {
    const result = savedSchema.safeParse(json);
    if (!result.success) fail(file, result.error.issues);
    const m = result.data;
    const sequence = m.sequence ?? { sampleSize: m.sequenceLength, stride: m.sequenceLength };
    info = {
      classes: m.classes,
      sequence: { sampleSize: sequence.sampleSize, stride: sequence.stride },
      frames: { window: m.frames?.window ? { start: m.frames.window.start, end: m.frames.window.end } : DEFAULT_WINDOW, size: m.frames?.size ?? DEFAULT_SIZE, cropToBbox: m.frames?.cropToBbox ?? true },
      normalization: m.backbone?.normalization ?? 'minus1to1',
      featureStats: null, // folded into model.json by saveModelDir
      velocity: m.head.velocity,
      backbone: { alpha: m.backbone?.alpha ?? null, weightsId: m.backbone?.weightsId ?? 'unknown', dir: m.backbone?.dir ?? DEFAULT_BACKBONE_DIR },
    };
  } else {
    const result = flatSchema.safeParse(json);
    if (!result.success) fail(file, result.error.issues);
    const m = result.data;
    info = {
      classes: m.classes,
      sequence: { sampleSize: m.sequence.sampleSize, stride: m.sequence.stride },
      frames: { window: { start: m.frames.window.start, end: m.frames.window.end }, size: m.frames.size, cropToBbox: m.frames.cropToBbox },
      normalization: m.normalization,
      // Rebuilt, not passed through: tslab compiles without strictNullChecks, where zod infers every key as
      // optional and the parsed object would not fit the interface (notebook 07 imports this file).
      featureStats: m.featureStats ? { mean: m.featureStats.mean, std: m.featureStats.std } : null,
      velocity: m.velocity,
      backbone: { alpha: m.backbone.alpha, weightsId: m.backbone.weightsId, dir: m.backbone.dir },
    };
  }
  const { window } = info.frames;
  if (window.end < window.start) fail(file, `frames.window: end ${window.end} is before start ${window.start}`);
  if (info.featureStats && info.featureStats.mean.length !== info.featureStats.std.length) fail(file, 'featureStats: mean and std differ in length');
  // The backbone folder is fetched relative to the model folder in the browser: keep it inside.
  if (/(^|[\\/])\.\.([\\/]|$)|^[\\/]|:/.test(info.backbone.dir)) fail(file, `backbone.dir: '${info.backbone.dir}' must be a relative folder inside the model directory`);
  return info;
}
