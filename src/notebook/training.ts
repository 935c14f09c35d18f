import type { DataFrame } from 'danfojs-node';
import * as dfd from 'danfojs-node';
import { liveChart } from '../plot/charts';
import { accuracyCurveSpec, hasValidation, lossCurveSpec } from '../plot/specs';
import type { EpochRecord } from '../model/train';
import type { EvaluationReport } from '../model/metrics';

/**
 * Notebook views of training and evaluation that the library's reports do not give directly: loss and
 * accuracy curves that redraw in place after every epoch (the original printed one line per epoch), the
 * history as a table, and the most confused pairs of glosses.
 */
export interface LiveCurves {
  /** Pass as fit's / runPipeline's onEpoch. */
  onEpoch(record: EpochRecord): Promise<void>;
  /** Redraws with the best epoch marked once training is over. */
  finish(bestEpoch: number): Promise<void>;
  readonly history: readonly EpochRecord[];
}

export function liveTrainingCurves(title = ''): LiveCurves {
  const loss = liveChart();
  const accuracy = liveChart();
  const history: EpochRecord[] = [];
  const prefix = title ? `${title}: ` : '';
  // Trained on train + val (train.trainOn), epochs have no val figures: the loss alone, no best epoch marked.
  const draw = async (best?: number) => {
    await loss.update(lossCurveSpec(history, best, `${prefix}loss per epoch`));
    if (hasValidation(history)) await accuracy.update(accuracyCurveSpec(history, `${prefix}validation accuracy per epoch`));
  };
  return {
    history,
    async onEpoch(record) {
      history.push(record);
      await draw();
    },
    async finish(bestEpoch) {
      await draw(bestEpoch);
    },
  };
}

export function historyTable(history: readonly EpochRecord[], bestEpoch?: number): DataFrame {
  // Without validation (train + val) the last epoch is kept, not chosen: nothing is starred.
  if (!hasValidation(history)) bestEpoch = undefined;
  return new dfd.DataFrame(
    history.map((h) => ({
      epoch: h.epoch + 1,
      'train loss': h.trainLoss,
      'val loss': h.valLoss,
      'val top-1': h.valTop1,
      'val top-5': h.valTop5,
      seconds: h.seconds,
      best: h.epoch === bestEpoch ? '*' : '',
    })),
  );
}

export interface ConfusedPair {
  true: string;
  predicted: string;
  /** Videos of `true` predicted as `predicted`. */
  count: number;
  /** count / videos of `true`. */
  share: number;
}

/** Off-diagonal cells of the per-video confusion matrix, largest first. */
export function worstConfusedPairs(report: EvaluationReport, limit = 10): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  report.confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      if (p !== t && count > 0) pairs.push({ true: report.classNames[t]!, predicted: report.classNames[p]!, count, share: count / total });
    });
  });
  return pairs.sort((a, b) => b.count - a.count || b.share - a.share || a.true.localeCompare(b.true)).slice(0, limit);
}

/** Top-1/5/10 of several reports side by side (per video and per sequence). */
export function accuracyTable(reports: Record<string, EvaluationReport>): DataFrame {
  return new dfd.DataFrame(
    Object.entries(reports).map(([name, r]) => ({
      model: name,
      videos: r.perVideo.count,
      'video top-1': r.perVideo.top1,
      'video top-5': r.perVideo.top5,
      'video top-10': r.perVideo.top10,
      sequences: r.perSequence.count,
      'sequence top-1': r.perSequence.top1,
      'sequence top-5': r.perSequence.top5,
    })),
  );
}
