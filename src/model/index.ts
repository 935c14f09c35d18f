/** The model stage: the CNN-LSTM head over cached features, its training, evaluation and model directory. */
export { LstmHead, type HeadConfig, type NamedParam, type LossAndGrads } from './head';
export { lstmLayerForward, lstmLayerBackward, type LstmLayerParams } from './lstm';
export { Adam, type AdamOptions, type AdamState } from './adam';
export { EarlyStopping, type EarlyStoppingState } from './early_stopping';
export { fit, createHead, saveHistory, historyCsv, CHECKPOINT_FILE, type EpochRecord, type FitOptions, type FitResult } from './train';
export { evaluate, predictSource, summarisePredictions, topKAccuracy, perClassTable, rankOf, type Classifier, type EvaluationReport, type TopKAccuracy, type ClassAccuracy } from './metrics';
export { saveModelDir, loadModelDir, layersClassifier, MODEL_JSON, WEIGHTS_BIN, META_JSON, BACKBONE_SUBDIR, type ModelMetaInput, type LoadedModel } from './model_dir';
export type { ModelMeta } from './model_info';
export { buildEndToEnd } from './end_to_end';
export { computeFeatureStats, prepareFeatures, appendVelocity, preparedDim, type FeatureStats, type FeaturePreprocessing } from './preprocess';
export { writeCheckpoint, readCheckpoint } from './checkpoint';
