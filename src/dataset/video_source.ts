import type { FramesConfig, SequenceConfig } from '../config';
import type { VideoJob } from '../metadata/types';
import { extractFrames, planExtraction } from '../video/extract';
import { FrameSequenceSource } from './frame_source';

/**
 * The original's FrameSequencer straight from videos: sequence windows over each video's kept frames, frames
 * decoded by the video stage (one ffmpeg call per video, when a batch needs it), RGB, normalised as the
 * backbone expects. Frame counts are known without decoding: with a fixed window (frames 5..35) and the 'pad'
 * policy every video yields exactly the window; otherwise each video is probed (no decode).
 */
export type LabeledVideoJob = VideoJob & { label: number };

/** How many frames the video stage will yield for `job` (0 when 'skip' drops a short video). */
export async function plannedFrameCount(job: VideoJob, frames: FramesConfig): Promise<number> {
  const { window } = frames;
  if (!window.useMetadataRange && window.shortVideoPolicy === 'pad') return window.end - window.start + 1;
  const plan = await planExtraction(job, frames);
  const available = Math.max(0, plan.info.frameCount - plan.range.first);
  if (window.shortVideoPolicy === 'pad') return plan.expected;
  return available >= plan.expected ? plan.expected : 0;
}

export async function videoSequenceSource(jobs: readonly LabeledVideoJob[], frames: FramesConfig, sequence: SequenceConfig, numClasses: number): Promise<FrameSequenceSource> {
  const byId = new Map(jobs.map((j) => [j.videoId, j]));
  const counted = await Promise.all(jobs.map(async (j) => ({ videoId: j.videoId, label: j.label, frames: await plannedFrameCount(j, frames) })));
  const config: FramesConfig = { ...frames, output: 'raw' };
  return FrameSequenceSource.fromFrameProvider(counted, (videoId) => extractFrames(byId.get(videoId)!, config), sequence, numClasses, { size: frames.size });
}
