/** Notebook-facing helpers (import "./src/notebook/index" from a notebook). Logic lives in the stages; these only show it. */
export { notebookContext, describeContext, SAMPLE_DATA_DIR, type NotebookContext } from './context';
export { setupNotebook, type NotebookSetup, type NotebookSetupOptions } from './setup';
export { sequenceGrid, sequenceGridChart, frameJpeg, channelStats, framesOfJpegFiles, sourceFramePng, frameWithCrop, showImage, showImageRow, type GridRow, type GridOptions } from './images';
export { liveTrainingCurves, historyTable, worstConfusedPairs, accuracyTable, type LiveCurves, type ConfusedPair } from './training';
export { clipKeypoints, clipsKeypoints, keypointOverlaySpec, missingHandRows, type ClipKeypoints, type KeypointFrame } from './keypoints';
