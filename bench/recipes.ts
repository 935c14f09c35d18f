/**
 * Which recipe learns temporal order? Trains several configurations on the same cached features and prints
 * per-video test accuracy, with the frame-order-blind control (mean of features -> dense) and the
 * within-pair confusion for the embedded sample's time-reversed pairs.
 *
 *   npx tsx bench/recipes.ts                         # embedded sample, random 0.35 backbone
 *   npx tsx bench/recipes.ts --data ../shared/data/wlasl-real10 --weights ../shared/weights/mobilenet_v2_0.35_224_no_top
 *   add --alpha 1.0 for the original's backbone width; --only NAME[,NAME] to run some recipes; --seeds 42,1,7;
 *   --helper-threads 1 to split the large matmuls with a second thread; --cache-dir DIR (default: the per-user cache, as the CLI)
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig, PRESETS, mergeConfig, type DeepPartial, type PipelineConfig } from '../src/config';
import { initBackend } from '../src/runtime/backend';
import { loadIndex, buildFeatures, splitSource } from '../src/pipeline/run';
import { createHead, fit } from '../src/model/train';
import { evaluate, type EvaluationReport } from '../src/model/metrics';
import { trainMeanPoolBaseline } from '../src/model/baselines';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(__dirname, '..', 'data', 'sample') },
    weights: { type: 'string', default: 'random' },
    alpha: { type: 'string', default: '0.35' },
    only: { type: 'string' },
    seeds: { type: 'string', default: '42' },
    'cache-dir': { type: 'string' },
    'helper-threads': { type: 'string', default: '0' },
  },
});

const RECIPES: Record<string, DeepPartial<PipelineConfig>> = {
  original: PRESETS.original!,
  default: {},
  ...Object.fromEntries(Object.entries(PRESETS).filter(([k]) => k !== 'original')),
  'T31-lr1e-3': { sequence: { sampleSize: 31, stride: 31 }, model: { hidden: 128, standardize: true }, train: { learningRate: 1e-3, epochs: 60, patience: 10, batchSize: 16 } },
  'T16s5-lr1e-3': { sequence: { sampleSize: 16, stride: 5 }, model: { hidden: 128, standardize: true }, train: { learningRate: 1e-3, epochs: 60, patience: 10, batchSize: 16 } },
  'T16s5-vel': { sequence: { sampleSize: 16, stride: 5 }, model: { hidden: 128, standardize: true, velocity: true }, train: { learningRate: 1e-3, epochs: 60, patience: 10, batchSize: 16 } },
  'T31-vel-drop': { sequence: { sampleSize: 31, stride: 31 }, model: { hidden: 128, standardize: true, velocity: true, dropout: 0.3 }, train: { learningRate: 1e-3, epochs: 60, patience: 10, batchSize: 16 } },
};

/** Within-pair confusion for the sample's pairs (class 2k vs 2k+1 in metadata order when pairs are adjacent). */
function pairConfusion(report: EvaluationReport): string {
  return report.classNames.map((n, i) => `${n}:${report.perClass[i]!.correct}/${report.perClass[i]!.videos}`).join(' ');
}

async function main(): Promise<void> {
  console.log((await initBackend()).summary);
  const base = resolveConfig({ overrides: { backbone: { weights: args.weights, alpha: Number(args.alpha) as 0.35, allowRandomFallback: true } } });
  const index = loadIndex({ dataDir: args.data! });
  // The per-user cache keys features by data folder, so a read-only one (the ../shared copy) needs nothing special.
  const { report } = await buildFeatures(index, base, { cacheDir: args['cache-dir'], log: (l) => console.log(l) });
  console.log(`features: ${report.weightsId}, ${report.computed} computed, ${report.reused} reused`);
  const only = args.only?.split(',');
  const seeds = args.seeds!.split(',').map(Number);
  const rows: string[] = [];
  // Order-blind control on whole windows.
  {
    const cfg = mergeConfig(base, RECIPES['T31-lr1e-3']!);
    const t0 = Date.now();
    const r = await trainMeanPoolBaseline(splitSource(index, report.cacheDir, cfg, 'train'), splitSource(index, report.cacheDir, cfg, 'test'), { epochs: 60, learningRate: 1e-3, batchSize: 16, seed: 42 }, index.classes);
    rows.push(`order-blind control (mean of 31 frames -> dense): test per-video top-1 ${(100 * r.perVideo.top1).toFixed(1)}% top-5 ${(100 * r.perVideo.top5).toFixed(1)}% [${pairConfusion(r)}] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(rows[rows.length - 1]);
  }
  for (const [name, recipe] of Object.entries(RECIPES)) {
    if (only && !only.includes(name)) continue;
    for (const seed of seeds) {
      const cfg = mergeConfig(mergeConfig(base, recipe), { train: { seed, helperThreads: Number(args['helper-threads']) } });
      const train = splitSource(index, report.cacheDir, cfg, 'train');
      const val = splitSource(index, report.cacheDir, cfg, 'val');
      const test = splitSource(index, report.cacheDir, cfg, 'test');
      const t0 = Date.now();
      const head = await createHead(train, cfg.model, cfg.train.seed);
      const result = await fit(head, train, val, cfg.train, { progress: 'none' });
      const r = await evaluate(head, test, { classNames: index.classes });
      const trainR = await evaluate(head, train, { classNames: index.classes });
      rows.push(
        `${name} seed ${seed}: epochs ${result.history.length} (best ${result.bestEpoch + 1}), train per-video ${(100 * trainR.perVideo.top1).toFixed(1)}%, ` +
          `test per-video top-1 ${(100 * r.perVideo.top1).toFixed(1)}% top-5 ${(100 * r.perVideo.top5).toFixed(1)}%, per-seq ${(100 * r.perSequence.top1).toFixed(1)}% [${pairConfusion(r)}] ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      console.log(rows[rows.length - 1]);
    }
  }
  console.log('\n' + rows.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
