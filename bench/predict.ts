/**
 * Time to a prediction for one clip after the model is loaded (issue 6: a 3 s clip in under 1 s): the CLI's
 * `predict` path (ffmpeg frame window, BatchNorm-folded backbone, LSTM head, window average), per sample video.
 *
 *   npx tsx bench/predict.ts [--model runs/<run>/model] [--videos 8]
 *
 * Without --model it uses the newest run folder under runs/ (e.g. from `npm start`). The machine is shared:
 * the load average is printed beside the figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadRecognizer, predictVideo } from '../src/pipeline/predict';
import { probeVideo } from '../src/video/probe';

const { values: args } = parseArgs({ options: { model: { type: 'string' }, videos: { type: 'string', default: '8' } } });
const REPO = path.resolve(__dirname, '..');

function newestRunModel(): string {
  const runs = path.join(REPO, 'runs');
  const dirs = fs.existsSync(runs) ? fs.readdirSync(runs).map((d) => path.join(runs, d, 'model')).filter((d) => fs.existsSync(path.join(d, 'model.json'))) : [];
  if (dirs.length === 0) throw new Error('no model: pass --model DIR, or run `npm start` first (it writes runs/<timestamp>/model)');
  return dirs.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const modelDir = path.resolve(args.model ?? newestRunModel());
  const t0 = performance.now();
  const recognizer = await loadRecognizer(modelDir);
  console.log(`model ${path.relative(REPO, modelDir)} (${recognizer.info.classes.length} classes, backbone ${recognizer.fast ? 'folded' : 'layers'}) loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  const sample = path.join(REPO, 'data', 'sample', 'videos');
  const videos = fs.readdirSync(sample).filter((f) => f.endsWith('.mp4')).sort().slice(0, Number(args.videos)).map((f) => path.join(sample, f));
  await predictVideo(modelDir, videos[0]!); // warm-up: wasm kernels compile on first use
  const rows: { total: number; decode: number; backbone: number; head: number }[] = [];
  for (const video of videos) {
    const info = await probeVideo(video);
    const p = await predictVideo(modelDir, video);
    rows.push({ total: p.timings.totalMs, decode: p.timings.decodeMs, backbone: p.timings.backboneMs, head: p.timings.headMs });
    console.log(`${path.basename(video)} (${info.durationS.toFixed(1)} s, ${info.width}x${info.height}): ${p.top[0]!.gloss} ${(100 * p.top[0]!.probability).toFixed(1)}%, ${p.frames} frames, ${p.timings.totalMs.toFixed(0)} ms`);
  }
  const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k])).toFixed(0);
  console.log(`median of ${rows.length} clips: ${m('total')} ms to a prediction (decode ${m('decode')}, backbone ${m('backbone')}, head ${m('head')}); load average ${os.loadavg()[0]!.toFixed(1)}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
