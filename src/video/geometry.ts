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

/**
 * Which source frames to keep. By default window.start..window.end (0-based, inclusive: 5..35 as the original).
 * With useMetadataRange and a job carrying WLASL's frame_start/frame_end (1-based, inclusive, -1 = to the end),
 * those instead.
 */
export function frameRange(job: VideoJob, window: FrameWindowConfig): FrameRange {
  checkFrameWindow(window);
  if (window.useMetadataRange && job.frameStart !== undefined && job.frameStart >= 1) {
    const first = job.frameStart - 1;
    const end = job.frameEnd;
    if (end === undefined || end < 0) return { first, last: null };
    if (end < job.frameStart) {
      throw new VideoFailure('bad-range', `frame_end ${end} is before frame_start ${job.frameStart}`, { file: job.path });
    }
    return { first, last: end - 1 };
  }
  return { first: window.start, last: window.end };
}

/** Frames the range asks for; for an open range, what the probe says is left after `first`. */
export function expectedFrameCount(range: FrameRange, info: VideoInfo): number {
  if (range.last !== null) return range.last - range.first + 1;
  return Math.max(0, info.frameCount - range.first);
}
