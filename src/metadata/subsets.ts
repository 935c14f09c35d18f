import * as fs from 'node:fs';
import { z } from 'zod';
import { MetadataError } from '../errors';
import { parseJsonFile } from './json_position';
import type { WlaslMetadata } from './schema';
import type { Split } from './types';

/**
 * WLASL100/300/1000/2000 as the WLASL authors define them: "four subsets WLASL100, WLASL300, WLASL1000 and
 * WLASL2000 are constructed by taking the top-K (k=100, 300, 1000 and 2000) glosses from the WLASL_vx.x.json
 * file" (github.com/dxli94/WLASL, README, "Constituting subsets"). The file lists glosses by decreasing number
 * of instances, so the top-K are the first K entries IN FILE ORDER; their class ids are their positions in the
 * file, as in the authors' code/I3D/preprocess/wlasl_class_list.txt and nslt_K.json. We do not re-sort by our own
 * instance counts: ties (and missing videos) would give a different set from the published one.
 */
export const SUBSET_SIZES = [100, 300, 1000, 2000] as const;
export type SubsetSize = (typeof SUBSET_SIZES)[number];
export type SubsetName = 'WLASL100' | 'WLASL300' | 'WLASL1000' | 'WLASL2000';

/** Accepts 100, '100', 'WLASL100' or 'wlasl100'; any other K (1..number of glosses) is allowed too. */
export function parseSubset(subset: number | string): number {
  const match = /^(?:wlasl)?(\d+)$/i.exec(String(subset).trim());
  const k = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(k) || k < 1) throw new MetadataError(`unknown subset '${subset}' (expected WLASL100, WLASL300, WLASL1000, WLASL2000 or a number of glosses)`);
  return k;
}

/** Gloss names of the top-K subset: the first K glosses in the metadata file's order. */
export function subsetGlosses(metadata: WlaslMetadata, subset: number | string): string[] {
  const k = parseSubset(subset);
  if (k > metadata.glosses.length) {
    throw new MetadataError(`subset WLASL${k} needs ${k} glosses but the metadata has ${metadata.glosses.length}`, { file: metadata.file });
  }
  return metadata.glosses.slice(0, k).map((g) => g.gloss);
}

/**
 * A split file of the Kaggle `wlasl-processed` dataset (nslt_100.json ... nslt_2000.json, copied from the
 * authors' code/I3D/preprocess/): { "<video_id>": { "subset": "train"|"val"|"test", "action": [class_id,
 * frame_start, frame_end] } }. class_id is the gloss's position in WLASL_v0.3.json.
 */
const splitFileSchema = z.record(
  z.string(),
  z.object({
    subset: z.enum(['train', 'val', 'test']),
    action: z.tuple([z.number().int().min(0), z.number().int(), z.number().int()]),
  }),
);

export interface SplitFileEntry {
  split: Split;
  classId: number;
  frameStart: number;
  frameEnd: number;
}

export interface SplitFile {
  file: string;
  entries: Map<string, SplitFileEntry>;
}

export function parseSplitFile(jsonText: string, file: string): SplitFile {
  const raw = parseJsonFile(jsonText, file, 'split file');
  const result = splitFileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const [videoId, ...field] = issue.path;
    const where = videoId !== undefined ? `video_id ${String(videoId)}${field.length ? `, field '${field.join('.')}'` : ''}` : 'top level';
    throw new MetadataError(`invalid split file (${result.error.issues.length} problem(s)); first: ${where}: ${issue.message}`, { file });
  }
  const entries = new Map<string, SplitFileEntry>();
  for (const [videoId, v] of Object.entries(result.data)) {
    entries.set(videoId, { split: v.subset, classId: v.action[0], frameStart: v.action[1], frameEnd: v.action[2] });
  }
  return { file, entries };
}

export function readSplitFile(path: string): SplitFile {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new MetadataError(`cannot read split file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: path, cause: error });
  }
  return parseSplitFile(text, path);
}
