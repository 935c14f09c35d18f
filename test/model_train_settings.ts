import type { ModelConfig, TrainConfig } from '../src/config';

/** Shared by the training tests and their child process. */
export const MODEL_TEST_CONFIG: ModelConfig = { hidden: 12, layers: 1, dropout: 0.2, standardize: true, velocity: true };
export const TRAIN_TEST_CONFIG: TrainConfig = { epochs: 8, batchSize: 8, learningRate: 0.01, seed: 3, patience: 100, minDelta: 0, monitor: 'loss', restoreBest: true, helperThreads: 0 };
