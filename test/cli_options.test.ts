import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram, configFromOptions } from '../src/cli/main';
import { DEFAULT_CONFIG } from '../src/config';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/runtime/backend';
import { buildMobileNetV2Base } from '../src/backbone/mobilenet_v2';
import { saveModelToDirectory } from '../src/backbone/model_dir';
import { alphaOfWeightsFolder } from '../src/backbone/backbone';
import { makeTempDir, REPO_ROOT, runCli } from './helpers';

/** Parses `args` with the real `command` (its action replaced) and returns the config they give. */
function commandConfig(command: 'prepare' | 'train', args: string[]) {
  const program = buildProgram();
  const cmd = program.commands.find((c: Command) => c.name() === command)!;
  let options: Parameters<typeof configFromOptions>[0] | undefined;
  cmd.action((o: Parameters<typeof configFromOptions>[0]) => {
    options = o;
  });
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: () => undefined });
  cmd.parse(args, { from: 'user' });
  return configFromOptions(options!);
}

const prepareConfig = (args: string[]) => commandConfig('prepare', ['--out', '/tmp/unused', ...args]);
const trainConfig = (args: string[]) => commandConfig('train', args);

test('frame options on the command line: window, WLASL frame range, short-video policy, concurrency', () => {
  // Real data: the whole sign, up to 32 frames spread over each clip's WLASL range; the sample: frames 5..35.
  const real = prepareConfig(['--data', '/tmp/some-wlasl']);
  assert.deepEqual(real.frames, DEFAULT_CONFIG.frames);
  assert.deepEqual(real.frames.window, { start: 5, end: 35, useMetadataRange: true, shortVideoPolicy: 'pad', maxFrames: 32, resample: false });
  const defaults = prepareConfig([]);
  assert.deepEqual(defaults.frames.window, { start: 5, end: 35, useMetadataRange: false, shortVideoPolicy: 'pad', maxFrames: 32, resample: false });

  const custom = prepareConfig(['--frame-start', '0', '--frame-end', '47', '--metadata-range', '--short-video', 'skip', '--concurrency', '3', '--max-frames', '32']);
  assert.deepEqual(custom.frames.window, { start: 0, end: 47, useMetadataRange: true, shortVideoPolicy: 'skip', maxFrames: 32, resample: false });
  assert.equal(custom.frames.concurrency, 3);
  // On real data a window given by its ends is the fixed window, as is --no-metadata-range: never ignored silently.
  assert.equal(prepareConfig(['--data', '/tmp/some-wlasl', '--frame-start', '0', '--frame-end', '11']).frames.window.useMetadataRange, false);
  assert.equal(prepareConfig(['--data', '/tmp/some-wlasl', '--frame-end', '20']).frames.window.useMetadataRange, false);
  assert.equal(prepareConfig(['--data', '/tmp/some-wlasl', '--no-metadata-range']).frames.window.useMetadataRange, false);
  assert.equal(trainConfig(['--data', '/tmp/some-wlasl', '--frame-start', '0', '--metadata-range']).frames.window.useMetadataRange, true);
  // Fields not given keep their defaults.
  assert.equal(custom.frames.size, DEFAULT_CONFIG.frames.size);
  assert.equal(custom.frames.cropToBbox, DEFAULT_CONFIG.frames.cropToBbox);

  assert.throws(() => prepareConfig(['--short-video', 'drop']), /Allowed choices are pad, skip/);
  assert.throws(() => prepareConfig(['--concurrency', 'many']), /--concurrency must be a number/);
});

test('recipe options: the measured default, the original preset, and switches that turn a default off', () => {
  const defaults = trainConfig([]);
  assert.deepEqual(defaults.sequence, DEFAULT_CONFIG.sequence);
  assert.equal(defaults.model.standardize, true);
  const original = trainConfig(['--preset', 'original']);
  assert.deepEqual(original.sequence, { sampleSize: 5, stride: 5 });
  assert.deepEqual([original.model.hidden, original.model.standardize, original.train.learningRate, original.train.batchSize], [256, false, 1e-4, 32]);
  assert.equal(trainConfig(['--no-standardize']).model.standardize, false);
  assert.equal(trainConfig(['--preset', 'original', '--standardize']).model.standardize, true);
  assert.equal(trainConfig(['--velocity']).model.velocity, true);
  assert.equal(trainConfig(['--pooling', 'mean']).model.pooling, 'mean');
  // Real data gets the measured default (the LSTM's mean state); the original and the embedded sample keep the last state.
  assert.equal(trainConfig(['--data', '/tmp/unused']).model.pooling, 'mean');
  assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', 'original']).model.pooling, 'last');
  assert.equal(trainConfig([]).model.pooling, 'last');
  assert.equal(trainConfig(['--data', '/tmp/unused', '--pooling', 'last']).model.pooling, 'last');
  assert.throws(() => trainConfig(['--pooling', 'max']), /--pooling/);
  assert.equal(defaults.model.bidirectional ?? false, false);
  assert.equal(trainConfig(['--bidirectional']).model.bidirectional, true);
  assert.throws(() => trainConfig(['--bidirectional', '--layers', '2']), /--bidirectional takes one LSTM layer \(--layers 1\), got 2/);
  assert.deepEqual([defaults.train.labelSmoothing, defaults.train.weightDecay], [0, 0]);
  // Label smoothing 0.1 is the measured default on real data; the original, cnn-windows and the sample keep plain cross-entropy.
  assert.equal(trainConfig(['--data', '/tmp/unused']).train.labelSmoothing, 0.1);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', 'original']).train.labelSmoothing, 0);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', 'cnn-windows']).train.labelSmoothing, 0);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--label-smoothing', '0']).train.labelSmoothing, 0);
  const regularised = trainConfig(['--label-smoothing', '0.1', '--weight-decay', '0.2']).train;
  assert.deepEqual([regularised.labelSmoothing, regularised.weightDecay], [0.1, 0.2]);
  assert.throws(() => trainConfig(['--label-smoothing', '1', '--weight-decay', '-1']), /--label-smoothing must be in \[0, 1\), got 1.*--weight-decay must be a number >= 0, got -1/);
  // Mixup 0.4 is the measured default on real data (README); the presets and the sample train without it.
  assert.equal(trainConfig(['--data', '/tmp/unused']).train.mixup, 0.4);
  for (const preset of ['original', 'cnn-windows']) assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', preset]).train.mixup, 0);
  assert.equal(trainConfig([]).train.mixup, 0);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--mixup', '0']).train.mixup, 0);
  assert.throws(() => trainConfig(['--mixup', '0.001']), /--mixup must be 0 \(none\) or a number in \[0\.01, 100\], got 0\.001/);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--lr-schedule', 'cosine']).train.lrSchedule, 'cosine');
  assert.equal(trainConfig(['--data', '/tmp/unused', '--train-on', 'train+val']).train.trainOn, 'train+val');
  assert.equal(trainConfig(['--data', '/tmp/unused']).train.trainOn ?? 'train', 'train');
  assert.throws(() => trainConfig(['--train-on', 'test']), /argument 'test' is invalid\. Allowed choices are train, train\+val/);
  const averaged = trainConfig(['--ema-momentum', '0.99', '--mixup', '1']).train;
  assert.deepEqual([averaged.emaMomentum, averaged.mixup], [0.99, 1]);
  assert.throws(() => trainConfig(['--ema-momentum', '1', '--mixup', '-1']), /--mixup must be 0 \(none\) or a number in \[0\.01, 100\], got -1.*--ema-momentum must be in \[0, 1\), got 1/s);
  // Dropped hands: the measured default on real data (README); the presets and the sample read every hand they have.
  assert.equal(trainConfig(['--data', '/tmp/unused']).stream.handDrop, 0.25);
  for (const preset of ['original', 'cnn-windows']) assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', preset]).stream.handDrop, 0);
  assert.equal(trainConfig([]).stream.handDrop, 0);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--hand-drop', '0.1']).stream.handDrop, 0.1);
  assert.throws(() => trainConfig(['--hand-drop', '1']), /--hand-drop must be in 0\.\.0\.9, got 1/);
  // The leading hand on the right is the measured default of the landmark stream; --no-right-leads reads clips as filmed.
  assert.equal(trainConfig(['--data', '/tmp/unused']).stream.rightLeads, true);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--no-right-leads']).stream.rightLeads, false);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', 'original']).stream.rightLeads, false);
  // Face contact likewise: on by default, --no-face-contact for the stream before it, off in the original's preset.
  assert.equal(trainConfig(['--data', '/tmp/unused']).stream.faceContact, true);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--no-face-contact']).stream.faceContact, false);
  assert.equal(trainConfig(['--data', '/tmp/unused', '--preset', 'original']).stream.faceContact, false);
  assert.equal(defaults.train.helperThreads, 0);
  assert.equal(trainConfig(['--helper-threads', '1']).train.helperThreads, 1);
  assert.throws(() => trainConfig(['--helper-threads', '2']), /--helper-threads must be one of 0, 1, got 2/);
  assert.throws(() => trainConfig(['--batch-size', '0']), /--batch-size must be an integer in 1\.\.\d+, got 0/);
});

test('one config check before any work: every bad number is refused under its flag name, all at once', () => {
  const refused: [string[], RegExp][] = [
    [['--frame-end', '-5'], /--frame-end must be an integer >= --frame-start \(5\), got -5/],
    [['--sample-size', '1000'], /--sample-size \(1000\) is longer than the frame window 5\.\.35 \(31 frames\)/],
    [['--hidden', '1e9'], /--hidden must be an integer in 1\.\.4096, got 1000000000/],
    [['--epochs', '1.5'], /--epochs must be an integer in 1\.\.\d+, got 1\.5/],
    [['--patience', '-3'], /--patience must be an integer >= 0, got -3/],
    [['--concurrency', '-1'], /--concurrency must be an integer in 0\.\.64, got -1/],
    [['--workers', '64'], /--workers must be an integer in 0\.\.16, got 64/],
    [['--alpha', '0.6'], /--alpha must be one of 1, 0\.75, 0\.5, 0\.35, got 0\.6/],
    [['--dropout', '1'], /--dropout must be in \[0, 1\), got 1/],
    [['--max-frames', '0'], /--max-frames must be an integer in 1\.\.1024, got 0/],
    [['--lr', '-1'], /--lr must be a number in \(0, 10\], got -1/],
  ];
  for (const [args, message] of refused) assert.throws(() => trainConfig(args), message, args.join(' '));
  // Several problems: one error lists them all.
  assert.throws(() => trainConfig(['--epochs', '0', '--hidden', '0']), (e: Error) => /--hidden/.test(e.message) && /--epochs/.test(e.message));
  // A whole-clip range has no fixed length, so a long sequence is the user's choice there.
  assert.equal(trainConfig(['--metadata-range', '--sample-size', '64']).sequence.sampleSize, 64);
});

test('the embedded sample gets the sample preset under any other; a real data folder does not', () => {
  // The sample asks for width 0.35 of the default weights, which resolve to the embedded ImageNet copy: no random fallback needed.
  assert.deepEqual([trainConfig([]).backbone.alpha, trainConfig([]).backbone.weights], [0.35, 'default']);
  assert.equal(trainConfig([]).backbone.allowRandomFallback, false);
  // Frame differences on the sample (its classes differ only in frame order), unless turned off; real data: the default.
  assert.deepEqual([trainConfig([]).model.velocity, trainConfig(['--no-velocity']).model.velocity, trainConfig(['--data', '/tmp/some-wlasl']).model.velocity], [true, false, DEFAULT_CONFIG.model.velocity]);
  const originalOnSample = trainConfig(['--preset', 'original']);
  assert.deepEqual([originalOnSample.backbone.alpha, originalOnSample.sequence.sampleSize], [0.35, 5]);
  const real = trainConfig(['--data', '/tmp/some-wlasl']);
  assert.deepEqual([real.backbone.alpha, real.backbone.allowRandomFallback], [DEFAULT_CONFIG.backbone.alpha, false]);
});

test('--alpha that contradicts a weights folder is refused before any work; without --alpha the folder decides', async () => {
  await initBackend();
  const root = makeTempDir();
  const weights = path.join(root, 'weights-0.5');
  const base = buildMobileNetV2Base(0.5);
  await saveModelToDirectory(base, weights);
  base.dispose();
  assert.equal(await alphaOfWeightsFolder(weights), 0.5);
  const runDir = path.join(root, 'run');
  const refused = await runCli(['run', '--weights', weights, '--alpha', '0.35', '--run-dir', runDir, '--cache-dir', path.join(root, 'cache')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--alpha 0\.35 contradicts the weights in .*weights-0\.5, which are MobileNetV2-0\.5: give --alpha 0\.5, or leave --alpha out/);
  assert.ok(!fs.existsSync(runDir), 'refused before the run folder was made');
});

test('evaluate --split takes only train, val or test; predict --top and prepare --batch only a whole number >= 1', async () => {
  const root = makeTempDir();
  for (const batch of ['0', '2.5', '65']) {
    const r = await runCli(['prepare', '--data', path.join(REPO_ROOT, 'data', 'sample'), '--out', path.join(root, 'prepared'), '--batch', batch]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`--batch must be a whole number from 1 to 64, got ${batch.replace('.', '\\.')}`));
    assert.ok(!fs.existsSync(path.join(root, 'prepared')), 'refused before anything is written');
  }
  const dev = await runCli(['evaluate', '--model', path.join(root, 'm'), '--split', 'dev']);
  assert.equal(dev.code, 1);
  assert.match(dev.stderr, /option '--split <split>' argument 'dev' is invalid\. Allowed choices are train, val, test\./);
  for (const top of ['-1', '0', '2.5']) {
    const r = await runCli(['predict', path.join(root, 'clip.mp4'), '--model', path.join(root, 'm'), '--top', top]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`--top must be an integer >= 1, got '${top.replace('.', '\\.')}'`));
  }
});
