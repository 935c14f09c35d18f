import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Bbox } from '../metadata/types';

/**
 * What produced a cached entry (a frames folder or a feature file): the video file's size, modification time
 * and content hash, and the per-video metadata its extraction used (bbox, WLASL frame range). Caches are keyed
 * by global settings only, so this record, stored with each entry and compared on reuse, is what notices a
 * replaced video, an edited bbox, or another dataset's video of the same id in a shared cache.
 *
 * The content hash decides when both records have one: a dataset copied or restored without its times (a new
 * mtime, the same bytes: this happens to shared folders every time they are provisioned) keeps its cache, and a
 * same-size replacement with its mtime set back is still seen. Hashing reads each video once a run: about 0.1 s
 * for WLASL100's 35 MB, a few seconds for the full dataset, against minutes of decoding for one needless
 * recompute. Records written before the hash existed are compared by size and mtime, as they were made.
 */
export interface SourceStamp {
  /** Video file size in bytes; null when the job has no file or it cannot be read now. */
  bytes: number | null;
  /** Video file modification time, whole milliseconds; null as for bytes. */
  mtimeMs: number | null;
  /** SHA-256 of the video file (hex); null as for bytes; absent in records written before it existed. */
  sha256?: string | null;
  /** The bbox the crop used; null when the extraction does not crop or the video has none. */
  bbox: Bbox | null;
  /** WLASL frame_start / frame_end when the window follows the metadata; else null. */
  frameStart: number | null;
  frameEnd: number | null;
}

/** Which per-video metadata changes the output: with cropToBbox off a bbox edit changes nothing. */
export interface StampUses {
  bbox: boolean;
  range: boolean;
}

/** A job as the stamp sees it: a VideoJob, or any job with some of these fields. */
export interface StampedJob {
  path?: unknown;
  bbox?: unknown;
  frameStart?: unknown;
  frameEnd?: unknown;
}

function asBbox(value: unknown): Bbox | null {
  return Array.isArray(value) && value.length === 4 && value.every((v) => typeof v === 'number') ? [value[0], value[1], value[2], value[3]] : null;
}

function asNumber(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

export async function sourceStamp(job: StampedJob, uses: StampUses): Promise<SourceStamp> {
  let bytes: number | null = null;
  let mtimeMs: number | null = null;
  let sha256: string | null = null;
  if (typeof job.path === 'string') {
    try {
      const stat = await fs.promises.stat(job.path);
      bytes = stat.size;
      mtimeMs = Math.trunc(stat.mtimeMs);
      sha256 = createHash('sha256').update(await fs.promises.readFile(job.path)).digest('hex');
    } catch {
      // Left null: compared with a recorded size it reads as a change, and extraction reports the real error.
    }
  }
  return {
    bytes,
    mtimeMs,
    sha256,
    bbox: uses.bbox ? asBbox(job.bbox) : null,
    frameStart: uses.range ? asNumber(job.frameStart) : null,
    frameEnd: uses.range ? asNumber(job.frameEnd) : null,
  };
}

function isStamp(value: unknown): value is SourceStamp {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const numberOrNull = (x: unknown) => x === null || typeof x === 'number';
  const hashOrAbsent = v.sha256 === undefined || v.sha256 === null || typeof v.sha256 === 'string';
  return numberOrNull(v.bytes) && numberOrNull(v.mtimeMs) && hashOrAbsent && (v.bbox === null || asBbox(v.bbox) !== null) && numberOrNull(v.frameStart) && numberOrNull(v.frameEnd);
}

function range(s: SourceStamp): string {
  return `${s.frameStart ?? '?'}..${s.frameEnd ?? '?'}`;
}

/**
 * Why an entry recorded as `stored` is not what `now` would produce, or null when it is. A missing or
 * malformed record (entries written before stamps existed) counts as a change: they cannot be vouched for.
 */
export function describeStampChange(stored: unknown, now: SourceStamp): string | null {
  if (!isStamp(stored)) return 'no record of the video it was made from (written by an older version)';
  const changes: string[] = [];
  if (stored.bytes !== now.bytes) {
    changes.push(now.bytes === null ? `video file unreadable now (was ${stored.bytes} bytes)` : `video file replaced (${stored.bytes ?? 'no file'} -> ${now.bytes} bytes)`);
  } else if (typeof stored.sha256 === 'string' && typeof now.sha256 === 'string') {
    // The content decides: a copy with new times is the same video, a same-size edit with old times is not.
    if (stored.sha256 !== now.sha256) changes.push(`video file content changed (same size, sha256 ${stored.sha256.slice(0, 12)} -> ${now.sha256.slice(0, 12)})`);
  } else if (stored.mtimeMs !== now.mtimeMs) {
    const when = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString());
    changes.push(`video file modified (${when(stored.mtimeMs)} -> ${when(now.mtimeMs)})`);
  }
  if (JSON.stringify(stored.bbox) !== JSON.stringify(now.bbox)) changes.push(`bbox ${JSON.stringify(stored.bbox)} -> ${JSON.stringify(now.bbox)}`);
  if (stored.frameStart !== now.frameStart || stored.frameEnd !== now.frameEnd) changes.push(`frame range ${range(stored)} -> ${range(now)}`);
  return changes.length ? changes.join('; ') : null;
}

/** A cache entry found unusable and made again: 'stale' = from other inputs or an older version, 'damaged' = broken bytes. */
export interface RecomputedEntry {
  videoId: string;
  why: 'stale' | 'damaged';
  reason: string;
}

/**
 * "recomputed 1 stale: 12345 (bbox [..] -> [..]); 1 damaged: 67890 (bad magic)" for a summary line, the first
 * few of each named (reports hold them all); '' when there are none.
 */
export function formatRecomputed(entries: readonly RecomputedEntry[], max = 5): string {
  const parts: string[] = [];
  for (const why of ['stale', 'damaged'] as const) {
    const these = entries.filter((e) => e.why === why);
    if (!these.length) continue;
    const named = these.slice(0, max).map((e) => `${e.videoId} (${e.reason})`).join(', ');
    parts.push(`${these.length} ${why}: ${named}${these.length > max ? `, and ${these.length - max} more` : ''}`);
  }
  return parts.length ? `recomputed ${parts.join('; ')}` : '';
}
