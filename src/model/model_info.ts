import { z } from 'zod';
import { ModelDirError } from '../errors';

/**
 * <modelDir>/wlasl-model.json: the preprocessing that travels with a trained model, so Node and the browser
 * page feed the head exactly what training fed it. Browser-safe (zod only, no Node imports).
 */
export const MODEL_INFO_FILE = 'wlasl-model.json';

const positiveInt = z.number().int().positive();

export const modelInfoSchema = z
  .object({
    classes: z.array(z.string().min(1)).min(1),
    sequence: z.object({ sampleSize: positiveInt, stride: positiveInt }).passthrough(),
    frames: z
      .object({
        window: z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }).passthrough(),
        size: positiveInt,
        cropToBbox: z.boolean(),
      })
      .passthrough(),
    normalization: z.enum(['minus1to1', 'zero1']),
    featureStats: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).nullable(),
    velocity: z.boolean(),
    backbone: z.object({ alpha: z.number().positive(), weightsId: z.string(), dir: z.string().min(1) }).passthrough(),
  })
  .passthrough()
  .superRefine((info, ctx) => {
    if (info.frames.window.end < info.frames.window.start) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['frames', 'window'], message: `end ${info.frames.window.end} is before start ${info.frames.window.start}` });
    }
    if (info.featureStats && info.featureStats.mean.length !== info.featureStats.std.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['featureStats'], message: 'mean and std differ in length' });
    }
    // The backbone folder is fetched relative to the model folder in the browser: keep it inside.
    if (/(^|[\\/])\.\.([\\/]|$)|^[\\/]|:/.test(info.backbone.dir)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backbone', 'dir'], message: `'${info.backbone.dir}' must be a relative folder inside the model directory` });
    }
  });

export type WlaslModelInfo = z.infer<typeof modelInfoSchema>;

/** Validates parsed wlasl-model.json; every problem names the file and the field. */
export function parseModelInfo(json: unknown, file = MODEL_INFO_FILE): WlaslModelInfo {
  const result = modelInfoSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelDirError(`not a valid model description: ${issues}`, { file });
  }
  return result.data;
}
