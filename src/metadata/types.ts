/**
 * The data types that cross stage boundaries (metadata -> videos -> frames -> features -> sequences).
 * Kept in one small file so each stage can be built and tested on its own.
 */

/** WLASL bbox: [x_min, y_min, x_max, y_max] in pixels of the original video, exclusive max (as OpenCV slicing). */
export type Bbox = [number, number, number, number];

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** One WLASL instance after validation, joined with its video file if present. */
export interface VideoEntry {
  videoId: string;
  gloss: string;
  /** Class index into the index's class list. */
  label: number;
  split: Split;
  bbox: Bbox | null;
  fps: number;
  /** WLASL's 1-based frame_start and frame_end (-1 = until the end of the video). */
  frameStart: number;
  frameEnd: number;
  signerId: number;
  instanceId: number;
  variationId: number;
  source: string;
  url: string;
  /** Absolute path of the video file, or null when it is missing. */
  path: string | null;
  /** See VideoJob.datasetDir. */
  datasetDir?: string;
}

/** What the video stage needs to process one video (a VideoEntry with a file is one). */
export interface VideoJob {
  videoId: string;
  path: string;
  bbox: Bbox | null;
  frameStart?: number;
  frameEnd?: number;
  /**
   * The dataset folder the video was listed in: its real path must lie inside this folder or its own folder,
   * so a symbolic link leading elsewhere is refused when opened (kind 'outside-dataset'). Unset for a file the
   * user named (predict) and with --follow-symlinks.
   */
  datasetDir?: string;
}
