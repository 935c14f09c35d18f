import * as path from 'node:path';
import type { DataFrame } from 'danfojs-node';
import { ConfigError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import type { VideoIndex } from './video_index';
import { SPLITS, type Bbox } from './types';

/** danfojs-node pulls in tfjs; load it only when a table is asked for, so parsing stays light. */
function danfo(): typeof import('danfojs-node') {
  return require('danfojs-node') as typeof import('danfojs-node');
}

/**
 * video_id -> bbox for every indexed instance: the original's bbox_file, built from the index in memory
 * (the original re-read the whole JSON for every video in obtain_bbox).
 */
export function bboxMap(index: VideoIndex): Record<string, Bbox | null> {
  const out: Record<string, Bbox | null> = {};
  for (const e of index.entries) out[e.videoId] = e.bbox;
  return out;
}

export async function writeBboxMap(index: VideoIndex, file: string): Promise<void> {
  await writeJsonAtomic(file, bboxMap(index));
}

export const MISSING_COLUMNS = ['video_id', 'gloss', 'label', 'split', 'source', 'url'] as const;
export type MissingRow = Record<(typeof MISSING_COLUMNS)[number], string | number>;

export function missingRows(index: VideoIndex): MissingRow[] {
  return index.missing.map((e) => ({ video_id: e.videoId, gloss: e.gloss, label: e.label, split: e.split, source: e.source, url: e.url }));
}

/** Instances without a video file, one row each (video_id, gloss, label, split, source, url). */
export function missingReport(index: VideoIndex): DataFrame {
  const { DataFrame } = danfo();
  const rows = missingRows(index);
  return rows.length ? new DataFrame(rows, { columns: [...MISSING_COLUMNS] }) : new DataFrame([], { columns: [...MISSING_COLUMNS] });
}

export function csvCell(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes the missing-video report as CSV (.csv) or JSON (.json), chosen by extension. Written by hand rather
 * than through danfojs so zero-padded ids stay text and an empty report still has its header.
 */
export async function writeMissingReport(index: VideoIndex, file: string): Promise<void> {
  const rows = missingRows(index);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') {
    await writeJsonAtomic(file, { metadata: index.metadataFile, videosDir: index.videosDir, missing: rows.length, total: index.entries.length, rows });
  } else if (ext === '.csv') {
    const lines = [MISSING_COLUMNS.join(','), ...rows.map((r) => MISSING_COLUMNS.map((c) => csvCell(r[c])).join(','))];
    await writeFileAtomic(file, lines.join('\n') + '\n');
  } else {
    throw new ConfigError(`missing-video report must end in .csv or .json`, { file });
  }
}

export interface CountsRow {
  gloss: string;
  label: number;
  train: number;
  val: number;
  test: number;
  total: number;
  present: number;
  missing: number;
}

export function countsRows(index: VideoIndex): CountsRow[] {
  const rows: CountsRow[] = index.classes.map((gloss, label) => ({ gloss, label, train: 0, val: 0, test: 0, total: 0, present: 0, missing: 0 }));
  for (const e of index.entries) {
    const row = rows[e.label]!;
    // Split counts are of videos one can use (present); total/present/missing show what is lost.
    if (e.path) {
      row[e.split]++;
      row.present++;
    } else {
      row.missing++;
    }
    row.total++;
  }
  return rows;
}

export const COUNTS_COLUMNS = ['gloss', 'label', ...SPLITS, 'total', 'present', 'missing'] as const;

/** Per-gloss counts: present videos per split, plus total, present and missing instances (danfojs table). */
export function countsTable(index: VideoIndex): DataFrame {
  const { DataFrame } = danfo();
  const rows = countsRows(index);
  return new DataFrame(rows.length ? rows : [], { columns: [...COUNTS_COLUMNS] });
}
