/**
 * The library's front door (`import * as wl from "./src/index"` in a notebook): the verbs a user calls and
 * the types they take and return, Keras-style.
 *
 *   runPipeline                         everything below in one call, as `npm start` / `cli run` do
 *   loadIndex                           the video index of a WLASL folder (metadata joined with the files)
 *   buildFeatures, splitSource          frozen backbone features, computed once and cached; a split as a source
 *   buildStreams, splitSources          the caches the recipe's stream reads (CNN, landmarks, both); its three splits
 *   createHead, fit, saveRunModel       the LSTM head, trained with early stopping, saved with its preprocessing
 *   evaluate, evaluateModelDir          top-1/5/10 per video and per sequence, confusion, per-class accuracy
 *   predictVideo                        the top-k glosses of one video file, from a model directory
 *   showChart, saveChart, *Spec         the project's charts; showTable, perClassTable its tables
 *
 * How a stage works inside (the hand-written LSTM and Adam, checkpoints, ffmpeg, the feature cache, sequence
 * windows) is imported from the stage's own folder by the notebook that teaches it; notebook display helpers
 * are in ./notebook/index.
 */
export { WlaslError, ConfigError, MetadataError, UnsafeNameError, ArchiveError, DownloadError, VideoError, WeightsError, CacheError, ModelDirError, OutputError, describeError } from './errors';
export * from './config';
export { initBackend, type BackendReport, type BackendChoice } from './runtime/backend';
export { versions, type Versions } from './runtime/versions';
export type { Bbox, Split, VideoEntry } from './metadata/types';
export { SPLITS } from './metadata/types';
export type { VideoIndex } from './metadata/video_index';
export type { SequenceSource, SequenceSample, SequenceBatch } from './dataset/types';
export { fitInputsOf } from './streams/sources';
export { loadIndex, buildFeatures, buildStreams, splitSource, splitSources, saveRunModel, runPipeline, defaultRunDir, type DatasetLocation, type PipelineOptions, type PipelineResult, type BuiltStreams } from './pipeline/run';
export { evaluateModelDir, type EvaluateModelOptions } from './pipeline/evaluate';
export { predictVideo, type Prediction } from './pipeline/predict';
export { createHead, fit, saveHistory, evaluate, perClassTable, type LstmHead, type EpochRecord, type FitOptions, type FitResult, type EvaluationReport, type ClassAccuracy, type TopKAccuracy } from './model/index';
export { showChart, saveChart, chartBundle, chartToSvg, chartToPng, type ChartSpec } from './plot/charts';
export * from './plot/specs';
export { showTable, dataFrameToHtml, dataFrameToText, type TableOptions } from './plot/table';
