/**
 * How the ready model does on whole WLASL clips read three ways: the whole picture (`predict --no-auto-frame`),
 * the signer's box found from the body keypoints (`predict`, src/landmarks/framing.ts) and WLASL's own person
 * box (`predict --bbox`). First guesses on wlasl-real10's training-split clips (2 a gloss) and val-split clips.
 *
 *   npx tsx bench/framing.ts [--splits train,val] [--per-gloss 2]
 *
 * The automatic framing was designed on the training-split clips; val is reported, not tuned on. The test split
 * is not read. Ends with one JSON line of the counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { READY_MODEL_DIR } from '../src/model/model_dir';
import { predictClipVideo } from '../src/pipeline/predict_clip';
import type { Bbox } from '../src/metadata/types';
import { REAL10_DIR } from '../test/helpers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  if (!REAL10_DIR) {
    console.log('skipped: no ../shared/data/wlasl-real10');
    return;
  }
  const splits = arg('splits', 'train,val').split(',');
  const perGloss = Number(arg('per-gloss', '2'));
  if (splits.includes('test')) throw new Error('the test split is held back: not read here');
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR, 'WLASL_v0.3.json'), 'utf8')) as { gloss: string; instances: { video_id: string; split: string; bbox: Bbox }[] }[];
  const results: Record<string, { clips: number; whole: number; found: number; wlasl: number }> = {};
  for (const split of splits) {
    const counts = { clips: 0, whole: 0, found: 0, wlasl: 0 };
    for (const gloss of metadata) {
      for (const clip of gloss.instances.filter((i) => i.split === split).slice(0, perGloss)) {
        const video = path.join(REAL10_DIR, 'videos', `${clip.video_id}.mp4`);
        const whole = await predictClipVideo(READY_MODEL_DIR, video, { autoFrame: false });
        const found = await predictClipVideo(READY_MODEL_DIR, video);
        const wlasl = await predictClipVideo(READY_MODEL_DIR, video, { bbox: clip.bbox });
        counts.clips++;
        const first = (p: typeof whole) => p.top[0]!.gloss;
        if (first(whole) === gloss.gloss) counts.whole++;
        if (first(found) === gloss.gloss) counts.found++;
        if (first(wlasl) === gloss.gloss) counts.wlasl++;
        console.log(
          `${split.padEnd(5)} ${clip.video_id} ${gloss.gloss.padEnd(8)} whole: ${first(whole).padEnd(9)} found ${found.framing?.bbox.join(',') ?? 'none'}: ${first(found).padEnd(9)} ` +
            `WLASL ${clip.bbox.join(',')}: ${first(wlasl)}`,
        );
      }
    }
    results[split] = counts;
    console.log(`${split}: first on ${counts.whole}/${counts.clips} read whole, ${counts.found}/${counts.clips} with the found signer, ${counts.wlasl}/${counts.clips} with WLASL's box\n`);
  }
  console.log(JSON.stringify({ bench: 'framing', model: path.relative(process.cwd(), READY_MODEL_DIR), perGloss, ...results }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
