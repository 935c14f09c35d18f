import type { FramesConfig, FrameWindowConfig } from '../config';
import { ConfigError } from '../errors';
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

export function validateWindow(window: FrameWindowConfig): void {
  const { start, end } = window;
  if (!Number.isInteger(start) || start < 0) throw new ConfigError(`frames.window.start must be an integer >= 0, got ${start}`);
  if (!Number.isInteger(end) || end < start) throw new ConfigError(`frames.window.end must be an integer >= start (${start}), got ${end}`);
}

/** Rejects a frames config that cannot work, before any video is touched. */
export function validateFramesConfig(config: FramesConfig): void {
  validateWindow(config.window);
  if (!Number.isInteger(config.size) || config.size < 1 || config.size > 4096) throw new ConfigError(`frames.size must be an integer in 1..4096, got ${config.size}`);
  if (!(config.jpegQuality >= 1 && config.jpegQuality <= 100)) throw new ConfigError(`frames.jpegQuality must be in 1..100, got ${config.jpegQuality}`);
  if (config.window.shortVideoPolicy !== 'pad' && config.window.shortVideoPolicy !== 'skip') {
    throw new ConfigError(`frames.window.shortVideoPolicy must be 'pad' or 'skip', got ${String(config.window.shortVideoPolicy)}`);
  }
  if (!Number.isInteger(config.concurrency) || config.concurrency < 0) throw new ConfigError(`frames.concurrency must be an integer >= 0, got ${config.concurrency}`);
}

/**
 * Which source frames to keep. By default window.start..window.end (0-based, inclusive: 5..35 as the original).
 * With useMetadataRange and a job carrying WLASL's frame_start/frame_end (1-based, inclusive, -1 = to the end),
 * those instead.
 */
export function frameRange(job: VideoJob, window: FrameWindowConfig): FrameRange {
  validateWindow(window);
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
