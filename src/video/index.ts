/** The video stage: probe, cropped frame extraction (raw or JPEG) and the resumable stage over a dataset. */
export { probeVideo } from './probe';
export { cropRect, selectFrames } from './geometry';
export { extractFrames, extractFramesWithPlan, extractJpegFrames, frameFileName, planExtraction } from './extract';
export type { ExtractOptions, ExtractionPlan } from './extract';
export { runFrameStage, frameDir, finishedFramePaths, paramsKey, readFinishedManifest, formatFrameSummary, stageDir } from './stage';
export type { FrameStageOptions } from './stage';
export { loadFrameDir } from './read';
export * from './types';
