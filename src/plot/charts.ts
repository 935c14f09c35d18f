import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite';
import { displayBundle, liveDisplay, type MimeBundle } from './notebook';
import { writeFileAtomic } from '../runtime/atomic';

/**
 * Vega-Lite charts rendered three ways from one spec: the Vega-Lite MIME type that JupyterLab renders natively,
 * a static SVG (vega's headless renderer) for viewers without a renderer and for CLI output, and a PNG
 * through sharp (node-canvas does not install offline).
 */
export type ChartSpec = TopLevelSpec;

export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';

/** Characters XML 1.0 forbids (NUL and other control characters, lone surrogates). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export async function chartToSvg(spec: ChartSpec): Promise<string> {
  // vega ingests inline data objects in place (tuple ids); render a copy so the caller's spec stays clean.
  const view = new vega.View(vega.parse(vl.compile(structuredClone(spec)).spec), { renderer: 'none' });
  try {
    // Labels are data (WLASL glosses may hold any character): one NUL would make the SVG unparseable and the
    // PNG conversion fail at the end of a finished run, so forbidden characters are shown as U+FFFD.
    return (await view.toSVG()).replace(NOT_XML, '\uFFFD');
  } finally {
    view.finalize();
  }
}

export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png({ compressionLevel: 9 }).toBuffer();
}

export async function chartToPng(spec: ChartSpec, density = 144): Promise<Buffer> {
  return svgToPng(await chartToSvg(spec), density);
}

/**
 * The notebook bundle, one output: Vega-Lite for JupyterLab, static SVG for viewers without a Vega renderer
 * (nbconvert HTML, VS Code), PNG for GitHub's viewer, plain text for terminals. Each viewer picks the richest
 * type it renders, so the chart is never shown twice. `svg: false` / `png: false` drop a static copy.
 */
export async function chartBundle(spec: ChartSpec, options: { png?: boolean; svg?: boolean } = {}): Promise<MimeBundle> {
  const svg = await chartToSvg(spec);
  const bundle: MimeBundle = {
    [VEGA_LITE_MIME]: spec,
    'text/plain': `<Vega-Lite chart${typeof spec.title === 'string' ? `: ${spec.title}` : ''}>`,
  };
  if (options.svg !== false) bundle['image/svg+xml'] = svg;
  if (options.png !== false) bundle['image/png'] = (await svgToPng(svg, 96)).toString('base64');
  return bundle;
}

/**
 * Shows a chart in a notebook (one output); outside a notebook prints a one-line placeholder. `svg: false`
 * keeps only the PNG as the static copy: an image grid's SVG would carry every thumbnail a second time.
 */
export async function showChart(spec: ChartSpec, options: { png?: boolean; svg?: boolean } = {}): Promise<void> {
  displayBundle(await chartBundle(spec, options));
}

/** A chart output replaced in place on each update (e.g. loss curves per epoch). */
export function liveChart(): { update(spec: ChartSpec): Promise<void> } {
  const handle = liveDisplay();
  return {
    async update(spec) {
      handle.show(await chartBundle(spec));
    },
  };
}

/** Writes <base>.svg, <base>.png and <base>.vl.json (the spec, for re-rendering). Returns the paths. */
export async function saveChart(spec: ChartSpec, basePath: string): Promise<{ svg: string; png: string; spec: string }> {
  const svg = await chartToSvg(spec);
  const out = { svg: `${basePath}.svg`, png: `${basePath}.png`, spec: `${basePath}.vl.json` };
  await fs.promises.mkdir(path.dirname(basePath), { recursive: true });
  await writeFileAtomic(out.svg, svg);
  await writeFileAtomic(out.png, await svgToPng(svg));
  await writeFileAtomic(out.spec, JSON.stringify(spec, null, 2) + '\n');
  return out;
}
