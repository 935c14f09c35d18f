import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, UnsafeNameError, WlaslError } from '../errors';
import { mkdirError, tempSibling, writeJsonAtomic } from '../runtime/atomic';
import { createProgress } from '../runtime/progress';
import type { VideoIndex } from '../metadata/video_index';
import { linkOutsideReason } from '../video/containment';
import { safeGlossNames } from './safe_names';

export type OrganiseMode = 'hardlink' | 'symlink' | 'copy';

export interface OrganiseOptions {
  /** hardlink (default: no extra space, falls back to symlink across devices), symlink, or copy. */
  mode?: OrganiseMode;
  progress?: boolean;
}

export interface OrganiseResult {
  outDir: string;
  mode: OrganiseMode;
  /** Links or copies made now. */
  created: number;
  /** Already in place from an earlier run. */
  unchanged: number;
  /** Instances without a video file (not organised; see the missing-video report). */
  missing: number;
  /** Hard links that fell back to symbolic links (different device or no permission). */
  symlinkFallbacks: number;
  /** Videos not placed: symbolic links leading out of the dataset folder (see src/video/containment.ts). */
  refused: Array<{ videoId: string; file: string; reason: string }>;
  /** outDir/gloss_names.json: folder name -> gloss, the reversible mapping. */
  mappingFile: string;
}

export const GLOSS_MAPPING_FILE = 'gloss_names.json';

function isSameLink(src: string, dst: string, mode: OrganiseMode): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dst);
  } catch {
    return false;
  }
  if (st.isSymbolicLink()) return (mode === 'symlink' || mode === 'hardlink') && fs.readlinkSync(dst) === src;
  const s = fs.statSync(src);
  if (mode === 'copy') return st.size === s.size;
  return st.ino === s.ino && st.dev === s.dev;
}

/** Creates dst as a link/copy of src at a temporary name, then renames over any stale dst. */
function place(src: string, dst: string, mode: OrganiseMode): 'hardlink' | 'symlink' | 'copy' {
  const tmp = tempSibling(dst);
  let made: 'hardlink' | 'symlink' | 'copy' = mode;
  try {
    if (mode === 'copy') fs.copyFileSync(src, tmp, fs.constants.COPYFILE_EXCL);
    else if (mode === 'symlink') fs.symlinkSync(src, tmp);
    else {
      try {
        fs.linkSync(src, tmp);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
        fs.symlinkSync(src, tmp);
        made = 'symlink';
      }
    }
    fs.renameSync(tmp, dst);
    return made;
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new WlaslError(`cannot ${mode} ${src} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: dst, cause: error });
  }
}

/**
 * The original's videos_process, without copying or moving anything by default: outDir/<split>/<gloss>/<id>.mp4
 * as hard links (or symbolic links, or copies on request) to the indexed videos. Gloss folders use
 * safeGlossName; outDir/gloss_names.json records folder -> gloss. Originals are never moved or modified
 * (note that a hard link IS the original file: edit neither in place). Rerunning only adds what is missing.
 */
export async function organiseSplits(index: VideoIndex, outDir: string, options: OrganiseOptions = {}): Promise<OrganiseResult> {
  const mode = options.mode ?? 'hardlink';
  if (!['hardlink', 'symlink', 'copy'].includes(mode)) throw new ConfigError(`organise mode must be hardlink, symlink or copy, got '${mode}'`);
  const root = path.resolve(outDir);
  let names: Map<string, string>;
  try {
    names = safeGlossNames(index.classes);
  } catch (error) {
    // The gloss comes from the metadata file: name it, so the user knows what to edit.
    throw error instanceof UnsafeNameError && !error.file ? new UnsafeNameError(error.message, { file: index.metadataFile, cause: error }) : error;
  }
  const mappingFile = path.join(root, GLOSS_MAPPING_FILE);
  try {
    await fs.promises.mkdir(root, { recursive: true });
  } catch (error) {
    throw mkdirError(error, root, 'cannot create the organised videos folder');
  }
  await writeJsonAtomic(mappingFile, Object.fromEntries([...names].map(([gloss, safe]) => [safe, gloss])));

  const bar = createProgress('organise', index.present.length, { unit: 'videos', mode: options.progress ? undefined : 'none' });
  let created = 0;
  let unchanged = 0;
  let symlinkFallbacks = 0;
  const refused: OrganiseResult['refused'] = [];
  const made = new Set<string>();
  for (const entry of index.present) {
    const src = path.resolve(entry.path!);
    // A copy would carry the linked file's bytes into the output; a link would point there: neither.
    const outside = entry.datasetDir !== undefined ? linkOutsideReason(src, entry.datasetDir) : null;
    if (outside) {
      refused.push({ videoId: entry.videoId, file: src, reason: outside });
      bar.tick(1, entry.videoId);
      continue;
    }
    const dir = path.join(root, entry.split, names.get(entry.gloss)!);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const dst = path.join(dir, `${entry.videoId}.mp4`);
    if (isSameLink(src, dst, mode)) unchanged++;
    else {
      const kind = place(src, dst, mode);
      if (kind !== mode) symlinkFallbacks++;
      created++;
    }
    bar.tick(1, entry.videoId);
  }
  const refusedText = refused.length ? `, ${refused.length} refused (links out of the dataset folder, e.g. ${refused[0]!.file})` : '';
  bar.stop(`organised ${created} new, ${unchanged} unchanged (${mode}${symlinkFallbacks ? `, ${symlinkFallbacks} as symlinks` : ''}), ${index.missing.length} missing${refusedText} -> ${root}`);
  return { outDir: root, mode, created, unchanged, missing: index.missing.length, symlinkFallbacks, refused, mappingFile };
}

/** Reads outDir/gloss_names.json back: folder name -> gloss. */
export function readGlossMapping(outDir: string): Map<string, string> {
  const file = path.join(outDir, GLOSS_MAPPING_FILE);
  return new Map(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>));
}
