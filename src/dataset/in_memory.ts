import * as tf from '@tensorflow/tfjs';
import type { SequenceBatch, SequenceSample, SequenceSource } from './types';
import { seededPermutation } from '../runtime/random';

/** A SequenceSource over sequences held in memory: tests, small sets, and features already loaded. */
export class InMemorySequenceSource implements SequenceSource {
  readonly numSamples: number;
  readonly sequenceLength: number;
  readonly featureDim: number;

  constructor(
    /** Row-major [N, T, D]. */
    private readonly data: Float32Array,
    shape: [number, number, number],
    private readonly sampleList: SequenceSample[],
    readonly numClasses: number,
  ) {
    const [n, t, d] = shape;
    if (data.length !== n * t * d) throw new RangeError(`data has ${data.length} values, shape [${shape}] needs ${n * t * d}`);
    if (sampleList.length !== n) throw new RangeError(`${sampleList.length} samples for ${n} sequences`);
    this.numSamples = n;
    this.sequenceLength = t;
    this.featureDim = d;
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
      ids.forEach((i, k) => buf.set(this.data.subarray(i * step, (i + 1) * step), k * step));
      yield {
        x: tf.tensor3d(buf, [ids.length, this.sequenceLength, this.featureDim]),
        labels: Int32Array.from(ids.map((i) => this.sampleList[i]!.label)),
        videoIds: ids.map((i) => this.sampleList[i]!.videoId),
      };
    }
  }
}
