import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as dfd from 'danfojs-node';
import { chartBundle, chartToSvg, saveChart, VEGA_LITE_MIME, type ChartSpec } from '../src/plot/charts';
import { dataFrameToHtml, dataFrameToText } from '../src/plot/table';
import { sequenceWindowsSpec } from '../src/plot/specs';
import { makeTempDir } from './helpers';

const lossCurve: ChartSpec = {
  title: 'Loss per epoch',
  width: 300,
  height: 150,
  data: { values: [1, 2, 3, 4].map((epoch) => ({ epoch, loss: 2 / epoch })) },
  mark: 'line',
  encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
};

test('a Vega-Lite spec renders to an SVG with its title and one path for the line', async () => {
  const svg = await chartToSvg(lossCurve);
  assert.match(svg, /^<svg/);
  assert.match(svg, /Loss per epoch/);
  assert.ok((svg.match(/class="mark-line/g) ?? []).length === 1);
});

test('saveChart writes a real PNG of the chart size, the SVG and the spec', async () => {
  const dir = makeTempDir();
  const out = await saveChart(lossCurve, path.join(dir, 'charts', 'loss'));
  const meta = await sharp(out.png).metadata();
  assert.equal(meta.format, 'png');
  assert.ok(meta.width! > 300 && meta.height! > 150, `png is ${meta.width}x${meta.height}`);
  // The line is drawn: the image is not one flat colour.
  const stats = await sharp(out.png).stats();
  assert.ok(stats.channels[0]!.stdev > 10);
  assert.deepEqual(JSON.parse(fs.readFileSync(out.spec, 'utf8')), lossCurve);
  assert.match(fs.readFileSync(out.svg, 'utf8'), /<svg/);
});

test('the notebook bundle carries Vega-Lite for JupyterLab, a static SVG and a PNG in one output', async () => {
  const bundle = await chartBundle(lossCurve);
  assert.equal(VEGA_LITE_MIME, 'application/vnd.vegalite.v5+json');
  assert.deepEqual(bundle[VEGA_LITE_MIME], lossCurve);
  const svg = bundle['image/svg+xml'] as string;
  assert.match(svg, /^<svg/);
  assert.match(svg, /Loss per epoch/);
  assert.equal((svg.match(/class="mark-line/g) ?? []).length, 1);
  const png = Buffer.from(bundle['image/png'] as string, 'base64');
  assert.equal((await sharp(png).metadata()).format, 'png');
  assert.match(bundle['text/plain'] as string, /Loss per epoch/);
  const light = await chartBundle(lossCurve, { svg: false, png: false });
  assert.deepEqual(Object.keys(light).sort(), [VEGA_LITE_MIME, 'text/plain'].sort());
});

test('a DataFrame becomes an HTML table with escaped cells and a row limit', () => {
  const df = new dfd.DataFrame({ gloss: ['<script>', 'book', 'drink'], accuracy: [0.5, 1, 0.25] });
  const html = dataFrameToHtml(df, { maxRows: 2, caption: 'per class' });
  assert.match(html, /<caption>per class<\/caption>/);
  assert.match(html, /<td>&lt;script&gt;<\/td><td>0\.500<\/td>/);
  assert.ok(!html.includes('drink'));
  assert.match(html, /1 more rows/);
  assert.match(dataFrameToText(df), /gloss\s+accuracy\n-+\s+-+\n<script>\s+0\.500/);
});

test('sequence windows: one row per window, T source frames each, counted from the first kept frame', () => {
  const spec = sequenceWindowsSpec([0, 2, 4], 3, 5) as { data: { values: { window: string; frame: number }[] } };
  assert.deepEqual(spec.data.values.filter((v) => v.window === 'window 2').map((v) => v.frame), [7, 8, 9]);
  assert.equal(spec.data.values.length, 9);
  const long = sequenceWindowsSpec(Array.from({ length: 40 }, (_, i) => i), 2, 0) as { data: { values: unknown[] } };
  assert.equal(long.data.values.length, 30 * 2);
});
