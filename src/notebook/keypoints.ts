/**
 * Keypoints drawn over a clip's frames, for the dataset notebook (issue 16 point 7): what the landmark stage
 * sees, frame by frame, and how often it misses a hand. The models run here on a few clips only; the cached
 * stage (`npm run cli -- landmarks`) is what training reads.
 */
import type { FramesConfig } from '../config';
import type { VideoJob } from '../metadata/types';
import type { ChartSpec } from '../plot/charts';
import { DEFAULT_LANDMARK_PARAMS, extractClipLandmarks, landmarkFrames, loadLandmarkModels, type ClipLandmarkStats, type FrameLandmarks, type LandmarkParams } from '../landmarks/index';
import { framePoints, KEYPOINT_COLORS, type DrawnPoint } from '../landmarks/points';
import { addStats, emptyStats } from '../landmarks/stage';
import { frameJpeg } from './images';


export interface KeypointFrame {
  /** Column title, e.g. the source frame number. */
  label: string;
  /** The frame as a data URI (JPEG). */
  url: string;
  /** Frame size in pixels (square). */
  size: number;
  /** Points in frame pixels (0..size, y down). */
  points: DrawnPoint[];
}

export interface ClipKeypoints {
  videoId: string;
  frames: KeypointFrame[];
  stats: ClipLandmarkStats;
}

/**
 * Runs the landmark models over one clip's frames (the frames of `frames`, cropped as the stage crops) and keeps
 * `show` of them, evenly spaced, with their points in frame pixels. Body points below the stage's body score are
 * left out: the stage masks them too.
 */
export async function clipKeypoints(job: VideoJob, frames: FramesConfig, options: { show?: number; params?: LandmarkParams; thumb?: number } = {}): Promise<ClipKeypoints> {
  const params = options.params ?? DEFAULT_LANDMARK_PARAMS;
  const input = await landmarkFrames(job, frames, params);
  const models = await loadLandmarkModels();
  const clip = await extractClipLandmarks(models, input.frames, input.count, input.geometry, params);
  const { size, crop } = input.geometry;
  const toFrame = (x: number, y: number) => ({ x: ((x - crop.x) * size) / crop.width, y: ((y - crop.y) * size) / crop.height });
  const show = Math.min(options.show ?? 6, input.count);
  const picked = Array.from({ length: show }, (_, i) => Math.floor(((i + 0.5) * input.count) / show));
  const frameBytes = size * size * 3;
  const out: KeypointFrame[] = [];
  for (const f of picked) {
    const jpeg = await frameJpeg(input.frames.subarray(f * frameBytes, (f + 1) * frameBytes), size, { width: options.thumb ?? 160 });
    out.push({ label: `frame ${input.details.sourceFrames[f] ?? f}`, url: `data:image/jpeg;base64,${jpeg.toString('base64')}`, size, points: framePoints(clip.frames[f]!, params.minBodyScore, toFrame) });
  }
  return { videoId: job.videoId, frames: out, stats: clip.stats };
}

/** clipKeypoints for several clips, one after the other (the landmark models are loaded once). */
export async function clipsKeypoints(jobs: readonly VideoJob[], frames: FramesConfig, options: { show?: number; params?: LandmarkParams; thumb?: number } = {}): Promise<ClipKeypoints[]> {
  const out: ClipKeypoints[] = [];
  for (const job of jobs) out.push(await clipKeypoints(job, frames, options));
  return out;
}

/**
 * Frames side by side, each a Vega-Lite layer of the picture (an image mark) and its keypoints (circles coloured
 * by body / left hand / right hand, the signer's sides). Self-contained: the pictures are data URIs.
 */
export function keypointOverlaySpec(frames: readonly KeypointFrame[], options: { thumb?: number; title?: string } = {}): ChartSpec {
  const thumb = options.thumb ?? 160;
  const color = { field: 'part', type: 'nominal', title: null, scale: { domain: Object.keys(KEYPOINT_COLORS), range: Object.values(KEYPOINT_COLORS) } };
  return {
    ...(options.title ? { title: options.title } : {}),
    hconcat: frames.map((f) => {
      const axis = (title: string | null) => ({ field: 'x', type: 'quantitative', title, axis: null, scale: { domain: [0, f.size], nice: false } });
      return {
        width: thumb,
        height: thumb,
        title: { text: f.label, fontSize: 11 },
        layer: [
          {
            data: { values: [{ x: f.size / 2, y: f.size / 2, url: f.url }] },
            mark: { type: 'image', width: thumb, height: thumb },
            encoding: { x: axis(null), y: { ...axis(null), field: 'y', scale: { domain: [f.size, 0], nice: false } }, url: { field: 'url', type: 'nominal' } },
          },
          {
            data: { values: f.points.length ? f.points : [{ x: -1, y: -1, part: 'body' }] },
            mark: { type: 'circle', size: 14, opacity: 0.9, clip: true },
            encoding: { x: axis(null), y: { ...axis(null), field: 'y', scale: { domain: [f.size, 0], nice: false } }, color },
          },
        ],
      };
    }),
  } as unknown as ChartSpec;
}

/** Hand recall of a few clips: visible body wrists that got a hand, and frames with a hand. */
export function missingHandRows(clips: readonly ClipKeypoints[]): { video: string; frames: number; 'visible wrists': number; 'hands found': string; 'frames with a hand': string; 'frames with both': string }[] {
  const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}%`);
  const rows = clips.map((c) => ({ video: c.videoId, ...statRow(c.stats) }));
  const total = emptyStats();
  for (const c of clips) addStats(total, c.stats);
  if (clips.length) rows.push({ video: 'all', ...statRow(total) });
  return rows;
  function statRow(s: ClipLandmarkStats) {
    return { frames: s.frames, 'visible wrists': s.visibleWrists, 'hands found': pct(s.handsAtVisibleWrists, s.visibleWrists), 'frames with a hand': pct(s.framesWithHand, s.frames), 'frames with both': pct(s.framesWithBothHands, s.frames) };
  }
}
