import { execFile } from 'node:child_process';
import sharp, { type OverlayOptions } from 'sharp';
import { VideoError } from '../errors';
import { ffmpegBinaries } from '../runtime/ffmpeg';
import { decodeJpeg } from '../dataset/frame_source';
import type { CropRect } from '../video/types';
import { escapeHtml } from '../plot/table';
import { displayBundle } from '../plot/notebook';
import { imageGridSpec, type ImageGridCell } from '../plot/specs';
import type { ChartSpec } from '../plot/charts';

/**
 * Pictures for the notebooks, small enough to keep in a committed notebook: the show_sample counterpart (rows
 * of frame thumbnails, each row labelled with its gloss) and a source frame with its crop box drawn on it.
 * JPEG at modest quality: a grid of 8 sequences stays in the tens of kilobytes.
 */
export interface GridRow {
  /** Shown at the left of the row (the gloss, and e.g. the video id). */
  label: string;
  /** RGB uint8 [count, size, size, 3]. */
  frames: Uint8Array;
  count: number;
  size: number;
  /** One small caption under each frame (e.g. its source frame index). */
  captions?: string[];
}

export interface GridOptions {
  /** Thumbnail side in pixels. */
  thumb?: number;
  /** Width of the label column. */
  labelWidth?: number;
  quality?: number;
  title?: string;
}

function textSvg(width: number, height: number, items: { x: number; y: number; text: string; size: number; anchor?: string; bold?: boolean }[]): Buffer {
  const texts = items
    .map((t) => `<text x="${t.x}" y="${t.y}" font-size="${t.size}" text-anchor="${t.anchor ?? 'start'}"${t.bold ? ' font-weight="bold"' : ''}>${escapeHtml(t.text)}</text>`)
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="DejaVu Sans, sans-serif" fill="#222">${texts}</g></svg>`);
}

/** Rows of frame thumbnails with labels, as one JPEG. */
export async function sequenceGrid(rows: readonly GridRow[], options: GridOptions = {}): Promise<Buffer> {
  if (rows.length === 0) throw new RangeError('sequenceGrid needs at least one row');
  const thumb = options.thumb ?? 64;
  const labelWidth = options.labelWidth ?? 110;
  const gap = 3;
  const captionHeight = rows.some((r) => r.captions?.length) ? 12 : 0;
  const titleHeight = options.title ? 20 : 0;
  const columns = Math.max(...rows.map((r) => r.count));
  const rowHeight = thumb + captionHeight + gap;
  const width = labelWidth + columns * (thumb + gap);
  const height = titleHeight + rows.length * rowHeight + gap;
  const composites: OverlayOptions[] = [];
  const texts: Parameters<typeof textSvg>[2] = [];
  if (options.title) texts.push({ x: 4, y: 15, text: options.title, size: 13, bold: true });
  for (const [r, row] of rows.entries()) {
    const top = titleHeight + gap + r * rowHeight;
    texts.push({ x: 4, y: top + thumb / 2 + 4, text: row.label, size: 11 });
    const bytes = row.size * row.size * 3;
    for (let f = 0; f < row.count; f++) {
      const input = await sharp(Buffer.from(row.frames.buffer, row.frames.byteOffset + f * bytes, bytes), { raw: { width: row.size, height: row.size, channels: 3 } })
        .resize(thumb, thumb)
        .png()
        .toBuffer();
      const left = labelWidth + f * (thumb + gap);
      composites.push({ input, left, top });
      const caption = row.captions?.[f];
      if (caption) texts.push({ x: left + thumb / 2, y: top + thumb + 10, text: caption, size: 9, anchor: 'middle' });
    }
  }
  composites.push({ input: textSvg(width, height, texts), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .jpeg({ quality: options.quality ?? 80 })
    .toBuffer();
}

/** JPEG frame files -> RGB uint8 [count, size, size, 3] (for sequenceGrid). */
export async function framesOfJpegFiles(files: readonly string[], size: number): Promise<{ frames: Uint8Array; count: number; size: number }> {
  const decoded = await Promise.all(files.map((f) => decodeJpeg(f, size)));
  const frames = new Uint8Array(files.length * size * size * 3);
  decoded.forEach((d, i) => frames.set(d, i * size * size * 3));
  return { frames, count: files.length, size };
}

/** One displayed frame of a video as PNG (ffmpeg, frame index 0-based in decode order). */
export function sourceFramePng(video: string, frameIndex: number): Promise<Buffer> {
  const { ffmpeg } = ffmpegBinaries();
  const args = ['-v', 'error', '-i', video, '-vf', `select=eq(n\\,${frameIndex})`, '-vsync', '0', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1'];
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error || stdout.length === 0) {
        reject(new VideoError(`cannot read frame ${frameIndex}: ${stderr.toString().trim() || error?.message || 'no output'}`, { file: video, cause: error }));
      } else resolve(stdout);
    });
  });
}

/** A source frame with the crop rectangle drawn on it (the original's crop_frame, made visible), as JPEG. */
export async function frameWithCrop(video: string, frameIndex: number, crop: CropRect | null, options: { width?: number; label?: string } = {}): Promise<Buffer> {
  const png = await sourceFramePng(video, frameIndex);
  const meta = await sharp(png).metadata();
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  const rect = crop ?? { x: 0, y: 0, width: w, height: h };
  const label = options.label ?? `frame ${frameIndex}, crop ${rect.width}x${rect.height} at (${rect.x}, ${rect.y})`;
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect x="${rect.x + 1}" y="${rect.y + 1}" width="${Math.max(1, rect.width - 2)}" height="${Math.max(1, rect.height - 2)}" fill="none" stroke="#ff2d2d" stroke-width="3"/>` +
      `<rect x="0" y="0" width="${w}" height="18" fill="white" fill-opacity="0.75"/><text x="4" y="13" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#111">${escapeHtml(label)}</text></svg>`,
  );
  // Two passes: within one sharp pipeline the resize runs before the composite, whatever the call order, and an
  // overlay larger than the resized frame is refused.
  const marked = await sharp(png).composite([{ input: overlay, left: 0, top: 0 }]).png().toBuffer();
  return sharp(marked)
    .resize({ width: options.width ?? 320 })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** PNG by its signature, else JPEG (the only two kinds these helpers make). */
function imageMime(bytes: Buffer): 'image/png' | 'image/jpeg' {
  return bytes[0] === 0x89 && bytes[1] === 0x50 ? 'image/png' : 'image/jpeg';
}

/** Shows JPEG or PNG bytes as one notebook output (text placeholder outside a notebook). */
export function showImage(bytes: Buffer, alt = 'image'): void {
  const mime = imageMime(bytes);
  displayBundle({ [mime]: bytes.toString('base64'), 'text/plain': `<${alt}, ${bytes.length} bytes>` });
}

/** Several images side by side as one HTML output (each a data URI), e.g. crops of a few videos. */
export function showImageRow(images: readonly { bytes: Buffer; caption: string }[]): void {
  const cells = images
    .map((im) => {
      const mime = imageMime(im.bytes);
      return `<figure style="display:inline-block;margin:4px"><img src="data:${mime};base64,${im.bytes.toString('base64')}"/><figcaption style="font-size:11px">${escapeHtml(im.caption)}</figcaption></figure>`;
    })
    .join('');
  displayBundle({ 'text/html': `<div>${cells}</div>`, 'text/plain': images.map((i) => `<${i.caption}>`).join('\n') });
}

/** One RGB uint8 frame [size, size, 3] as a small JPEG. */
export async function frameJpeg(frame: Uint8Array, size: number, options: { width?: number; quality?: number } = {}): Promise<Buffer> {
  const width = options.width ?? size;
  return sharp(Buffer.from(frame.buffer, frame.byteOffset, size * size * 3), { raw: { width: size, height: size, channels: 3 } })
    .resize(width, width)
    .jpeg({ quality: options.quality ?? 75 })
    .toBuffer();
}

/**
 * The same rows as sequenceGrid, as a Vega-Lite chart (image marks with JPEG data URIs): JupyterLab renders it
 * natively and the stored PNG fallback shows the same grid. Columns are the positions in the sequence,
 * "frame 1..T" (rows may come from different source frames, so their captions cannot name a shared column).
 */
export async function sequenceGridChart(rows: readonly GridRow[], options: { thumb?: number; title?: string; columnTitle?: string } = {}): Promise<ChartSpec> {
  if (rows.length === 0) throw new RangeError('sequenceGridChart needs at least one row');
  const thumb = options.thumb ?? 64;
  const cells: ImageGridCell[] = [];
  for (const row of rows) {
    const bytes = row.size * row.size * 3;
    for (let f = 0; f < row.count; f++) {
      const jpeg = await frameJpeg(row.frames.subarray(f * bytes, (f + 1) * bytes), row.size, { width: thumb });
      cells.push({ row: row.label, column: `frame ${f + 1}`, url: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
    }
  }
  return imageGridSpec(cells, { thumb, title: options.title, columnTitle: options.columnTitle ?? 'position in the sequence' });
}

/** Per-channel min, max and mean of interleaved pixel values (uint8 or normalised floats). */
export function channelStats(pixels: ArrayLike<number>, names: readonly string[] = ['R', 'G', 'B']): { channel: string; min: number; max: number; mean: number }[] {
  const n = names.length;
  return names.map((channel, c) => {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let count = 0;
    for (let i = c; i < pixels.length; i += n) {
      const v = pixels[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
    }
    return { channel, min, max, mean: count ? sum / count : NaN };
  });
}
