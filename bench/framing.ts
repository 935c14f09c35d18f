/**
 * How the ready model does on whole WLASL clips read three ways: the whole picture (`predict --no-auto-frame`),
 * the signer's box found from the body keypoints (`predict`, src/landmarks/framing.ts) and WLASL's own person
 * box (`predict --bbox`). First guesses on wlasl-real10's training-split clips (2 a gloss) and val-split clips.
 *
 *   npx tsx bench/framing.ts [--splits train,val] [--per-gloss 2] [--model DIR]
 *
 * --model: another model folder (a run's model/, before it is published as the ready model).
 *
 * The automatic framing was designed on the training-split clips; val is reported, not tuned on. The test split
 * is not read. Ends with one JSON line of the counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { READY_MODEL_DIR } from '../src/model/model_dir';
import { predictClipVideo } from '../src/pipeline/predict_clip';
import type { Bbox } from '../src/metadata/types';
import { REAL10_DIR } from '../test/helpers';

async function main(): Promise<void> {
  if (!REAL10_DIR) {
    console.log('skipped: no ../shared/data/wlasl-real10');
    return;
  }
  const { values } = parseArgs({ options: { splits: { type: 'string', default: 'train,val' }, 'per-gloss': { type: 'string', default: '2' }, model: { type: 'string', default: READY_MODEL_DIR } } });
  const modelDir = path.resolve(values.model);
  const splits = values.splits.split(',');
  const perGloss = Number(values['per-gloss']);
  if (splits.includes('test')) throw new Error('the test split is held back: not read here');
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR, 'WLASL_v0.3.json'), 'utf8')) as { gloss: string; instances: { video_id: string; split: string; bbox: Bbox }[] }[];
  type Reading = 'whole' | 'found' | 'wlasl';
  const READINGS: Reading[] = ['whole', 'found', 'wlasl'];
  const results: Record<string, { clips: number; unframed: number; top1: Record<Reading, number>; top5: Record<Reading, number> }> = {};
  for (const split of splits) {
    const counts = { clips: 0, unframed: 0, top1: { whole: 0, found: 0, wlasl: 0 }, top5: { whole: 0, found: 0, wlasl: 0 } };
    for (const gloss of metadata) {
      for (const clip of gloss.instances.filter((i) => i.split === split).slice(0, perGloss)) {
        const video = path.join(REAL10_DIR, 'videos', `${clip.video_id}.mp4`);
        const predictions = {
          whole: await predictClipVideo(modelDir, video, { autoFrame: false }),
          found: await predictClipVideo(modelDir, video),
          wlasl: await predictClipVideo(modelDir, video, { bbox: clip.bbox }),
        };
        counts.clips++;
        if (!predictions.found.framing?.applied) counts.unframed++;
        for (const reading of READINGS) {
          const top = predictions[reading].top.map((t) => t.gloss);
          if (top[0] === gloss.gloss) counts.top1[reading]++;
          if (top.slice(0, 5).includes(gloss.gloss)) counts.top5[reading]++;
        }
        const first = (reading: Reading) => predictions[reading].top[0]!.gloss.padEnd(9);
        console.log(
          `${split.padEnd(5)} ${clip.video_id} ${gloss.gloss.padEnd(8)} whole: ${first('whole')} found ${predictions.found.framing?.bbox.join(',') ?? 'none'}: ${first('found')} ` +
            `WLASL ${clip.bbox.join(',')}: ${first('wlasl')}`,
        );
      }
    }
    results[split] = counts;
    const of = (k: number) => `${k}/${counts.clips}`;
    console.log(
      `${split}: top-1 / top-5 read whole ${of(counts.top1.whole)} / ${of(counts.top5.whole)}, with the found signer ${of(counts.top1.found)} / ${of(counts.top5.found)}, ` +
        `with WLASL's box ${of(counts.top1.wlasl)} / ${of(counts.top5.wlasl)}; read whole by the default (no signer found, or the signer's box is the whole picture): ${counts.unframed}\n`,
    );
  }
  console.log(JSON.stringify({ bench: 'framing', model: path.relative(process.cwd(), modelDir), perGloss, ...results }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
