/**
 * Recipe options on the embedded sample, judged on its VAL split only (the test split stays for the final
 * figures: `npm start -- --seed N`, bench/recipes.ts). Each option is the sample's settings (the sample preset,
 * src/config.ts) plus one change; prints per-video val top-1 for each seed, their mean, and the correct val videos
 * per class summed over seeds (the pairs are adjacent: open/close, grow/shrink, ...).
 *
 *   npx tsx bench/sample_val.ts                           # data/sample, seeds 42,1,7, every option
 *   npx tsx bench/sample_val.ts --only sample,no-velocity --data /tmp/s   # another sample, made by
 *                                                         # npm run sample -- --out /tmp/s --nuisance 0.25
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig, mergeConfig, type DeepPartial, type PipelineConfig } from '../src/config';
import { initBackend } from '../src/runtime/backend';
import { loadIndex, buildFeatures, splitSource } from '../src/pipeline/run';
import { createHead, fit } from '../src/model/train';
import { evaluate } from '../src/model/metrics';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(__dirname, '..', 'data', 'sample') },
    seeds: { type: 'string', default: '42,1,7' },
    only: { type: 'string' },
    'cache-dir': { type: 'string' },
  },
});

/** Options without '-vel' turn the sample preset's velocity off, so each row is one recipe as measured. */
const plain = (o: DeepPartial<PipelineConfig>): DeepPartial<PipelineConfig> => mergeConfig(o, { model: { velocity: false } });
const OPTIONS: Record<string, DeepPartial<PipelineConfig>> = {
  'no-velocity': plain({}), // the default recipe
  sample: {}, // the sample preset: the default recipe + velocity
  T31: plain({ sequence: { sampleSize: 31, stride: 31 } }),
  'T31-vel': { sequence: { sampleSize: 31, stride: 31 } },
  T24s1: plain({ sequence: { sampleSize: 24, stride: 1 } }),
  'T24s1-vel': { sequence: { sampleSize: 24, stride: 1 } },
  T16s1: plain({ sequence: { sampleSize: 16, stride: 1 } }),
  'T16s1-vel': { sequence: { sampleSize: 16, stride: 1 } },
  T8s1: plain({ sequence: { sampleSize: 8, stride: 1 } }),
  h64: plain({ model: { hidden: 64 } }),
  h256: plain({ model: { hidden: 256 } }),
  dropout: plain({ model: { dropout: 0.5 } }),
  'dropout-vel': { model: { dropout: 0.5 } },
  lr3e4: plain({ train: { learningRate: 3e-4 } }),
};

async function main(): Promise<void> {
  console.log((await initBackend()).summary);
  const base = resolveConfig({ sample: true });
  const index = loadIndex({ dataDir: args.data! });
  const { report } = await buildFeatures(index, base, { cacheDir: args['cache-dir'], log: (l) => console.log(l) });
  console.log(`features: ${report.weightsId}, ${report.computed} computed, ${report.reused} reused`);
  const seeds = args.seeds!.split(',').map(Number);
  const only = args.only?.split(',');
  for (const [name, option] of Object.entries(OPTIONS)) {
    if (only && !only.includes(name)) continue;
    const top1: number[] = [];
    const epochs: string[] = [];
    const correct = new Array<number>(index.classes.length).fill(0);
    for (const seed of seeds) {
      const config = mergeConfig(mergeConfig(base, option), { train: { seed } });
      const train = splitSource(index, report.cacheDir, config, 'train');
      const val = splitSource(index, report.cacheDir, config, 'val');
      const head = await createHead(train, config.model, config.train.seed);
      const result = await fit(head, train, val, config.train, { progress: 'none' });
      const r = await evaluate(head, val, { classNames: index.classes });
      top1.push(r.perVideo.top1);
      epochs.push(`${result.bestEpoch + 1}/${result.history.length}`);
      r.perClass.forEach((c, i) => (correct[i]! += c.correct));
    }
    const pct = (x: number) => (100 * x).toFixed(1);
    const mean = top1.reduce((a, b) => a + b, 0) / top1.length;
    console.log(
      `${name.padEnd(12)} val per-video top-1 ${top1.map(pct).join(' / ')}% (mean ${pct(mean)}%), best/last epoch ${epochs.join(' ')}, ` +
        `correct per class [${index.classes.map((c, i) => `${c} ${correct[i]}`).join(', ')}]`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
