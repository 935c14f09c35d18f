import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CacheError, outputError, UnsafeNameError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import type { BackboneInfo } from '../backbone/backbone';
import { describeStampChange, type SourceStamp } from '../video/source_stamp';
import { isSafeVideoId, SAFE_VIDEO_ID_RULE } from '../metadata/video_id';

/**
 * The frozen-feature cache: the backbone runs once per frame, ever, instead of on every frame in every epoch
 * as in the original. Layout:
 *
 *   <cacheRoot>/<key>/meta.json       what the key means (backbone weights id and hash, preprocessing)
 *   <cacheRoot>/<key>/<videoId>.bin   header + source record + [frames, dim] features, little-endian
 *   <cacheRoot>/<key>/failures.json   videos skipped and entries recomputed in the last build, with the reason
 *
 * key = hash(weights hash, alpha, normalisation, feature dim, frame preprocessing). Every change of a global
 * setting that alters features changes the key. What the key cannot see, a video file replaced or its bbox or
 * frame range edited in the metadata, is in each file's source record (see video/source_stamp.ts), compared
 * when a build decides what to reuse. Each .bin is written atomically: it is either complete or absent, which
 * is what makes a killed build resumable.
 *
 * .bin layout (format 2):
 *   0  'WLFC'   4 u16 format   6 u16 dtype   8 u32 frames   12 u32 dim   16 key (16 ASCII)
 *   32 u32 source record length n   36 u32 0   40 source record (UTF-8 JSON), zero-padded to a multiple of 8
 *   40 + pad8(n)  features
 * Format 1 (no source record) is refused by readers and recomputed by builds.
 */
/** The folder layout and key derivation: unchanged by format 2, so existing caches keep their key. */
export const CACHE_FORMAT_VERSION = 1;
/** The .bin layout. */
export const ENTRY_FORMAT_VERSION = 2;
const MAGIC = 'WLFC';
/** The fixed part of a .bin header; the source record follows it. */
export const HEADER_BYTES = 40;
const KEY_CHARS = 16;
// A record is ~120 bytes; a bigger length field means a damaged header, not a big record.
const MAX_SOURCE_BYTES = 4096;
const LITTLE_ENDIAN = os.endianness() === 'LE';
const RERUN = 'rerun `features` to recompute it';

export type FeatureDtype = 'float32' | 'float16';
const DTYPE_CODE: Record<FeatureDtype, number> = { float32: 1, float16: 2 };

/** The frame preprocessing that changes features (window, size, crop...): any JSON-able record. */
export type PreprocessingParams = Record<string, unknown>;

export interface CacheMeta {
  formatVersion: number;
  key: string;
  backbone: Pick<BackboneInfo, 'weightsId' | 'weightsHash' | 'source' | 'location' | 'alpha' | 'normalization' | 'inputSize' | 'featureDim'> & { fallbackReason?: string };
  preprocessing: PreprocessingParams;
  dtype: FeatureDtype;
  createdAt: string;
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The cache key for a backbone and preprocessing. The storage dtype is not part of it (see openFeatureCache). */
export function cacheKey(backbone: Pick<BackboneInfo, 'weightsHash' | 'alpha' | 'normalization' | 'featureDim' | 'inputSize'>, preprocessing: PreprocessingParams): string {
  const identity = { v: CACHE_FORMAT_VERSION, weightsHash: backbone.weightsHash, alpha: backbone.alpha, normalization: backbone.normalization, featureDim: backbone.featureDim, inputSize: backbone.inputSize, preprocessing };
  return createHash('sha256').update(stableStringify(identity)).digest('hex').slice(0, KEY_CHARS);
}

export function checkVideoId(videoId: string): void {
  if (!isSafeVideoId(videoId)) throw new UnsafeNameError(`video id '${videoId}' cannot be used as a file name (${SAFE_VIDEO_ID_RULE})`);
}

export function featureFile(cacheDir: string, videoId: string): string {
  checkVideoId(videoId);
  return path.join(cacheDir, `${videoId}.bin`);
}

// IEEE 754 half precision, round-to-nearest-even (Node 20 has no Float16Array).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Why `data` cannot be stored, or null: a NaN or infinity (a broken backbone), or with float16 storage a value
 * beyond its range (it would read back as infinity). Checked before writing, so the cache never holds values
 * that would surface later as a "diverged" training run.
 */
export function unstorableValue(data: Float32Array, dim: number, dtype: FeatureDtype): string | null {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) return `${v} at frame ${Math.floor(i / dim)}`;
    if (dtype === 'float16' && (toFloat16Bits(v) & 0x7c00) === 0x7c00) return `${v} at frame ${Math.floor(i / dim)}, beyond float16's range (store float32)`;
  }
  return null;
}

export function encodeFeatures(data: Float32Array, frames: number, dim: number, dtype: FeatureDtype, key: string, source: SourceStamp): Buffer {
  if (data.length !== frames * dim) throw new RangeError(`${data.length} values for ${frames} frames x ${dim}`);
  const bad = unstorableValue(data, dim, dtype);
  if (bad) throw new RangeError(`features not stored: ${bad}`);
  const record = Buffer.from(JSON.stringify(source), 'utf8');
  if (record.length > MAX_SOURCE_BYTES) throw new RangeError(`source record of ${record.length} bytes (at most ${MAX_SOURCE_BYTES})`);
  const offset = HEADER_BYTES + pad8(record.length);
  const bytes = dtype === 'float32' ? 4 : 2;
  const buf = Buffer.alloc(offset + data.length * bytes);
  buf.write(MAGIC, 0, 'ascii');
  buf.writeUInt16LE(ENTRY_FORMAT_VERSION, 4);
  buf.writeUInt16LE(DTYPE_CODE[dtype], 6);
  buf.writeUInt32LE(frames, 8);
  buf.writeUInt32LE(dim, 12);
  buf.write(key.padEnd(KEY_CHARS, ' ').slice(0, KEY_CHARS), 16, 'ascii');
  buf.writeUInt32LE(record.length, 32);
  record.copy(buf, HEADER_BYTES);
  if (dtype === 'float32') {
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i]!, offset + 4 * i);
  } else {
    for (let i = 0; i < data.length; i++) buf.writeUInt16LE(toFloat16Bits(data[i]!), offset + 2 * i);
  }
  return buf;
}

export interface FeatureHeader {
  frames: number;
  dim: number;
  dtype: FeatureDtype;
  key: string;
  /** Bytes of the source record after the fixed header. */
  sourceBytes: number;
  /** Where the features start. */
  dataOffset: number;
}

/** What is wrong with an entry: 'stale' = made from other inputs or by an older version, 'damaged' = unusable bytes. */
interface EntryProblem {
  kind: 'stale' | 'damaged';
  reason: string;
}

function inspectHeader(buf: Buffer): FeatureHeader | EntryProblem {
  if (buf.length < 6) return { kind: 'damaged', reason: `file has ${buf.length} bytes, less than a header (truncated)` };
  if (buf.toString('ascii', 0, 4) !== MAGIC) return { kind: 'damaged', reason: 'not a feature cache file (bad magic)' };
  const version = buf.readUInt16LE(4);
  if (version !== ENTRY_FORMAT_VERSION) {
    const why = version < ENTRY_FORMAT_VERSION ? ', without a record of the video it was made from' : '';
    return { kind: 'stale', reason: `feature file format ${version}${why}; this code reads format ${ENTRY_FORMAT_VERSION}` };
  }
  if (buf.length < HEADER_BYTES) return { kind: 'damaged', reason: `file has ${buf.length} bytes, less than a header (truncated)` };
  const code = buf.readUInt16LE(6);
  const dtype = (Object.keys(DTYPE_CODE) as FeatureDtype[]).find((d) => DTYPE_CODE[d] === code);
  if (!dtype) return { kind: 'damaged', reason: `unknown dtype code ${code}` };
  const sourceBytes = buf.readUInt32LE(32);
  if (sourceBytes > MAX_SOURCE_BYTES) return { kind: 'damaged', reason: `source record length ${sourceBytes} (damaged header)` };
  return { frames: buf.readUInt32LE(8), dim: buf.readUInt32LE(12), dtype, key: buf.toString('ascii', 16, 32).trim(), sourceBytes, dataOffset: HEADER_BYTES + pad8(sourceBytes) };
}

function isProblem(value: FeatureHeader | EntryProblem): value is EntryProblem {
  return 'reason' in value;
}

export function decodeHeader(header: Buffer, file: string): FeatureHeader {
  const decoded = inspectHeader(header);
  if (isProblem(decoded)) throw new CacheError(`${decoded.reason}: ${RERUN}`, { file });
  return decoded;
}

/** Checks that need the cache's description and the file size; a damaged length is caught here, before reading. */
function entryProblem(header: FeatureHeader, meta: CacheMeta, size: number): string | null {
  if (header.key !== meta.key) return `features were written for cache key ${header.key} (another backbone or preprocessing), this cache is ${meta.key} (${meta.backbone.weightsId})`;
  if (header.dim !== meta.backbone.featureDim) return `features of ${header.dim} values per frame, this cache's backbone gives ${meta.backbone.featureDim}`;
  if (header.frames < 1) return 'no frames';
  const expected = header.dataOffset + header.frames * header.dim * (header.dtype === 'float32' ? 4 : 2);
  if (size !== expected) return `file has ${size} bytes, its header needs ${expected} (truncated or damaged)`;
  return null;
}

function decodeValues(buf: Buffer, offset: number, count: number, dtype: FeatureDtype): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'float32') {
    // A typed-array copy is ~20x faster than readFloatLE; it needs native little-endian and 4-byte alignment.
    if (LITTLE_ENDIAN && (buf.byteOffset + offset) % 4 === 0) out.set(new Float32Array(buf.buffer, buf.byteOffset + offset, count));
    else for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
  } else {
    for (let i = 0; i < count; i++) out[i] = fromFloat16Bits(buf.readUInt16LE(offset + 2 * i));
  }
  return out;
}

/** "NaN at frame 3" for the first value that is not finite, or null. */
function nonFinite(values: Float32Array, dim: number, firstFrame: number): string | null {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return `${values[i]} at frame ${firstFrame + Math.floor(i / dim)}`;
  }
  return null;
}

/** Decoded values, refused when any is not finite: garbage must be named here, not found as a diverged training. */
function finiteValues(buf: Buffer, offset: number, header: FeatureHeader, firstFrame: number, frames: number, file: string): Float32Array {
  const values = decodeValues(buf, offset, frames * header.dim, header.dtype);
  const bad = nonFinite(values, header.dim, firstFrame);
  if (bad) throw new CacheError(`value ${bad} (damaged): ${RERUN}`, { file });
  return values;
}

const metaCache = new Map<string, CacheMeta>();
export function readCacheMeta(cacheDir: string): CacheMeta {
  const cached = metaCache.get(cacheDir);
  if (cached) return cached;
  const file = path.join(cacheDir, 'meta.json');
  let meta: CacheMeta;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheMeta;
  } catch (error) {
    throw new CacheError(`no readable cache description (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file, cause: error });
  }
  if (meta.formatVersion !== CACHE_FORMAT_VERSION || typeof meta.key !== 'string') throw new CacheError(`cache format ${meta.formatVersion}, this code reads ${CACHE_FORMAT_VERSION}`, { file });
  metaCache.set(cacheDir, meta);
  return meta;
}

/** Header of a cached video; checks it belongs to this cache (a file copied from another key is refused) and its length. */
export function readFeatureHeader(cacheDir: string, videoId: string): FeatureHeader {
  const file = featureFile(cacheDir, videoId);
  const fd = openOrThrow(file);
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const read = fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    return checkHeader(decodeHeader(header.subarray(0, read), file), cacheDir, file, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

function openOrThrow(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    throw new CacheError(`cached features missing (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file, cause: error });
  }
}

function checkHeader(header: FeatureHeader, cacheDir: string, file: string, size: number): FeatureHeader {
  const problem = entryProblem(header, readCacheMeta(cacheDir), size);
  if (problem) throw new CacheError(`${problem}: ${RERUN}`, { file });
  return header;
}

/** All of a video's cached features: data is row-major [frames, dim]. Damaged files and non-finite values are refused. */
export function readVideoFeatures(cacheDir: string, videoId: string): { data: Float32Array; frames: number; dim: number } {
  const file = featureFile(cacheDir, videoId);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new CacheError(`cached features missing (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file, cause: error });
  }
  const header = checkHeader(decodeHeader(buf, file), cacheDir, file, buf.length);
  return { data: finiteValues(buf, header.dataOffset, header, 0, header.frames, file), frames: header.frames, dim: header.dim };
}

/** Frames [start, start+length) of a video, read without loading the rest of the file. */
export function readFeatureWindow(cacheDir: string, videoId: string, header: FeatureHeader, start: number, length: number): Float32Array {
  const file = featureFile(cacheDir, videoId);
  if (start < 0 || start + length > header.frames) throw new CacheError(`window ${start}+${length} outside ${header.frames} frames`, { file });
  const bytes = header.dtype === 'float32' ? 4 : 2;
  const buf = Buffer.alloc(length * header.dim * bytes);
  const fd = openOrThrow(file);
  try {
    const read = fs.readSync(fd, buf, 0, buf.length, header.dataOffset + start * header.dim * bytes);
    if (read !== buf.length) throw new CacheError(`short read (${read} of ${buf.length} bytes): ${RERUN}`, { file });
  } finally {
    fs.closeSync(fd);
  }
  return finiteValues(buf, 0, header, start, length, file);
}

export type EntryCheck = { status: 'ok' } | { status: 'missing' } | { status: 'stale' | 'damaged'; reason: string };

/**
 * Whether a video's entry can be reused for `source`: present, readable, complete, of this cache, made from
 * this source (video file, bbox, frame range) and finite throughout. Reads the whole file: a NaN anywhere in
 * it is otherwise found only when training diverges.
 */
export async function checkFeatureEntry(cacheDir: string, videoId: string, source: SourceStamp): Promise<EntryCheck> {
  const file = featureFile(cacheDir, videoId);
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'damaged', reason: `cannot be read (${code ?? (error as Error).message})` };
  }
  const header = inspectHeader(buf);
  if (isProblem(header)) return { status: header.kind, reason: header.reason };
  const problem = entryProblem(header, readCacheMeta(cacheDir), buf.length);
  if (problem) return { status: 'damaged', reason: problem };
  let record: unknown;
  try {
    record = JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + header.sourceBytes));
  } catch {
    return { status: 'damaged', reason: 'unreadable source record' };
  }
  const change = describeStampChange(record, source);
  if (change) return { status: 'stale', reason: change };
  const bad = nonFinite(decodeValues(buf, header.dataOffset, header.frames * header.dim, header.dtype), header.dim, 0);
  if (bad) return { status: 'damaged', reason: `value ${bad}` };
  return { status: 'ok' };
}

/** The source record of an entry (what it was made from), or undefined when it has none or is damaged. */
export function readSourceRecord(cacheDir: string, videoId: string): unknown {
  try {
    const buf = fs.readFileSync(featureFile(cacheDir, videoId));
    const header = inspectHeader(buf);
    return isProblem(header) ? undefined : JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + header.sourceBytes));
  } catch {
    return undefined;
  }
}

export interface FeatureCache {
  dir: string;
  key: string;
  meta: CacheMeta;
  has(videoId: string): boolean;
  check(videoId: string, source: SourceStamp): Promise<EntryCheck>;
  write(videoId: string, data: Float32Array, frames: number, source: SourceStamp): Promise<void>;
  /** Deletes an entry, so a stale or damaged one is never read while (or if) recomputing it fails. */
  remove(videoId: string): Promise<void>;
  read(videoId: string): { data: Float32Array; frames: number; dim: number };
}

/**
 * Opens (creating if needed) the cache folder for a backbone and preprocessing. An existing folder whose
 * meta.json disagrees (another backbone, edited by hand) is refused with a CacheError naming meta.json.
 * The dtype is fixed by whoever created the folder; asking for the other one on reuse is refused too.
 */
export async function openFeatureCache(cacheRoot: string, backbone: BackboneInfo, preprocessing: PreprocessingParams, options: { dtype?: FeatureDtype } = {}): Promise<FeatureCache> {
  const key = cacheKey(backbone, preprocessing);
  const dir = path.join(cacheRoot, key);
  const metaFile = path.join(dir, 'meta.json');
  const dtype = options.dtype ?? 'float32';
  let meta: CacheMeta;
  if (fs.existsSync(metaFile)) {
    metaCache.delete(dir);
    meta = readCacheMeta(dir);
    if (meta.key !== key || meta.backbone.weightsHash !== backbone.weightsHash) {
      throw new CacheError(`cache folder describes backbone ${meta.backbone.weightsId} (key ${meta.key}), expected ${backbone.weightsId} (key ${key})`, { file: metaFile });
    }
    if (meta.dtype !== dtype) throw new CacheError(`cache stores ${meta.dtype}, ${dtype} was asked for; use the other setting or another cache root`, { file: metaFile });
  } else {
    const { weightsId, weightsHash, source, location, alpha, normalization, inputSize, featureDim, fallbackReason } = backbone;
    meta = {
      formatVersion: CACHE_FORMAT_VERSION,
      key,
      backbone: { weightsId, weightsHash, source, location, alpha, normalization, inputSize, featureDim, ...(fallbackReason ? { fallbackReason } : {}) },
      preprocessing,
      dtype,
      createdAt: new Date().toISOString(),
    };
    await writeJsonAtomic(metaFile, meta);
    metaCache.set(dir, meta);
  }
  return {
    dir,
    key,
    meta,
    has: (videoId) => fs.existsSync(featureFile(dir, videoId)),
    check: (videoId, source) => checkFeatureEntry(dir, videoId, source),
    write: (videoId, data, frames, source) => writeFileAtomic(featureFile(dir, videoId), encodeFeatures(data, frames, backbone.featureDim, meta.dtype, key, source)),
    remove: async (videoId) => {
      const file = featureFile(dir, videoId);
      try {
        // recursive: a directory in a .bin's place is damage too, and would block the atomic rename.
        await fs.promises.rm(file, { force: true, recursive: true });
      } catch (error) {
        throw outputError(error, file, 'cannot remove a stale or damaged entry');
      }
    },
    read: (videoId) => readVideoFeatures(dir, videoId),
  };
}
