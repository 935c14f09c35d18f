/** Public surface of the metadata stage: WLASL_v0.3.json -> validated metadata -> video index and reports. */
export * from './types';
export { parseWlaslMetadata, readWlaslMetadata } from './parse';
export { validateWlaslMetadata, type WlaslMetadata, type WlaslGloss, type WlaslInstance } from './schema';
export { SUBSET_SIZES, parseSubset, subsetGlosses, parseSplitFile, readSplitFile, type SplitFile, type SplitFileEntry } from './subsets';
export { buildVideoIndex, entriesOfSplit, summariseIndex, type VideoIndex, type VideoIndexOptions } from './video_index';
export { bboxMap, writeBboxMap, missingReport, missingRows, writeMissingReport, countsTable, countsRows, type CountsRow, type MissingRow } from './reports';
export { generateWlaslLikeMetadata, writeSyntheticDataset } from './synthetic';
