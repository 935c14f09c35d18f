/**
 * The model stage: the CNN-LSTM head over cached features, its training, evaluation and model directory. The
 * training internals (the LSTM's forward and backward pass, Adam, early stopping, checkpoints, the helper
 * thread) belong to `fit`: tests and benchmarks import their files directly.
 */
export type { LstmHead, HeadConfig } from './head';
export { fit, createHead, saveHistory, historyCsv, type EpochRecord, type FitOptions, type FitResult } from './train';
export { evaluate, predictSource, summarisePredictions, topKAccuracy, perClassTable, type Classifier, type EvaluationReport, type TopKAccuracy, type ClassAccuracy } from './metrics';
export { saveModelDir, loadModelDir, layersClassifier, MODEL_JSON, WEIGHTS_BIN, META_JSON, BACKBONE_SUBDIR, type ModelMetaInput, type LoadedModel } from './model_dir';
export type { ModelMeta } from './model_info';
export { buildEndToEnd } from './end_to_end';
export type { FeatureStats, FeaturePreprocessing } from './preprocess';
