/**
 * The bad-input corpus, generated in a temp folder (no committed binaries): broken videos made from real ones
 * with ffmpeg and fs, WLASL metadata variants with wrong JSON, types, duplicates, splits, bboxes and unsafe
 * names, zip archives that escape their folder or hold symlinks. Shared by the reliability tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import yazl from 'yazl';
import { REPO_ROOT } from './helpers';
import { makeAudioOnly, makeNoisyClip, truncateCopy, writeNoiseLikeH263 } from './video_fixtures';

export const SAMPLE_DIR = path.join(REPO_ROOT, 'data', 'sample');

export interface InstanceJson {
  video_id: string;
  split: string;
  bbox?: unknown;
  [field: string]: unknown;
}
export interface GlossJson {
  gloss: string;
  instances: InstanceJson[];
}

export function sampleMetadata(): GlossJson[] {
  return JSON.parse(fs.readFileSync(path.join(SAMPLE_DIR, 'WLASL_v0.3.json'), 'utf8')) as GlossJson[];
}

/** The first box of `type` at the top level of an MP4 (offset of its 32-bit size field), or -1. */
function topLevelBox(bytes: Buffer, type: string): number {
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(offset);
    if (bytes.toString('latin1', offset + 4, offset + 8) === type) return offset;
    if (size < 8) return -1;
    offset += size;
  }
  return -1;
}

/** Kinds of broken video in the corpus, each a file name under videos/. */
export const BAD_VIDEOS = {
  zeroByte: '80001',
  truncated: '80002',
  /** Noise that ffprobe weakly reads as raw H.263 (see writeNoiseLikeH263). */
  noise: '80003',
  audioOnly: '80004',
  hugeDeclaredSize: '80005',
  /** 3 frames against a 12-frame window: padded (policy 'pad'), not a failure. */
  short: '80006',
} as const;

/** Writes the broken videos into videosDir, made from a real sample clip. Returns id -> path. */
export function makeBadVideos(videosDir: string): Record<keyof typeof BAD_VIDEOS, string> {
  fs.mkdirSync(videosDir, { recursive: true });
  const file = (id: string) => path.join(videosDir, `${id}.mp4`);
  const good = path.join(SAMPLE_DIR, 'videos', '90000.mp4');
  fs.writeFileSync(file(BAD_VIDEOS.zeroByte), '');
  truncateCopy(good, file(BAD_VIDEOS.truncated), 0.3);
  writeNoiseLikeH263(file(BAD_VIDEOS.noise));
  makeAudioOnly(file(BAD_VIDEOS.audioOnly));
  // An mdat box declaring 4 GB in a 0.1 MB file: a reader that trusts sizes would allocate or seek wildly.
  const bytes = Buffer.from(fs.readFileSync(good));
  const mdat = topLevelBox(bytes, 'mdat');
  if (mdat < 0) throw new Error(`no mdat box in ${good}`);
  bytes.writeUInt32BE(0xfffffff0, mdat);
  fs.writeFileSync(file(BAD_VIDEOS.hugeDeclaredSize), bytes);
  makeNoisyClip(file(BAD_VIDEOS.short), { width: 160, height: 120, seconds: 0.12, fps: 25, noise: 0 });
  return Object.fromEntries(Object.entries(BAD_VIDEOS).map(([k, id]) => [k, file(id)])) as Record<keyof typeof BAD_VIDEOS, string>;
}

/** Glosses that would be unsafe as folder names; the schema accepts any non-empty gloss, so they reach every stage. */
export const UNSAFE_GLOSSES = ['../../escape', 'a/b', 'back\\slash', 'nul\u0000byte', 'new\nline', 'caf\u00e9 \u624b', 'x'.repeat(200), '..', 'CON'];

/** Video ids the schema must refuse (they become file names). */
export const UNSAFE_VIDEO_IDS = ['..', '../90000', 'a/b', 'a\\b', 'nul\u00000', 'new\nline', 'v'.repeat(300), 'caf\u00e9', ''];

export type MetadataVariant = { name: string; text: string; expect: RegExp };

/** WLASL_v0.3.json variants that must be refused with a MetadataError naming the file and the problem. */
export function badMetadataVariants(base: GlossJson[]): MetadataVariant[] {
  const clone = (): GlossJson[] => JSON.parse(JSON.stringify(base)) as GlossJson[];
  const withInstance = (change: (i: InstanceJson) => void): string => {
    const m = clone();
    change(m[0]!.instances[0]!);
    return JSON.stringify(m);
  };
  const variants: MetadataVariant[] = [
    { name: 'not JSON', text: '[{"gloss": "book", "instances": [', expect: /not valid JSON at line 1/ },
    { name: 'HTML error page', text: '<html><body>404</body></html>', expect: /not valid JSON/ },
    { name: 'object, not list', text: '{"gloss": "book"}', expect: /expected a JSON list of glosses/ },
    { name: 'instances not a list', text: JSON.stringify([{ gloss: 'book', instances: 'none' }]), expect: /instances/ },
    { name: 'video_id a number', text: withInstance((i) => ((i as Record<string, unknown>).video_id = 90000)), expect: /video_id/ },
    { name: 'fps a string', text: withInstance((i) => (i.fps = 'fast')), expect: /fps/ },
    { name: 'unknown split', text: withInstance((i) => (i.split = 'holdout')), expect: /split/ },
    { name: 'empty gloss', text: JSON.stringify([{ gloss: '', instances: base[0]!.instances }, ...base.slice(1)]), expect: /non-empty gloss/ },
    {
      name: 'duplicate video_id',
      text: (() => {
        const m = clone();
        m[1]!.instances[0]!.video_id = m[0]!.instances[0]!.video_id;
        return JSON.stringify(m);
      })(),
      expect: /already used/,
    },
    { name: 'duplicate gloss', text: JSON.stringify([base[0], base[0]]), expect: /appears twice/ },
    { name: 'negative bbox', text: withInstance((i) => (i.bbox = [-5, 10, 100, 120])), expect: /bbox/ },
    { name: 'inverted bbox', text: withInstance((i) => (i.bbox = [100, 120, 10, 10])), expect: /bbox/ },
    { name: 'zero-area bbox', text: withInstance((i) => (i.bbox = [10, 10, 10, 50])), expect: /bbox/ },
    { name: 'bbox of 3 numbers', text: withInstance((i) => (i.bbox = [1, 2, 3])), expect: /bbox/ },
  ];
  for (const id of UNSAFE_VIDEO_IDS) variants.push({ name: `unsafe video_id ${JSON.stringify(id).slice(0, 30)}`, text: withInstance((i) => (i.video_id = id)), expect: /video_id/ });
  return variants;
}

/** A Kaggle-like zip with one entry renamed: names are patched after writing (yazl refuses '..' itself). */
export async function makeZip(file: string, entries: Array<{ name: string; data?: Buffer; symlinkTo?: string }>): Promise<void> {
  const zip = new yazl.ZipFile();
  const patches: Array<[string, string]> = [];
  entries.forEach((e, i) => {
    // A placeholder of the same length, replaced in the bytes afterwards (zip names carry no checksum).
    const unsafe = e.name.includes('..') || e.name.startsWith('/');
    const placeholder = unsafe ? `${String(i).padStart(2, '0')}${'q'.repeat(e.name.length - 2)}` : e.name;
    if (unsafe) patches.push([placeholder, e.name]);
    if (e.symlinkTo !== undefined) zip.addBuffer(Buffer.from(e.symlinkTo), placeholder, { mode: 0o120777 });
    else zip.addBuffer(e.data ?? Buffer.from('data'), placeholder);
  });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let text = Buffer.concat(chunks).toString('latin1');
  for (const [from, to] of patches) text = text.split(from).join(to);
  fs.writeFileSync(file, Buffer.from(text, 'latin1'));
}

/** Every path under root (files, folders and links), relative, sorted: for before/after comparisons. */
export function snapshotTree(root: string, relative = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const rel = path.join(relative, entry.name);
    out.push(rel);
    if (entry.isDirectory()) out.push(...snapshotTree(root, rel));
  }
  return out.sort();
}

/** Paths in `after` that are new since `before` and not under one of the allowed folders. */
export function writtenOutside(before: string[], after: string[], allowed: string[]): string[] {
  const old = new Set(before);
  return after.filter((p) => !old.has(p) && !allowed.some((a) => p === a || p.startsWith(a + path.sep)));
}
