/**
 * Publishes a finished WLASL100 run as the ready model (issue 17 point 3): copies its model folder to
 * models/wlasl100, keeps the val figures beside it (metrics.json: per video, per sequence, per class) and writes
 * MODEL_CARD.md from them, so the card states exactly what the committed weights measured.
 *
 *   npm run cli -- run --data ../shared/data/wlasl100-trainval --seed 42 --run-dir runs/wlasl100
 *   npm run cli -- run --data ../shared/data/wlasl100-trainval --seed 42 --train-on train+val --run-dir runs/wlasl100-all
 *   npx tsx scripts/make_ready_model.ts runs/wlasl100-all --val-from runs/wlasl100
 *
 * A model trained on train + val (the ready model since 2026-12-07) has no val figures of its own: --val-from names
 * its twin, the same recipe and seed trained on train alone, whose val figures the card gives as what the recipe
 * measures. A run trained on train alone is published with its own val figures (no --val-from).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { READY_MODEL_DIR, readModelMeta } from '../src/model/model_dir';
import type { EvaluationReport } from '../src/model/metrics';
import { writeDirectoryAtomic } from '../src/runtime/atomic';

const { values: options, positionals } = parseArgs({ allowPositionals: true, options: { 'val-from': { type: 'string' } } });
const runDir = path.resolve(positionals[0] ?? '');
if (positionals.length !== 1 || !fs.existsSync(path.join(runDir, 'metrics.json'))) {
  console.error('usage: npx tsx scripts/make_ready_model.ts <run dir with model/ and metrics.json> [--val-from <the same recipe and seed trained on train alone>]');
  process.exit(1);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The recipe's mean over seeds 42, 1 and 7, as bench/results/wlasl100_val.json records it (README, "Real signs"). */
function seedMean(): string {
  const file = path.join(__dirname, '..', 'bench', 'results', 'wlasl100_val.json');
  const { rows } = JSON.parse(fs.readFileSync(file, 'utf8')) as { rows: Array<{ recipe: string; top1: number; top5: number; top10: number }> };
  const row = rows.find((r) => r.recipe.startsWith('default:'));
  if (!row) throw new Error(`${file}: no row for the default recipe`);
  return `top-1 / top-5 / top-10 ${[row.top1, row.top5, row.top10].map((x) => (100 * x).toFixed(1)).join(' / ')}%`;
}

/**
 * What training on train alone instead of train + val costs, as bench/results/train_val_cv_2026-12-07.json records
 * it: the default kept at its last epoch under cross-validation, on about 83% of each fold's training clips against
 * all of them (README, "Real signs").
 */
function trainValGain(): string {
  const file = path.join(__dirname, '..', 'bench', 'results', 'train_val_cv_2026-12-07.json');
  type Row = { seeds: number[]; top1: number[]; top5: number[] };
  const { runs } = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Array<{ results: Record<string, Row> }> };
  const pooled = (recipe: string) => {
    const rows = runs.map((r) => r.results[recipe]).filter((r): r is Row => r !== undefined);
    const mean = (k: 'top1' | 'top5') => (100 * rows.reduce((sum, r) => sum + r[k].reduce((a, b) => a + b, 0), 0)) / rows.reduce((n, r) => n + r[k].length, 0);
    return { top1: mean('top1'), top5: mean('top5'), seeds: rows.flatMap((r) => r.seeds) };
  };
  const all = pooled('lm-face-right-mix04-hdrop25-fixed');
  const part = pooled('lm-face-right-mix04-hdrop25-fixed-share82');
  return `${(all.top1 - part.top1).toFixed(1)} points of top-1 and ${(all.top5 - part.top5).toFixed(1)} of top-5 less (${part.top1.toFixed(1)} / ${part.top5.toFixed(1)} against ${all.top1.toFixed(1)} / ${all.top5.toFixed(1)}, seeds ${part.seeds.join(', ')})`;
}

/** Measured apart from the run this script publishes (bench/framing.ts --model); update it with the weights. */
const FRAMING = '50 training-split clips 14/33, 40/49, 49/50; the 16 val-split clips, trained on too, 10/11, 16/16, 16/16 (its twin, which never saw them: 8/11, 8/14, 9/14)';

async function main(): Promise<void> {
  type RunMetrics = { val: EvaluationReport; bestEpoch: number; stoppedEarly: boolean; withoutCopiesOfTraining?: { val: { count: number; excluded: number; top1: number; top5: number } } };
  type RunConfig = { train: { seed: number; epochs: number; learningRate: number; batchSize: number; labelSmoothing?: number; weightDecay?: number; mixup?: number; emaMomentum?: number; trainOn?: 'train' | 'train+val' } };
  const readJson = <T>(dir: string, name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
  const metrics = readJson<RunMetrics>(runDir, 'metrics.json');
  const config = readJson<RunConfig>(runDir, 'config.json');
  const meta = readModelMeta(path.join(runDir, 'model'));
  const allClips = config.train.trainOn === 'train+val';
  // Trained on train + val, the val figures are its twin's: the same config but for trainOn, trained on train alone.
  const twinDir = options['val-from'] ? path.resolve(options['val-from']) : null;
  if (allClips && !twinDir) throw new Error(`${runDir} was trained on train + val, so it has no val figures: give --val-from <the same recipe and seed trained on train alone>`);
  if (!allClips && twinDir) throw new Error(`${runDir} was trained on train alone and has its own val figures: leave --val-from out`);
  if (twinDir) {
    const twin = readJson<RunConfig>(twinDir, 'config.json');
    // The same recipe and seed (helper threads change the speed, not the weights) on the same dataset and train split.
    const recipe = (c: RunConfig) => {
      const { trainOn: _trainOn, helperThreads: _threads, ...train } = c.train as RunConfig['train'] & { helperThreads?: number };
      return JSON.stringify({ ...c, train });
    };
    const dataOf = (dir: string) => JSON.stringify([readModelMeta(path.join(dir, 'model')).training?.dataset, readJson<Array<{ gloss: string; train: number }>>(dir, 'data/counts.json').map((c) => [c.gloss, c.train])]);
    if (twin.train.trainOn === 'train+val' || recipe(config) !== recipe(twin)) {
      throw new Error(`${twinDir} is not the same recipe and seed trained on train alone (its config.json differs from ${runDir}'s in more than train.trainOn)`);
    }
    if (dataOf(twinDir) !== dataOf(runDir)) throw new Error(`${twinDir} was trained on other data than ${runDir} (another dataset, subset or train split)`);
  }
  const measured = twinDir ? readJson<RunMetrics>(twinDir, 'metrics.json') : metrics;
  const val = measured.val;
  const copies = measured.withoutCopiesOfTraining?.val;
  if (val.perVideo.count === 0) throw new Error(`${twinDir ?? runDir}: no val videos were scored`);
  const scored = val.perClass.filter((c) => c.videos > 0).sort((a, b) => b.accuracy! - a.accuracy! || b.videos - a.videos || a.name.localeCompare(b.name));
  const perfect = scored.filter((c) => c.accuracy === 1);
  const never = scored.filter((c) => c.accuracy === 0);
  const trainCounts = readJson<Array<{ train: number; val: number }>>(runDir, 'data/counts.json');
  const trainVideos = trainCounts.reduce((n, c) => n + c.train, 0);
  const allVideos = trainCounts.reduce((n, c) => n + c.train + c.val, 0);

  const card = `# Ready model: WLASL100 isolated-sign recogniser

The model \`npm run cli -- predict clip.mp4\` and the browser page (\`npm run web\`) use when no \`--model\` is given. Trained with this project's
default recipe${allClips ? " on WLASL100's train and val clips together; its val figures below are those of its twin, the same recipe and seed trained on train alone (\`metrics.json\` beside this card), and the framing figures were measured on the committed weights" : '; everything below was measured on the committed weights (\`metrics.json\` beside this card)'}.

## What it does

Given a video of one isolated American Sign Language sign, it returns the most likely of the 100 glosses of
WLASL100 (\`npm run cli -- predict --list-classes\` lists them) with probabilities. It reads hand and body
landmarks (MoveNet and MediaPipe hand landmarks from \`@vladmandic/human\`, run on the CPU, offline), not pixels:
where the hands and arms are, each hand's shape${meta.stream.handAngles ? ' and its joint angles' : ''}${meta.stream.faceContact ? ' and where its fingertips are about the face' : ''}; up to 32 frames spread over the clip, 16 of
them per view, five views averaged.

## Data and splits

WLASL v0.3 (Li et al., WACV 2020), the 100 glosses of WLASL100 as the WLASL authors define them: the train and
val splits of the publicly available clips (\`../shared/data/wlasl100-trainval\`: 641 train and 143 val videos,
about 6 train clips a gloss, clips cropped to the signer's box plus a margin). ${
    allClips
      ? `Trained on train and val together (${meta.classes.length} glosses, ${allVideos} videos, \`--train-on train+val\`) for all ${config.train.epochs} epochs, the last kept: val and a cross-validation over train and val had chosen the recipe and its epoch limit first, and once chosen the model to keep learns from every clip (under cross-validation, the recipe trained on about 83% of each fold's training clips (train alone is 82% of train + val) scored ${trainValGain()} on the same clips; README, "Real signs").`
      : 'Trained on train; val and a cross-validation over train and val chose the recipe, val the epoch (early stopping).'
  } The WLASL100 test split was not used for anything: it is held back for
independent evaluation.

## Recipe

\`${meta.stream.features}\` stream${meta.stream.handAngles ? ' with hand angles' : ''}${meta.stream.faceContact ? ', face contact' : ''}${meta.stream.rightLeads ? ', the leading hand on the right (a clip whose left wrist is held higher is read mirrored)' : ''}, whole clip (${meta.sequence.sampleSize} frames spread over each view),
${meta.head.bidirectional ? 'bidirectional ' : ''}LSTM(${meta.head.hidden}) with frame-to-frame changes (velocity ${meta.head.velocity}), the classifier on ${meta.head.pooling === 'mean' ? "the mean of the LSTM's states over time" : "the LSTM's last state"}, Adam ${config.train.learningRate}, batch ${config.train.batchSize}${config.train.labelSmoothing ? `, label smoothing ${config.train.labelSmoothing}` : ''}${config.train.weightDecay ? `, weight decay ${config.train.weightDecay}` : ''}${config.train.mixup ? `, mixup ${config.train.mixup} (each training sequence blended with another of its batch, labels alike)` : ''}${config.train.emaMomentum ? `, a moving average of the weights (momentum ${config.train.emaMomentum}) ${allClips ? 'kept' : 'validated and kept'}` : ''},
${allClips ? `${config.train.epochs} epochs, the last kept (nothing held out to stop on; its twin, validated on val, kept its best epoch, ${measured.bestEpoch + 1}${measured.stoppedEarly ? ', and stopped early' : ` of ${config.train.epochs}`})` : `early stopping on val loss (best epoch ${metrics.bestEpoch + 1})`}; training views are random spans of at least
${100 * meta.stream.minSpan}% of the sign with the keypoints turned, scaled and shifted${meta.stream.handDrop ? `, each hand seen in a frame dropped (filled from the frames around, as a missed hand is) with chance ${meta.stream.handDrop}` : ''}. Seed ${config.train.seed}.
Reproduce:

\`\`\`bash
npm run cli -- run --data ../shared/data/wlasl100-trainval --seed ${config.train.seed} --run-dir runs/wlasl100
${allClips ? `npm run cli -- run --data ../shared/data/wlasl100-trainval --seed ${config.train.seed} --train-on train+val --run-dir runs/wlasl100-all\nnpx tsx scripts/make_ready_model.ts runs/wlasl100-all --val-from runs/wlasl100` : 'npx tsx scripts/make_ready_model.ts runs/wlasl100'}
\`\`\`

## Figures (WLASL100 val split, ${val.perVideo.count} videos, per video${allClips ? ': its twin, trained on train alone' : ''})
${allClips ? `\nThese weights learnt from the val clips too, so they cannot be scored on them; the twin's figures are what the recipe measures on clips it never saw, and the weights here had ${(allVideos / trainVideos).toFixed(2)} times its training clips.\n` : ''}
| top-1 | top-5 | top-10 | chance top-1 |
| --- | --- | --- | --- |
| ${pct(val.perVideo.top1)} | ${pct(val.perVideo.top5)} | ${pct(val.perVideo.top10)} | 1.0% |
${copies?.excluded ? `\nWithout the ${copies.excluded} val videos that are byte copies of training videos (WLASL lists some clips twice; README, "Copies in the data"): top-1 ${pct(copies.top1)}, top-5 ${pct(copies.top5)} on ${copies.count} videos.\n` : ''}
Seeds 1 and 7 of the same recipe: see README, "Real signs" (mean of seeds 42, 1 and 7: ${seedMean()}). For
reference, the WLASL paper's test-split rows: VGG-GRU 25.97 / 55.04 / 63.95, Pose-TGCN 55.43 / 78.68 / 87.60,
I3D 65.89 / 84.11 / 89.92 (they train on about twice as many clips).

Per class (val has 1-2 videos of most glosses, so each figure is coarse): ${scored.length} glosses have val
videos; ${perfect.length} are always right (${perfect.slice(0, 12).map((c) => `${c.name} ${c.correct}/${c.videos}`).join(', ')}${perfect.length > 12 ? ', ...' : ''}),
${never.length} never (${never.slice(0, 12).map((c) => `${c.name} 0/${c.videos}`).join(', ')}${never.length > 12 ? ', ...' : ''}).

## Intended use and limits

- For trying the recogniser, teaching and research on isolated-sign recognition. Not for interpreting: it knows
  100 glosses, one sign per clip, and is wrong more often than right on new signers.
- Few clips and few signers a gloss (about 6 training clips each): expect lower accuracy for signers, camera
  angles, lighting and backgrounds unlike WLASL's. It expects one signer, upper body visible, facing the camera.
- Framing matters: it was trained on clips cut to a square around the signer's box. On wlasl-real10 clips given
  whole, top-1 / top-5 when the wide picture is read whole (\`predict --no-auto-frame\`: stretched to a square, the
  signer small), with \`predict\`'s default framing (the signer's box found from the body keypoints, then the clip
  read cut to it) and cut to WLASL's own boxes (\`predict --bbox\`): ${FRAMING}
  (\`npx tsx bench/framing.ts --per-gloss 5\`). The browser page frames a file or a webcam recording the same way.
- Isolated signs only: a clip of a sentence or of fingerspelling gets an answer that means nothing.
- A hand the hand model misses (a third of visible wrists on WLASL100: hands over the face, motion blur) is a gap
  the model fills by interpolation.

## Licence

The WLASL videos and annotations are under the Computational Use of Data Agreement (C-UDA-1.0). Under its
definitions, "artificial intelligence models trained on Data (and which do not include more than a de minimis
portion of Data) are Results", and C-UDA "does not impose any restriction with respect to the use,
modification, or distribution of Results" (sections 5 and 2.2). These weights are such a result: they hold no
clip, frame or landmark of WLASL, and none is committed in this repository. The landmark models are
\`@vladmandic/human\`'s (MIT) and are not part of this folder. Cite WLASL (Li et al., WACV 2020) when you use it.
`;
  const files: Record<string, string | Buffer> = {};
  for (const name of fs.readdirSync(path.join(runDir, 'model'))) {
    const file = path.join(runDir, 'model', name);
    if (fs.statSync(file).isFile()) files[name] = fs.readFileSync(file);
  }
  const valOf = allClips ? { valOf: 'the same recipe and seed trained on train alone (these weights learnt from val too)', twinBestEpoch: measured.bestEpoch } : { bestEpoch: metrics.bestEpoch, stoppedEarly: metrics.stoppedEarly };
  files['metrics.json'] = JSON.stringify({ trainedOn: allClips ? 'train+val' : 'train', epochs: allClips ? config.train.epochs : metrics.bestEpoch + 1, val: { perVideo: val.perVideo, perSequence: val.perSequence, perClass: val.perClass }, ...valOf, counts: trainCounts }, null, 1) + '\n';
  files['MODEL_CARD.md'] = card;
  await writeDirectoryAtomic(READY_MODEL_DIR, async (tmp) => {
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), data);
  });
  console.log(`${path.relative(process.cwd(), READY_MODEL_DIR)}: ${Object.keys(files).sort().join(', ')}; ${allClips ? "its twin's " : ''}val top-1 ${pct(val.perVideo.top1)}, top-5 ${pct(val.perVideo.top5)}, top-10 ${pct(val.perVideo.top10)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
