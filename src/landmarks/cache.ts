import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FrameWindowConfig } from '../config';
import { CacheError, outputError, UnsafeNameError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import { isSafeVideoId, SAFE_VIDEO_ID_RULE } from '../metadata/video_id';
import { describeStampChange, type SourceStamp } from '../video/source_stamp';
import type { LandmarkModelInfo } from './human';
import type { LandmarkParams } from './params';
import { BODY_KEYPOINTS, HAND_POINTS, type ClipLandmarks, type ClipLandmarkStats, type FrameLandmarks, type HandLandmarks } from './types';
import type { FrameGeometry } from './extract';

/**
 * The landmark cache: the models run once per frame, ever. Layout:
 *
 *   <cacheRoot>/<key>/meta.json        what the key stands for: Human's version and model file hashes, the
 *                                      landmark parameters, the frame window and crop
 *   <cacheRoot>/<key>/<videoId>.json   one clip's landmarks (format below), written atomically
 *   <cacheRoot>/<key>/failures.json    clips that failed and entries recomputed in the last build, with reasons
 *
 * key = hash(format, model files, every LandmarkParams field, window, crop): a changed model or setting
 * never mixes with old entries. What the key cannot see (a replaced video file, an edited bbox or frame range)
 * is in each entry's source record, compared on reuse as the feature cache does. An entry is complete or
 * absent (atomic rename), so a killed build resumes by skipping what exists.
 *
 * Entries are JSON (about 35 kB for 31 frames): landmarks are few per frame, and a person can read one.
 * Coordinates are rounded to 0.01 source pixel and scores to 1e-4, far below what the models resolve.
 */
export const LANDMARK_CACHE_FORMAT = 1;
const ENTRY_FORMAT = 'wlasl-landmarks';
const KEY_CHARS = 16;

/** What changes landmarks besides the models and params: the frames they are computed on. */
export interface LandmarkFrameSettings {
  window: FrameWindowConfig;
  cropToBbox: boolean;
}

export interface LandmarkCacheMeta {
  format: number;
  key: string;
  models: Omit<LandmarkModelInfo, 'backend'>;
  params: LandmarkParams;
  frames: LandmarkFrameSettings;
  createdAt: string;
}

export interface LandmarkEntry {
  format: string;
  version: number;
  key: string;
  videoId: string;
  /** What the entry was made from (video file size and mtime, bbox, frame range). */
  source: SourceStamp;
  /** Which source pixels the model frames showed (the squared, clamped bbox crop scaled to size x size). */
  geometry: FrameGeometry;
  video: { width: number; height: number; fps: number };
  /** Source frame index of each frame (padded frames repeat the last); notes say what the window adjusted. */
  sourceFrames: number[];
  padded: number;
  notes: string[];
  stats: ClipLandmarkStats;
  frames: FrameLandmarks[];
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function landmarkCacheKey(models: Omit<LandmarkModelInfo, 'backend'>, params: LandmarkParams, frames: LandmarkFrameSettings): string {
  const identity = { v: LANDMARK_CACHE_FORMAT, models: { version: models.version, files: models.models }, params, frames };
  return createHash('sha256').update(stableStringify(identity)).digest('hex').slice(0, KEY_CHARS);
}

export function landmarkFile(cacheDir: string, videoId: string): string {
  if (!isSafeVideoId(videoId)) throw new UnsafeNameError(`video id '${videoId}' cannot be used as a file name (${SAFE_VIDEO_ID_RULE})`);
  return path.join(cacheDir, `${videoId}.json`);
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function roundHand(hand: HandLandmarks | null): HandLandmarks | null {
  return hand ? { points: hand.points.map((v) => round(v, 2)), score: round(hand.score, 4), source: hand.source } : null;
}

/** The frames as stored: coordinates to 0.01 pixel, scores to 1e-4 (body: x, y, score triples). */
export function roundFrames(frames: readonly FrameLandmarks[]): FrameLandmarks[] {
  return frames.map((f) => ({
    body: f.body.map((v, i) => round(v, i % 3 === 2 ? 4 : 2)),
    left: roundHand(f.left),
    right: roundHand(f.right),
    ...(f.error ? { error: f.error } : {}),
  }));
}

const finite = z.number().finite();
const handSchema = z.object({ points: z.array(finite).length(HAND_POINTS * 3), score: finite.min(0).max(1), source: z.enum(['wrist', 'track', 'detector']) }).nullable();
const entrySchema = z.object({
  format: z.literal(ENTRY_FORMAT),
  version: z.literal(LANDMARK_CACHE_FORMAT),
  key: z.string(),
  videoId: z.string(),
  source: z.unknown(),
  geometry: z.object({ size: z.number().int().positive(), crop: z.object({ x: finite, y: finite, width: finite.positive(), height: finite.positive() }) }),
  video: z.object({ width: finite, height: finite, fps: finite }),
  sourceFrames: z.array(z.number().int().min(0)),
  padded: z.number().int().min(0),
  notes: z.array(z.string()),
  stats: z.object({
    frames: z.number().int().min(1),
    visibleWrists: z.number().int().min(0),
    handsAtVisibleWrists: z.number().int().min(0),
    framesWithHand: z.number().int().min(0),
    framesWithBothHands: z.number().int().min(0),
    landmarkRuns: z.number().int().min(0),
    detectorRuns: z.number().int().min(0),
    badFrames: z.number().int().min(0),
  }),
  frames: z.array(z.object({ body: z.array(finite).length(BODY_KEYPOINTS.length * 3), left: handSchema, right: handSchema, error: z.string().optional() })),
});

export type EntryCheck = { status: 'ok'; entry: LandmarkEntry } | { status: 'missing' } | { status: 'stale' | 'damaged'; reason: string };

/** Parses an entry's text; a problem is returned as text, for the 'damaged' reason. */
export function parseLandmarkEntry(text: string, key: string, videoId: string): LandmarkEntry | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const parsed = entrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `not a landmark entry: ${issue.path.join('.') || 'top level'}: ${issue.message}`;
  }
  const entry = parsed.data as LandmarkEntry;
  if (entry.key !== key) return `made for cache key ${entry.key}, this cache is ${key}`;
  if (entry.videoId !== videoId) return `holds video ${entry.videoId}`;
  if (entry.frames.length !== entry.stats.frames || entry.sourceFrames.length !== entry.frames.length) return `${entry.frames.length} frames, ${entry.stats.frames} counted, ${entry.sourceFrames.length} source indices`;
  return entry;
}

export interface LandmarkCache {
  dir: string;
  key: string;
  meta: LandmarkCacheMeta;
  check(videoId: string, source: SourceStamp): Promise<EntryCheck>;
  write(videoId: string, clip: ClipLandmarks, details: Omit<LandmarkEntry, 'format' | 'version' | 'key' | 'videoId' | 'stats' | 'frames'>): Promise<void>;
  remove(videoId: string): Promise<void>;
  read(videoId: string): LandmarkEntry;
}

/** Reads a finished entry, or throws a CacheError naming the file. */
export function readLandmarkEntry(cacheDir: string, key: string, videoId: string): LandmarkEntry {
  const file = landmarkFile(cacheDir, videoId);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CacheError(`no landmarks cached (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run the landmark stage first`, { file });
  }
  const entry = parseLandmarkEntry(text, key, videoId);
  if (typeof entry === 'string') throw new CacheError(`${entry}: rerun the landmark stage to recompute it`, { file });
  return entry;
}

/** Whether a process of this id is running (a temporary of a live writer is left alone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporaries a killed build left (runtime/atomic.ts names them .<file>.<pid>.<8 hex>.tmp): removed on open. */
function removeOrphanTemporaries(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (match && !alive(Number(match[1]))) fs.rmSync(path.join(dir, name), { force: true, recursive: true });
  }
}

/**
 * Opens (creating if needed) the folder for these models, params and frame settings. A folder whose meta.json
 * names another key (edited by hand, or a hash clash) is refused with a CacheError naming meta.json.
 */
export async function openLandmarkCache(cacheRoot: string, models: Omit<LandmarkModelInfo, 'backend'>, params: LandmarkParams, frames: LandmarkFrameSettings): Promise<LandmarkCache> {
  const key = landmarkCacheKey(models, params, frames);
  const dir = path.join(cacheRoot, key);
  const metaFile = path.join(dir, 'meta.json');
  let meta: LandmarkCacheMeta;
  removeOrphanTemporaries(dir);
  if (fs.existsSync(metaFile)) {
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as LandmarkCacheMeta;
    } catch (error) {
      throw new CacheError(`unreadable (${(error as Error).message}); delete the folder to rebuild it`, { file: metaFile });
    }
    if (meta?.key !== key) throw new CacheError(`describes landmark cache ${String(meta?.key)}, expected ${key}; delete the folder to rebuild it`, { file: metaFile });
  } else {
    meta = { format: LANDMARK_CACHE_FORMAT, key, models, params, frames, createdAt: new Date().toISOString() };
    await writeJsonAtomic(metaFile, meta);
  }
  return {
    dir,
    key,
    meta,
    async check(videoId, source) {
      const file = landmarkFile(dir, videoId);
      let text: string;
      try {
        text = await fs.promises.readFile(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { status: 'missing' };
        return { status: 'damaged', reason: `cannot be read (${code ?? (error as Error).message})` };
      }
      const entry = parseLandmarkEntry(text, key, videoId);
      if (typeof entry === 'string') return { status: 'damaged', reason: entry };
      const change = describeStampChange(entry.source, source);
      return change ? { status: 'stale', reason: change } : { status: 'ok', entry };
    },
    async write(videoId, clip, details) {
      const entry: LandmarkEntry = { format: ENTRY_FORMAT, version: LANDMARK_CACHE_FORMAT, key, videoId, ...details, stats: clip.stats, frames: roundFrames(clip.frames) };
      await writeFileAtomic(landmarkFile(dir, videoId), JSON.stringify(entry) + '\n');
    },
    async remove(videoId) {
      const file = landmarkFile(dir, videoId);
      try {
        await fs.promises.rm(file, { force: true, recursive: true });
      } catch (error) {
        throw outputError(error, file, 'cannot remove a stale or damaged entry');
      }
    },
    read: (videoId) => readLandmarkEntry(dir, key, videoId),
  };
}
