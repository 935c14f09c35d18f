import * as tf from '@tensorflow/tfjs';
import type { SequenceConfig } from '../config';
import { CacheError } from '../errors';
import { readCacheMeta, readFeatureHeader, readFeatureWindow, readVideoFeatures, type CacheMeta, type FeatureHeader } from '../features/cache';
import { buildSamples } from './sequences';
import { seededPermutation } from '../runtime/random';
import type { SequenceBatch, SequenceSample, SequenceSource } from './types';

export interface CachedVideo {
  videoId: string;
  label: number;
}

export interface CacheSourceOptions {
  /** Skip videos that are not in the cache (reported in `missing`) instead of failing. Default true. */
  skipMissing?: boolean;
  /**
   * Bytes of decoded features kept in memory after a video's first read (default DEFAULT_MEMORY_BUDGET); videos
   * beyond it are read from disk window by window. 0 keeps nothing.
   */
  memoryBudgetBytes?: number;
}

/**
 * 512 MiB holds every frame of about 3,300 videos at 31 frames (WLASL300-size) as float32. Reading each window
 * from disk again every epoch took 10-12% of a training run on the embedded sample (8 overlapping windows
 * per video: each file opened 8 times an epoch).
 */
export const DEFAULT_MEMORY_BUDGET = 512 * 1024 * 1024;

/**
 * Training and evaluation data from the feature cache: [B, T, 1280] batches of windows of cached frame
 * features. Only headers are read up front. A video's features are kept in memory after its first read while
 * they fit the memory budget; past it, each batch reads just its windows from disk, so memory stays bounded
 * whatever the dataset size (WLASL2000 included). Entries are checked as they are read (header, key and length
 * up front, finite values on every read): a bad one is a CacheError naming the file, not a "diverged" training.
 * Repairing is the feature build's job, which checks every entry whole and recomputes bad ones before training.
 */
export class CacheSequenceSource implements SequenceSource {
  readonly numSamples: number;
  readonly sequenceLength: number;
  readonly featureDim: number;
  readonly meta: CacheMeta;
  /** Videos asked for but not in the cache (skipped). */
  readonly missing: string[] = [];
  private readonly sampleList: SequenceSample[];
  private readonly headers = new Map<string, FeatureHeader>();
  private readonly inMemory = new Map<string, Float32Array>();
  private readonly memoryBudget: number;
  private heldBytes = 0;

  constructor(
    readonly cacheDir: string,
    videos: readonly CachedVideo[],
    sequence: SequenceConfig,
    readonly numClasses: number,
    options: CacheSourceOptions = {},
  ) {
    this.meta = readCacheMeta(cacheDir);
    this.memoryBudget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
    const present: Array<CachedVideo & { frames: number }> = [];
    for (const video of videos) {
      if (video.label < 0 || video.label >= numClasses || !Number.isInteger(video.label)) {
        throw new CacheError(`label ${video.label} of video ${video.videoId} is outside 0..${numClasses - 1}`, { file: cacheDir });
      }
      let header: FeatureHeader;
      try {
        header = readFeatureHeader(cacheDir, video.videoId);
      } catch (error) {
        const missing = error instanceof CacheError && /missing/.test(error.message);
        if (missing && options.skipMissing !== false) {
          this.missing.push(video.videoId);
          continue;
        }
        throw error;
      }
      this.headers.set(video.videoId, header);
      present.push({ ...video, frames: header.frames });
    }
    this.sampleList = buildSamples(present, sequence);
    this.numSamples = this.sampleList.length;
    this.sequenceLength = sequence.sampleSize;
    this.featureDim = this.meta.backbone.featureDim;
  }

  samples(): readonly SequenceSample[] {
    return this.sampleList;
  }

  /** Bytes of features held in memory now. */
  get memoryBytes(): number {
    return this.heldBytes;
  }

  /** A sample's window: from memory, after reading the whole video once while it fits the budget; else from disk. */
  private window(s: SequenceSample): Float32Array {
    const header = this.headers.get(s.videoId)!;
    let data = this.inMemory.get(s.videoId);
    if (!data && this.heldBytes + header.frames * header.dim * 4 <= this.memoryBudget) {
      data = readVideoFeatures(this.cacheDir, s.videoId).data;
      this.inMemory.set(s.videoId, data);
      this.heldBytes += data.byteLength;
    }
    // Windows come from buildSamples over these headers, so they lie inside the video.
    return data ? data.subarray(s.start * header.dim, (s.start + s.length) * header.dim) : readFeatureWindow(this.cacheDir, s.videoId, header, s.start, s.length);
  }

  async *batches(batchSize: number, options: { shuffle: boolean; seed: number }): AsyncIterable<SequenceBatch> {
    const order = options.shuffle ? seededPermutation(this.numSamples, options.seed) : Array.from({ length: this.numSamples }, (_, i) => i);
    const step = this.sequenceLength * this.featureDim;
    for (let b = 0; b < order.length; b += batchSize) {
      const ids = order.slice(b, b + batchSize);
      const buf = new Float32Array(ids.length * step);
      ids.forEach((i, k) => {
        const s = this.sampleList[i]!;
        buf.set(this.window(s), k * step);
      });
      yield {
        x: tf.tensor3d(buf, [ids.length, this.sequenceLength, this.featureDim]),
        labels: Int32Array.from(ids.map((i) => this.sampleList[i]!.label)),
        videoIds: ids.map((i) => this.sampleList[i]!.videoId),
      };
    }
  }
}
