import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, makeTempDir } from './helpers';
import { checkExecutedFile, checkExecutedNotebook, declaredExpectations, parseExpectation, type NotebookJson } from '../scripts/notebook_expect';

// Hand-made executed notebooks, shaped like the copies scripts/execute_notebook.py writes to .executed/.
const ran = { execution: { 'iopub.status.busy': '2026-01-01T00:00:00Z' }, execution_seconds: 0.5 };

function code(outputs: unknown[], metadata: Record<string, unknown> = ran) {
  return { cell_type: 'code', metadata, source: '// cell', outputs };
}
const stdout = (text: string) => ({ output_type: 'stream', name: 'stdout', text: [text] });
const chart = (title: string, fallback = true) => ({
  output_type: 'display_data',
  metadata: {},
  data: { 'application/vnd.vegalite.v5+json': { title, mark: 'bar' }, ...(fallback ? { 'image/png': 'iVBORw0KGgo=' } : {}), 'text/plain': `<Vega-Lite chart: ${title}>` },
});
const table = (caption: string) => ({
  output_type: 'display_data',
  metadata: {},
  data: { 'text/html': `<table class="dataframe"><caption>${caption}</caption><thead><tr><th>epoch</th></tr></thead><tbody></tbody></table>`, 'text/plain': 'epoch' },
});
const jpeg = (alt: string) => ({ output_type: 'display_data', metadata: {}, data: { 'image/jpeg': '/9j/4AAQ', 'text/plain': `<${alt}, 4 bytes>` } });

function notebook(cells: unknown[], expect?: string[]): NotebookJson {
  return { cells, metadata: expect ? { wlasl: { expect } } : {} } as NotebookJson;
}

const EXPECT = ['text:best epoch', 'table:History', 'vegalite:loss per epoch', 'image:grid'];

test('an executed notebook with every declared output and no error passes', () => {
  const nb = notebook(
    [
      { cell_type: 'markdown', metadata: {}, source: '# 05' },
      code([stdout('training: 7 epochs, best epoch 4\n')]),
      code([chart('notebooks: loss per epoch'), table('History of the run')]),
      code([jpeg('grid of sample sequences')]),
    ],
    EXPECT,
  );
  assert.deepEqual(checkExecutedNotebook(nb, '05_training.ipynb'), []);
});

test('a missing output is reported with the notebook and the expectation', () => {
  const nb = notebook([code([stdout('best epoch 4\n')]), code([table('History')]), code([jpeg('grid')])], EXPECT);
  const problems = checkExecutedNotebook(nb, 'notebooks/05_training.ipynb');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^notebooks\/05_training\.ipynb: missing output 'vegalite:loss per epoch'/);
});

test('a chart with no static image fallback does not count, and the message says why', () => {
  const nb = notebook([code([chart('loss per epoch', false)])], ['vegalite:loss per epoch']);
  const [problem, ...rest] = checkExecutedNotebook(nb, '05.ipynb');
  assert.equal(rest.length, 0);
  assert.match(problem!, /no image\/png or image\/svg\+xml fallback/);
});

test("a chart's fallback PNG is not an image output, and stderr is not printed text", () => {
  const nb = notebook([code([chart('confusion'), { output_type: 'stream', name: 'stderr', text: 'warning: best epoch' }])], ['image', 'text:best epoch']);
  const problems = checkExecutedNotebook(nb, 'x.ipynb');
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /'image'/);
  assert.match(problems[1]!, /'text:best epoch'/);
});

test('an error output fails the notebook even when every expected output is there', () => {
  const nb = notebook(
    [
      code([stdout('best epoch 4\n'), chart('loss per epoch'), table('History'), jpeg('grid')]),
      code([{ output_type: 'error', ename: 'CellExecutionError', evalue: 'CacheError: feature file missing\nmore', traceback: [] }]),
    ],
    EXPECT,
  );
  assert.deepEqual(checkExecutedNotebook(nb, '06_evaluation.ipynb'), ['06_evaluation.ipynb: cell 1 has an error output: CellExecutionError: CacheError: feature file missing']);
});

test('code cells that never ran (a run that stopped early) are reported', () => {
  const nb = notebook([code([stdout('ok\n')]), code([], {}), code([], {})]);
  assert.deepEqual(checkExecutedNotebook(nb, 'a.ipynb'), ['a.ipynb: code cell(s) 1, 2 did not run (was the notebook executed to the end?)']);
});

test('expectation declarations are validated', () => {
  assert.deepEqual(parseExpectation('table:Probe: one per gloss'), { kind: 'table', needle: 'Probe: one per gloss', source: 'table:Probe: one per gloss' });
  assert.deepEqual(parseExpectation('image'), { kind: 'image', needle: '', source: 'image' });
  assert.throws(() => parseExpectation('chart:loss', 'nb.ipynb'), /nb\.ipynb: unknown expectation 'chart:loss'/);
  assert.throws(() => declaredExpectations(notebook([], ['']), 'nb.ipynb'), /list of non-empty strings/);
  assert.equal(declaredExpectations(notebook([])), undefined);
  assert.deepEqual(checkExecutedNotebook(notebook([]), 'n.ipynb', { requireExpectations: true }), ['n.ipynb: declares no expected outputs (metadata.wlasl.expect)']);
});

test('checkExecutedFile reads a file and reports an unreadable one without throwing', () => {
  const dir = makeTempDir();
  const good = path.join(dir, 'good.ipynb');
  fs.writeFileSync(good, JSON.stringify(notebook([code([table('Versions')])], ['table:Versions'])));
  assert.deepEqual(checkExecutedFile(good), []);
  const truncated = path.join(dir, 'bad.ipynb');
  fs.writeFileSync(truncated, '{"cells": [');
  const [problem] = checkExecutedFile(truncated, { label: 'notebooks/bad.ipynb' });
  assert.match(problem!, /^notebooks\/bad\.ipynb: cannot read the executed notebook/);
});

test('every notebook in notebooks/ declares valid expected outputs', () => {
  const dir = path.join(REPO_ROOT, 'notebooks');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  assert.ok(files.length >= 8, `expected the 8 notebooks 00..07, found ${files.join(', ')}`);
  for (const f of files) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as NotebookJson;
    const expectations = declaredExpectations(nb, f);
    assert.ok(expectations && expectations.length > 0, `${f} declares no metadata.wlasl.expect`);
    // The committed copy must not hold an error from a run either.
    for (const cell of nb.cells) for (const out of cell.outputs ?? []) assert.notEqual(out.output_type, 'error', `${f} is committed with an error output`);
  }
});
