import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { initBackend } from '../src/runtime/backend';
import { createHead, fit, historyCsv, learningRateAt, CHECKPOINT_FILE } from '../src/model/train';
import type { SequenceSource } from '../src/dataset/types';
import { readCheckpoint } from '../src/model/checkpoint';
import { EarlyStopping } from '../src/model/early_stopping';
import { evaluate } from '../src/model/metrics';
import { toySource } from './model_train_fixture';
import { MODEL_TEST_CONFIG, TRAIN_TEST_CONFIG } from './model_train_settings';
import { makeTempDir, REPO_ROOT } from './helpers';

const CHILD = path.join(REPO_ROOT, 'test', 'model_train_child.ts');

test('training learns a toy sequence task; same seed twice (with and without a helper thread) gives the same metrics', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 6, classes: 3, steps: 4, dim: 16, windows: 3, seed: 1 });
  const val = toySource({ videosPerClass: 3, classes: 3, steps: 4, dim: 16, windows: 3, seed: 2 });
  const run = async (helperThreads: number) => {
    const head = await createHead(train, MODEL_TEST_CONFIG, 7);
    const result = await fit(head, train, val, { ...TRAIN_TEST_CONFIG, helperThreads }, { progress: 'none' });
    return { result, report: await evaluate(head, val) };
  };
  const a = await run(0);
  // The second run also splits the large matmuls with a helper thread: the results must not change.
  const b = await run(1);
  const strip = (h: typeof a.result.history) => h.map(({ seconds: _s, ...r }) => r);
  assert.deepEqual(strip(a.result.history), strip(b.result.history));
  assert.deepEqual(a.report.perVideo, b.report.perVideo);
  assert.equal(a.result.history.length, TRAIN_TEST_CONFIG.epochs);
  const first = a.result.history[0]!;
  const best = a.result.history[a.result.bestEpoch]!;
  assert.ok(best.valLoss < first.valLoss, `val loss did not improve: ${first.valLoss} -> ${best.valLoss}`);
  assert.ok(a.report.perVideo.top1 >= 0.8, `per-video top-1 ${a.report.perVideo.top1}`);
});

test('fit refuses impossible training settings, naming the setting', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 2, classes: 2, steps: 3, dim: 8, windows: 1, seed: 1 });
  const head = await createHead(train, MODEL_TEST_CONFIG, 1);
  const cases: Array<[Partial<typeof TRAIN_TEST_CONFIG>, RegExp]> = [
    [{ batchSize: 0 }, /train\.batchSize must be an integer in 1\.\.\d+, got 0/],
    [{ learningRate: -1 }, /train\.learningRate must be a number in \(0, 10\], got -1/],
    [{ helperThreads: 2 }, /train\.helperThreads must be one of 0, 1, got 2/],
  ];
  for (const [bad, message] of cases) {
    await assert.rejects(fit(head, train, train, { ...TRAIN_TEST_CONFIG, ...bad }, { progress: 'none' }), (e: Error) => e.name === 'ConfigError' && message.test(e.message));
  }
});

test("a checkpoint is resumed only by a head of the same pooling: last-step weights are not taken for a mean-pooled head", async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 2, classes: 2, steps: 3, dim: 8, windows: 1, seed: 1 });
  const checkpointDir = makeTempDir();
  const settings = { ...TRAIN_TEST_CONFIG, epochs: 3 };
  await fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, settings, { progress: 'none', checkpointDir, maxEpochsThisRun: 1 });
  assert.ok(fs.existsSync(path.join(checkpointDir, CHECKPOINT_FILE)));
  const meanHead = await createHead(train, { ...MODEL_TEST_CONFIG, pooling: 'mean' }, 1);
  await assert.rejects(fit(meanHead, train, train, settings, { progress: 'none', checkpointDir, resume: true }), /checkpoint was written for another model\/training config[\s\S]*pooling[\s\S]*resume it with --pooling last/);
  // A checkpoint trained without label smoothing (the default before 2026-12-06) resumed with it names the flag.
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, { ...settings, labelSmoothing: 0.1 }, { progress: 'none', checkpointDir, resume: true }), /resume it with --label-smoothing 0/);
  // The same pooling resumes.
  const resumed = await fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, settings, { progress: 'none', checkpointDir, resume: true });
  assert.equal(resumed.resumed, true);
});

test('weight decay shrinks the trained weights (AdamW), and a checkpoint made without it is not resumed with it', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 4, classes: 3, steps: 4, dim: 16, windows: 2, seed: 1 });
  const settings = { ...TRAIN_TEST_CONFIG, epochs: 4 };
  const norm = (head: Awaited<ReturnType<typeof createHead>>) => head.params().reduce((s, p) => s + p.data.reduce((t, w) => t + w * w, 0), 0);
  const plain = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(plain, train, train, settings, { progress: 'none' });
  const decayed = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(decayed, train, train, { ...settings, weightDecay: 5 }, { progress: 'none' });
  assert.ok(norm(decayed) < 0.9 * norm(plain), `squared weight norm ${norm(decayed)} with decay, ${norm(plain)} without`);
  // weightDecay 0 is the plain run, bit for bit.
  const zero = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(zero, train, train, { ...settings, weightDecay: 0, labelSmoothing: 0 }, { progress: 'none' });
  assert.deepEqual(zero.params().map((p) => Array.from(p.data)), plain.params().map((p) => Array.from(p.data)));

  const checkpointDir = makeTempDir();
  await fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, settings, { progress: 'none', checkpointDir, maxEpochsThisRun: 1 });
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, { ...settings, weightDecay: 0.1 }, { progress: 'none', checkpointDir, resume: true }), /weightDecay/);
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, { ...settings, labelSmoothing: 1 }, { progress: 'none' }), /train\.labelSmoothing must be in \[0, 1\), got 1/);
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 1), train, train, { ...settings, learningRate: 0.01, weightDecay: 100 }, { progress: 'none' }), /train\.weightDecay x train\.learningRate must be below 1/);
});

test('a moving average of the weights: the average after one step is momentum x initial + (1 - momentum) x stepped, training itself is untouched, and the checkpoint keeps it', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 4, classes: 3, steps: 4, dim: 16, windows: 2, seed: 1 });
  // One batch an epoch and one epoch: exactly one Adam step.
  const settings = { ...TRAIN_TEST_CONFIG, epochs: 1, batchSize: train.numSamples, restoreBest: false };
  const initial = (await createHead(train, MODEL_TEST_CONFIG, 5)).snapshot();
  const plainDir = makeTempDir();
  const plain = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(plain, train, train, settings, { progress: 'none', checkpointDir: plainDir });
  const stepped = plain.snapshot();
  const averagedDir = makeTempDir();
  const averaged = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(averaged, train, train, { ...settings, emaMomentum: 0.75 }, { progress: 'none', checkpointDir: averagedDir });
  const { arrays } = readCheckpoint(path.join(averagedDir, CHECKPOINT_FILE));
  averaged.params().forEach((p, k) => {
    // The live weights in the checkpoint are the plain run's, bit for bit: the average does not steer training.
    assert.deepEqual(Array.from(arrays.get(`param/${p.name}`)!), Array.from(stepped[k]!), p.name);
    assert.deepEqual(Array.from(arrays.get(`average/${p.name}`)!), Array.from(p.data), p.name);
    p.data.forEach((a, i) => assert.ok(Math.abs(a - (0.75 * initial[k]![i]! + 0.25 * stepped[k]![i]!)) < 1e-6, `${p.name}[${i}]: ${a}`));
  });
  assert.ok(!readCheckpoint(path.join(plainDir, CHECKPOINT_FILE)).arrays.has(`average/${plain.params()[0]!.name}`));
  const moved = averaged.params().some((p, k) => p.data.some((a, i) => Math.abs(a - stepped[k]![i]!) > 1e-4));
  assert.ok(moved, 'the averaged head kept the stepped weights');

  // Resuming keeps the average; a checkpoint made with another momentum names the flag that resumes it.
  const longer = { ...settings, epochs: 3, restoreBest: true };
  const dir = makeTempDir();
  await fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...longer, emaMomentum: 0.5 }, { progress: 'none', checkpointDir: dir, maxEpochsThisRun: 1 });
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, longer, { progress: 'none', checkpointDir: dir, resume: true }), /resume it with --ema-momentum 0\.5/);
  const resumedHead = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(resumedHead, train, train, { ...longer, emaMomentum: 0.5 }, { progress: 'none', checkpointDir: dir, resume: true });
  const wholeHead = await createHead(train, MODEL_TEST_CONFIG, 5);
  await fit(wholeHead, train, train, { ...longer, emaMomentum: 0.5 }, { progress: 'none' });
  assert.deepEqual(resumedHead.params().map((p) => Array.from(p.data)), wholeHead.params().map((p) => Array.from(p.data)));
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...settings, emaMomentum: 1 }, { progress: 'none' }), /train\.emaMomentum must be in \[0, 1\), got 1/);
});

test('a cosine learning rate takes full steps first and small ones last; resuming it mid-run gives the uninterrupted run, and a constant-rate checkpoint is not resumed with it', async () => {
  const cosine = { learningRate: 0.01, lrSchedule: 'cosine' as const };
  assert.deepEqual([0, 0.5, 1].map((at) => learningRateAt(cosine, at)), [0.01, 0.005, 0]);
  assert.equal(learningRateAt({ learningRate: 0.01 }, 0.9), 0.01);
  await initBackend();
  const train = toySource({ videosPerClass: 4, classes: 3, steps: 4, dim: 16, windows: 2, seed: 1 });
  // One batch an epoch, 4 epochs: the 4th step is taken at 0.15 of the peak rate (progress 3/4).
  const settings = { ...TRAIN_TEST_CONFIG, epochs: 4, batchSize: train.numSamples, restoreBest: false };
  const lastStep = async (lrSchedule: 'constant' | 'cosine') => {
    const dir = makeTempDir();
    await fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...settings, lrSchedule }, { progress: 'none', checkpointDir: dir, maxEpochsThisRun: 3 });
    const { arrays } = readCheckpoint(path.join(dir, CHECKPOINT_FILE));
    const resumed = await createHead(train, MODEL_TEST_CONFIG, 5);
    await fit(resumed, train, train, { ...settings, lrSchedule }, { progress: 'none', checkpointDir: dir, resume: true });
    const whole = await createHead(train, MODEL_TEST_CONFIG, 5);
    await fit(whole, train, train, { ...settings, lrSchedule }, { progress: 'none' });
    assert.deepEqual(resumed.params().map((p) => Array.from(p.data)), whole.params().map((p) => Array.from(p.data)));
    const moved = whole.params().reduce((sum, p) => sum + p.data.reduce((t, w, i) => t + (w - arrays.get(`param/${p.name}`)![i]!) ** 2, 0), 0);
    return { moved: Math.sqrt(moved), dir };
  };
  const constant = await lastStep('constant');
  const annealed = await lastStep('cosine');
  assert.ok(annealed.moved > 0 && annealed.moved < 0.4 * constant.moved, `last step moved the weights by ${annealed.moved} with the cosine, ${constant.moved} at a constant rate`);
  await fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, settings, { progress: 'none', checkpointDir: constant.dir, maxEpochsThisRun: 1 });
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...settings, lrSchedule: 'cosine' }, { progress: 'none', checkpointDir: constant.dir, resume: true }), /resume it with --lr-schedule constant/);
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...settings, lrSchedule: 'cosine', epochs: 6 }, { progress: 'none', checkpointDir: annealed.dir, resume: true }), /falls to 0 at epoch 4: resume it with --epochs 4/);
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, train, { ...settings, lrSchedule: 'step' as 'cosine' }, { progress: 'none' }), /train\.lrSchedule must be one of constant, cosine, got step/);
});

test('trained on train + val nothing is validated: every epoch is trained and the last kept, the history has no val figures (empty CSV cells), and a resumed run gives the uninterrupted one', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 4, classes: 3, steps: 4, dim: 16, windows: 2, seed: 1 });
  // Any read of the val source would throw: with nothing held out, fit must not touch it.
  const unread = new Proxy({}, { get: (_t, key) => { throw new Error(`val.${String(key)} was read`); } }) as SequenceSource;
  // Patience 1 would stop a validated run at once on this noise; here all 4 epochs are trained.
  const settings = { ...TRAIN_TEST_CONFIG, epochs: 4, patience: 1, batchSize: 8, trainOn: 'train+val' as const };
  const dir = makeTempDir();
  await fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, unread, settings, { progress: 'none', checkpointDir: dir, maxEpochsThisRun: 2 });
  const resumedHead = await createHead(train, MODEL_TEST_CONFIG, 5);
  const resumed = await fit(resumedHead, train, unread, settings, { progress: 'none', checkpointDir: dir, resume: true });
  const wholeHead = await createHead(train, MODEL_TEST_CONFIG, 5);
  const whole = await fit(wholeHead, train, unread, settings, { progress: 'none' });
  assert.deepEqual(resumedHead.params().map((p) => Array.from(p.data)), wholeHead.params().map((p) => Array.from(p.data)));
  assert.deepEqual([resumed.history.length, resumed.bestEpoch, resumed.stoppedEarly, resumed.resumed], [4, 3, false, true]);
  assert.deepEqual([whole.bestEpoch, whole.stoppedEarly], [3, false]);
  for (const r of resumed.history) assert.ok([r.valLoss, r.valTop1, r.valTop5].every(Number.isNaN), `epoch ${r.epoch}: ${JSON.stringify(r)}`);
  const rows = historyCsv(resumed.history).trim().split('\n').slice(1);
  assert.equal(rows.length, 4);
  for (const row of rows) assert.match(row, /^\d+,[\d.e-]+,,,,[\d.e-]+$/);
  // The validated twin of the same settings still needs a val split.
  await assert.rejects(fit(await createHead(train, MODEL_TEST_CONFIG, 5), train, toySource({ videosPerClass: 0, classes: 3, steps: 4, dim: 16, windows: 2, seed: 2 }), { ...settings, trainOn: 'train' }, { progress: 'none' }), /the validation set has no sequences/);
});

test('early stopping stops after patience epochs and restores the best epoch weights', async () => {
  const stopper = new EarlyStopping({ patience: 2, minDelta: 0.01, restoreBest: true });
  const losses = [1.0, 0.8, 0.795, 0.9];
  const stops = losses.map((l, e) => stopper.update(e, l, () => [Float32Array.of(e)]));
  // 0.795 is not better than 0.8 - 0.01: two epochs without improvement after epoch 1 -> stop at epoch 3.
  assert.deepEqual(stops, [false, false, false, true]);
  assert.equal(stopper.state.bestEpoch, 1);
  assert.deepEqual(Array.from(stopper.bestWeights![0]!), [1]);

  // In fit: a learning rate that makes validation loss worsen after the first epochs must end with the best
  // epoch's weights, whose validation loss we can recompute.
  await initBackend();
  const train = toySource({ videosPerClass: 4, classes: 3, steps: 3, dim: 8, windows: 2, seed: 5 });
  const val = toySource({ videosPerClass: 2, classes: 3, steps: 3, dim: 8, windows: 2, seed: 6, noise: 2.5 });
  const head = await createHead(train, { ...MODEL_TEST_CONFIG, dropout: 0, hidden: 32 }, 1);
  const result = await fit(head, train, val, { ...TRAIN_TEST_CONFIG, epochs: 30, learningRate: 0.05, patience: 3 }, { progress: 'none' });
  const losses2 = result.history.map((r) => r.valLoss);
  const bestEpoch = losses2.indexOf(Math.min(...losses2));
  assert.equal(result.bestEpoch, bestEpoch);
  assert.ok(result.stoppedEarly, `did not stop early: ${losses2.map((l) => l.toFixed(3)).join(' ')}`);
  assert.equal(result.history.length, bestEpoch + 1 + 3);
  const after = await evaluate(head, val);
  assert.ok(Math.abs(after.loss - losses2[bestEpoch]!) < 1e-6, `restored weights give val loss ${after.loss}, best epoch had ${losses2[bestEpoch]}`);
});

test('resume after SIGKILL gives exactly the result of an uninterrupted run', async () => {
  const root = makeTempDir();
  const runChild = (dir: string, mode: string) => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, mode], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '))!;
    return { result: JSON.parse(line.slice(7)), epochs: out.stdout.split('\n').filter((l) => l.startsWith('EPOCH ')).length };
  };
  const full = runChild(path.join(root, 'full'), 'fresh');
  assert.equal(full.epochs, TRAIN_TEST_CONFIG.epochs);

  // Kill a second run with SIGKILL once it has finished 3 epochs (it pauses after each, so it is at most in epoch 4).
  const killedDir = path.join(root, 'killed');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, killedDir, 'paced'], { cwd: REPO_ROOT });
    let seen = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      seen += chunk.split('\n').filter((l) => l.startsWith('EPOCH ')).length;
      if (seen >= 3) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code} before being killed`))));
  });
  assert.ok(fs.existsSync(path.join(killedDir, CHECKPOINT_FILE)));
  const resumed = runChild(killedDir, 'resume');
  assert.equal(resumed.result.resumed, true);
  assert.ok(resumed.epochs < TRAIN_TEST_CONFIG.epochs, 'the resumed run retrained finished epochs');
  assert.deepEqual(resumed.result.history, full.result.history);
  assert.equal(resumed.result.bestEpoch, full.result.bestEpoch);
  assert.deepEqual(resumed.result.probs, full.result.probs);
  const csv = fs.readFileSync(path.join(killedDir, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, TRAIN_TEST_CONFIG.epochs + 1);
});
