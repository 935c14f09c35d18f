import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { SequenceConfig } from '../config';
import { VideoError } from '../errors';
import { normalizePixels, type Normalization } from '../backbone/preprocess';
import { buildSamples } from './sequences';
import { seededPermutation } from '../runtime/random';
import type { FrameBatch, SequenceSample } from './types';

/**
 * Frame sequences for the end-to-end path (backbone in the loop, as the original): [B, T, size, size, 3]
 * batches, RGB, normalised as the backbone's weights expect. Unlike the original (cv2.imread: BGR, raw 0-255)
 * colour order and scale match the weights. Frames come from JPEG folders (decoded with sharp) or from a
 * provider of raw RGB frames (the video stage); one batch is decoded at a time.
 */
export interface FrameVideo {
  videoId: string;
  label: number;
}

/** Loads frames [start, start+length) of a video as RGB uint8 [length, size, size, 3]. */
type WindowLoader = (videoId: string, start: number, length: number) => Promise<Uint8Array>;

export class FrameSequenceSource {
  readonly numSamples: number;
  private readonly sampleList: SequenceSample[];

  private constructor(
    videos: ReadonlyArray<FrameVideo & { frames: number }>,
    sequence: SequenceConfig,
    readonly numClasses: number,
    readonly size: number,
    readonly normalization: Normalization,
    private readonly loadWindow: WindowLoader,
  ) {
    this.sampleList = buildSamples(videos, sequence);
    this.numSamples = this.sampleList.length;
  }

  /** JPEG folders, one per video; frames in file-name order (the video stage writes zero-padded names). */
  static fromJpegDirs(videos: ReadonlyArray<FrameVideo & { dir: string }>, sequence: SequenceConfig, numClasses: number, options: { size?: number; normalization?: Normalization } = {}): FrameSequenceSource {
    const size = options.size ?? 224;
    const files = new Map<string, string[]>();
    const withFrames = videos.map((v) => {
      let names: string[];
      try {
        names = fs.readdirSync(v.dir).filter((n) => /\.jpe?g$/i.test(n)).sort();
      } catch (error) {
        throw new VideoError(`frame folder unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: v.dir, cause: error });
      }
      files.set(v.videoId, names.map((n) => path.join(v.dir, n)));
      return { ...v, frames: names.length };
    });
    const loader: WindowLoader = async (videoId, start, length) => {
      const paths = files.get(videoId)!.slice(start, start + length);
      const decoded = await Promise.all(paths.map((p) => decodeJpeg(p, size)));
      const out = new Uint8Array(length * size * size * 3);
      decoded.forEach((d, i) => out.set(d, i * size * size * 3));
      return out;
    };
    return new FrameSequenceSource(withFrames, sequence, numClasses, size, options.normalization ?? 'minus1to1', loader);
  }

  /**
   * Raw RGB frames from the video stage: `frames` is how many frames each video has, `provider` decodes a
   * whole video (the last one is kept, since windows of one video tend to be asked for together).
   */
  static fromFrameProvider(
    videos: ReadonlyArray<FrameVideo & { frames: number }>,
    provider: (videoId: string) => Promise<{ frames: Uint8Array; count: number; size: number }>,
    sequence: SequenceConfig,
    numClasses: number,
    options: { size?: number; normalization?: Normalization } = {},
  ): FrameSequenceSource {
    const size = options.size ?? 224;
    let last: { videoId: string; frames: Uint8Array } | undefined;
    const loader: WindowLoader = async (videoId, start, length) => {
      if (last?.videoId !== videoId) {
        const got = await provider(videoId);
        if (got.size !== size) throw new VideoError(`frames are ${got.size}x${got.size}, expected ${size}`, { file: videoId });
        last = { videoId, frames: got.frames };
      }
      const bytes = size * size * 3;
      return last.frames.slice(start * bytes, (start + length) * bytes);
    };
    return new FrameSequenceSource(videos, sequence, numClasses, size, options.normalization ?? 'minus1to1', loader);
  }

  samples(): readonly SequenceSample[] {
    return this.sampleList;
  }

  /** The raw RGB uint8 frames [length, size, size, 3] of sample `index`, before normalisation (for looking at). */
  async sampleFrames(index: number): Promise<Uint8Array> {
    const s = this.sampleList[index];
    if (!s) throw new RangeError(`sample ${index} is outside 0..${this.numSamples - 1}`);
    return this.loadWindow(s.videoId, s.start, s.length);
  }

  async *batches(batchSize: number, options: { shuffle: boolean; seed: number }): AsyncIterable<FrameBatch> {
    const order = options.shuffle ? seededPermutation(this.numSamples, options.seed) : Array.from({ length: this.numSamples }, (_, i) => i);
    const perSample = (this.sampleList[0]?.length ?? 0) * this.size * this.size * 3;
    for (let b = 0; b < order.length; b += batchSize) {
      const ids = order.slice(b, b + batchSize);
      const pixels = new Float32Array(ids.length * perSample);
      for (let k = 0; k < ids.length; k++) {
        const s = this.sampleList[ids[k]!]!;
        normalizePixels(await this.loadWindow(s.videoId, s.start, s.length), this.normalization, pixels.subarray(k * perSample, (k + 1) * perSample));
      }
      const t = this.sampleList[0]!.length;
      yield {
        x: tf.tensor5d(pixels, [ids.length, t, this.size, this.size, 3]),
        labels: Int32Array.from(ids.map((i) => this.sampleList[i]!.label)),
        videoIds: ids.map((i) => this.sampleList[i]!.videoId),
      };
    }
  }
}

/** A JPEG as RGB uint8 [size, size, 3] (grey or CMYK files are converted to sRGB, alpha dropped). */
export async function decodeJpeg(file: string, size: number): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(file).toColourspace('srgb').removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion`);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (error) {
    throw new VideoError(`cannot decode frame: ${(error as Error).message}`, { file, cause: error });
  }
}
