/**
 * Does the landmark LSTM read the order of a real sign, or only which sign it is? The embedded sample asks this
 * with drawn hands that the landmark models cannot see (issue 16, point 9), so this asks it of real clips: every
 * train- and val-split clip of wlasl-real10 (never its test clips; byte copies dropped) is re-encoded twice, as
 * it is and played backwards, and "<gloss>" and "<gloss>-reversed" are two classes. Per gloss, 2 clips (both
 * ways) are held out for the figures, 1 for early stopping, the rest (5-7) train.
 *
 * A clip and its reversal have the same frames, so the order-blind control (the mean of the clip's vectors, a
 * linear softmax) cannot tell their directions apart; a model that reads order can. Printed per seed: per-video
 * top-1 over the 20 classes, "gloss" (the right sign, either direction) and "direction" (of the two classes of
 * the clip's sign, the right one scores higher), for the default recipe's LSTM, the control and the nonlinear
 * control (mean and spread over time -> ReLU(256) -> softmax; also order-blind).
 *
 *   npx tsx bench/landmark_order.ts [--seeds 42,1,7] [--work DIR]   (about 5 minutes cold: 178 clips of landmarks)
 *
 * Ends with one JSON line of the figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config';
import { landmarkStreamOptions } from '../src/streams/sources';
import { initBackend } from '../src/runtime/backend';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { buildStreams, loadIndex } from '../src/pipeline/run';
import { createHead, fit } from '../src/model/train';
import { evaluate, formatPercent, type EvaluationReport } from '../src/model/metrics';
import { trainMeanPoolBaseline, DEFAULT_MEAN_POOL_OPTIONS, MLP_POOL_OPTIONS } from '../src/model/baselines';
import { ClipSequenceSource } from '../src/streams/clip_source';
import { loadLandmarkClips, landmarksRootOf } from '../src/streams/load';
import { evalViewsOf, streamAugmentation } from '../src/streams/sources';
import { REAL10_DIR } from '../test/helpers';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '42,1,7' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'wlasl-bench-reversed-pairs') },
  },
});

interface Instance {
  video_id: string;
  split: string;
  frame_start: number;
  frame_end: number;
  [key: string]: unknown;
}

/** The pair dataset (WLASL layout) in `dir`; finished videos are kept between runs. Labels: 2g forward, 2g+1 reversed. */
function buildPairs(dir: string): void {
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR!, 'WLASL_v0.3.json'), 'utf8')) as Array<{ gloss: string; instances: Instance[] }>;
  fs.mkdirSync(path.join(dir, 'videos'), { recursive: true });
  const out: Array<{ gloss: string; instances: Instance[] }> = [];
  for (const { gloss, instances } of metadata) {
    const seen = new Set<string>();
    const usable = instances
      .filter((i) => i.split !== 'test')
      .filter((i) => {
        const digest = createHash('sha256').update(fs.readFileSync(path.join(REAL10_DIR!, 'videos', `${i.video_id}.mp4`))).digest('hex');
        return !seen.has(digest) && seen.add(digest);
      });
    const splits = usable.map((_, k) => (k < 2 ? 'test' : k < 3 ? 'val' : 'train'));
    const forward: Instance[] = [];
    const backward: Instance[] = [];
    usable.forEach((instance, k) => {
      for (const [suffix, list] of [['f', forward], ['r', backward]] as const) {
        const id = `${instance.video_id}${suffix}`;
        const file = path.join(dir, 'videos', `${id}.mp4`);
        if (!fs.existsSync(file)) {
          const tmp = `${file}.tmp.mp4`;
          // Both directions re-encoded alike, so compression differs between them no more than within one.
          execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-i', path.join(REAL10_DIR!, 'videos', `${instance.video_id}.mp4`), '-an', ...(suffix === 'r' ? ['-vf', 'reverse'] : []), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-pix_fmt', 'yuv420p', '-y', tmp]);
          fs.renameSync(tmp, file);
        }
        // The whole clip: a reversed clip's sign range is the mirror of the forward one's.
        list.push({ ...instance, video_id: id, split: splits[k]!, frame_start: 1, frame_end: -1 });
      }
    });
    out.push({ gloss, instances: forward }, { gloss: `${gloss}-reversed`, instances: backward });
  }
  fs.writeFileSync(path.join(dir, 'WLASL_v0.3.json'), JSON.stringify(out, null, 1));
}

interface Figures {
  top1: number;
  gloss: number;
  direction: number;
}

function figures(report: EvaluationReport): Figures {
  let direction = 0;
  let gloss = 0;
  for (const v of report.videos) {
    const p = new Map(v.top5.map((t) => [t.label, t.prob]));
    // label ^ 1 is the same sign the other way round; a class outside the top 5 scores below every one in it.
    if ((p.get(v.label) ?? -1) > (p.get(v.label ^ 1) ?? -1)) direction++;
    if (v.predicted >> 1 === v.label >> 1) gloss++;
  }
  const n = report.videos.length;
  return { top1: report.perVideo.top1, gloss: gloss / n, direction: direction / n };
}

const show = (f: Figures) => `top-1 ${formatPercent(f.top1)}, gloss ${formatPercent(f.gloss)}, direction ${formatPercent(f.direction)}`;

async function main(): Promise<void> {
  if (!REAL10_DIR) {
    console.log('skipped: no ../shared/data/wlasl-real10');
    return;
  }
  console.log((await initBackend()).summary);
  buildPairs(args.work!);
  const index = loadIndex({ dataDir: args.work! });
  const config = resolveConfig({});
  const streams = await buildStreams(index, config, { progress: 'lines' });
  const of = (split: string) => index.present.filter((e) => e.split === split).map((e) => ({ videoId: e.videoId, label: e.label }));
  const root = landmarksRootOf(streams.cache.datasetDir);
  const [train, val, test] = await Promise.all(['train', 'val', 'test'].map(async (s) => (await loadLandmarkClips(of(s), root, config.frames, landmarkStreamOptions(config))).clips));
  const C = index.classes.length;
  const T = config.sequence.sampleSize;
  console.log(`pairs: ${C} classes (${C / 2} signs x 2 directions), train ${train!.length}, val ${val!.length}, test ${test!.length} clips`);
  const rows: Array<{ seed: number; lstm: Figures; control: Figures; mlpControl: Figures }> = [];
  for (const seed of args.seeds!.split(',').map(Number)) {
    const source = new ClipSequenceSource(train!, T, C, streamAugmentation(config));
    const head = await createHead(source, config.model, seed);
    await fit(head, source, new ClipSequenceSource(val!, T, C, undefined, evalViewsOf(config)), { ...config.train, seed }, {});
    const lstm = figures(await evaluate(head, new ClipSequenceSource(test!, T, C, undefined, evalViewsOf(config)), { classNames: index.classes }));
    const control = figures(await trainMeanPoolBaseline(new ClipSequenceSource(train!, 32, C), new ClipSequenceSource(test!, 32, C), { ...DEFAULT_MEAN_POOL_OPTIONS, seed }, index.classes));
    const mlpControl = figures(await trainMeanPoolBaseline(new ClipSequenceSource(train!, 32, C), new ClipSequenceSource(test!, 32, C), { ...MLP_POOL_OPTIONS, seed }, index.classes));
    console.log(`seed ${seed}: default LSTM ${show(lstm)} | control ${show(control)} | nonlinear control ${show(mlpControl)}`);
    rows.push({ seed, lstm, control, mlpControl });
  }
  const mean = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + pick(r), 0) / rows.length;
  console.log(`mean: LSTM direction ${formatPercent(mean((r) => r.lstm.direction))}, gloss ${formatPercent(mean((r) => r.lstm.gloss))}; control direction ${formatPercent(mean((r) => r.control.direction))}, gloss ${formatPercent(mean((r) => r.control.gloss))}; nonlinear control direction ${formatPercent(mean((r) => r.mlpControl.direction))}, gloss ${formatPercent(mean((r) => r.mlpControl.gloss))} (direction by chance: 50%)`);
  console.log(JSON.stringify({ bench: 'landmark_order', date: new Date().toISOString().slice(0, 10), pooling: config.model.pooling ?? 'last', handAngles: config.stream.handAngles, faceContact: config.stream.faceContact, test_videos: test!.length, rows }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
