import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CacheError, UnsafeNameError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import type { BackboneInfo } from '../backbone/backbone';
import { isSafeVideoId, SAFE_VIDEO_ID_RULE } from '../metadata/video_id';

/**
 * The frozen-feature cache: the backbone runs once per frame, ever, instead of on every frame in every epoch
 * as in the original. Layout:
 *
 *   <cacheRoot>/<key>/meta.json       what the key means (backbone weights id and hash, preprocessing)
 *   <cacheRoot>/<key>/<videoId>.bin   32-byte header + [frames, dim] features, little-endian
 *   <cacheRoot>/<key>/failures.json   videos skipped, with the reason
 *
 * key = hash(weights hash, alpha, normalisation, feature dim, frame preprocessing). Every change that alters
 * features changes the key, so a stale cache is never read. Each .bin is written atomically: it is either
 * complete or absent, which is what makes a killed build resumable.
 */
export const CACHE_FORMAT_VERSION = 1;
const MAGIC = 'WLFC';
export const HEADER_BYTES = 32;
const KEY_CHARS = 16;

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

export function encodeFeatures(data: Float32Array, frames: number, dim: number, dtype: FeatureDtype, key: string): Buffer {
  if (data.length !== frames * dim) throw new RangeError(`${data.length} values for ${frames} frames x ${dim}`);
  const bytes = dtype === 'float32' ? 4 : 2;
  const buf = Buffer.alloc(HEADER_BYTES + data.length * bytes);
  buf.write(MAGIC, 0, 'ascii');
  buf.writeUInt16LE(CACHE_FORMAT_VERSION, 4);
  buf.writeUInt16LE(DTYPE_CODE[dtype], 6);
  buf.writeUInt32LE(frames, 8);
  buf.writeUInt32LE(dim, 12);
  buf.write(key.padEnd(KEY_CHARS, ' ').slice(0, KEY_CHARS), 16, 'ascii');
  if (dtype === 'float32') {
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i]!, HEADER_BYTES + 4 * i);
  } else {
    for (let i = 0; i < data.length; i++) buf.writeUInt16LE(toFloat16Bits(data[i]!), HEADER_BYTES + 2 * i);
  }
  return buf;
}

export interface FeatureHeader {
  frames: number;
  dim: number;
  dtype: FeatureDtype;
  key: string;
}

export function decodeHeader(header: Buffer, file: string): FeatureHeader {
  if (header.length < HEADER_BYTES || header.toString('ascii', 0, 4) !== MAGIC) throw new CacheError('not a feature cache file (bad magic)', { file });
  const version = header.readUInt16LE(4);
  if (version !== CACHE_FORMAT_VERSION) throw new CacheError(`feature file format ${version}, this code reads ${CACHE_FORMAT_VERSION}`, { file });
  const code = header.readUInt16LE(6);
  const dtype = (Object.keys(DTYPE_CODE) as FeatureDtype[]).find((d) => DTYPE_CODE[d] === code);
  if (!dtype) throw new CacheError(`unknown dtype code ${code}`, { file });
  return { frames: header.readUInt32LE(8), dim: header.readUInt32LE(12), dtype, key: header.toString('ascii', 16, 32).trim() };
}

function decodeValues(buf: Buffer, offset: number, count: number, dtype: FeatureDtype): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'float32') for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
  else for (let i = 0; i < count; i++) out[i] = fromFloat16Bits(buf.readUInt16LE(offset + 2 * i));
  return out;
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

/** Header of a cached video; checks it belongs to this cache (a file copied from another key is refused). */
export function readFeatureHeader(cacheDir: string, videoId: string): FeatureHeader {
  const file = featureFile(cacheDir, videoId);
  const fd = openOrThrow(file);
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    return checkHeader(decodeHeader(header, file), cacheDir, file, fs.fstatSync(fd).size);
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
  const meta = readCacheMeta(cacheDir);
  if (header.key !== meta.key) {
    throw new CacheError(`features were written for cache key ${header.key} (another backbone or preprocessing), this cache is ${meta.key} (${meta.backbone.weightsId})`, { file });
  }
  const expected = HEADER_BYTES + header.frames * header.dim * (header.dtype === 'float32' ? 4 : 2);
  if (size !== expected) throw new CacheError(`file has ${size} bytes, its header needs ${expected} (damaged)`, { file });
  return header;
}

/** All of a video's cached features: data is row-major [frames, dim]. */
export function readVideoFeatures(cacheDir: string, videoId: string): { data: Float32Array; frames: number; dim: number } {
  const file = featureFile(cacheDir, videoId);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new CacheError(`cached features missing (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file, cause: error });
  }
  const header = checkHeader(decodeHeader(buf, file), cacheDir, file, buf.length);
  return { data: decodeValues(buf, HEADER_BYTES, header.frames * header.dim, header.dtype), frames: header.frames, dim: header.dim };
}

/** Frames [start, start+length) of a video, read without loading the rest of the file. */
export function readFeatureWindow(cacheDir: string, videoId: string, header: FeatureHeader, start: number, length: number): Float32Array {
  const file = featureFile(cacheDir, videoId);
  if (start < 0 || start + length > header.frames) throw new CacheError(`window ${start}+${length} outside ${header.frames} frames`, { file });
  const bytes = header.dtype === 'float32' ? 4 : 2;
  const count = length * header.dim;
  const buf = Buffer.alloc(count * bytes);
  const fd = openOrThrow(file);
  try {
    const read = fs.readSync(fd, buf, 0, buf.length, HEADER_BYTES + start * header.dim * bytes);
    if (read !== buf.length) throw new CacheError(`short read (${read} of ${buf.length} bytes)`, { file });
  } finally {
    fs.closeSync(fd);
  }
  return decodeValues(buf, 0, count, header.dtype);
}

export interface FeatureCache {
  dir: string;
  key: string;
  meta: CacheMeta;
  has(videoId: string): boolean;
  write(videoId: string, data: Float32Array, frames: number): Promise<void>;
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
    write: (videoId, data, frames) => writeFileAtomic(featureFile(dir, videoId), encodeFeatures(data, frames, backbone.featureDim, meta.dtype, key)),
    read: (videoId) => readVideoFeatures(dir, videoId),
  };
}
