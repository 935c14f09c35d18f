import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareRunDir, RUN_MARKER_FILE } from '../src/pipeline/run';
import { makeTempDir, runCli } from './helpers';
import { linkSampleSubset, SMALL_SETTINGS } from '../scripts/kill_trials';

/** Every file under `dir` with its bytes, to prove a refused run touched nothing. */
function snapshot(dir: string): Map<string, string> {
  return new Map(
    fs
      .readdirSync(dir, { recursive: true })
      .map((f) => path.join(dir, String(f)))
      .filter((f) => fs.statSync(f).isFile())
      .map((f) => [f, fs.readFileSync(f, 'base64')]),
  );
}

test('run --run-dir never writes into a folder it did not make: refused before any work, nothing touched', async () => {
  const root = makeTempDir();
  const theirs = path.join(root, 'theirs');
  fs.mkdirSync(path.join(theirs, 'model'), { recursive: true });
  fs.writeFileSync(path.join(theirs, 'model', 'important.txt'), 'keep');
  fs.writeFileSync(path.join(theirs, 'summary.txt'), 'my own summary');
  const before = snapshot(theirs);
  for (const flags of [[], ['--overwrite'], ['--resume']]) {
    const r = await runCli(['run', '--run-dir', theirs, '--cache-dir', path.join(root, 'cache'), ...flags]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${theirs}: is not empty and is not a run folder of this program \\(no ${RUN_MARKER_FILE}\\)`));
    assert.deepEqual(snapshot(theirs), before, `flags ${flags.join(' ')}: nothing changed`);
  }
  assert.ok(!fs.existsSync(path.join(root, 'cache')), 'refused before the cache was opened');
});

test('a run folder of ours is reused only with --resume or --overwrite; a new or empty folder gets the marker', async () => {
  const root = makeTempDir();
  const fresh = path.join(root, 'a', 'b');
  await prepareRunDir(fresh);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(fresh, RUN_MARKER_FILE), 'utf8')).format, 'wlasl-run');
  fs.writeFileSync(path.join(fresh, 'summary.txt'), 'a finished run');
  await assert.rejects(prepareRunDir(fresh), /already holds a run: --resume to continue it, --overwrite to replace its outputs, or another --run-dir/);
  await prepareRunDir(fresh, { resume: true });
  await prepareRunDir(fresh, { overwrite: true });
  assert.equal(fs.readFileSync(path.join(fresh, 'summary.txt'), 'utf8'), 'a finished run', 'checking the folder changes nothing in it');
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  await prepareRunDir(empty);
  assert.ok(fs.existsSync(path.join(empty, RUN_MARKER_FILE)));
  const file = path.join(root, 'file');
  fs.writeFileSync(file, 'x');
  await assert.rejects(prepareRunDir(file), /the run folder is a file/);
});

test('an output folder that cannot be made gives one clear line naming it, in run and prepare', async () => {
  // As root, permissions do not bind; a path under a regular file fails the same way for everyone.
  const root = makeTempDir();
  const file = path.join(root, 'a-file');
  fs.writeFileSync(file, 'x');
  const run = await runCli(['run', '--run-dir', path.join(file, 'run'), '--cache-dir', path.join(root, 'cache')]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split('\n').at(-1), `error: ${path.join(file, 'run')}: cannot create the run folder: part of the path is a file, not a folder (ENOTDIR)`);
  const prepare = await runCli(['prepare', '--out', path.join(file, 'prep'), '--no-frames']);
  assert.equal(prepare.code, 1);
  assert.equal(prepare.stderr.trim().split('\n').at(-1), `error: ${path.join(file, 'prep', 'videos')}: cannot create the organised videos folder: part of the path is a file, not a folder (ENOTDIR)`);
});

test('a dataset without a test split: val is reported per video (summary, metrics.json, charts) and the summary says there is no test split; val copies of training videos are named and left out of a second figure', { timeout: 300_000 }, async () => {
  const root = makeTempDir();
  const data = path.join(root, 'data');
  // The sample's train and val videos only, as wlasl100-trainval holds WLASL's train and val splits only.
  const kept = linkSampleSubset(data, { train: 4, val: 2, test: 0 }, 4);
  // As in wlasl100-trainval: a val clip that is a byte copy of a training clip of its gloss (replacing one of
  // the val clips, so val still has 8 videos).
  const gloss = kept[0]!;
  const trainId = gloss.instances.find((i) => i.split === 'train')!.video_id;
  const valInstance = gloss.instances.find((i) => i.split === 'val')!;
  fs.copyFileSync(path.join(data, 'videos', `${trainId}.mp4`), path.join(data, 'videos', `${valInstance.video_id}.mp4`));
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), JSON.stringify(kept));
  const runDir = path.join(root, 'run');
  const run = await runCli(['run', '--data', data, '--run-dir', runDir, '--cache-dir', path.join(root, 'cache'), ...SMALL_SETTINGS]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const summary = fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /^val \(per video, 8 videos\): top-1 \d+\.\d%, top-5 \d+\.\d%, top-10 \d+\.\d% {3}\(chance with 4 classes: 25\.0%, 100\.0%, 100\.0%\)$/m);
  assert.match(summary, /^test: no test videos in this dataset \(no test split\), so no test figures$/m);
  assert.doesNotMatch(summary, /NaN/);
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.val.perVideo.count, 8);
  assert.equal(metrics.test.perVideo.count, 0);
  const charts = fs.readdirSync(path.join(runDir, 'charts'));
  assert.ok(charts.includes('val_confusion.svg') && charts.includes('val_per_class.svg'), charts.join(' '));
  assert.ok(!charts.includes('confusion.svg'), 'no empty test charts');

  assert.match(summary, new RegExp(`^duplicates: 1 groups of byte-identical videos \\(2 files; all in data/duplicate_videos.csv\\)$`, 'm'));
  assert.match(summary, new RegExp(`^  copies of training videos in val or test .*: ${trainId} \\(${gloss.gloss}, train\\) = ${valInstance.video_id} \\(${gloss.gloss}, val\\)$`, 'm'));
  const kept7 = metrics.val.videos.filter((v: { videoId: string }) => v.videoId !== valInstance.video_id) as Array<{ label: number; predicted: number }>;
  assert.equal(kept7.length, 7);
  const top1 = kept7.filter((v) => v.predicted === v.label).length / 7;
  assert.deepEqual(metrics.withoutCopiesOfTraining.val.count, 7);
  assert.ok(Math.abs(metrics.withoutCopiesOfTraining.val.top1 - top1) < 1e-9);
  assert.match(summary, new RegExp(`^val without its 1 copy of training videos \\(per video, 7 videos\\): top-1 ${(100 * top1).toFixed(1)}%, top-5 \\d+\\.\\d%$`, 'm'));
  assert.doesNotMatch(summary, /^test without/m);
  assert.equal(fs.readFileSync(path.join(runDir, 'data', 'duplicate_videos.csv'), 'utf8').trim().split('\n').length, 3);

  // evaluate on the same dataset gives the same second figure, in its text and in its --out report.
  const out = path.join(root, 'val_report.json');
  const evaluated = await runCli(['evaluate', '--model', path.join(runDir, 'model'), '--data', data, '--split', 'val', '--cache-dir', path.join(root, 'cache'), '--out', out]);
  assert.equal(evaluated.code, 0, evaluated.stdout + evaluated.stderr);
  assert.match(evaluated.stdout, new RegExp(`^without the 1 val video that is a byte copy of this dataset's training videos \\(7\\): top-1 ${(100 * top1).toFixed(1)}%`, 'm'));
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual([report.withoutCopiesOfTraining.count, report.withoutCopiesOfTraining.excluded], [7, 1]);
});

test('--train-on train+val: val clips join the training set, every epoch is trained and the last kept, no val figures; a test copy of a val clip counts as a copy of training; evaluate on val says the model learnt from it', { timeout: 300_000 }, async () => {
  const root = makeTempDir();
  const data = path.join(root, 'data');
  const kept = linkSampleSubset(data, { train: 3, val: 2, test: 2 }, 4);
  // A test clip that is a byte copy of a val clip: a copy of training once val is trained on.
  const gloss = kept[1]!;
  const valId = gloss.instances.find((i) => i.split === 'val')!.video_id;
  const testId = gloss.instances.find((i) => i.split === 'test')!.video_id;
  fs.copyFileSync(path.join(data, 'videos', `${valId}.mp4`), path.join(data, 'videos', `${testId}.mp4`));
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), JSON.stringify(kept));
  const cache = path.join(root, 'cache');
  const runDir = path.join(root, 'run');
  // Patience 1 would stop a validated run early; with nothing held out every one of the 3 epochs is trained.
  const run = await runCli(['run', '--data', data, '--run-dir', runDir, '--cache-dir', cache, ...SMALL_SETTINGS, '--patience', '1', '--train-on', 'train+val']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  // 12 training and 8 val clips of 12 frames, two 5-frame windows each: all 20 clips train.
  assert.match(run.stdout, /^sequences: train 40, val 0, test 16 /m);
  const summary = fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /^training: 3 epochs on train \+ val \(--train-on train\+val\), the last kept: nothing held out to validate on$/m);
  assert.match(summary, /^val: trained on, so no val figures/m);
  assert.match(summary, /^test \(per video, 8 videos\): top-1 /m);
  assert.match(summary, new RegExp(`^test without its 1 copy of training videos \\(per video, 7 videos\\)`, 'm'));
  assert.doesNotMatch(summary, /NaN/);
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.val.perVideo.count, 0);
  assert.deepEqual([metrics.trainedOn, metrics.bestEpoch], ['train+val', 2]);
  assert.deepEqual(metrics.duplicates.copiesOfTraining, { val: [], test: [testId] });
  const history = fs.readFileSync(path.join(runDir, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(history.length, 4);
  for (const row of history.slice(1)) assert.match(row, /^\d+,[\d.e-]+,,,,[\d.e-]+$/, 'no val figures, as empty cells');
  const charts = fs.readdirSync(path.join(runDir, 'charts'));
  assert.ok(charts.includes('loss.svg') && charts.includes('confusion.svg'), charts.join(' '));
  assert.ok(!charts.includes('accuracy.svg') && !charts.includes('val_confusion.svg'), `no validation charts: ${charts.join(' ')}`);
  const lossSpec = JSON.parse(fs.readFileSync(path.join(runDir, 'charts', 'loss.vl.json'), 'utf8'));
  assert.deepEqual([...new Set(lossSpec.data.values.map((v: { split: string }) => v.split))], ['train']);

  const evaluated = await runCli(['evaluate', '--model', path.join(runDir, 'model'), '--data', data, '--split', 'val', '--cache-dir', cache]);
  assert.equal(evaluated.code, 0, evaluated.stdout + evaluated.stderr);
  assert.match(evaluated.stdout, /^this model was trained on the val split too \(--train-on train\+val\): these figures are on videos it learnt from, not held out$/m);
  assert.doesNotMatch(evaluated.stdout, /byte cop/);

  // Whole clips (the landmark recipes' way of reading) pool the two splits alike: one training view a clip.
  const whole = await runCli(['run', '--data', data, '--run-dir', path.join(root, 'whole'), '--cache-dir', cache, ...SMALL_SETTINGS, '--whole-clip', '--train-on', 'train+val']);
  assert.equal(whole.code, 0, whole.stdout + whole.stderr);
  assert.match(whole.stdout, /^sequences: train 20, val 0, test 40 /m);

  // Resuming its checkpoint as a run on train alone is refused, naming the flag that matches it.
  const resumed = await runCli(['run', '--data', data, '--run-dir', runDir, '--cache-dir', cache, ...SMALL_SETTINGS, '--patience', '1', '--resume']);
  assert.notEqual(resumed.code, 0);
  assert.match(resumed.stderr + resumed.stdout, /resume it with --train-on train\+val/);
});
