import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkModelConfig, checkTrainConfig, type ModelConfig, type TrainConfig } from '../config';
import type { FitInputs, SequenceSource } from '../dataset/types';
import { ConfigError, ModelDirError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import { createProgress, type ProgressMode } from '../runtime/progress';
import { Adam } from './adam';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { EarlyStopping } from './early_stopping';
import { LstmHead, type MixedTargets } from './head';
import * as tf from '@tensorflow/tfjs';
import { betaDraw, seededPermutation, seededRandom } from '../runtime/random';
import { CONTACT_PER_HAND, STREAM_LANDMARK_DIMS, STREAM_POSITION_DIMS } from '../landmarks/stream_width';
import { formatPercent, predictSource, topKAccuracy } from './metrics';
import { computeFeatureStats, preparedDim } from './preprocess';
import { ParallelMatMul } from './parallel_matmul';

/**
 * The training loop: the original's train_one_epoch / validate / training_loop with EarlyStopping, plus
 * per-epoch val top-1/top-5, progress with ETA, history as JSON and CSV, and an atomic checkpoint after every
 * epoch from which `resume` continues with exactly the result of an uninterrupted run. Every random choice
 * (shuffle order, dropout masks) is derived from (seed, epoch, step), so nothing but the epoch number has to
 * be saved to replay the randomness.
 */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valTop1: number;
  valTop5: number;
  seconds: number;
}

export interface FitOptions {
  /** Called after every newly trained epoch (not for epochs read back from a checkpoint). */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Progress display; default: bar on a terminal, lines otherwise (see runtime/progress). */
  progress?: ProgressMode;
  /** Folder for checkpoint.bin, history.json and history.csv; none = no checkpoints. */
  checkpointDir?: string;
  /** Continue from checkpointDir's checkpoint when there is one. */
  resume?: boolean;
  /** Stop (as if killed) after this many epochs of this call: for tests of resume. */
  maxEpochsThisRun?: number;
  /**
   * How the training data was read, where the head cannot see it (same width, other values): part of the
   * checkpoint's fingerprint, so a run is not resumed on data read another way. Give settings only when they
   * are not neutral, so checkpoints made before they existed keep their fingerprint.
   */
  inputs?: FitInputs;
}

export interface FitResult {
  history: EpochRecord[];
  /** Epoch (0-based) whose weights the head holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Whether training continued from a checkpoint. */
  resumed: boolean;
}

export const CHECKPOINT_FILE = 'checkpoint.bin';

/** Builds a head for a training source from the model config: feature statistics come from `train`. */
export async function createHead(train: SequenceSource, model: ModelConfig, seed: number): Promise<LstmHead> {
  checkModelConfig(model);
  const stats = model.standardize ? await computeFeatureStats(train) : null;
  return LstmHead.create(
    { featureDim: train.featureDim, numClasses: train.numClasses, hidden: model.hidden, layers: model.layers, dropout: model.dropout, preprocessing: { stats, velocity: model.velocity }, pooling: model.pooling, bidirectional: model.bidirectional },
    seed,
  );
}

/**
 * What early stopping minimises: val loss, or (monitor 'top1') val top-1 with val loss as the tie-break (a
 * thousandth of the loss moves the score less than one video in a thousand would).
 */
export function monitoredScore(config: Pick<TrainConfig, 'monitor'>, record: Pick<EpochRecord, 'valLoss' | 'valTop1'>): number {
  return config.monitor === 'top1' ? record.valLoss * 1e-3 - record.valTop1 : record.valLoss;
}

/** Seed of epoch `epoch`'s shuffle and of step `step`'s dropout mask. */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 2654435761) + epoch * 1000003) >>> 0;
}
function stepSeed(seed: number, epoch: number, step: number): number {
  return (epochSeed(seed, epoch) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0;
}

/**
 * Mixup (Zhang et al. 2018): each sequence of the batch blended with a partner from the same batch (a seeded
 * permutation), with a weight drawn from Beta(alpha, alpha) per sequence; the targets are blended alike.
 */
export function mixBatch(x: tf.Tensor3D, labels: Int32Array, alpha: number, seed: number): { x: tf.Tensor3D; targets: MixedTargets } {
  const batch = labels.length;
  const rand = seededRandom(seed);
  const order = seededPermutation(batch, seed ^ 0x27d4eb2f);
  const weights = new Float32Array(batch);
  for (let b = 0; b < batch; b++) weights[b] = betaDraw(alpha, alpha, rand);
  const partners = Int32Array.from(order, (i) => labels[i]!);
  const mixedX = tf.tidy(() => {
    const w = tf.tensor3d(weights, [batch, 1, 1]);
    return tf.add(tf.mul(x, w), tf.mul(tf.gather(x, Int32Array.from(order)), tf.sub(1, w))) as tf.Tensor3D;
  });
  return { x: mixedX, targets: { partners, weights } };
}

/** Identifies what a checkpoint was made for, so resuming with another config fails clearly. */
function fingerprint(head: LstmHead, train: SequenceSource, config: TrainConfig, inputs: FitOptions['inputs'] = {}): string {
  const c = head.config;
  return JSON.stringify({
    ...inputs,
    featureDim: c.featureDim, numClasses: c.numClasses, hidden: c.hidden, layers: c.layers, dropout: c.dropout,
    velocity: c.preprocessing.velocity, standardize: c.preprocessing.stats !== null,
    // Only when it is not the original's: checkpoints made before pooling existed keep their fingerprint.
    ...(c.pooling === 'mean' ? { pooling: 'mean' } : {}),
    ...(c.bidirectional ? { bidirectional: true } : {}),
    trainSamples: train.numSamples, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed,
    patience: config.patience, minDelta: config.minDelta, monitor: config.monitor, restoreBest: config.restoreBest,
    ...(config.labelSmoothing ? { labelSmoothing: config.labelSmoothing } : {}),
    ...(config.weightDecay ? { weightDecay: config.weightDecay } : {}),
    ...(config.emaMomentum ? { emaMomentum: config.emaMomentum } : {}),
    ...(config.mixup ? { mixup: config.mixup } : {}),
    // The schedule's rate at each step depends on the epoch limit.
    ...(config.lrSchedule === 'cosine' ? { lrSchedule: 'cosine', epochs: config.epochs } : {}),
    ...(config.trainOn === 'train+val' ? { trainOn: 'train+val' } : {}),
  });
}

/**
 * For each setting in which a checkpoint's fingerprint differs from the current run's, the flag that resumes
 * it, so a checkpoint made under an older default names the way back instead of only failing. Settings left
 * out of a fingerprint are at their neutral value (last-state pooling, no smoothing, no weight decay).
 */
function resumeHints(saved: string, now: string): string {
  let before: Record<string, unknown>;
  let after: Record<string, unknown>;
  try {
    before = JSON.parse(saved) as Record<string, unknown>;
    after = JSON.parse(now) as Record<string, unknown>;
  } catch {
    return '';
  }
  const hints: string[] = [];
  const differs = (key: string) => JSON.stringify(before[key]) !== JSON.stringify(after[key]);
  if (differs('pooling')) hints.push(`the checkpoint pools the LSTM's ${before.pooling === 'mean' ? 'states by their mean' : 'last state'}: resume it with --pooling ${before.pooling === 'mean' ? 'mean' : 'last'}`);
  if (differs('labelSmoothing')) hints.push(`the checkpoint was trained with label smoothing ${Number(before.labelSmoothing ?? 0)}: resume it with --label-smoothing ${Number(before.labelSmoothing ?? 0)}`);
  if (differs('rightLeads')) hints.push(`the checkpoint read clips ${before.rightLeads ? 'with the leading hand mirrored to the right' : 'as filmed'}: resume it with --${before.rightLeads ? '' : 'no-'}right-leads`);
  if (differs('handDrop')) hints.push(`the checkpoint was trained with hands dropped from ${Math.round(Number(before.handDrop ?? 0) * 100)}% of frames: resume it with --hand-drop ${Number(before.handDrop ?? 0)}`);
  // Checkpoints made before the training views were recorded (2026-12-07) have neither key: their views are not known.
  const viewsUnknown = !('minSpan' in before) && !('turns' in before) && ('minSpan' in after || 'turns' in after);
  if (viewsUnknown) hints.push('the checkpoint was made before its training views were recorded, so resuming it could mix two kinds of views: delete it to train anew, or resume it with --min-span 1 --no-augment-landmarks if it was trained so');
  else {
    if (differs('minSpan')) hints.push(`the checkpoint's training views covered ${'minSpan' in before ? `random spans of at least ${Number(before.minSpan)} of each clip` : 'each whole clip'}: resume it with --min-span ${Number(before.minSpan ?? 1)}`);
    if (differs('turns')) hints.push(`the checkpoint's training views of the landmarks were ${before.turns ? 'turned, scaled and shifted' : 'as computed'}: resume it with --${before.turns ? '' : 'no-'}augment-landmarks`);
  }
  if (differs('mixup')) hints.push(`the checkpoint was trained with mixup ${Number(before.mixup ?? 0)}: resume it with --mixup ${Number(before.mixup ?? 0)}`);
  if (differs('emaMomentum')) hints.push(`the checkpoint was trained with a weight average of momentum ${Number(before.emaMomentum ?? 0)}: resume it with --ema-momentum ${Number(before.emaMomentum ?? 0)}`);
  if (differs('lrSchedule')) hints.push(`the checkpoint was trained with a ${before.lrSchedule === 'cosine' ? 'cosine' : 'constant'} learning rate: resume it with --lr-schedule ${before.lrSchedule === 'cosine' ? 'cosine' : 'constant'}`);
  if (!differs('lrSchedule') && differs('epochs')) hints.push(`the checkpoint's cosine learning rate falls to 0 at epoch ${Number(before.epochs)}: resume it with --epochs ${Number(before.epochs)}`);
  if (differs('trainOn')) hints.push(`the checkpoint was trained on ${before.trainOn === 'train+val' ? 'train + val' : 'train alone'}: resume it with --train-on ${before.trainOn === 'train+val' ? 'train+val' : 'train'}`);
  if (differs('weightDecay')) hints.push(`the checkpoint was trained with weight decay ${Number(before.weightDecay ?? 0)}: resume it with --weight-decay ${Number(before.weightDecay ?? 0)}`);
  // The landmark stream's hand angles and face contact show only as its width: read the change as one or both.
  const angleWidth = STREAM_LANDMARK_DIMS - STREAM_POSITION_DIMS;
  const contactWidth = 2 * CONTACT_PER_HAND;
  const widthChange = Number(after.featureDim) - Number(before.featureDim);
  for (const angles of [-1, 0, 1]) {
    for (const contact of [-1, 0, 1]) {
      if ((angles || contact) && angles * angleWidth + contact * contactWidth === widthChange) {
        if (angles) hints.push(`the checkpoint reads landmarks ${angles > 0 ? 'without' : 'with'} hand angles: resume it with --${angles > 0 ? 'no-' : ''}hand-angles`);
        if (contact) hints.push(`the checkpoint reads landmarks ${contact > 0 ? 'without' : 'with'} face contact: resume it with --${contact > 0 ? 'no-' : ''}face-contact`);
      }
    }
  }
  return hints.map((hint) => `\n  (${hint})`).join('');
}

/**
 * The learning rate at `progress` (steps taken / steps in `epochs` epochs, in [0, 1)): constant, or along half a
 * cosine from config.learningRate to 0 (config.lrSchedule). Decoupled weight decay follows it, as in PyTorch's AdamW.
 */
export function learningRateAt(config: Pick<TrainConfig, 'learningRate' | 'lrSchedule'>, progress: number): number {
  if (config.lrSchedule !== 'cosine') return config.learningRate;
  return config.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, progress))));
}

export function historyCsv(history: EpochRecord[]): string {
  const cols: (keyof EpochRecord)[] = ['epoch', 'trainLoss', 'valLoss', 'valTop1', 'valTop5', 'seconds'];
  // An epoch without validation (trained on train + val) has empty val cells.
  return [cols.join(','), ...history.map((r) => cols.map((k) => (Number.isFinite(r[k]) ? String(r[k]) : '')).join(','))].join('\n') + '\n';
}

/** Writes history.json and history.csv into `dir` atomically. */
export async function saveHistory(history: EpochRecord[], dir: string): Promise<void> {
  await writeJsonAtomic(path.join(dir, 'history.json'), history);
  await writeFileAtomic(path.join(dir, 'history.csv'), historyCsv(history));
}

/**
 * Trains `head` in place on `train`, validating on `val` after every epoch (Adam, cross-entropy, early
 * stopping on val loss). Returns the history; the head ends with the best epoch's weights when
 * config.restoreBest. With config.trainOn 'train+val' (val's clips already in `train`) `val` is not read: every
 * epoch is trained, the history's val figures are NaN, and the head ends with the last epoch's weights.
 */
export async function fit(head: LstmHead, train: SequenceSource, val: SequenceSource, config: TrainConfig, options: FitOptions = {}): Promise<FitResult> {
  if (train.numSamples === 0) throw new ConfigError('the training set has no sequences');
  // Trained on train + val, nothing is held out: no validation, no early stopping, the last epoch is kept.
  const validating = config.trainOn !== 'train+val';
  if (validating && val.numSamples === 0) throw new ConfigError('the validation set has no sequences (early stopping needs one; --train-on train+val trains without)');
  if (train.featureDim !== head.config.featureDim || train.numClasses !== head.config.numClasses) {
    throw new ConfigError(`training data has ${train.featureDim}-d features and ${train.numClasses} classes, the head expects ${head.config.featureDim} and ${head.config.numClasses}`);
  }
  checkTrainConfig(config);
  const params = head.params();
  const adam = new Adam(params.map((p) => p.data.length), { learningRate: config.learningRate });
  const stopper = new EarlyStopping({ patience: config.patience, minDelta: config.minDelta, restoreBest: config.restoreBest });
  const momentum = config.emaMomentum ?? 0;
  // The weights' moving average (config.emaMomentum), from the initial weights without Adam's bias correction: at
  // 0.99 and 40 steps an epoch, two thirds of epoch 1's average is still the initial weights, which early stopping
  // never keeps; null without one.
  let average: Float32Array[] | null = momentum > 0 ? head.snapshot() : null;
  const history: EpochRecord[] = [];
  const print = fingerprint(head, train, config, options.inputs);
  const checkpointFile = options.checkpointDir ? path.join(options.checkpointDir, CHECKPOINT_FILE) : undefined;
  let startEpoch = 0;
  let resumed = false;

  if (options.resume && checkpointFile && fs.existsSync(checkpointFile)) {
    const { header, arrays } = readCheckpoint(checkpointFile);
    if (header.fingerprint !== print) {
      throw new ModelDirError(`checkpoint was written for another model/training config; delete it or use the same settings\n  checkpoint: ${String(header.fingerprint)}\n  now:        ${print}${resumeHints(String(header.fingerprint), print)}`, { file: checkpointFile });
    }
    const take = (name: string, length: number): Float32Array => {
      const a = arrays.get(name);
      if (!a || a.length !== length) throw new ModelDirError(`checkpoint array ${name} is missing or has the wrong size`, { file: checkpointFile });
      return a;
    };
    head.setParams(params.map((p) => take(`param/${p.name}`, p.data.length)));
    adam.setState({
      step: header.adamStep as number,
      m: params.map((p) => take(`adam.m/${p.name}`, p.data.length)),
      v: params.map((p) => take(`adam.v/${p.name}`, p.data.length)),
    });
    stopper.state = header.earlyStopping as EarlyStopping['state'];
    stopper.bestWeights = arrays.has(`best/${params[0]!.name}`) ? params.map((p) => take(`best/${p.name}`, p.data.length).slice()) : null;
    if (average) average = params.map((p) => take(`average/${p.name}`, p.data.length).slice());
    // JSON keeps no NaN: the val figures of epochs trained without validation (train + val) come back as null.
    const figure = (x: unknown): number => (typeof x === 'number' ? x : NaN);
    history.push(...(header.history as EpochRecord[]).map((r) => ({ ...r, valLoss: figure(r.valLoss), valTop1: figure(r.valTop1), valTop5: figure(r.valTop5) })));
    startEpoch = (header.epoch as number) + 1;
    resumed = true;
  }

  let pool: ParallelMatMul | undefined;
  if (config.helperThreads === 1) {
    const d = Math.max(preparedDim(head.config.featureDim, head.config.preprocessing), head.config.hidden);
    const tb = Math.max(config.batchSize, 128) * train.sequenceLength;
    const rows = Math.ceil((2 * head.config.hidden + 8) / 8) * 8;
    pool = await ParallelMatMul.start(rows * Math.max(d, tb) * 2 + d * tb);
    head.bigMatMul = (a, m, k, b, n) => pool!.matMul(a, m, k, b, n);
  }
  try {
    return await trainEpochs();
  } finally {
    head.bigMatMul = undefined;
    await pool?.close();
  }

  async function trainEpochs(): Promise<FitResult> {
    const numBatches = Math.ceil(train.numSamples / config.batchSize);
    let epochsThisRun = 0;
    for (let epoch = startEpoch; epoch < config.epochs && !stopper.state.stopped; epoch++) {
      if (options.maxEpochsThisRun !== undefined && epochsThisRun >= options.maxEpochsThisRun) break;
      const started = Date.now();
      const bar = createProgress(`epoch ${epoch + 1}/${config.epochs}`, numBatches, { mode: options.progress, unit: 'batches' });
      let lossSum = 0;
      let seen = 0;
      let step = 0;
      const weights = params.map((p) => p.data);
      for await (const batch of train.batches(config.batchSize, { shuffle: true, seed: epochSeed(config.seed, epoch) })) {
        const rate = learningRateAt(config, (epoch * numBatches + step) / (config.epochs * numBatches));
        adam.learningRate = rate;
        const decay = 1 - rate * (config.weightDecay ?? 0);
        let loss: number;
        let grads: Float32Array[];
        const mixed = config.mixup ? mixBatch(batch.x, batch.labels, config.mixup, stepSeed(config.seed, epoch, step) ^ 0x5bd1e995) : null;
        try {
          ({ loss, grads } = head.lossAndGrads(mixed?.x ?? batch.x, batch.labels, stepSeed(config.seed, epoch, step), config.labelSmoothing ?? 0, mixed?.targets));
        } finally {
          batch.x.dispose();
          mixed?.x.dispose();
        }
        if (!Number.isFinite(loss)) throw new ConfigError(`training diverged: loss ${loss} at epoch ${epoch + 1}, batch ${step + 1} (lower train.learningRate)`);
        // Decoupled weight decay (PyTorch's AdamW): every weight shrinks by lr x decay before the Adam step.
        if (decay !== 1) for (const w of weights) for (let k = 0; k < w.length; k++) w[k]! *= decay;
        adam.apply(weights, grads);
        if (average) {
          for (let k = 0; k < weights.length; k++) {
            const w = weights[k]!;
            const a = average[k]!;
            for (let i = 0; i < w.length; i++) a[i] = momentum * a[i]! + (1 - momentum) * w[i]!;
          }
        }
        lossSum += loss * batch.labels.length;
        seen += batch.labels.length;
        step++;
        bar.tick(1, `loss ${(lossSum / seen).toFixed(4)}`);
      }
      const record: EpochRecord = { epoch, trainLoss: lossSum / seen, valLoss: NaN, valTop1: NaN, valTop5: NaN, seconds: 0 };
      if (validating) {
        // With a weight average, the average is what is validated and kept; the live weights train on after.
        const live = average ? head.snapshot() : null;
        if (average) head.setParams(average);
        const valPred = await predictSource(head, val);
        if (live) head.setParams(live);
        const acc = topKAccuracy(valPred.probs, valPred.labels, head.config.numClasses);
        Object.assign(record, { valLoss: valPred.loss, valTop1: acc.top1, valTop5: acc.top5 });
      }
      record.seconds = (Date.now() - started) / 1000;
      history.push(record);
      if (validating) stopper.update(epoch, monitoredScore(config, record), () => (average ? average.map((a) => a.slice()) : head.snapshot()));
      const scores = validating ? `, val loss ${record.valLoss.toFixed(4)}, val top-1 ${formatPercent(record.valTop1)}, top-5 ${formatPercent(record.valTop5)}` : '';
      bar.stop(
        `epoch ${epoch + 1}/${config.epochs}: train loss ${record.trainLoss.toFixed(4)}${scores} (${record.seconds.toFixed(1)} s)` +
          (stopper.state.stopped ? `; early stopping (best epoch ${stopper.state.bestEpoch + 1})` : ''),
      );
      if (checkpointFile) {
        const arrays = [
          ...params.map((p) => ({ name: `param/${p.name}`, data: p.data })),
          ...params.map((p, k) => ({ name: `adam.m/${p.name}`, data: adam.state.m[k]! })),
          ...params.map((p, k) => ({ name: `adam.v/${p.name}`, data: adam.state.v[k]! })),
          ...(stopper.bestWeights ? params.map((p, k) => ({ name: `best/${p.name}`, data: stopper.bestWeights![k]! })) : []),
          ...(average ? params.map((p, k) => ({ name: `average/${p.name}`, data: average![k]! })) : []),
        ];
        await writeCheckpoint(checkpointFile, { fingerprint: print, epoch, adamStep: adam.state.step, earlyStopping: stopper.state, history }, arrays);
        await saveHistory(history, options.checkpointDir!);
      }
      await options.onEpoch?.(record);
      epochsThisRun++;
    }

    if (config.restoreBest && stopper.bestWeights) head.setParams(stopper.bestWeights);
    else if (average) head.setParams(average);
    const bestEpoch = config.restoreBest && stopper.bestWeights ? stopper.state.bestEpoch : history.length - 1;
    return { history, bestEpoch, stoppedEarly: stopper.state.stopped, resumed };
  }
}
