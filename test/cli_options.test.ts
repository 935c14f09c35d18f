import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram, configFromOptions } from '../src/cli/main';
import { DEFAULT_CONFIG } from '../src/config';

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
  const defaults = prepareConfig([]);
  assert.deepEqual(defaults.frames, DEFAULT_CONFIG.frames);
  assert.deepEqual(defaults.frames.window, { start: 5, end: 35, useMetadataRange: false, shortVideoPolicy: 'pad' });

  const custom = prepareConfig(['--frame-start', '0', '--frame-end', '47', '--metadata-range', '--short-video', 'skip', '--concurrency', '3']);
  assert.deepEqual(custom.frames.window, { start: 0, end: 47, useMetadataRange: true, shortVideoPolicy: 'skip' });
  assert.equal(custom.frames.concurrency, 3);
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
  assert.equal(defaults.train.helperThreads, 0);
  assert.equal(trainConfig(['--helper-threads', '1']).train.helperThreads, 1);
  assert.throws(() => trainConfig(['--helper-threads', '2']), /--helper-threads must be 0 or 1/);
  assert.throws(() => trainConfig(['--batch-size', '0']), /--batch-size \(0\), --epochs \(\d+\) and --lr \([\d.e-]+\) must be positive/);
});
