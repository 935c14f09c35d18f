import { checkSequenceConfig, type SequenceConfig } from '../config';
import type { SequenceSample } from './types';

/**
 * Training samples from a video's kept frames, as the original's FrameSequencer: windows of `sampleSize`
 * consecutive frames, one every `stride` frames (stride = sampleSize gives its non-overlapping windows), the
 * video's class index as label. A video shorter than one window gives no sample.
 */
export function windowStarts(frameCount: number, sampleSize: number, stride: number): number[] {
  checkSequenceConfig({ sampleSize, stride });
  const starts: number[] = [];
  for (let start = 0; start + sampleSize <= frameCount; start += stride) starts.push(start);
  return starts;
}

/** A video as the sequence stage sees it: id, class index and how many frames it has (in the cache). */
export interface LabeledVideo {
  videoId: string;
  label: number;
  frames: number;
}

/** All samples of all videos, in video order then window order (shuffling happens per epoch, by seed). */
export function buildSamples(videos: readonly LabeledVideo[], config: SequenceConfig): SequenceSample[] {
  checkSequenceConfig(config);
  return videos.flatMap((v) => windowStarts(v.frames, config.sampleSize, config.stride).map((start) => ({ videoId: v.videoId, label: v.label, start, length: config.sampleSize })));
}
