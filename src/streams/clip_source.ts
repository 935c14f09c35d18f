import * as tf from '@tensorflow/tfjs';
import type { SequenceBatch, SequenceSample, SequenceSource } from '../dataset/types';
import { seededPermutation, seededRandom } from '../runtime/random';

/**
 * The whole sign as one sequence: every video gives ONE sample of `sampleSize` frames spread evenly over all its
 * frames (the annotated range, as the frame stage selected it), instead of many short windows. A stream's
 * per-frame vectors come in whole (landmarks, CNN features, both side by side); the LSTM head and the training
 * loop see an ordinary SequenceSource.
 *
 * Training views are augmented (issue 16 point 4), seeded by the epoch's shuffle seed so a run is reproducible:
 * - time: a random span of the clip (`minSpan`..1 of its length, anywhere in it) read at a random speed, so
 *   the model sees each sign a little shorter, longer, earlier or later every epoch;
 * - values: the stream's own augmentation of the selected frames (landmarks: rotation, scale, shift).
 * Evaluation views (shuffle false) are the plain evenly spread frames: the same every time.
 */

/** One video's per-frame vectors, row-major [frames, dim]. */
export interface ClipFrames {
  videoId: string;
  label: number;
  frames: number;
  data: Float32Array;
}

export interface ClipAugmentation {
  /** Shortest span of the clip a training view covers, as a fraction of its frames (1 = always the whole clip). */
  minSpan: number;
  /** Per-frame feature augmentation of a training view, in place: rows [sampleSize, dim]; random draws from `rng`. */
  values?: (rows: Float32Array, dim: number, rng: () => number) => void;
}

export const NO_AUGMENTATION: ClipAugmentation = { minSpan: 1 };

/** A fixed view of a clip for evaluation: the part from `start` spanning `span` (fractions of its frames). */
export interface ClipView {
  start: number;
  span: number;
}

/** The one evaluation view: the whole clip. */
export const WHOLE_CLIP: readonly ClipView[] = [{ start: 0, span: 1 }];

/**
 * Test-time views (config stream.evalViews 'spans'): the whole clip and four spans of 80-90% of it, as the
 * training views were cut. Averaging them added 3.5 points of val top-1 (seed 42, bench/streams.ts).
 */
export const EVAL_SPANS: readonly ClipView[] = [{ start: 0, span: 1 }, { start: 0, span: 0.8 }, { start: 0.2, span: 0.8 }, { start: 0.1, span: 0.8 }, { start: 0.05, span: 0.9 }];

/**
 * `count` frame indices spread evenly over [start, start + span) of a clip (centres of equal parts, so the first
 * and last frames of a long span are not both taken and a short clip repeats frames evenly).
 */
export function spreadIndices(count: number, start: number, span: number, frames: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = start + ((i + 0.5) * span) / count - 0.5;
    out.push(Math.min(frames - 1, Math.max(0, Math.round(t))));
  }
  return out;
}

export class ClipSequenceSource implements SequenceSource {
  readonly numSamples: number;
  readonly featureDim: number;
  private readonly sampleList: SequenceSample[];

  constructor(
    private readonly clips: readonly ClipFrames[],
    readonly sequenceLength: number,
    readonly numClasses: number,
    private readonly augmentation: ClipAugmentation = NO_AUGMENTATION,
    /** Evaluation views per clip (several: their predictions are averaged per video, as windows are). */
    private readonly views: readonly ClipView[] = WHOLE_CLIP,
    featureDim?: number,
  ) {
    const dims = new Set(clips.map((c) => c.data.length / Math.max(1, c.frames)));
    if (clips.some((c) => c.frames < 1 || c.data.length % c.frames !== 0)) throw new RangeError('a clip has no frames or a ragged [frames, dim] array');
    if (dims.size > 1) throw new RangeError(`clips differ in their per-frame width: ${[...dims].join(', ')}`);
    this.featureDim = featureDim ?? (clips.length ? [...dims][0]! : 0);
    this.sampleList = clips.flatMap((c) => views.map((v) => ({ videoId: c.videoId, label: c.label, start: Math.round(v.start * c.frames), length: Math.max(1, Math.round(v.span * c.frames)) })));
    this.numSamples = this.sampleList.length;
  }

  samples(): readonly SequenceSample[] {
    return this.sampleList;
  }

  /** The rows of one view of a clip: evenly spread frames, or (with rng) an augmented training view. */
  view(clip: ClipFrames, rng: (() => number) | null, fixed: ClipView = WHOLE_CLIP[0]!): Float32Array {
    const T = this.sequenceLength;
    const D = this.featureDim;
    let indices: number[];
    if (!rng || this.augmentation.minSpan >= 1) indices = spreadIndices(T, fixed.start * clip.frames, fixed.span * clip.frames, clip.frames);
    else {
      const span = clip.frames * (this.augmentation.minSpan + (1 - this.augmentation.minSpan) * rng());
      const start = rng() * (clip.frames - span);
      indices = spreadIndices(T, start, span, clip.frames);
    }
    const rows = new Float32Array(T * D);
    indices.forEach((f, t) => rows.set(clip.data.subarray(f * D, (f + 1) * D), t * D));
    if (rng && this.augmentation.values) this.augmentation.values(rows, D, rng);
    return rows;
  }

  async *batches(batchSize: number, options: { shuffle: boolean; seed: number }): AsyncIterable<SequenceBatch> {
    const order = options.shuffle ? seededPermutation(this.numSamples, options.seed) : Array.from({ length: this.numSamples }, (_, i) => i);
    const rng = options.shuffle ? seededRandom(options.seed ^ 0x5bd1e995) : null;
    const step = this.sequenceLength * this.featureDim;
    for (let b = 0; b < order.length; b += batchSize) {
      const ids = order.slice(b, b + batchSize);
      const buf = new Float32Array(ids.length * step);
      const v = this.views.length;
      ids.forEach((i, k) => buf.set(this.view(this.clips[Math.floor(i / v)]!, rng, this.views[i % v]), k * step));
      yield {
        x: tf.tensor3d(buf, [ids.length, this.sequenceLength, this.featureDim]),
        labels: Int32Array.from(ids.map((i) => this.sampleList[i]!.label)),
        videoIds: ids.map((i) => this.sampleList[i]!.videoId),
      };
    }
  }
}
