import type { ChartSpec } from './charts';

/**
 * The project's standard charts as Vega-Lite specs (data in, spec out), shared by the CLI's run folder and
 * the notebooks so both show the same pictures.
 */
export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valTop1: number;
  valTop5: number;
}

/** Whether any epoch was validated: a model trained on train + val has no val figures (NaN) to chart or choose by. */
export function hasValidation(history: readonly EpochPoint[]): boolean {
  return history.some((h) => Number.isFinite(h.valLoss));
}

/** Train and validation loss per epoch, with the best epoch marked (when there was validation to choose it by). */
export function lossCurveSpec(history: readonly EpochPoint[], bestEpoch?: number, title = 'Loss per epoch'): ChartSpec {
  if (!hasValidation(history)) bestEpoch = undefined;
  // An epoch without validation (a model trained on train + val) has no validation point.
  const values = history.flatMap((h) => [
    { epoch: h.epoch + 1, split: 'train', loss: h.trainLoss },
    ...(Number.isFinite(h.valLoss) ? [{ epoch: h.epoch + 1, split: 'validation', loss: h.valLoss }] : []),
  ]);
  const layers: unknown[] = [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'loss', type: 'quantitative', title: 'cross-entropy' },
        color: { field: 'split', type: 'nominal', title: null },
      },
    },
  ];
  if (bestEpoch !== undefined) {
    layers.push({ data: { values: [{ epoch: bestEpoch + 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } });
  }
  return { title, width: 420, height: 220, data: { values }, layer: layers } as ChartSpec;
}

/** Validation top-1 and top-5 per epoch. */
export function accuracyCurveSpec(history: readonly EpochPoint[], title = 'Validation accuracy per epoch'): ChartSpec {
  const values = history.flatMap((h) => [
    { epoch: h.epoch + 1, metric: 'top-1', accuracy: h.valTop1 },
    { epoch: h.epoch + 1, metric: 'top-5', accuracy: h.valTop5 },
  ]);
  return {
    title,
    width: 420,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } },
      color: { field: 'metric', type: 'nominal', title: null },
    },
  };
}

/** Confusion matrix heatmap: rows true gloss, columns predicted, counts in cells. */
export function confusionMatrixSpec(confusion: readonly (readonly number[])[], classNames: readonly string[], title = 'Confusion matrix (per video, test split)'): ChartSpec {
  const values = confusion.flatMap((row, t) => row.map((count, p) => ({ true: classNames[t] ?? String(t), predicted: classNames[p] ?? String(p), count })));
  const side = Math.max(160, Math.min(640, classNames.length * 28));
  return {
    title,
    width: side,
    height: side,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: [...classNames], title: 'predicted gloss' },
      y: { field: 'true', type: 'nominal', sort: [...classNames], title: 'true gloss' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, title: 'videos' } } },
      ...(classNames.length <= 30
        ? [{ mark: { type: 'text', fontSize: 10 }, transform: [{ filter: 'datum.count > 0' }], encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: 'datum.count > 2', value: 'white' }, value: 'black' } } }]
        : []),
    ],
  } as ChartSpec;
}

/**
 * Bars of per-class accuracy. A class with no video in the split has no accuracy (not 0%): it gets no bar, and
 * the subtitle counts the classes left out, so an empty bar always means a class that was never right.
 */
export function perClassAccuracySpec(rows: readonly { gloss: string; accuracy: number; videos: number }[], title = 'Per-class accuracy (per video, test split)'): ChartSpec {
  const scored = rows.filter((r) => r.videos > 0 && !Number.isNaN(r.accuracy));
  const leftOut = rows.length - scored.length;
  return {
    title: leftOut ? { text: title, subtitle: `${leftOut} class${leftOut === 1 ? '' : 'es'} with no video in the split left out` } : title,
    width: 420,
    height: Math.max(120, scored.length * 16),
    data: { values: scored.map((r) => ({ ...r })) },
    mark: 'bar',
    encoding: {
      y: { field: 'gloss', type: 'nominal', sort: '-x', title: null },
      x: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } },
      tooltip: [{ field: 'gloss' }, { field: 'accuracy', format: '.0%' }, { field: 'videos' }],
    },
  };
}

/**
 * The frames each sequence window of one video takes, one row per window: `starts` are the windows' first
 * frames counted from the kept range's first source frame `firstFrame` (as dataset/sequences' windowStarts
 * gives them). At most `maxWindows` rows, so a dense stride stays readable.
 */
export function sequenceWindowsSpec(starts: readonly number[], sampleSize: number, firstFrame: number, title = `Sequence windows of one video (T = ${sampleSize})`, maxWindows = 30): ChartSpec {
  const shown = starts.slice(0, maxWindows);
  return {
    title,
    width: 480,
    height: Math.max(40, shown.length * 14),
    data: { values: shown.flatMap((start, w) => Array.from({ length: sampleSize }, (_, k) => ({ window: `window ${w + 1}`, frame: firstFrame + start + k }))) },
    mark: { type: 'rect', stroke: 'white' },
    encoding: {
      x: { field: 'frame', type: 'ordinal', title: 'source frame index' },
      y: { field: 'window', type: 'ordinal', sort: null, title: null },
      color: { field: 'window', type: 'nominal', legend: null },
    },
  };
}

/** One picture in an image grid: its row (e.g. a sample's gloss and video), its column and a data URI. */
export interface ImageGridCell {
  row: string;
  column: string;
  url: string;
}

/**
 * A grid of thumbnails as a Vega-Lite image mark (the original's show_sample, one row per sequence): rows
 * labelled on the left, columns in the given order. The images are data URIs, so the spec is self-contained
 * and its static SVG/PNG (vega's headless renderer + sharp) shows the same pictures.
 */
export function imageGridSpec(cells: readonly ImageGridCell[], options: { thumb?: number; title?: string; columnTitle?: string } = {}): ChartSpec {
  const thumb = options.thumb ?? 64;
  const columns = [...new Set(cells.map((c) => c.column))];
  const rows = [...new Set(cells.map((c) => c.row))];
  return {
    ...(options.title ? { title: options.title } : {}),
    width: { step: thumb + 4 },
    height: { step: thumb + 4 },
    data: { values: cells.map((c) => ({ ...c })) },
    mark: { type: 'image', width: thumb, height: thumb },
    encoding: {
      x: { field: 'column', type: 'ordinal', sort: columns, title: options.columnTitle ?? null, axis: { orient: 'top', labelAngle: 0, ticks: false, domain: false } },
      y: { field: 'row', type: 'nominal', sort: rows, title: null, axis: { ticks: false, domain: false, labelFontSize: 11, labelLimit: 400 } },
      url: { field: 'url', type: 'nominal' },
    },
  } as ChartSpec;
}

/** Horizontal bars of the top-k glosses of one prediction, most probable first. */
export function topKSpec(top: readonly { gloss: string; probability: number }[], title = 'Top predictions'): ChartSpec {
  return {
    title,
    width: 360,
    height: Math.max(60, top.length * 22),
    data: { values: top.map((t, rank) => ({ rank: rank + 1, gloss: t.gloss, probability: t.probability })) },
    mark: 'bar',
    encoding: {
      y: { field: 'gloss', type: 'nominal', sort: { field: 'rank' }, title: null },
      x: { field: 'probability', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } },
    },
  };
}

/** One recipe's per-video accuracy on one split (a mean over seeds), as bench/streams.ts and bench/recipes.ts print it. */
export interface RecipeResult {
  recipe: string;
  top1: number;
  top5: number;
  top10: number;
  /** Where the figure comes from: 'ours' (measured here) or a published reference. */
  kind: 'ours' | 'control' | 'paper';
}

/** Grouped horizontal bars: top-1, top-5 and top-10 per recipe, in the given order, controls and paper rows marked. */
export function recipeComparisonSpec(rows: readonly RecipeResult[], title = 'Recipes: per-video accuracy'): ChartSpec {
  const values = rows.flatMap((r) =>
    (['top1', 'top5', 'top10'] as const).map((k) => ({ recipe: r.recipe, kind: r.kind, metric: k.replace('top', 'top-'), accuracy: r[k] })),
  );
  return {
    title,
    data: { values },
    facet: { row: { field: 'recipe', type: 'nominal', sort: rows.map((r) => r.recipe), title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 420 } } },
    spec: {
      width: 320,
      height: { step: 9 },
      mark: 'bar',
      encoding: {
        y: { field: 'metric', type: 'nominal', title: null, axis: null, sort: ['top-1', 'top-5', 'top-10'] },
        x: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'per-video accuracy' },
        color: { field: 'metric', type: 'nominal', title: null, scale: { domain: ['top-1', 'top-5', 'top-10'], range: ['#1f4e79', '#5b9bd5', '#bdd7ee'] } },
        opacity: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['ours', 'control', 'paper'], range: [1, 0.7, 0.45] } },
        tooltip: [{ field: 'recipe' }, { field: 'metric' }, { field: 'accuracy', format: '.1%' }],
      },
    },
    spacing: 2,
  } as unknown as ChartSpec;
}
