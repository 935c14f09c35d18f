/**
 * Checks an executed notebook against what it promises to show. Each notebook lists its must-have outputs in
 * its metadata, `metadata.wlasl.expect`, one string per output:
 *
 *   text[:NEEDLE]      printed text (stdout, or a plain-text display) containing NEEDLE
 *   table[:NEEDLE]     an HTML table whose HTML (caption, headers, cells) contains NEEDLE
 *   vegalite[:NEEDLE]  a Vega-Lite chart whose title contains NEEDLE, with a static image fallback in the same
 *                      output (what GitHub and nbconvert show)
 *   image[:NEEDLE]     a picture (PNG/JPEG, or an HTML <img>) that is not a chart; NEEDLE is matched against its
 *                      alt text
 *
 * Besides the expectations, an executed notebook must have no error output and every code cell must have run:
 * tslab drops the cells queued after a failing one, so an unexecuted cell means the run stopped early.
 * Used by scripts/run_notebooks.ts on every copy in .executed/, and by test/notebooks_expect.test.ts.
 */
import * as fs from 'node:fs';

export const EXPECTATION_KINDS = ['text', 'table', 'vegalite', 'image'] as const;
export type ExpectationKind = (typeof EXPECTATION_KINDS)[number];

export interface Expectation {
  kind: ExpectationKind;
  /** Substring to find; '' matches any output of the kind. */
  needle: string;
  /** The declaration as written, for messages. */
  source: string;
}

/** The parts of nbformat 4 this checker reads. */
interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface NotebookCell {
  cell_type: string;
  source?: string | string[];
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
}
export interface NotebookJson {
  cells: NotebookCell[];
  metadata?: { wlasl?: { expect?: unknown } } & Record<string, unknown>;
}

const VEGA_LITE_MIME = /^application\/vnd\.vegalite\.v\d+\+json$/;

export class NotebookExpectationError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'NotebookExpectationError';
  }
}

export function parseExpectation(declaration: string, file = 'notebook'): Expectation {
  const at = declaration.indexOf(':');
  const kind = at < 0 ? declaration : declaration.slice(0, at);
  if (!(EXPECTATION_KINDS as readonly string[]).includes(kind)) {
    throw new NotebookExpectationError(file, `unknown expectation '${declaration}' in metadata.wlasl.expect (kinds: ${EXPECTATION_KINDS.join(', ')}; write kind or kind:text)`);
  }
  return { kind: kind as ExpectationKind, needle: at < 0 ? '' : declaration.slice(at + 1), source: declaration };
}

/** The notebook's declared expectations, or undefined when it declares none. Malformed metadata throws. */
export function declaredExpectations(nb: NotebookJson, file = 'notebook'): Expectation[] | undefined {
  const raw = nb.metadata?.wlasl?.expect;
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string' || x === '')) {
    throw new NotebookExpectationError(file, 'metadata.wlasl.expect must be a list of non-empty strings');
  }
  return (raw as string[]).map((d) => parseExpectation(d, file));
}

function joined(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join('') : (text ?? '');
}

function dataText(data: Record<string, unknown>, mime: string): string {
  const value = data[mime];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join('');
  return '';
}

function chartTitle(spec: unknown): string {
  if (typeof spec !== 'object' || spec === null) return '';
  const title = (spec as { title?: unknown }).title;
  if (typeof title === 'string') return title;
  if (Array.isArray(title)) return title.join(' ');
  if (typeof title === 'object' && title !== null) {
    const text = (title as { text?: unknown }).text;
    return Array.isArray(text) ? text.join(' ') : typeof text === 'string' ? text : '';
  }
  return '';
}

function vegaLiteOf(data: Record<string, unknown>): unknown {
  const mime = Object.keys(data).find((m) => VEGA_LITE_MIME.test(m));
  return mime === undefined ? undefined : data[mime];
}

/** Whether one output satisfies an expectation; for a chart without a fallback, says so. */
function matches(out: NotebookOutput, e: Expectation): boolean | 'chart-without-fallback' {
  const data = out.data ?? {};
  switch (e.kind) {
    case 'text': {
      const text = out.output_type === 'stream' ? (out.name === 'stdout' ? joined(out.text) : '') : dataText(data, 'text/plain');
      return text.trim() !== '' && text.includes(e.needle);
    }
    case 'table': {
      const html = dataText(data, 'text/html');
      return /<table[\s>]/i.test(html) && html.includes(e.needle);
    }
    case 'vegalite': {
      const spec = vegaLiteOf(data);
      if (spec === undefined || !chartTitle(spec).includes(e.needle)) return false;
      return 'image/png' in data || 'image/svg+xml' in data ? true : 'chart-without-fallback';
    }
    case 'image': {
      if (vegaLiteOf(data) !== undefined) return false; // a chart's fallback image is not a picture
      if ('image/png' in data || 'image/jpeg' in data) return dataText(data, 'text/plain').includes(e.needle);
      const html = dataText(data, 'text/html');
      return /<img\s/i.test(html) && (e.needle === '' || html.includes(e.needle) || dataText(data, 'text/plain').includes(e.needle));
    }
  }
}

function describe(e: Expectation): string {
  const what = {
    text: 'printed text',
    table: 'an HTML table',
    vegalite: 'a Vega-Lite chart (with a static image fallback)',
    image: 'an image',
  }[e.kind];
  return e.needle ? `${what} containing "${e.needle}"` : what;
}

/**
 * Problems of an executed notebook (empty when it is fine): error outputs, code cells that did not run, and
 * declared outputs that are missing. `file` only names the notebook in the messages.
 */
export function checkExecutedNotebook(nb: NotebookJson, file: string, options: { requireExpectations?: boolean } = {}): string[] {
  const problems: string[] = [];
  const expectations = declaredExpectations(nb, file);
  if (!expectations && options.requireExpectations) problems.push(`${file}: declares no expected outputs (metadata.wlasl.expect)`);
  const outputs: NotebookOutput[] = [];
  const notRun: number[] = [];
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const meta = cell.metadata ?? {};
    // nbclient records `execution` timestamps; scripts/execute_notebook.py adds `execution_seconds`.
    if (!('execution' in meta) && !('execution_seconds' in meta)) notRun.push(index);
    for (const out of cell.outputs ?? []) {
      outputs.push(out);
      if (out.output_type === 'error') problems.push(`${file}: cell ${index} has an error output: ${out.ename ?? 'Error'}: ${(out.evalue ?? '').split('\n')[0]}`);
    }
  });
  if (notRun.length > 0) problems.push(`${file}: code cell(s) ${notRun.join(', ')} did not run (was the notebook executed to the end?)`);
  for (const e of expectations ?? []) {
    const results = outputs.map((o) => matches(o, e));
    if (results.includes(true)) continue;
    const hint = results.includes('chart-without-fallback') ? ' (a chart with that title exists but has no image/png or image/svg+xml fallback)' : '';
    problems.push(`${file}: missing output '${e.source}': expected ${describe(e)}${hint}`);
  }
  return problems;
}

/** Reads an executed .ipynb and checks it; an unreadable file is one problem, not a crash. */
export function checkExecutedFile(file: string, options: { requireExpectations?: boolean; label?: string } = {}): string[] {
  const label = options.label ?? file;
  let nb: NotebookJson;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as NotebookJson;
  } catch (error) {
    return [`${label}: cannot read the executed notebook (${(error as Error).message})`];
  }
  if (!Array.isArray(nb.cells)) return [`${label}: not a notebook (no cells list)`];
  try {
    return checkExecutedNotebook(nb, label, options);
  } catch (error) {
    if (error instanceof NotebookExpectationError) return [error.message];
    throw error;
  }
}
