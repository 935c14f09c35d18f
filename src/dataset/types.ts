import type * as tf from '@tensorflow/tfjs';

/** One training sample: `length` consecutive cached frame features of one video, from frame `start`. */
export interface SequenceSample {
  videoId: string;
  label: number;
  start: number;
  length: number;
}

/** A batch of feature sequences: x is [B, T, D]; the caller disposes x. */
export interface SequenceBatch {
  x: tf.Tensor3D;
  labels: Int32Array;
  videoIds: string[];
}

/**
 * Where the model stage gets its data. Implementations stream from the feature cache so memory stays
 * bounded on WLASL2000; an in-memory one serves tests and small sets.
 */
export interface SequenceSource {
  readonly numSamples: number;
  readonly numClasses: number;
  readonly sequenceLength: number;
  readonly featureDim: number;
  /** Samples in a seeded order (shuffle) or in index order; the last batch may be smaller. */
  batches(batchSize: number, options: { shuffle: boolean; seed: number }): AsyncIterable<SequenceBatch>;
  /** The samples themselves (video ids and labels), in index order. */
  samples(): readonly SequenceSample[];
}

/** A batch of frame sequences for the end-to-end path: x is [B, T, H, W, 3] normalised RGB; the caller disposes x. */
export interface FrameBatch {
  x: tf.Tensor5D;
  labels: Int32Array;
  videoIds: string[];
}

/**
 * How a run's training data was read beyond what a head's shape shows (streams/sources.ts fitInputsOf): part of a
 * training checkpoint's fingerprint (model/train.ts).
 */
export interface FitInputs {
  rightLeads?: true;
  handDrop?: number;
  /** Training views cover random spans of at least this fraction of the clip. */
  minSpan?: number;
  /** Training views of the landmarks are turned, scaled and shifted. */
  turns?: true;
}
