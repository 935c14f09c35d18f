import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../src/errors';
import { checkReportTarget, EVALUATION_FORMAT, evaluateModelDir } from '../src/pipeline/evaluate';
import { makeTempDir, REPO_ROOT } from './helpers';

const FIXTURE_MODEL = path.join(REPO_ROOT, 'test', 'fixtures', 'model-dir-2026-12-04');

test('evaluate --out never overwrites a model, a dataset or a stranger file; an earlier report may be replaced', async () => {
  const root = makeTempDir();
  const model = path.join(root, 'model');
  fs.cpSync(FIXTURE_MODEL, model, { recursive: true });
  const data = path.join(root, 'data');
  fs.mkdirSync(path.join(data, 'videos'), { recursive: true });
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), '[]');
  fs.writeFileSync(path.join(data, 'videos', '00001.mp4'), 'a user video');
  const before = new Map([model, data].flatMap((dir) => fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f)))).filter((f) => fs.statSync(f).isFile()).map((f) => [f, fs.readFileSync(f)]));

  const refused: Array<[string, RegExp]> = [
    [path.join(model, 'model.json'), /inside the model folder/],
    [path.join(model, 'new-report.json'), /inside the model folder/],
    [path.join(data, 'WLASL_v0.3.json'), /inside the dataset folder/],
    [path.join(data, 'videos', '00001.mp4'), /inside the dataset folder/],
  ];
  // Through a symlink to the model folder too.
  fs.symlinkSync(model, path.join(root, 'model-link'));
  refused.push([path.join(root, 'model-link', 'model.json'), /inside the model folder/]);
  const stranger = path.join(root, 'notes.txt');
  fs.writeFileSync(stranger, 'my notes');
  refused.push([stranger, /is not an earlier evaluation report: give --overwrite/]);
  refused.push([data, /inside the dataset folder/]);
  for (const [out, message] of refused) {
    // Refused before the model is even loaded: the data folder here holds no usable video.
    await assert.rejects(evaluateModelDir(model, { dataDir: data, out }), (e: unknown) => e instanceof OutputError && message.test(e.message), out);
  }
  for (const [file, bytes] of before) assert.deepEqual(fs.readFileSync(file), bytes, `${file} unchanged`);
  assert.equal(fs.readFileSync(stranger, 'utf8'), 'my notes');

  // An earlier report, or any file with --overwrite, may be replaced (outside the protected folders).
  const earlier = path.join(root, 'report.json');
  fs.writeFileSync(earlier, JSON.stringify({ format: EVALUATION_FORMAT, perVideo: {} }));
  assert.doesNotThrow(() => checkReportTarget(earlier, model, { dataDir: data }));
  assert.doesNotThrow(() => checkReportTarget(stranger, model, { dataDir: data }, true));
  assert.throws(() => checkReportTarget(path.join(model, 'model.json'), model, { dataDir: data }, true), /inside the model folder/, '--overwrite never opens the model folder');
  assert.doesNotThrow(() => checkReportTarget(path.join(root, 'fresh.json'), model, { dataDir: data }));
});
