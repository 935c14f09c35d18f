import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelMeta } from '../src/model/model_dir';
import { modelWarnings, trainedOnSyntheticSample } from '../src/pipeline/predict';
import { SAMPLE_CLASSES } from '../src/sample/design';
import { makeTempDir, REPO_ROOT, runCli } from './helpers';

// A real model folder (3 WLASL glosses), written by saveModelDir at commit bfa11b0.
const WLASL_MODEL = path.join(REPO_ROOT, 'test', 'fixtures', 'model-dir-2026-12-04');

/** A copy of the fixture model whose description says it learnt other classes or data. */
function variant(change: (meta: Record<string, unknown>) => void): string {
  const dir = path.join(makeTempDir(), 'model');
  fs.cpSync(WLASL_MODEL, dir, { recursive: true });
  const file = path.join(dir, 'wlasl-model.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(meta);
  fs.writeFileSync(file, JSON.stringify(meta));
  return dir;
}

test('a model trained on the embedded synthetic sample is flagged, by its training record or (older folders) by its classes', () => {
  assert.equal(trainedOnSyntheticSample(readModelMeta(WLASL_MODEL)), false);
  assert.deepEqual(modelWarnings(readModelMeta(WLASL_MODEL)), []);
  const sampleGlosses = SAMPLE_CLASSES.slice(0, 3).map((c) => c.gloss);
  const byClasses = readModelMeta(variant((m) => (m.classes = sampleGlosses)));
  assert.equal(trainedOnSyntheticSample(byClasses), true);
  assert.match(modelWarnings(byClasses)[0]!, /embedded synthetic sample.*not ASL signs.*means nothing/);
  const recorded = readModelMeta(variant((m) => (m.training = { dataset: { synthetic: true } })));
  assert.equal(trainedOnSyntheticSample(recorded), true);
  // The record wins over the class names: a real dataset may have a gloss called "open".
  const realOpen = readModelMeta(variant((m) => ((m.classes = sampleGlosses), (m.training = { dataset: { synthetic: false } }))));
  assert.equal(trainedOnSyntheticSample(realOpen), false);
});

test('predict --list-classes prints the glosses a model knows, and warns on stderr for a sample model', async () => {
  const listed = await runCli(['predict', '--model', WLASL_MODEL, '--list-classes']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n'), ['book', 'drink', 'computer']);
  assert.equal(listed.stderr, '');
  const sample = await runCli(['predict', '--model', variant((m) => (m.classes = ['open', 'close', 'grow'])), '--list-classes']);
  assert.equal(sample.code, 0, sample.stderr);
  assert.match(sample.stderr, /^warning: this model was trained on the embedded synthetic sample/m);
  const none = await runCli(['predict', '--model', WLASL_MODEL]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /error: give a video to recognise \(or several, or --list-classes\)/);
  const top = await runCli(['predict', 'x.mp4', '--model', WLASL_MODEL, '--top', '0']);
  assert.match(top.stderr, /--top must be an integer >= 1, got '0'/);
});
