/**
 * The ready WLASL100 model committed in models/wlasl100 (issue 17 point 3): `predict` uses it when no --model is
 * given, it is the default recipe's model, its card and files agree, and the web server serves it (the page runs
 * it: test/web_landmarks.test.ts). On real clips (wlasl-real10, skipped where absent) it recognises the signs of its own training split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../src/config';
import { READY_MODEL_DIR, readModelMeta } from '../src/model/model_dir';
import { checkModelDirectory } from '../scripts/serve_web';
import { boxIou, makeTempDir, REAL10_DIR, REPO_ROOT, runCli } from './helpers';

const meta = () => readModelMeta(READY_MODEL_DIR);

test('the ready model is the default recipe trained on WLASL100: 100 glosses, landmarks over the whole sign, no backbone', () => {
  const m = meta();
  assert.equal(m.classes.length, 100);
  assert.equal(new Set(m.classes).size, 100);
  assert.deepEqual(m.stream, DEFAULT_CONFIG.stream);
  assert.equal(m.sequence.sampleSize, DEFAULT_CONFIG.sequence.sampleSize);
  assert.equal(m.head.hidden, DEFAULT_CONFIG.model.hidden);
  assert.equal(m.head.velocity, DEFAULT_CONFIG.model.velocity);
  assert.equal(m.head.pooling ?? 'last', DEFAULT_CONFIG.model.pooling ?? 'last');
  assert.equal(fs.existsSync(path.join(READY_MODEL_DIR, 'backbone')), false, 'a landmark model needs no CNN backbone');
  const bytes = fs.readdirSync(READY_MODEL_DIR).reduce((sum, name) => sum + fs.statSync(path.join(READY_MODEL_DIR, name)).size, 0);
  assert.ok(bytes < 20 * 1024 * 1024, `models/wlasl100 is ${bytes} bytes: at most 20 MB`);
  // The card states the figures of the metrics file committed beside it, so the two cannot drift apart.
  const card = fs.readFileSync(path.join(READY_MODEL_DIR, 'MODEL_CARD.md'), 'utf8');
  const metrics = JSON.parse(fs.readFileSync(path.join(READY_MODEL_DIR, 'metrics.json'), 'utf8')) as { trainedOn: string; val: { perVideo: { top1: number; top5: number; top10: number } } };
  // What the weights learnt from, as their own run recorded it, is what the card and the metrics say.
  const recorded = (m.training?.config as { train?: { trainOn?: string } } | undefined)?.train?.trainOn ?? 'train';
  assert.equal(metrics.trainedOn, recorded);
  if (recorded === 'train+val') assert.match(card, /Trained on train and val together .*--train-on train\+val/);
  if (recorded === 'train+val') assert.match(card, /## Figures \(WLASL100 val split, \d+ videos, per video: its twin, trained on train alone\)/);
  for (const k of ['top1', 'top5', 'top10'] as const) {
    const figure = `${(100 * metrics.val.perVideo[k]).toFixed(1)}%`;
    assert.ok(card.includes(figure), `MODEL_CARD.md gives val ${k} ${figure}`);
  }
  assert.ok(metrics.val.perVideo.top1 >= 0.35, 'the committed model is the measured one, not a short run');
  assert.match(card, /C-UDA/);
});

test('predict without --model uses the ready model; --list-classes lists its glosses', { timeout: 300_000 }, async () => {
  const video = path.join(REPO_ROOT, 'data', 'sample', 'videos', fs.readdirSync(path.join(REPO_ROOT, 'data', 'sample', 'videos')).find((n) => n.endsWith('.mp4'))!);
  const listed = await runCli(['predict', '--list-classes']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n'), meta().classes);
  assert.match(listed.stderr, /model: the ready WLASL100 model \(.*models\/wlasl100/);

  const result = await runCli(['predict', video, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /ready WLASL100 model/);
  const p = JSON.parse(result.stdout) as { top: Array<{ gloss: string; probability: number }>; classes: number };
  assert.equal(p.classes, 100);
  assert.equal(p.top.length, 5);
  for (const t of p.top) assert.ok(meta().classes.includes(t.gloss), t.gloss);
  const total = p.top.reduce((s, t) => s + t.probability, 0);
  assert.ok(total > 0 && total <= 1 + 1e-6, `top-5 probabilities sum to ${total}`);
});

test('the web server serves the ready (landmark) model, and refuses a model the page cannot run with a message naming predict', async () => {
  const checked = await checkModelDirectory(READY_MODEL_DIR);
  assert.deepEqual([checked.kind, checked.backboneDir], ['landmarks', null]);
  // The same head with another stream (hand crops): the page does not compute those.
  const copy = path.join(makeTempDir(), 'hands-model');
  fs.cpSync(READY_MODEL_DIR, copy, { recursive: true });
  const infoFile = path.join(copy, 'wlasl-model.json');
  const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as { stream: { features: string } };
  info.stream.features = 'hands';
  fs.writeFileSync(infoFile, JSON.stringify(info));
  await assert.rejects(checkModelDirectory(copy), (error: Error) => {
    assert.match(error.message, /reads hands over the whole clip; the browser page runs landmark models and CNN-window models/);
    assert.match(error.message, /npm run cli -- predict <clip\.mp4> --model/);
    return true;
  });
});

test('on real clips it names the sign: training-split clips of wlasl-real10 mostly in its top 5', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10', timeout: 900_000 }, async () => {
  // Only train-split clips: wlasl-real10's val and test clips are left for evaluation (never used to choose anything).
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR!, 'WLASL_v0.3.json'), 'utf8')) as { gloss: string; instances: { video_id: string; split: string; bbox: number[] }[] }[];
  const clips = metadata.flatMap((g) => g.instances.filter((i) => i.split === 'train').slice(0, 1).map((i) => ({ gloss: g.gloss, ...i })));
  assert.equal(clips.length, 10);
  let inTop5 = 0;
  const lines: string[] = [];
  for (const clip of clips) {
    const result = await runCli(['predict', path.join(REAL10_DIR!, 'videos', `${clip.video_id}.mp4`), '--bbox', clip.bbox.join(','), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const top = (JSON.parse(result.stdout) as { top: Array<{ gloss: string }> }).top.map((t) => t.gloss);
    if (top.includes(clip.gloss)) inTop5++;
    lines.push(`${clip.video_id} ${clip.gloss}: ${top.join(', ')}`);
  }
  assert.ok(inTop5 >= 7, `${inTop5}/10 in the top 5:\n${lines.join('\n')}`);
});

test('without --bbox, predict finds the signer on wide real clips and reads the clip cut to it', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10', timeout: 900_000 }, async () => {
  // The same training-split clips as above, now whole: 16:9 and 4:3 pictures with the signer in the middle.
  const { predictClipVideo } = await import('../src/pipeline/predict_clip');
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR!, 'WLASL_v0.3.json'), 'utf8')) as { gloss: string; instances: { video_id: string; split: string; bbox: number[] }[] }[];
  const clips = metadata.flatMap((g) => g.instances.filter((i) => i.split === 'train').slice(0, 1).map((i) => ({ gloss: g.gloss, ...i })));
  let top1 = 0;
  const lines: string[] = [];
  for (const clip of clips) {
    const result = await predictClipVideo(READY_MODEL_DIR, path.join(REAL10_DIR!, 'videos', `${clip.video_id}.mp4`));
    assert.ok(result.framing?.applied, `${clip.video_id}: a signer was found and the clip cut to it`);
    // The box found from the body keypoints overlaps WLASL's person box (a YOLO detection) closely.
    const iou = boxIou(result.framing.bbox, clip.bbox);
    assert.ok(iou >= 0.45, `${clip.video_id}: found ${result.framing.bbox.join(',')}, WLASL's box ${clip.bbox.join(',')}, IoU ${iou.toFixed(2)}`);
    if (result.top[0]!.gloss === clip.gloss) top1++;
    lines.push(`${clip.video_id} ${clip.gloss}: ${result.top.map((t) => t.gloss).join(', ')} (IoU ${iou.toFixed(2)})`);
  }
  // Measured: 8 of 10 first with the model trained on train + val (its twin on train alone: 7 of 10; read whole, without the framing, the twin gave 3 of 10; the model with mixup,
  // before dropped hands, 7 and 1; without mixup 9 and 0; without face contact 8 and 3; the model reading clips as filmed 10 and 3; without hand angles 9 and 1; the last-state model of 2026-12-05 7 and 0).
  assert.ok(top1 >= 5, `${top1}/10 first:\n${lines.join('\n')}`);

  // --no-auto-frame reads the whole frame, as before, and says nothing about framing.
  const video = path.join(REAL10_DIR!, 'videos', `${clips[0]!.video_id}.mp4`);
  const whole = await runCli(['predict', video, '--no-auto-frame', '--json']);
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal((JSON.parse(whole.stdout) as { framing?: unknown }).framing, undefined);
  const framed = await runCli(['predict', video]);
  assert.equal(framed.code, 0, framed.stderr);
  assert.match(framed.stdout, /signer found at \d+,\d+,\d+,\d+ \(\d+% of the picture\); the clip was read cut to it/);
});

test('predict on several videos: each video is answered as it is alone, and a missing or unreadable one is named while the rest still run (exit 3)', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10', timeout: 900_000 }, async () => {
  const { predictClipVideo } = await import('../src/pipeline/predict_clip');
  const dir = makeTempDir('wlasl-predict-many-');
  const [first, second] = ['09966', '08916'].map((id) => path.join(REAL10_DIR!, 'videos', `${id}.mp4`)) as [string, string];
  // A real clip cut short inside its header: ffmpeg cannot read it.
  const broken = path.join(dir, 'broken.mp4');
  fs.writeFileSync(broken, fs.readFileSync(first).subarray(0, 5000));
  const missing = path.join(dir, 'missing.mp4');
  const many = await runCli(['predict', first, missing, broken, second, '--json']);
  assert.equal(many.code, 3, `exit 3 when some videos failed: ${many.stderr}`);
  const results = JSON.parse(many.stdout) as Array<{ video: string; top?: Array<{ gloss: string; probability: number }>; error?: string; framing?: { applied: boolean } }>;
  assert.deepEqual(results.map((r) => r.video), [first, missing, broken, second], 'one entry a video, in the order given');
  assert.match(results[1]!.error ?? '', /missing\.mp4: no such video file/);
  assert.match(results[2]!.error ?? '', /broken\.mp4: /);
  assert.match(many.stderr, /\[2\/4\] error: .*missing\.mp4: no such video file/);
  assert.match(many.stderr, /\[3\/4\] error: .*broken\.mp4/);
  // Each answer is the one the video gets alone (the same frames, framing and head).
  for (const [i, video] of [[0, first], [3, second]] as const) {
    const alone = await predictClipVideo(READY_MODEL_DIR, video);
    const got = results[i]!;
    assert.deepEqual(got.top!.map((t) => t.gloss), alone.top.map((t) => t.gloss), `${video}: the same glosses`);
    got.top!.forEach((t, k) => assert.ok(Math.abs(t.probability - alone.top[k]!.probability) < 1e-5, `${video}: ${t.gloss} ${t.probability} against ${alone.top[k]!.probability} alone`));
    assert.equal(got.framing?.applied, alone.framing?.applied);
  }
  assert.equal(results[0]!.top![0]!.gloss, 'change');

  const text = await runCli(['predict', first, second]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\[1\/2\] 09966\.mp4: 5 window\(s\)/m);
  assert.match(text.stdout, /^\[2\/2\] 08916\.mp4: 5 window\(s\)/m);
  assert.match(text.stdout, /^2 videos: 2 recognised; the model knows 100 glosses/m);
  // A model that cannot be read ends the command before any video (exit 1), not once a video (exit 3).
  const noModel = await runCli(['predict', first, second, '--model', path.join(dir, 'no-model')]);
  assert.equal(noModel.code, 1, noModel.stderr);
  assert.doesNotMatch(noModel.stderr, /\[1\/2\]/);
  const boxed = await runCli(['predict', first, second, '--bbox', '0,0,100,100']);
  assert.equal(boxed.code, 1);
  assert.match(boxed.stderr, /--bbox is one video's box: give one video with it, not 2/);
});
