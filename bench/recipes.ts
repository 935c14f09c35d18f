/**
 * Which CNN-window recipe recognises signs (the landmark and whole-clip streams: bench/streams.ts)? Trains several configurations (frame selection, sequence windows, head) on
 * cached features and prints per-video top-1/5/10 on one split, beside the order-blind control (the mean of a
 * clip's frame features -> linear softmax, with the same frames): a recipe that does not beat the control has
 * learnt nothing the control did not. Choose on `val`; the test split is for the final report only.
 *
 *   npx tsx bench/recipes.ts                                    # embedded sample, test split (its pairs)
 *   npx tsx bench/recipes.ts --data ../shared/data/wlasl100-trainval --split val --seeds 42,1,7
 *   --weights DIR (default: the embedded/cached default), --only NAME[,NAME], --cache-dir DIR, --helper-threads 1
 * Ends with one JSON line: per recipe, the mean and each seed's per-video top-1/5/10.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig, PRESETS, mergeConfig, type DeepPartial, type PipelineConfig } from '../src/config';
import { initBackend } from '../src/runtime/backend';
import { loadIndex, buildFeatures, splitSource } from '../src/pipeline/run';
import { createHead, fit } from '../src/model/train';
import { evaluate, formatPercent, type EvaluationReport } from '../src/model/metrics';
import { trainMeanPoolBaseline, DEFAULT_MEAN_POOL_OPTIONS } from '../src/model/baselines';
import type { Split } from '../src/metadata/types';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(__dirname, '..', 'data', 'sample') },
    weights: { type: 'string' },
    alpha: { type: 'string' },
    split: { type: 'string', default: 'test' },
    only: { type: 'string' },
    seeds: { type: 'string', default: '42' },
    'cache-dir': { type: 'string' },
    'helper-threads': { type: 'string', default: '0' },
  },
});

/** The whole sign: every clip resampled to 32 frames over its WLASL range (here, whole clips). */
const WHOLE_SIGN: DeepPartial<PipelineConfig> = { frames: { window: { useMetadataRange: true, maxFrames: 32, resample: true } } };
const FAST_HEAD = { train: { learningRate: 1e-3, epochs: 60, patience: 10, batchSize: 16 } };

const RECIPES: Record<string, DeepPartial<PipelineConfig>> = {
  original: PRESETS.original!,
  'cnn-windows': {},
  'whole32-T32': mergeConfig(WHOLE_SIGN, { sequence: { sampleSize: 32, stride: 32 }, model: { hidden: 128, standardize: true }, ...FAST_HEAD }),
  'whole32-T32-drop': mergeConfig(WHOLE_SIGN, { sequence: { sampleSize: 32, stride: 32 }, model: { hidden: 128, standardize: true, dropout: 0.5 }, ...FAST_HEAD }),
  'whole32-T16s4': mergeConfig(WHOLE_SIGN, { sequence: { sampleSize: 16, stride: 4 }, model: { hidden: 128, standardize: true }, ...FAST_HEAD }),
  'whole32-T16s4-vel': mergeConfig(WHOLE_SIGN, { sequence: { sampleSize: 16, stride: 4 }, model: { hidden: 128, standardize: true, velocity: true }, ...FAST_HEAD }),
};

interface Row {
  recipe: string;
  seed: number;
  top1: number;
  top5: number;
  top10: number;
  epochs: number;
  seconds: number;
}

function line(r: Row, report?: EvaluationReport): string {
  return `${r.recipe} seed ${r.seed}: ${args.split} per video top-1 ${formatPercent(r.top1)}, top-5 ${formatPercent(r.top5)}, top-10 ${formatPercent(r.top10)}` + ` (${r.epochs} epochs, ${r.seconds.toFixed(1)} s${report ? `, ${report.perVideo.count} videos` : ''})`;
}

async function main(): Promise<void> {
  console.log((await initBackend()).summary);
  const split = args.split as Split;
  const index = loadIndex({ dataDir: args.data! });
  const only = args.only?.split(',');
  const seeds = args.seeds!.split(',').map(Number);
  const overrides: DeepPartial<PipelineConfig> = { backbone: { ...(args.weights ? { weights: args.weights } : {}), ...(args.alpha ? { alpha: Number(args.alpha) as 0.35 } : {}) } };
  const sample = path.resolve(args.data!) === path.resolve(__dirname, '..', 'data', 'sample');
  const rows: Row[] = [];
  // Features are built once per frame selection (and cached across runs); recipes sharing one reuse them.
  const built = new Map<string, Awaited<ReturnType<typeof buildFeatures>>>();
  const controlled = new Set<string>();
  for (const [name, recipe] of Object.entries(RECIPES)) {
    if (only && !only.includes(name)) continue;
    // Every recipe here reads CNN windows: on real data they build on the cnn-windows preset (the default before
    // the landmarks, bench/streams.ts), on the sample on its own preset.
    const config = mergeConfig(resolveConfig({ overrides, sample, preset: sample ? undefined : 'cnn-windows' }), recipe);
    const framesKey = JSON.stringify(config.frames);
    if (!built.has(framesKey)) built.set(framesKey, await buildFeatures(index, config, { cacheDir: args['cache-dir'], log: (l) => console.log(l) }));
    const { report: features } = built.get(framesKey)!;
    if (!controlled.has(framesKey)) {
      // The order-blind control on the same frames: one window of the whole kept clip.
      controlled.add(framesKey);
      const frames = config.frames.window.useMetadataRange ? config.frames.window.maxFrames : config.frames.window.end - config.frames.window.start + 1;
      const whole = mergeConfig(config, { sequence: { sampleSize: frames, stride: frames } });
      for (const seed of seeds) {
        const t0 = Date.now();
        const r = await trainMeanPoolBaseline(splitSource(index, features.cacheDir, whole, 'train'), splitSource(index, features.cacheDir, whole, split), { ...DEFAULT_MEAN_POOL_OPTIONS, seed }, index.classes);
        const row = { recipe: `control(${config.frames.window.useMetadataRange ? 'whole' : '5..35'})`, seed, top1: r.perVideo.top1, top5: r.perVideo.top5, top10: r.perVideo.top10, epochs: DEFAULT_MEAN_POOL_OPTIONS.epochs, seconds: (Date.now() - t0) / 1000 };
        rows.push(row);
        console.log(line(row, r));
      }
    }
    for (const seed of seeds) {
      const cfg = mergeConfig(config, { train: { seed, helperThreads: Number(args['helper-threads']) } });
      const t0 = Date.now();
      const train = splitSource(index, features.cacheDir, cfg, 'train');
      const head = await createHead(train, cfg.model, cfg.train.seed);
      // Early stopping watches val: on a dataset without a test split, val is also what is reported.
      const result = await fit(head, train, splitSource(index, features.cacheDir, cfg, 'val'), cfg.train, { progress: 'none' });
      const r = await evaluate(head, splitSource(index, features.cacheDir, cfg, split), { classNames: index.classes });
      const row = { recipe: name, seed, top1: r.perVideo.top1, top5: r.perVideo.top5, top10: r.perVideo.top10, epochs: result.history.length, seconds: (Date.now() - t0) / 1000 };
      rows.push(row);
      console.log(line(row, r));
    }
  }
  const byRecipe = new Map<string, Row[]>();
  for (const r of rows) byRecipe.set(r.recipe, [...(byRecipe.get(r.recipe) ?? []), r]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\n${args.split} per video, mean of seeds ${seeds.join(', ')}:`);
  const summary: Record<string, unknown> = {};
  for (const [recipe, rs] of byRecipe) {
    const m = { top1: mean(rs.map((r) => r.top1)), top5: mean(rs.map((r) => r.top5)), top10: mean(rs.map((r) => r.top10)) };
    console.log(`  ${recipe.padEnd(22)} top-1 ${formatPercent(m.top1)}  top-5 ${formatPercent(m.top5)}  top-10 ${formatPercent(m.top10)}   (${rs.map((r) => formatPercent(r.top1)).join(' / ')})`);
    summary[recipe] = { ...m, seeds: rs.map((r) => ({ seed: r.seed, top1: r.top1, top5: r.top5, top10: r.top10 })) };
  }
  console.log(JSON.stringify({ bench: 'recipes', data: path.basename(path.resolve(args.data!)), split, seeds, recipes: summary }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
