import { checkFrameWindow, type FrameWindowConfig } from '../config';
import type { Bbox, VideoJob } from '../metadata/types';
import { CropRect, FrameRange, VideoFailure, VideoInfo } from './types';

/**
 * Maps a WLASL bbox to an ffmpeg crop. The bbox is [x0, y0, x1, y1] in pixels of the displayed frame with an
 * exclusive max, as the original's numpy slice frame[y0:y1, x0:x1]; so the crop is x0,y0 of size
 * (x1-x0)x(y1-y0). It is clamped to the frame (the original did not clamp, and numpy reads a negative start
 * as counted from the far edge). Fractional coordinates widen outwards to whole pixels. A box that is empty
 * or inverted, before or after clamping, is an error for that video: cropping it would give no pixels.
 */
export function cropRect(bbox: Bbox, width: number, height: number, file?: string): CropRect {
  const [x0, y0, x1, y1] = bbox;
  if (![x0, y0, x1, y1].every(Number.isFinite)) {
    throw new VideoFailure('bad-bbox', `bbox [${bbox.join(', ')}] has a non-numeric coordinate`, { file });
  }
  if (x1 <= x0 || y1 <= y0) {
    throw new VideoFailure('bad-bbox', `bbox [${bbox.join(', ')}] is empty or inverted (needs x0 < x1 and y0 < y1)`, { file });
  }
  const left = Math.max(0, Math.floor(x0));
  const top = Math.max(0, Math.floor(y0));
  const right = Math.min(width, Math.ceil(x1));
  const bottom = Math.min(height, Math.ceil(y1));
  if (right <= left || bottom <= top) {
    throw new VideoFailure('bad-bbox', `bbox [${bbox.join(', ')}] lies outside the ${width}x${height} frame`, { file });
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The bbox widened to a square about its centre (cropRect then clamps it to the frame). */
export function squareBbox(bbox: Bbox): Bbox {
  const [x0, y0, x1, y1] = bbox;
  const side = Math.max(x1 - x0, y1 - y0);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2];
}

/** WLASL's frame_start/frame_end count frames at 25 fps, whatever the clip's own rate (dxli94/WLASL issues 16, 37). */
export const WLASL_ANNOTATION_FPS = 25;

/** Which source frames a video gives, and what had to be adjusted to get them (said in reports and manifests). */
export interface FrameSelection {
  range: FrameRange;
  /**
   * Source index of each frame to give, spread evenly over the range: when the range is longer than
   * window.maxFrames, or always with window.resample (then a shorter range repeats indices); null = every frame.
   */
  sampled: number[] | null;
  notes: string[];
}

/** `count` source frames spread evenly over first..first+length-1, both ends included (browser-safe: the page samples a whole clip with it too). */
export function evenlySpreadFrames(first: number, length: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + (count === 1 ? 0 : Math.round((i * (length - 1)) / (count - 1))));
}

/**
 * Which source frames to keep. By default window.start..window.end (0-based, inclusive: 5..35 as the original).
 * With useMetadataRange and a job carrying WLASL's frame_start/frame_end (1-based, inclusive, -1 = to the end,
 * counted at 25 fps and rescaled to the clip's rate), that range, clamped to the clip, and at most
 * window.maxFrames frames spread evenly over it.
 */
export function selectFrames(job: VideoJob, window: FrameWindowConfig, info: VideoInfo): FrameSelection {
  checkFrameWindow(window);
  if (!(window.useMetadataRange && job.frameStart !== undefined && job.frameStart >= 1)) {
    return { range: { first: window.start, last: window.end }, sampled: null, notes: [] };
  }
  const notes: string[] = [];
  const end = job.frameEnd;
  if (end !== undefined && end >= 0 && end < job.frameStart) {
    throw new VideoFailure('bad-range', `frame_end ${end} is before frame_start ${job.frameStart}`, { file: job.path });
  }
  const scale = info.fps > 0 && Math.abs(info.fps - WLASL_ANNOTATION_FPS) > 0.5 ? info.fps / WLASL_ANNOTATION_FPS : 1;
  if (scale !== 1) notes.push(`frame_start/frame_end rescaled from 25 fps to the clip's ${info.fps.toFixed(2)} fps`);
  const first = Math.round((job.frameStart - 1) * scale);
  let last = end === undefined || end < 0 ? null : Math.max(first, Math.round(end * scale) - 1);
  if (info.frameCount > 0) {
    if (first >= info.frameCount) {
      throw new VideoFailure('short', `frame_start ${job.frameStart} is past the end of the video (${info.frameCount} frames)`, { file: job.path });
    }
    if (last !== null && last > info.frameCount - 1) notes.push(`frame_end ${end} is past the end of the video (${info.frameCount} frames): clamped to it`);
    last = last === null ? info.frameCount - 1 : Math.min(last, info.frameCount - 1);
  }
  if (last === null) return { range: { first, last: null }, sampled: null, notes };
  const length = last - first + 1;
  const count = window.maxFrames;
  if (length === count || (length < count && !window.resample)) return { range: { first, last }, sampled: null, notes };
  const sampled = evenlySpreadFrames(first, length, count);
  // A resampled clip of normal length is the point of resampling: only a long range sampled down is news.
  if (length > count && !window.resample) notes.push(`${length} frames in the range ${first}..${last}, ${count} kept, spread evenly (frames.window.maxFrames)`);
  return { range: { first, last }, sampled, notes };
}

/**
 * Frames a selection asks for; for an open range (a clip whose length the probe could not tell), what is left
 * after `first`, at most window.maxFrames (decoding stops there).
 */
export function expectedFrameCount(selection: FrameSelection, info: VideoInfo, window: FrameWindowConfig): number {
  const { range, sampled } = selection;
  if (sampled) return new Set(sampled).size;
  if (range.last !== null) return range.last - range.first + 1;
  return Math.min(window.maxFrames, Math.max(0, info.frameCount - range.first));
}
