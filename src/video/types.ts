import { VideoError } from '../errors';
import type { RecomputedEntry, SourceStamp } from './source_stamp';

/** What ffprobe says about a video's first video stream. Sizes are as displayed (after rotation). */
export interface VideoInfo {
  /** Displayed width: ffmpeg auto-rotates, so a 90/270 degree rotation swaps the stored width and height. */
  width: number;
  height: number;
  fps: number;
  /** Frames in the stream: the container's count when it has one, else duration x fps (see frameCountExact). */
  frameCount: number;
  frameCountExact: boolean;
  codec: string;
  durationS: number;
  /** Rotation from the display matrix or rotate tag as ffprobe reports it, in degrees (0, 90, 180, 270). */
  rotation: number;
}

/** Frames of one video as raw RGB, row-major [count, size, size, 3]. */
export interface ExtractedFrames {
  frames: Uint8Array;
  count: number;
  size: number;
  /** How many frames at the end repeat the last decoded one (short-video policy 'pad'). */
  padded: number;
  /** Source frame index (0-based, decode order) of each output frame; padded frames repeat the last index. */
  sourceFrames: number[];
  /** What was adjusted to get these frames: a clamped or rescaled WLASL range, a long range sampled down. */
  notes?: string[];
}

/** Crop rectangle in displayed source pixels, after clamping; null means the full frame. */
export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Frames selected from a video: first..last inclusive, 0-based source indices. */
export interface FrameRange {
  first: number;
  /** Inclusive; null = until the end of the video (WLASL frame_end -1 with useMetadataRange). */
  last: number | null;
}

export type VideoFailureKind =
  | 'unsafe-id'
  | 'missing'
  | 'empty'
  | 'not-a-video'
  | 'no-video-stream'
  | 'truncated'
  | 'bad-bbox'
  | 'bad-range'
  | 'outside-dataset'
  | 'short'
  | 'decode-failed'
  | 'write-failed';

/** A VideoError with a machine-readable kind, so reports can be grouped and tests can check the cause. */
export class VideoFailure extends VideoError {
  readonly kind: VideoFailureKind;

  constructor(kind: VideoFailureKind, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options);
    this.kind = kind;
  }
}

export interface FrameFailure {
  videoId: string;
  file: string;
  kind: VideoFailureKind;
  reason: string;
}

/** Written as manifest.json inside each finished video folder; its presence (with all files) marks it done. */
export interface FrameManifest {
  videoId: string;
  source: string;
  paramsKey: string;
  files: { name: string; bytes: number }[];
  sourceFrames: number[];
  padded: number;
  /** What was adjusted to get these frames (a clamped or rescaled range, sampling); absent when nothing was. */
  notes?: string[];
  crop: CropRect | null;
  probe: VideoInfo;
  /** What the frames were made from (file size and mtime, bbox, frame range); absent in older manifests. */
  sourceStamp?: SourceStamp;
}

export interface FrameStageProgress {
  completed: number;
  total: number;
  videoId: string;
  status: 'done' | 'skipped' | 'failed';
}

export interface FrameStageSummary {
  /** Videos extracted in this run. */
  done: number;
  /** Videos already finished by an earlier run (resume): left as they are. */
  skipped: number;
  /** Videos with no frames written: bad files, and short videos under shortVideoPolicy 'skip' (kind 'short'). */
  failed: number;
  /** Of the videos done in this run, how many were padded by repeating their last frame. */
  padded: number;
  /** Of the videos done in this run, how many came from an ffmpeg process shared with others (FrameStageOptions.batch). */
  batched: number;
  /** ffmpeg processes this run started for its videos: one per batch, one or two (with stream analysis) per video run alone. */
  processes: number;
  /** Finished folders found stale (other video file, bbox or frame range) or damaged, and extracted again. */
  recomputed: RecomputedEntry[];
  failures: FrameFailure[];
  seconds: number;
  /** <outRoot>/<paramsKey>: the folder holding one folder per finished video, params.json and report.json. */
  outDir: string;
  /** The report of this run (summary and failures). */
  reportFile: string;
}
