/**
 * The library's public surface, for notebooks (`import * as wl from "./src/index"`) and the CLI.
 * Stages in data-flow order: metadata -> videos -> frames -> features -> sequences -> model -> metrics/plots.
 */
export * from './errors';
export * from './config';
export { initBackend, backendReport, type BackendReport, type BackendChoice } from './runtime/backend';
export { createProgress, type Progress } from './runtime/progress';
export { ffmpegBinaries, ffmpegVersion } from './runtime/ffmpeg';
export { versions, type Versions } from './runtime/versions';
export { chartToSvg, chartToPng, chartBundle, showChart, liveChart, saveChart, type ChartSpec } from './plot/charts';
export { dataFrameToHtml, dataFrameToText, showTable } from './plot/table';
export { displayBundle, inNotebook } from './plot/notebook';
export * from './metadata/types';
export * from './dataset/types';
export { seededRandom, seededPermutation, seededShuffle } from './runtime/random';
export { InMemorySequenceSource } from './dataset/in_memory';
