import { z } from 'zod';
import { MetadataError } from '../errors';
import type { Bbox, Split } from './types';
import { isSafeVideoId, SAFE_VIDEO_ID_RULE } from './video_id';

/**
 * The schema of WLASL_v0.3.json (fields as documented in the WLASL repository's README, "Data Description"):
 * a list of { gloss, instances: [{ bbox, fps, frame_start, frame_end, instance_id, signer_id, source, split,
 * url, variation_id, video_id }] }.
 */


const int = z.number().int();

export const wlaslInstanceSchema = z.object({
  video_id: z.string().refine(isSafeVideoId, `expected a plain id (${SAFE_VIDEO_ID_RULE})`),
  split: z.enum(['train', 'val', 'test']),
  bbox: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .refine(([x0, y0, x1, y1]) => x1 > x0 && y1 > y0 && x0 >= 0 && y0 >= 0, 'expected [x_min, y_min, x_max, y_max] with min >= 0 and max > min')
    .nullable()
    .optional(),
  fps: z.number().positive().default(25),
  frame_start: int.min(1).default(1),
  frame_end: int.refine((v) => v === -1 || v >= 1, 'expected -1 or a frame number >= 1').default(-1),
  instance_id: int.min(0).default(0),
  signer_id: int.default(-1),
  source: z.string().default(''),
  url: z.string().default(''),
  variation_id: int.default(0),
});

export const wlaslGlossSchema = z.object({
  gloss: z.string().min(1, 'expected a non-empty gloss'),
  instances: z.array(wlaslInstanceSchema),
});

export const wlaslMetadataSchema = z.array(wlaslGlossSchema);

export type WlaslInstanceJson = z.input<typeof wlaslInstanceSchema>;
export type WlaslGlossJson = z.input<typeof wlaslGlossSchema>;

/** One validated instance, in the project's naming (camelCase, WLASL's meanings). */
export interface WlaslInstance {
  videoId: string;
  split: Split;
  bbox: Bbox | null;
  fps: number;
  frameStart: number;
  frameEnd: number;
  instanceId: number;
  signerId: number;
  source: string;
  url: string;
  variationId: number;
}

export interface WlaslGloss {
  gloss: string;
  instances: WlaslInstance[];
}

/** Validated metadata, glosses in the file's order (which defines labels and the WLASL100/300/... subsets). */
export interface WlaslMetadata {
  /** Where it was read from (for error messages). */
  file: string;
  glosses: WlaslGloss[];
  instanceCount: number;
}

const MAX_REPORTED_ISSUES = 10;

function describeIssue(raw: unknown, issue: z.ZodIssue): string {
  const [glossIndex, key, instanceIndex, field, ...rest] = issue.path;
  const glosses = Array.isArray(raw) ? raw : [];
  const glossEntry = typeof glossIndex === 'number' ? (glosses[glossIndex] as { gloss?: unknown } | undefined) : undefined;
  const glossName = typeof glossEntry?.gloss === 'string' ? `'${glossEntry.gloss}'` : '(no name)';
  const parts: string[] = [];
  if (typeof glossIndex === 'number') parts.push(`gloss #${glossIndex} ${glossName}`);
  if (key === 'instances' && typeof instanceIndex === 'number') {
    const instances = (glossEntry as { instances?: unknown[] } | undefined)?.instances;
    const inst = Array.isArray(instances) ? (instances[instanceIndex] as { video_id?: unknown } | undefined) : undefined;
    const vid = typeof inst?.video_id === 'string' ? ` (video_id ${inst.video_id})` : '';
    parts.push(`instance #${instanceIndex}${vid}`);
    if (field !== undefined) parts.push(`field '${[field, ...rest].join('.')}'`);
  } else if (key !== undefined) {
    parts.push(`field '${[key, instanceIndex, field, ...rest].filter((p) => p !== undefined).join('.')}'`);
  }
  const where = parts.length ? parts.join(', ') : 'top level';
  return `${where}: ${issue.message}`;
}

/** Validates already-parsed JSON; bad entries give one MetadataError listing gloss, instance and field. */
export function validateWlaslMetadata(raw: unknown, file: string): WlaslMetadata {
  const result = wlaslMetadataSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues;
    const lines = issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => describeIssue(raw, issue));
    const more = issues.length > MAX_REPORTED_ISSUES ? `\n  ... and ${issues.length - MAX_REPORTED_ISSUES} more` : '';
    const head = Array.isArray(raw) ? `invalid WLASL metadata (${issues.length} problem${issues.length === 1 ? '' : 's'})` : 'invalid WLASL metadata: expected a JSON list of glosses';
    throw new MetadataError(`${head}:\n  ${lines.join('\n  ')}${more}`, { file });
  }
  let instanceCount = 0;
  const glosses: WlaslGloss[] = result.data.map((g) => {
    instanceCount += g.instances.length;
    return {
      gloss: g.gloss,
      instances: g.instances.map((i) => ({
        videoId: i.video_id,
        split: i.split,
        bbox: i.bbox ? ([...i.bbox] as Bbox) : null,
        fps: i.fps,
        frameStart: i.frame_start,
        frameEnd: i.frame_end,
        instanceId: i.instance_id,
        signerId: i.signer_id,
        source: i.source,
        url: i.url,
        variationId: i.variation_id,
      })),
    };
  });
  return { file, glosses, instanceCount };
}
