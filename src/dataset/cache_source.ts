import * as tf from '@tensorflow/tfjs';
import type { SequenceConfig } from '../config';
import { CacheError } from '../errors';
import { readCacheMeta, readFeatureHeader, readFeatureWindow, type CacheMeta, type FeatureHeader } from '../features/cache';
import { buildSamples } from './sequences';
import { seededPermutation } from './shuffle';
import type { SequenceBatch, SequenceSample, SequenceSource } from './types';

export interface CachedVideo {
  videoId: string;
  label: number;
}

export interface CacheSourceOptions {
  /** Skip videos that are not in the cache (reported in `missing`) instead of failing. Default true. */
  skipMissing?: boolean;
}

/**
 * Training and evaluation data from the feature cache: [B, T, 1280] batches of windows of cached frame
 * features. Only headers are read up front; each batch reads just its windows from disk, so memory is one
 * batch whatever the dataset size (WLASL2000 included).
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

  constructor(
    readonly cacheDir: string,
    videos: readonly CachedVideo[],
    sequence: SequenceConfig,
    readonly numClasses: number,
    options: CacheSourceOptions = {},
  ) {
    this.meta = readCacheMeta(cacheDir);
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

  async *batches(batchSize: number, options: { shuffle: boolean; seed: number }): AsyncIterable<SequenceBatch> {
    const order = options.shuffle ? seededPermutation(this.numSamples, options.seed) : Array.from({ length: this.numSamples }, (_, i) => i);
    const step = this.sequenceLength * this.featureDim;
    for (let b = 0; b < order.length; b += batchSize) {
      const ids = order.slice(b, b + batchSize);
      const buf = new Float32Array(ids.length * step);
      ids.forEach((i, k) => {
        const s = this.sampleList[i]!;
        buf.set(readFeatureWindow(this.cacheDir, s.videoId, this.headers.get(s.videoId)!, s.start, s.length), k * step);
      });
      yield {
        x: tf.tensor3d(buf, [ids.length, this.sequenceLength, this.featureDim]),
        labels: Int32Array.from(ids.map((i) => this.sampleList[i]!.label)),
        videoIds: ids.map((i) => this.sampleList[i]!.videoId),
      };
    }
  }
}
