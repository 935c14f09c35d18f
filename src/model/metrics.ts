import type * as tf from '@tensorflow/tfjs';
import type { SequenceSource } from '../dataset/types';

/**
 * Evaluation as in the WLASL paper's tables: top-1/5/10 accuracy, per sequence (each window on its own) and
 * per video (the mean of a video's window probabilities), a confusion matrix and per-class accuracy, all
 * plain JSON. The original reports only losses and never evaluates its test set.
 */
export interface Classifier {
  readonly numClasses: number;
  /** Class probabilities for a batch of feature sequences [B, T, D], as [B, C] row-major. */
  predictProbs(x: tf.Tensor3D): Float32Array;
}

export interface TopKAccuracy {
  count: number;
  top1: number;
  top5: number;
  top10: number;
}

export interface ClassAccuracy {
  label: number;
  name: string;
  videos: number;
  correct: number;
  /**
   * NaN when the split has no video of the class: it has no accuracy, which is not 0%. Tables show it as '—'
   * (perClassTable gives null), the per-class chart leaves it out, and it counts in no mean over classes.
   */
  accuracy: number;
}

export interface EvaluationReport {
  numClasses: number;
  classNames: string[];
  perSequence: TopKAccuracy;
  perVideo: TopKAccuracy;
  /** Per video: confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: ClassAccuracy[];
  /** Mean cross-entropy over sequences. */
  loss: number;
  /** Per video: id, true label, predicted label, top-5 labels with probabilities. */
  videos: { videoId: string; label: number; predicted: number; top5: { label: number; prob: number }[] }[];
}

/** Rank of the true class among `probs` (0 = top-1); ties count against the true class. */
export function rankOf(probs: ArrayLike<number>, label: number): number {
  const p = probs[label]!;
  let rank = 0;
  for (let c = 0; c < probs.length; c++) if (c !== label && probs[c]! >= p) rank++;
  return rank;
}

/** Top-k accuracies over rows of [N, C] probabilities. */
export function topKAccuracy(probs: Float32Array, labels: ArrayLike<number>, numClasses: number): TopKAccuracy {
  const n = labels.length;
  let t1 = 0;
  let t5 = 0;
  let t10 = 0;
  for (let i = 0; i < n; i++) {
    const r = rankOf(probs.subarray(i * numClasses, (i + 1) * numClasses), labels[i]!);
    if (r < 1) t1++;
    if (r < 5) t5++;
    if (r < 10) t10++;
  }
  return { count: n, top1: n ? t1 / n : NaN, top5: n ? t5 / n : NaN, top10: n ? t10 / n : NaN };
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}

/** Probabilities of every sequence of `source` in index order, with the mean cross-entropy. */
export async function predictSource(model: Classifier, source: SequenceSource, batchSize = 128): Promise<{ probs: Float32Array; labels: Int32Array; videoIds: string[]; loss: number }> {
  const C = model.numClasses;
  const probs = new Float32Array(source.numSamples * C);
  const labels = new Int32Array(source.numSamples);
  const videoIds: string[] = [];
  let row = 0;
  let lossSum = 0;
  for await (const batch of source.batches(batchSize, { shuffle: false, seed: 0 })) {
    let p: Float32Array;
    try {
      p = model.predictProbs(batch.x);
    } finally {
      batch.x.dispose();
    }
    probs.set(p, row * C);
    for (let b = 0; b < batch.labels.length; b++) {
      labels[row + b] = batch.labels[b]!;
      lossSum -= Math.log(Math.max(p[b * C + batch.labels[b]!]!, 1e-12));
    }
    videoIds.push(...batch.videoIds);
    row += batch.labels.length;
  }
  return { probs, labels, videoIds, loss: row ? lossSum / row : NaN };
}

/** Evaluates a classifier on a source (e.g. the test split). `classNames[i]` names class i. */
export async function evaluate(model: Classifier, source: SequenceSource, options: { classNames?: string[]; batchSize?: number } = {}): Promise<EvaluationReport> {
  const { probs, labels, videoIds, loss } = await predictSource(model, source, options.batchSize);
  return summarisePredictions(probs, labels, videoIds, model.numClasses, options.classNames, loss);
}

/** The report from per-sequence probabilities (exported for hand-made cases and other models). */
export function summarisePredictions(probs: Float32Array, labels: ArrayLike<number>, videoIds: string[], numClasses: number, classNames?: string[], loss = NaN): EvaluationReport {
  const C = numClasses;
  const names = classNames ?? Array.from({ length: C }, (_, i) => String(i));
  const perSequence = topKAccuracy(probs, labels, C);
  // Per video: average the probabilities of its windows (in first-seen order).
  const order: string[] = [];
  const sums = new Map<string, { sum: Float64Array; n: number; label: number }>();
  for (let i = 0; i < labels.length; i++) {
    const id = videoIds[i]!;
    let entry = sums.get(id);
    if (!entry) {
      entry = { sum: new Float64Array(C), n: 0, label: labels[i]! };
      sums.set(id, entry);
      order.push(id);
    }
    for (let c = 0; c < C; c++) entry.sum[c] += probs[i * C + c]!;
    entry.n++;
  }
  const videoProbs = new Float32Array(order.length * C);
  const videoLabels = new Int32Array(order.length);
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const videos: EvaluationReport['videos'] = [];
  order.forEach((id, v) => {
    const e = sums.get(id)!;
    for (let c = 0; c < C; c++) videoProbs[v * C + c] = e.sum[c]! / e.n;
    videoLabels[v] = e.label;
    const row = videoProbs.subarray(v * C, (v + 1) * C);
    const predicted = argmax(row);
    confusion[e.label]![predicted]! += 1;
    const top5 = Array.from(row, (prob, label) => ({ label, prob }))
      .sort((a, b) => b.prob - a.prob)
      .slice(0, 5);
    videos.push({ videoId: id, label: e.label, predicted, top5 });
  });
  const perVideo = topKAccuracy(videoProbs, videoLabels, C);
  const perClass: ClassAccuracy[] = names.map((name, label) => {
    const row = confusion[label]!;
    const total = row.reduce((a, b) => a + b, 0);
    return { label, name, videos: total, correct: row[label]!, accuracy: total ? row[label]! / total : NaN };
  });
  return { numClasses: C, classNames: names, perSequence, perVideo, confusion, perClass, loss, videos };
}

/**
 * Per-class accuracy as a danfojs DataFrame, one row per class of `report`, with one more accuracy column per
 * report in `compare` (e.g. a baseline's; classes matched by gloss). A class with no video in the split has
 * null accuracy (shown as '—'), never 0 (see ClassAccuracy.accuracy). danfojs is loaded only when asked for: it
 * is heavy.
 */
export function perClassTable(report: EvaluationReport, compare: Record<string, EvaluationReport> = {}): import('danfojs-node').DataFrame {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const accuracyOrNull = (c: ClassAccuracy | undefined) => (c === undefined || Number.isNaN(c.accuracy) ? null : c.accuracy);
  const others = Object.entries(compare).map(([name, r]) => [`${name} accuracy`, new Map(r.perClass.map((c) => [c.name, c]))] as const);
  return new dfd.DataFrame(
    report.perClass.map((c) => ({
      label: c.label,
      gloss: c.name,
      videos: c.videos,
      correct: c.correct,
      accuracy: accuracyOrNull(c),
      ...Object.fromEntries(others.map(([column, byName]) => [column, accuracyOrNull(byName.get(c.name))])),
    })),
  );
}

/** A rate as reports print it ("41.3%"); a rate over no items ("n/a") says so instead of "NaN%". */
export function formatPercent(rate: number): string {
  return Number.isFinite(rate) ? `${(100 * rate).toFixed(1)}%` : 'n/a';
}

/** Per-video top-1 and top-5 of a report's videos other than `excluded` (e.g. copies of training videos). */
export function perVideoExcluding(report: EvaluationReport, excluded: ReadonlySet<string>): { count: number; excluded: number; top1: number; top5: number } {
  const kept = report.videos.filter((v) => !excluded.has(v.videoId));
  const share = (hit: (v: EvaluationReport['videos'][number]) => boolean) => (kept.length ? kept.filter(hit).length / kept.length : NaN);
  return {
    count: kept.length,
    excluded: report.videos.length - kept.length,
    top1: share((v) => v.predicted === v.label),
    top5: share((v) => v.top5.some((t) => t.label === v.label)),
  };
}
