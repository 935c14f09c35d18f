import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, makeTempDir } from './helpers';
import { findJupyter } from '../scripts/install_kernel';

// The runner needs Debian's Jupyter (installed by .ci/run); without it there is nothing to run.
const jupyter = findJupyter();

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `t${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    metadata: { kernelspec: { name: 'wlasl-tslab', display_name: 'TypeScript (wlasl)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

function runNotebook(file: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'run_notebooks.ts'), file], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
}

test('the notebook runner executes a notebook that imports the library, and keeps the outputs', { skip: !jupyter && 'jupyter not installed' }, () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'nb_ok_test.ipynb');
  fs.writeFileSync(file, notebook(['import { DEFAULT_CONFIG } from "./src/index";\nconsole.log("window", DEFAULT_CONFIG.frames.window.start, DEFAULT_CONFIG.frames.window.end);']));
  const result = runNotebook(file);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /1 passed, 0 failed/);
  const executed = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, '.executed', 'nb_ok_test.ipynb'), 'utf8'));
  const text = executed.cells[0].outputs.map((o: { text?: string | string[] }) => [o.text ?? ''].flat().join('')).join('');
  assert.match(text, /window 5 35/);
});

test('the notebook runner fails on a cell error and prints the real error text', { skip: !jupyter && 'jupyter not installed' }, () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'nb_fail_test.ipynb');
  fs.writeFileSync(file, notebook(['const x = 1;', 'throw new RangeError("frame window 5..35 is empty in video 00335");', 'console.log("never")']));
  const result = runNotebook(file);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /FAIL nb_fail_test\.ipynb/);
  assert.match(result.stderr, /cell 1/);
  assert.match(result.stderr, /RangeError: frame window 5\.\.35 is empty in video 00335/);
  assert.match(result.stdout, /0 passed, 1 failed/);
});

test('a TypeScript compile error in a cell is reported with its message', { skip: !jupyter && 'jupyter not installed' }, () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'nb_type_test.ipynb');
  fs.writeFileSync(file, notebook(['const n: number = "not a number";']));
  const result = runNotebook(file);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /not assignable to type 'number'/);
});
