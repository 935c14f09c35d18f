/**
 * Which feature stream recognises signs? Trains heads on the whole sign (one sequence per clip, frames spread over
 * its range) from cached streams: landmarks, the CNN on the whole crop, and their fusion, each beside its
 * order-blind control (the clip's mean vector -> linear softmax). Prints per-video top-1/5/10 on one split for
 * each seed. Choose on val; the test split is for the final report only.
 *
 *   npm run cli -- landmarks --data ../shared/data/wlasl100-trainval --metadata-range --max-frames 32   # once
 *   npm run cli -- features  --data ../shared/data/wlasl100-trainval --metadata-range --max-frames 32   # once (cnn rows)
 *   npx tsx bench/streams.ts --data ../shared/data/wlasl100-trainval --seeds 42,1,7 [--only lm-lstm,...] [--folds 5]
 * Ends with one JSON line: per recipe, each seed's per-video top-1/5/10 and the mean.
 *
 * --folds K: cross-validation instead of the one val split, which is too small to tell recipes 1-2 points apart
 * (143 videos: one video is 0.7 points). Train and val are pooled and dealt into K folds stratified by gloss
 * (src/dataset/folds.ts; byte-identical videos share a fold); each fold is held out once, trained on the rest
 * (early stopping on the held-out fold, as a run does on val), and the figures are per video over all clips.
 * The test split is never pooled.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig, type DeepPartial, type ModelConfig, type TrainConfig } from '../src/config';
import { initBackend } from '../src/runtime/backend';
import { loadIndex, buildFeatures } from '../src/pipeline/run';
import { openCache } from '../src/runtime/user_cache';
import { createHead, fit } from '../src/model/train';
import { evaluate, formatPercent, type EvaluationReport } from '../src/model/metrics';
import { stratifiedFolds } from '../src/dataset/folds';
import { seededShuffle } from '../src/runtime/random';
import { findDuplicateVideos } from '../src/metadata/duplicates';
import * as tf from '@tensorflow/tfjs';
import { trainMeanPool, trainMeanPoolBaseline, DEFAULT_MEAN_POOL_OPTIONS, MLP_POOL_OPTIONS, type MeanPoolOptions } from '../src/model/baselines';
import { ClipSequenceSource, type ClipAugmentation, type ClipFrames, type ClipView } from '../src/streams/clip_source';
import { augmentLandmarkRows, leftWristHigher, mirrorLandmarkRows, STREAM_LANDMARK_DIMS, STREAM_LAYOUT, STREAM_POSITION_DIMS, type LandmarkAugmentation } from '../src/streams/landmark_features';
import { concatClips, loadFeatureClips, loadLandmarkClips, landmarksRootOf } from '../src/streams/load';
import { handCropCacheDir, loadHandCropClips } from '../src/streams/hand_crops';
import { openLandmarkCache, readLandmarkEntry } from '../src/landmarks/cache';
import { DEFAULT_LANDMARK_PARAMS, landmarkModelFiles } from '../src/landmarks/index';
import { jobsOf } from '../src/pipeline/run';
import { ConvHead, type ConvHeadOptions } from './conv_head';
import { TransformerHead, type TransformerHeadOptions } from './transformer_head';
import { FINGERS, landmarkStreamDims } from '../src/landmarks/stream_width';
import { NORMALISED_BODY_POINTS } from '../src/landmarks/normalise';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'wlasl100-trainval') },
    split: { type: 'string', default: 'val' },
    seeds: { type: 'string', default: '42' },
    only: { type: 'string' },
    'cache-dir': { type: 'string' },
    'max-frames': { type: 'string', default: '32' },
    folds: { type: 'string', default: '0' },
    'fold-seed': { type: 'string', default: '2026' },
  },
});

/**
 * A recipe's head. Recipes read the LSTM's last state unless they say otherwise: they were measured before the
 * mean over time became the default's head (lm-meanpool, 2026-12-06), and keep their figures. Stream 'lm' is the
 * landmark stream without hand angles, as those recipes were measured; 'lm-angles' the default's.
 */
function modelOf(recipe: Recipe): DeepPartial<ModelConfig> {
  return { pooling: 'last', ...recipe.model } as DeepPartial<ModelConfig>;
}

/**
 * A recipe's training settings for a seed. Likewise, recipes train with plain cross-entropy and without mixup
 * unless they say otherwise (`train`), so each keeps its figures when the CLI's default changes (label smoothing
 * 2026-12-06, mixup 2026-12-07).
 */
function trainOf(recipe: Recipe, seed: number): DeepPartial<TrainConfig> {
  return { labelSmoothing: 0, mixup: 0, ...recipe.train, seed } as DeepPartial<TrainConfig>;
}

type Stream = 'lm' | 'cnn' | 'fusion' | 'hands' | 'lm-hands' | 'lm-angles' | 'lm-angles-tips' | 'lm-angles-palm' | 'lm-angles-planar' | 'lm-angles-dominant' | 'lm-angles-dominant-height' | 'lm-angles-dominant-clear' | 'lm-face' | 'lm-face-right';
interface Recipe {
  stream: Stream;
  /**
   * 'control': mean of the clip's vectors -> linear softmax; 'lstm': the LSTM head; 'late': late fusion, the LSTM
   * on the landmarks and the control on the CNN features (the whole crop, or the hand crops for stream
   * 'lm-hands'), their probabilities mixed (`lateWeight` for the LSTM).
   */
  head: 'control' | 'lstm' | 'late';
  lateWeight?: number;
  /** 'lstm' only: train this many heads (seeds seed, seed + 1000, ...) and average their probabilities. */
  members?: number;
  /**
   * 'lstm' only: every odd member reads the clips backwards (trained on time-reversed clips, shown each view
   * reversed): a bidirectional reading as two heads averaged.
   */
  alternateDirections?: boolean;
  /** 'lstm' only: a temporal convolution head instead of the LSTM (bench/conv_head.ts), same training. */
  conv?: ConvHeadOptions;
  /** 'lstm' only: a transformer encoder head instead of the LSTM (bench/transformer_head.ts; its steps are T), same training. */
  transformer?: Omit<TransformerHeadOptions, 'steps'>;
  /** With `transformer` and `members`: only these members are transformers, the others LSTMs (a mixed ensemble). */
  transformerMembers?: number[];
  /** The control's settings (default: the linear control on the mean, DEFAULT_MEAN_POOL_OPTIONS). */
  control?: MeanPoolOptions;
  T: number;
  model?: Partial<ModelConfig>;
  train?: Partial<TrainConfig>;
  augment?: ClipAugmentation;
  /** Evaluation views per clip, averaged per video (test-time augmentation). */
  views?: ClipView[];
  /**
   * Train on this share of each gloss's training clips (at least one), the same seeded subset for every training
   * seed: a learning curve on the same scored clips, to tell what more clips a gloss are worth.
   */
  trainShare?: number;
}
const TTA: ClipView[] = [{ start: 0, span: 1 }, { start: 0, span: 0.8 }, { start: 0.2, span: 0.8 }, { start: 0.1, span: 0.8 }, { start: 0.05, span: 0.9 }];

/** The first augmentation tried (half of today's DEFAULT_LANDMARK_AUGMENTATION), kept so the rows stay as measured. */
const MILD: LandmarkAugmentation = { rotate: 0.2, scale: 0.15, shift: 0.1, mirror: 0 };
const LM_AUG: ClipAugmentation = { minSpan: 0.8, values: (rows, dim, rng) => augmentLandmarkRows(rows, dim, { handAngles: false }, rng, MILD) };
const TIME_AUG: ClipAugmentation = { minSpan: 0.8 };
const lmAug = (minSpan: number, a: Partial<LandmarkAugmentation> = {}, handAngles = false, faceContact = false): ClipAugmentation => ({
  minSpan,
  values: (rows, dim, rng) => augmentLandmarkRows(rows, dim, { handAngles, faceContact }, rng, { ...MILD, ...a }),
});
/**
 * The library's stream with face contact (stream.faceContact), its contact turned and scaled with each training
 * view; `still`: left as computed, as the first measurement (lm-angles-contact) had it.
 */
const faceLs = (stream: Stream, still = false): Recipe => {
  const turned = lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true, true);
  const augment: ClipAugmentation = still
    ? {
        minSpan: 0.5,
        values: (rows, dim, rng) => {
          const frames = rows.length / dim;
          const contact = Array.from({ length: frames }, (_, t) => rows.slice(t * dim + STREAM_LANDMARK_DIMS, t * dim + STREAM_LANDMARK_DIMS + 14));
          turned.values!(rows, dim, rng);
          contact.forEach((c, t) => rows.set(c, t * dim + STREAM_LANDMARK_DIMS));
        },
      }
    : turned;
  return { ...anglesLs(stream), augment };
};
/** The default's recipe (stream with hand angles, mean over time, label smoothing 0.1) on a stream. */
const anglesLs = (stream: Stream): Recipe => ({ stream, head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, train: { labelSmoothing: 0.1 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA });
/** The default's training views (dropped hands 0.25), then Gaussian noise of `sigma` palm lengths on each seen hand's shape. */
const jitteredHands = (sigma: number): ClipAugmentation => {
  const base = lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2, handDrop: 0.25 }, true, true);
  return {
    minSpan: 0.5,
    values: (rows, dim, rng) => {
      base.values!(rows, dim, rng);
      const frames = rows.length / dim;
      const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      for (let t = 0; t < frames; t++) {
        (['left', 'right'] as const).forEach((side, h) => {
          if (rows[t * dim + STREAM_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length + h]! <= 0) return;
          const o = t * dim + STREAM_LAYOUT[side].offset + 2;
          for (let k = 0; k < STREAM_LAYOUT[side].length - 2; k++) rows[o + k] += sigma * gauss();
        });
      }
    },
  };
};
/**
 * Today's default (`lm-face-right-mix04-hdrop25`: face contact, the leading hand on the right, label smoothing 0.1,
 * mixup 0.4, hands dropped from 25% of frames) with one part changed: its training settings, its head, or its
 * training views' landmark augmentation.
 */
const defaultWith = (change: { train?: Partial<TrainConfig>; model?: Partial<ModelConfig>; views?: Partial<LandmarkAugmentation> } = {}): Recipe => {
  const base = faceLs('lm-face-right');
  return {
    ...base,
    model: { ...base.model, ...change.model },
    augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2, handDrop: 0.25, ...change.views }, true, true),
    train: { labelSmoothing: 0.1, mixup: 0.4, ...change.train },
  };
};

/** `share` of each label's clips (rounded, at least one), chosen by a seeded shuffle. */
function shareOfEachGloss(clips: readonly ClipFrames[], share: number, seed: number): ClipFrames[] {
  const byLabel = new Map<number, ClipFrames[]>();
  for (const clip of clips) byLabel.set(clip.label, [...(byLabel.get(clip.label) ?? []), clip]);
  return [...byLabel.entries()].flatMap(([label, list]) => seededShuffle([...list].sort((a, b) => (a.videoId < b.videoId ? -1 : 1)), seed + label).slice(0, Math.max(1, Math.round(share * list.length))));
}

const RECIPES: Record<string, Recipe> = {
  'lm-control': { stream: 'lm', head: 'control', T: 32 },
  // The nonlinear order-blind control: mean and spread over time -> ReLU(256) -> softmax.
  'lm-mlp-control': { stream: 'lm', head: 'control', T: 32, control: MLP_POOL_OPTIONS },
  'lm-lstm': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true } },
  'lm-lstm-aug': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: LM_AUG },
  'lm-lstm-aug-drop': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, dropout: 0.5 }, augment: LM_AUG },
  'lm-lstm-aug-T32': { stream: 'lm', head: 'lstm', T: 32, model: { velocity: true }, augment: LM_AUG },
  'lm-lstm-aug-h256': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, hidden: 256, dropout: 0.5 }, augment: LM_AUG },
  'lm-aug-mirror': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.8, { mirror: 0.5 }) },
  'lm-aug-span6': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.6) },
  'lm-aug-strong': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.7, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-aug-drop3': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, dropout: 0.3 }, augment: LM_AUG },
  'lm-aug-pat20': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, train: { patience: 20, epochs: 120 }, augment: LM_AUG },
  'lm-aug-novel': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: false }, augment: LM_AUG },
  'lm-aug-h64': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, hidden: 64 }, augment: LM_AUG },
  'lm-aug-lr3': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, train: { learningRate: 3e-3 }, augment: LM_AUG },
  'lm-strong-span6': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong-span5': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-xstrong': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.6, { rotate: 0.4, scale: 0.35, shift: 0.3 }) },
  'lm-strong-pat20': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, train: { patience: 20, epochs: 150 }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong-h256': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, hidden: 256, dropout: 0.3 }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong-T24': { stream: 'lm', head: 'lstm', T: 24, model: { velocity: true }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong-top1': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, train: { monitor: 'top1' }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong5-top1': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, train: { monitor: 'top1' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }) },
  'lm-strong-tta': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.6, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-strong5-tta': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  // The default recipe with the classifier on the LSTM's mean hidden state over time instead of its last.
  'lm-meanpool': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  // The default since 2026-12-06 (2): the mean-pooled recipe on the stream with each hand's joint angles.
  'lm-angles': { stream: 'lm-angles', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-angles-tips': { stream: 'lm-angles-tips', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-angles-palm': { stream: 'lm-angles-palm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-angles-planar': { stream: 'lm-angles-planar', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-angles-ls': anglesLs('lm-angles'),
  // Every clip whose signer's left wrist travels further than the right one mirrored (hands swapped): one dominant hand.
  'lm-angles-dominant': anglesLs('lm-angles-dominant'),
  // The same, the leading hand the one held higher on average; or mirrored only where the left wrist travels 1.5 times as far.
  'lm-angles-dominant-height': anglesLs('lm-angles-dominant-height'),
  'lm-angles-dominant-clear': anglesLs('lm-angles-dominant-clear'),
  // Where the fingertips are about the face (stream.faceContact): thumb, index and middle tips less the nose, and the
  // palm's length, per hand; as first measured, left as computed in the training views, and with the leading hand
  // on the right. Then turned with the view as the library does, as filmed and with the leading hand (the default).
  'lm-angles-contact': faceLs('lm-face', true),
  'lm-angles-contact-height': faceLs('lm-face-right', true),
  'lm-face': faceLs('lm-face'),
  'lm-face-right': faceLs('lm-face-right'),
  // The default with a moving average of its weights (train.emaMomentum), validated and kept instead of the last step's.
  'lm-face-right-ema98': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, emaMomentum: 0.98 } },
  'lm-face-right-ema99': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, emaMomentum: 0.99 } },
  // The default with mixup (train.mixup): each training sequence blended with another, labels alike.
  'lm-face-right-mix02': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, mixup: 0.2 } },
  'lm-face-right-mix04': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, mixup: 0.4 } },
  'lm-face-right-mix1': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, mixup: 1 } },
  'lm-face-right-mix04-e100': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, mixup: 0.4, epochs: 100 } },
  'lm-face-right-mix04-h256': { ...faceLs('lm-face-right'), model: { velocity: true, pooling: 'mean', hidden: 256 }, train: { labelSmoothing: 0.1, mixup: 0.4 } },
  'lm-face-right-mix04-ls0': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0, mixup: 0.4 } },
  'lm-face-right-mix04-ema99': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, mixup: 0.4, emaMomentum: 0.99 } },
  // The default with missed hands simulated (augmentation handDrop: a frame that saw a hand loses it with this chance).
  'lm-face-right-mix04-hdrop10': defaultWith({ views: { handDrop: 0.1 } }),
  'lm-face-right-mix04-hdrop25': defaultWith(),
  'lm-face-right-mix04-hdrop40': defaultWith({ views: { handDrop: 0.4 } }),
  // Hands lost in runs of 1..N frames of the 16-frame view (dropHandFrames maxRun) instead of frame by frame: 53.7 / 55.7 (seeds 42, 1) against 55.2 / 57.5. LSTM(256) on the default: 56.3 (56.6 / 55.7 / 56.6) against 55.4.
  'lm-face-right-mix04-hdrop25-run4': defaultWith({ views: { handDropRun: 4 } }),
  'lm-face-right-mix04-hdrop25-h256': defaultWith({ model: { hidden: 256 } }),
  // Dropped hands plus jitter of each seen hand's shape (its 20 points about the wrist, in palm lengths), frame by frame, as the hand model's own noise: 0.05 gave 54.2 / 55.4 (seeds 42, 1) against 55.2 / 57.5.
  'lm-face-right-mix04-hdrop25-jit05': { ...defaultWith(), augment: jitteredHands(0.05) },
  'lm-face-right-mix04-hdrop25-e100': defaultWith({ train: { epochs: 100 } }),
  // The default with the learning rate along half a cosine to 0 over the 60 epochs (train.lrSchedule), at the
  // default's peak and at twice it: 51.7 (seed 42) and 52.4 / 56.1 (seeds 42, 1) against 55.2 / 57.5. Not adopted.
  'lm-face-right-mix04-hdrop25-cos': defaultWith({ train: { lrSchedule: 'cosine' } }),
  'lm-face-right-mix04-hdrop25-cos-lr2': defaultWith({ train: { lrSchedule: 'cosine', learningRate: 2e-3 } }),
  // The default with smaller batches (more gradient noise, twice the steps) and with stronger label smoothing:
  // 53.6 / 54.5 and 54.2 / 54.1 (seeds 42, 1) against 55.2 / 57.5. Not adopted.
  'lm-face-right-mix04-hdrop25-b8': defaultWith({ train: { batchSize: 8 } }),
  'lm-face-right-mix04-hdrop25-ls2': defaultWith({ train: { labelSmoothing: 0.2 } }),
  // The default trained for all its 60 epochs and kept at the last (no early stopping, so no held-out clips needed:
  // how a model trained on train + val must be made), against the default stopped on the scored fold.
  'lm-face-right-mix04-hdrop25-fixed': defaultWith({ train: { patience: 60, restoreBest: false } }),
  // The same on 641/784 of each fold's training clips: train alone against train + val, on the same scored clips.
  'lm-face-right-mix04-hdrop25-fixed-share82': { ...defaultWith({ train: { patience: 60, restoreBest: false } }), trainShare: 641 / 784 },
  // The default with SPOTER's viewpoint augmentation (the camera a little aside or askew): x and y scaled by
  // 1 +- q against each other, and a horizontal shear, on top of its turn, scale and shift. Val, seeds 42 / 1 / 7:
  // squeeze 60.1 / 86.2 / 90.9, shear 61.5 / 84.4 / 90.9, both 59.7 / 83.4 / 90.7 against the default's 60.3 / 83.2 /
  // 90.2; 5-fold, seed 42: squeeze 54.6 / 81.9 / 89.4, shear 53.7 / 81.9 / 88.9 against 55.2 / 83.4 / 90.3. Not adopted (README).
  'lm-face-right-mix04-hdrop25-sq15': defaultWith({ views: { squeeze: 0.15 } }),
  'lm-face-right-mix04-hdrop25-shear15': defaultWith({ views: { shear: 0.15 } }),
  'lm-face-right-mix04-hdrop25-sq15-shear15': defaultWith({ views: { squeeze: 0.15, shear: 0.15 } }),
  // The default's stream, views and training with another head: SPOTER's kind of transformer encoder over the
  // frames (bench/transformer_head.ts), and the temporal convolutions of lm-conv-d2-drop again (first measured
  // before hand angles, face contact, mixup and dropped hands). Val, top-1 / 5 / 10 over seeds 42, 1, 7: the transformer 59.4 / 84.1 /
  // 91.1, one layer 59.2 / 82.3 / 88.6, 100 epochs 59.0 / 83.9 / 90.4, against the LSTM's 60.3 / 83.2 / 90.2; 5-fold,
  // seed 42: 52.7 / 80.5 / 88.6 against 55.2 / 83.4 / 90.3. Alone it is no better than the LSTM; beside it, below.
  'lm-default-transformer': { ...defaultWith(), transformer: { width: 64, heads: 4, layers: 2, ffn: 128, innerDropout: 0.1 } },
  'lm-default-transformer-w128': { ...defaultWith(), transformer: { width: 128, heads: 4, layers: 2, ffn: 256, innerDropout: 0.1 } },
  'lm-default-transformer-1layer': { ...defaultWith(), transformer: { width: 64, heads: 4, layers: 1, ffn: 128, innerDropout: 0.1 } },
  'lm-default-transformer-drop3': { ...defaultWith({ model: { dropout: 0.3 } }), transformer: { width: 64, heads: 4, layers: 2, ffn: 128, innerDropout: 0.2 } },
  'lm-default-transformer-e100': { ...defaultWith({ train: { epochs: 100 } }), transformer: { width: 64, heads: 4, layers: 2, ffn: 128, innerDropout: 0.1 } },
  'lm-default-transformer-T32': { ...defaultWith(), T: 32, transformer: { width: 64, heads: 4, layers: 2, ffn: 128, innerDropout: 0.1 } },
  // The default's LSTM and the transformer above, their probabilities averaged (seeds s and s + 1000): val 63.4 /
  // 86.7 / 91.1; 5-fold, seeds 42 / 1 / 7: 58.2 / 85.2 / 91.5, against 57.1 / 84.0 / 91.8 for two LSTMs averaged
  // (lm-default-ens2) and 55.4 / 83.1 / 90.0 for one.
  'lm-default-ens-lstm-transformer': { ...defaultWith(), members: 2, transformer: { width: 64, heads: 4, layers: 2, ffn: 128, innerDropout: 0.1 }, transformerMembers: [1] },
  // Its control: two of the default's LSTMs averaged (seeds s and s + 1000).
  'lm-default-ens2': { ...defaultWith(), members: 2 },
  'lm-default-conv': { ...defaultWith({ model: { dropout: 0.3 } }), conv: { filters: 128, kernel: 3, dilation: 2 } },
  'lm-face-right-ema995': { ...faceLs('lm-face-right'), train: { labelSmoothing: 0.1, emaMomentum: 0.995 } },
  'lm-angles-h256': { stream: 'lm-angles', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', hidden: 256 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-angles-control': { stream: 'lm-angles', head: 'control', T: 32 },
  'lm-angles-mlp-control': { stream: 'lm-angles', head: 'control', T: 32, control: MLP_POOL_OPTIONS },
  // The default on the stream with angles, its last state classified (the angles' gain without the mean's).
  'lm-angles-last': { stream: 'lm-angles', head: 'lstm', T: 16, model: { velocity: true, pooling: 'last' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }, true), views: TTA },
  'lm-meanpool-h256': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', hidden: 256 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-drop3': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', dropout: 0.3 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-2layer': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', layers: 2 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-T24': { stream: 'lm', head: 'lstm', T: 24, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-ls': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, train: { labelSmoothing: 0.1 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-wd': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean' }, train: { weightDecay: 0.2 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  // The default, a head reading forwards and one reading backwards, averaged (and two forward heads, the control).
  'lm-bidir2': { stream: 'lm', head: 'lstm', members: 2, alternateDirections: true, T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-meanpool-ens2': { stream: 'lm', head: 'lstm', members: 2, T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-bilstm': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', bidirectional: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-bilstm-h64': { stream: 'lm', head: 'lstm', T: 16, model: { velocity: true, pooling: 'mean', bidirectional: true, hidden: 64 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-conv': { stream: 'lm', head: 'lstm', conv: { filters: 128, kernel: 3, dilation: 1 }, T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'lm-conv-d2-drop': { stream: 'lm', head: 'lstm', conv: { filters: 128, kernel: 3, dilation: 2 }, T: 16, model: { velocity: true, pooling: 'mean', dropout: 0.3 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  // The default recipe of 2026-12-05 (last state, no hand angles), three heads of different seeds averaged.
  'lm-ensemble3': { stream: 'lm', head: 'lstm', members: 3, T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'late-0.7': { stream: 'fusion', head: 'late', lateWeight: 0.7, T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'late-0.5': { stream: 'fusion', head: 'late', lateWeight: 0.5, T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  // The late fusion with the hand-crop control, on the mean-pooled LSTM without hand angles (the late rows above read the last state).
  'late-hands-0.7-mean': { stream: 'lm-hands', head: 'late', lateWeight: 0.7, T: 16, model: { velocity: true, pooling: 'mean' }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'hands-control': { stream: 'hands', head: 'control', T: 32 },
  'hands-lstm': { stream: 'hands', head: 'lstm', T: 16, model: { dropout: 0.5 }, augment: TIME_AUG, views: TTA },
  'lm-hands-lstm': { stream: 'lm-hands', head: 'lstm', T: 16, model: { velocity: true, dropout: 0.5 }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'late-hands-0.7': { stream: 'lm-hands', head: 'late', lateWeight: 0.7, T: 16, model: { velocity: true }, augment: lmAug(0.5, { rotate: 0.3, scale: 0.25, shift: 0.2 }), views: TTA },
  'cnn-control': { stream: 'cnn', head: 'control', T: 32 },
  'cnn-lstm': { stream: 'cnn', head: 'lstm', T: 16, model: {}, augment: TIME_AUG },
  'fusion-control': { stream: 'fusion', head: 'control', T: 32 },
  'fusion-lstm-aug': { stream: 'fusion', head: 'lstm', T: 16, model: { velocity: true, dropout: 0.5 }, augment: LM_AUG },
};

/** Fingertip pairs whose distance (palm lengths) tells a pinch or a touch: the thumb to each, index to middle. */
const TIP_PAIRS = [[4, 8], [4, 12], [4, 16], [4, 20], [8, 12]];

/** A clip of the stream with hand angles, with 5 fingertip distances a hand appended (measured, not adopted). */
function withTipDistances(clip: ClipFrames): ClipFrames {
  const dim = clip.data.length / clip.frames;
  const wide = dim + 2 * TIP_PAIRS.length;
  const out = new Float32Array(clip.frames * wide);
  for (let t = 0; t < clip.frames; t++) {
    out.set(clip.data.subarray(t * dim, (t + 1) * dim), t * wide);
    (['left', 'right'] as const).forEach((side, h) => {
      const shape = t * dim + STREAM_LAYOUT[side].offset + 2;
      const at = (p: number, k: number) => clip.data[shape + (p - 1) * 3 + k]!;
      TIP_PAIRS.forEach(([a, b], i) => (out[t * wide + dim + h * TIP_PAIRS.length + i] = Math.hypot(at(a!, 0) - at(b!, 0), at(a!, 1) - at(b!, 1), at(a!, 2) - at(b!, 2))));
    });
  }
  return { ...clip, data: out };
}

/** Path lengths of the signer's left and right body wrists over a clip (stream layout: body points 5 and 6). */
function wristTravel(clip: ClipFrames): { left: number; right: number } {
  const dim = clip.data.length / clip.frames;
  const travel = (k: number) => {
    let sum = 0;
    for (let t = 1; t < clip.frames; t++) {
      const a = (t - 1) * dim + k * 2;
      const b = t * dim + k * 2;
      sum += Math.hypot(clip.data[b]! - clip.data[a]!, clip.data[b + 1]! - clip.data[a + 1]!);
    }
    return sum;
  };
  return { left: travel(5), right: travel(6) };
}

type Leading = 'travel' | 'height' | 'clear';
/** Whether the signer's left hand leads the clip, by one of three readings ('height': the library's, stream.rightLeads). */
function leftLeads(clip: ClipFrames, by: Leading): boolean {
  if (by === 'height') return leftWristHigher(clip.data, clip.data.length / clip.frames);
  const w = wristTravel(clip);
  return w.left > (by === 'clear' ? 1.5 : 1) * w.right;
}

/** The clip mirrored (left and right swapped) when its left hand leads by `by`: the right hand always leads. */
function withDominantRight(clip: ClipFrames, by: Leading): ClipFrames {
  if (!leftLeads(clip, by)) return clip;
  const data = Float32Array.from(clip.data);
  mirrorLandmarkRows(data, data.length / clip.frames, { handAngles: true });
  return { ...clip, data };
}

/**
 * A clip of the stream with hand angles, with each hand's palm orientation appended (measured, not adopted): the
 * unit normal of the palm (wrist to index base x wrist to pinky base) and the unit direction wrist to middle base.
 */
function withPalmOrientation(clip: ClipFrames): ClipFrames {
  const dim = clip.data.length / clip.frames;
  const wide = dim + 12;
  const out = new Float32Array(clip.frames * wide);
  for (let t = 0; t < clip.frames; t++) {
    out.set(clip.data.subarray(t * dim, (t + 1) * dim), t * wide);
    (['left', 'right'] as const).forEach((side, h) => {
      const shape = t * dim + STREAM_LAYOUT[side].offset + 2;
      const p = (i: number) => [0, 1, 2].map((k) => clip.data[shape + (i - 1) * 3 + k]!);
      const [a, b, m] = [p(5), p(17), p(9)];
      const n = [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
      const unit = (v: number[]) => {
        const l = Math.hypot(v[0]!, v[1]!, v[2]!);
        return l > 1e-6 ? v.map((x) => x / l) : [0, 0, 0];
      };
      out.set([...unit(n), ...unit(m)], t * wide + dim + h * 6);
    });
  }
  return { ...clip, data: out };
}

/** A clip of the stream with hand angles, its angles recomputed from x, y only (the hand model's depth left out). */
function withPlanarAngles(clip: ClipFrames): ClipFrames {
  const dim = clip.data.length / clip.frames;
  const out = Float32Array.from(clip.data);
  const cos = (a: number[], b: number[]) => {
    const n = Math.hypot(a[0]!, a[1]!) * Math.hypot(b[0]!, b[1]!);
    return n > 1e-6 ? (a[0]! * b[0]! + a[1]! * b[1]!) / n : 0;
  };
  for (let t = 0; t < clip.frames; t++) {
    for (const [side, angles] of [['left', 'leftAngles'], ['right', 'rightAngles']] as const) {
      const shape = t * dim + STREAM_LAYOUT[side].offset + 2;
      const at = (q: number, k: number) => (q === 0 ? 0 : clip.data[shape + (q - 1) * 3 + k]!);
      const bones = FINGERS.map((f) => [0, 1, 2, 3].map((j) => [0, 1].map((k) => at(f[j + 1]!, k) - at(f[j]!, k))));
      let k = t * dim + STREAM_LAYOUT[angles].offset;
      for (const f of bones) for (let j = 0; j < 3; j++) out[k++] = cos(f[j]!, f[j + 1]!);
      for (let j = 0; j < 4; j++) out[k++] = cos(bones[j]![1]!, bones[j + 1]![1]!);
    }
  }
  return { ...clip, data: out };
}

/** The clip with its frames in reverse order. */
function reversedClip(clip: ClipFrames): ClipFrames {
  const dim = clip.data.length / clip.frames;
  const data = new Float32Array(clip.data.length);
  for (let t = 0; t < clip.frames; t++) data.set(clip.data.subarray(t * dim, (t + 1) * dim), (clip.frames - 1 - t) * dim);
  return { ...clip, data };
}

async function main(): Promise<void> {
  console.log((await initBackend()).summary);
  const index = loadIndex({ dataDir: args.data! });
  const config = resolveConfig({ overrides: { frames: { window: { useMetadataRange: true, maxFrames: Number(args['max-frames']) } } } });
  const cache = await openCache(index, args['cache-dir']);
  const videosOf = (split: string) => index.present.filter((e) => e.split === split).map((e) => ({ videoId: e.videoId, label: e.label }));
  const streams = new Map<Stream, { train: ClipFrames[]; eval: ClipFrames[] }>();
  const load = async (stream: Stream): Promise<{ train: ClipFrames[]; eval: ClipFrames[] }> => {
    if (streams.has(stream)) return streams.get(stream)!;
    let out: { train: ClipFrames[]; eval: ClipFrames[] };
    if (stream === 'lm-face' || stream === 'lm-face-right') {
      const root = landmarksRootOf(cache.datasetDir);
      const options = { handAngles: true, faceContact: true, rightLeads: stream === 'lm-face-right' };
      const train = await loadLandmarkClips(videosOf('train'), root, config.frames, options);
      const evalClips = await loadLandmarkClips(videosOf(args.split!), root, config.frames, options);
      console.log(`landmarks with hand angles and face contact${options.rightLeads ? ', the leading hand on the right' : ''}: train ${train.clips.length}, ${args.split} ${evalClips.clips.length}`);
      out = { train: train.clips, eval: evalClips.clips };
    } else if (stream === 'lm' || stream === 'lm-angles') {
      // 'lm' is the stream before hand angles, as the older rows were measured; 'lm-angles' the default's.
      const root = landmarksRootOf(cache.datasetDir);
      const handAngles = stream === 'lm-angles';
      const train = await loadLandmarkClips(videosOf('train'), root, config.frames, { handAngles });
      const evalClips = await loadLandmarkClips(videosOf(args.split!), root, config.frames, { handAngles });
      console.log(`landmarks${handAngles ? ' with hand angles' : ''}: train ${train.clips.length} (${train.missing.length} missing), ${args.split} ${evalClips.clips.length} (${evalClips.missing.length} missing) from ${train.cacheDir}`);
      out = { train: train.clips, eval: evalClips.clips };
    } else if (stream === 'cnn') {
      const dir = (await buildFeatures(index, config, { cacheDir: args['cache-dir'], log: (l) => console.log(l) })).report.cacheDir;
      const train = loadFeatureClips(videosOf('train'), dir);
      const evalClips = loadFeatureClips(videosOf(args.split!), dir);
      console.log(`cnn: train ${train.clips.length} (${train.missing.length} missing), ${args.split} ${evalClips.clips.length} (${evalClips.missing.length} missing) from ${dir}`);
      out = { train: train.clips, eval: evalClips.clips };
    } else if (stream === 'hands') {
      const lmRoot = landmarksRootOf(cache.datasetDir);
      const lmDir = (await openLandmarkCache(lmRoot, landmarkModelFiles(), DEFAULT_LANDMARK_PARAMS, { window: config.frames.window, cropToBbox: config.frames.cropToBbox })).dir;
      const entryOf = (videoId: string) => {
        try {
          return readLandmarkEntry(lmDir, path.basename(lmDir), videoId);
        } catch {
          return null;
        }
      };
      const dir = handCropCacheDir(cache.datasetDir, lmDir);
      const jobs = (split: string) => jobsOf(index.present.filter((e) => e.split === split));
      const train = await loadHandCropClips(jobs('train'), entryOf, config.frames, dir, undefined, (l) => console.log(l));
      const evalClips = await loadHandCropClips(jobs(args.split!), entryOf, config.frames, dir, undefined, (l) => console.log(l));
      console.log(`hands: train ${train.clips.length} (${train.missing.length} missing), ${args.split} ${evalClips.clips.length} (${evalClips.missing.length} missing) from ${dir}`);
      for (const m of [...train.missing, ...evalClips.missing].slice(0, 5)) console.log(`  missing ${m.videoId}: ${m.reason}`);
      out = { train: train.clips, eval: evalClips.clips };
    } else if (stream === 'lm-angles-dominant' || stream === 'lm-angles-dominant-height' || stream === 'lm-angles-dominant-clear') {
      const lm = await load('lm-angles');
      const by: Leading = stream === 'lm-angles-dominant' ? 'travel' : stream === 'lm-angles-dominant-height' ? 'height' : 'clear';
      const flipped = (clips: ClipFrames[]) => clips.filter((c) => leftLeads(c, by)).length;
      const agree = [...lm.train, ...lm.eval].filter((c) => leftLeads(c, 'travel') === leftLeads(c, 'height')).length;
      console.log(`dominant hand (${by}): mirrored train ${flipped(lm.train)}/${lm.train.length}, ${args.split} ${flipped(lm.eval)}/${lm.eval.length}; travel and height agree on ${agree} clips`);
      out = { train: lm.train.map((c) => withDominantRight(c, by)), eval: lm.eval.map((c) => withDominantRight(c, by)) };
    } else if (stream === 'lm-angles-tips' || stream === 'lm-angles-palm' || stream === 'lm-angles-planar') {
      const lm = await load('lm-angles');
      const extend = stream === 'lm-angles-tips' ? withTipDistances : stream === 'lm-angles-palm' ? withPalmOrientation : withPlanarAngles;
      out = { train: lm.train.map(extend), eval: lm.eval.map(extend) };
    } else {
      const lm = await load('lm');
      const cnn = await load(stream === 'lm-hands' ? 'hands' : 'cnn');
      out = { train: concatClips([lm.train, cnn.train]).clips, eval: concatClips([lm.eval, cnn.eval]).clips };
      console.log(`fusion: train ${out.train.length}, ${args.split} ${out.eval.length}`);
    }
    streams.set(stream, out);
    return out;
  };

  const seeds = args.seeds!.split(',').map(Number);
  const only = args.only?.split(',');
  const folds = Number(args.folds);
  if (!(Number.isInteger(folds) && folds >= 0 && folds !== 1)) throw new Error(`--folds must be 0 (the one split) or a whole number >= 2, got ${args.folds}`);
  if (!Number.isInteger(Number(args['fold-seed']))) throw new Error(`--fold-seed must be a whole number, got ${args['fold-seed']}`);
  // Cross-validation pools train with val only: the test split is never trained on, and train is not pooled twice.
  if (folds > 0 && args.split !== 'val') throw new Error(`--folds pools train with val; it cannot be used with --split ${args.split}`);
  const classes = index.classes.length;
  // With --folds, train and the evaluated split are pooled and dealt into folds (byte-identical videos together).
  const foldOf =
    folds > 0
      ? stratifiedFolds(
          index.present.filter((e) => e.split === 'train' || e.split === args.split).map((e) => ({ id: e.videoId, label: e.label })),
          folds,
          Number(args['fold-seed']),
          (await findDuplicateVideos(index.present)).groups.map((g) => g.members.map((m) => m.videoId)),
        )
      : null;
  if (foldOf) console.log(`cross-validation: ${foldOf.size} clips of train and ${args.split} in ${folds} folds (fold seed ${args['fold-seed']}), each clip scored once`);
  /** The clips a run trains and scores on: the official split, or fold `fold` held out of the pooled clips. */
  const partOf = (data: { train: ClipFrames[]; eval: ClipFrames[] }, fold: number | null): { train: ClipFrames[]; eval: ClipFrames[] } => {
    if (fold === null) return data;
    const pooled = [...data.train, ...data.eval];
    return { train: pooled.filter((c) => foldOf!.get(c.videoId) !== fold), eval: pooled.filter((c) => foldOf!.get(c.videoId) === fold) };
  };

  /** Trains the recipe's head(s) on `data.train` for one seed and scores `data.eval`. */
  const score = async (recipe: Recipe, all: { train: ClipFrames[]; eval: ClipFrames[] }, seed: number, fold: number | null): Promise<{ report: EvaluationReport; epochs: number }> => {
    if (recipe.trainShare !== undefined && recipe.head === 'late') throw new Error('trainShare: the late-fusion recipes load their own streams and would train on every clip');
    const data = recipe.trainShare === undefined ? all : { ...all, train: shareOfEachGloss(all.train, recipe.trainShare, 2026 + (fold ?? 0)) };
    if (data !== all) console.log(`  training on ${data.train.length} of the ${all.train.length} training clips`);
    const train = new ClipSequenceSource(data.train, recipe.T, classes, recipe.augment);
    const evalSource = new ClipSequenceSource(data.eval, recipe.T, classes, undefined, recipe.views);
    let report: EvaluationReport;
    let epochs = 0;
    if (recipe.head === 'late') {
      const lm = partOf(await load('lm'), fold);
      const cnn = partOf(await load(recipe.stream === 'lm-hands' ? 'hands' : 'cnn'), fold);
      const config = resolveConfig({ overrides: { train: trainOf(recipe, seed), model: modelOf(recipe) } });
      const lmTrain = new ClipSequenceSource(lm.train, recipe.T, classes, recipe.augment);
      const head = await createHead(lmTrain, config.model, seed);
      const result = await fit(head, lmTrain, new ClipSequenceSource(lm.eval, recipe.T, classes, undefined, recipe.views), config.train, {});
      epochs = result.history.length;
      const control = await trainMeanPool(new ClipSequenceSource(cnn.train, recipe.T, classes), { ...DEFAULT_MEAN_POOL_OPTIONS, seed });
      const w = recipe.lateWeight ?? 0.5;
      const split = lm.train[0]!.data.length / lm.train[0]!.frames;
      const late = {
        numClasses: classes,
        predictProbs: (x: tf.Tensor3D): Float32Array => {
          const [a, b] = tf.split(x, [split, x.shape[2] - split], 2) as [tf.Tensor3D, tf.Tensor3D];
          const p = head.predictProbs(a);
          const q = control.predictProbs(b);
          tf.dispose([a, b]);
          return p.map((v, i) => w * v + (1 - w) * q[i]!);
        },
      };
      report = await evaluate(late, evalSource, { classNames: index.classes });
      control.dispose();
    } else if (recipe.head === 'control') {
      report = await trainMeanPoolBaseline(train, evalSource, { ...(recipe.control ?? DEFAULT_MEAN_POOL_OPTIONS), seed }, index.classes);
    } else {
      const heads: Array<Awaited<ReturnType<typeof createHead>>> = [];
      const backwards = (m: number) => recipe.alternateDirections === true && m % 2 === 1;
      for (let m = 0; m < (recipe.members ?? 1); m++) {
        const memberSeed = seed + 1000 * m;
        const config = resolveConfig({ overrides: { train: trainOf(recipe, memberSeed), model: modelOf(recipe) } });
        const memberTrain = backwards(m) ? new ClipSequenceSource(data.train.map(reversedClip), recipe.T, classes, recipe.augment) : train;
        const memberEval = backwards(m) ? new ClipSequenceSource(data.eval.map(reversedClip), recipe.T, classes, undefined, recipe.views) : evalSource;
        const lstmHead = await createHead(memberTrain, config.model, memberSeed);
        const head = recipe.conv
          ? (new ConvHead(lstmHead.config, recipe.conv, memberSeed) as unknown as typeof lstmHead)
          : recipe.transformer && (recipe.transformerMembers?.includes(m) ?? true)
            ? (new TransformerHead(lstmHead.config, { ...recipe.transformer, steps: recipe.T }, memberSeed) as unknown as typeof lstmHead)
            : lstmHead;
        const result = await fit(head, memberTrain, memberEval, config.train, {});
        epochs += result.history.length;
        heads.push(head);
      }
      const probsOf = (m: number, x: tf.Tensor3D): Float32Array => {
        if (!backwards(m)) return heads[m]!.predictProbs(x);
        const reversed = tf.reverse(x, 1) as tf.Tensor3D;
        try {
          return heads[m]!.predictProbs(reversed);
        } finally {
          reversed.dispose();
        }
      };
      const averaged = {
        numClasses: classes,
        predictProbs: (x: tf.Tensor3D): Float32Array => {
          const sum = new Float32Array(probsOf(0, x));
          for (let m = 1; m < heads.length; m++) probsOf(m, x).forEach((p, i) => (sum[i]! += p));
          return sum.map((p) => p / heads.length);
        },
      };
      report = await evaluate(heads.length === 1 ? heads[0]! : averaged, evalSource, { classNames: index.classes });
    }
    return { report, epochs };
  };

  const results: Record<string, { seeds: number[]; top1: number[]; top5: number[]; top10: number[]; mean: number[] }> = {};
  for (const [name, recipe] of Object.entries(RECIPES)) {
    if (only && !only.includes(name)) continue;
    const data = await load(recipe.stream);
    const row = { seeds, top1: [] as number[], top5: [] as number[], top10: [] as number[], mean: [] as number[] };
    for (const seed of seeds) {
      const t0 = Date.now();
      let epochs = 0;
      // Per-video hits pooled over the folds (one run without --folds): every clip is scored once.
      const hits = { count: 0, top1: 0, top5: 0, top10: 0 };
      for (const fold of foldOf ? Array.from({ length: folds }, (_, f) => f) : [null]) {
        const run = await score(recipe, partOf(data, fold), seed, fold);
        const v = run.report.perVideo;
        epochs += run.epochs;
        hits.count += v.count;
        hits.top1 += v.top1 * v.count;
        hits.top5 += v.top5 * v.count;
        hits.top10 += v.top10 * v.count;
        if (fold !== null) console.log(`  ${name} seed ${seed} fold ${fold + 1}/${folds}: ${v.count} clips, top-1 ${formatPercent(v.top1)}, top-5 ${formatPercent(v.top5)} (${run.epochs} epochs)`);
      }
      const v = { count: hits.count, top1: hits.top1 / hits.count, top5: hits.top5 / hits.count, top10: hits.top10 / hits.count };
      row.top1.push(v.top1);
      row.top5.push(v.top5);
      row.top10.push(v.top10);
      const scored = foldOf ? `train+${args.split} in ${folds} folds` : args.split;
      console.log(`${name} seed ${seed}: ${scored} per video (${v.count}) top-1 ${formatPercent(v.top1)}, top-5 ${formatPercent(v.top5)}, top-10 ${formatPercent(v.top10)} (${epochs} epochs, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    row.mean = [mean(row.top1), mean(row.top5), mean(row.top10)];
    console.log(`${name} mean: top-1 ${formatPercent(row.mean[0]!)}, top-5 ${formatPercent(row.mean[1]!)}, top-10 ${formatPercent(row.mean[2]!)}`);
    results[name] = row;
  }
  console.log(JSON.stringify({ bench: 'streams', split: args.split, folds: foldOf ? folds : null, foldSeed: foldOf ? Number(args['fold-seed']) : null, dims: { landmarks: STREAM_POSITION_DIMS, landmarksWithHandAngles: STREAM_LANDMARK_DIMS, withFaceContact: landmarkStreamDims({ handAngles: true, faceContact: true }) }, results }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
