import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetadataError } from '../errors';
import type { WlaslMetadata } from './schema';
import { readSplitFile, subsetGlosses, parseSubset, type SplitFile } from './subsets';
import { SPLITS, type Bbox, type Split, type VideoEntry } from './types';

export interface VideoIndexOptions {
  /** Folder holding <video_id>.mp4 (the Kaggle layout's videos/). Read once with readdir. */
  videosDir: string;
  /** WLASL100/300/1000/2000 (or 100, '300', ...): keep the first K glosses of the metadata file. */
  subset?: number | string;
  /** nslt_K.json (path or parsed): keep only its videos, with its train/val/test assignment. */
  splitFile?: string | SplitFile;
  /**
   * The dataset folder (default: the folder holding videosDir). A video that is a symbolic link leading out of
   * it (and out of videosDir) is refused when opened, reported with kind 'outside-dataset'.
   */
  datasetDir?: string;
  /** Read such links anyway (--follow-symlinks). */
  followSymlinks?: boolean;
}

/** The in-memory index every later stage starts from; built once, no re-reading of the JSON per video. */
export interface VideoIndex {
  metadataFile: string;
  videosDir: string;
  subset: number | null;
  splitFile: string | null;
  /** Every selected instance, present or not, in metadata order. */
  entries: VideoEntry[];
  /** The entries whose video file exists. */
  present: VideoEntry[];
  /** Entries with no video file (WLASL links die; the Kaggle copy lacks about 9% of videos). */
  missing: VideoEntry[];
  byId: Map<string, VideoEntry>;
  /** Class names; label i is classes[i]. In metadata file order, as the authors' wlasl_class_list.txt. */
  classes: string[];
  classIndex: Map<string, number>;
  /** Things worth knowing that are not errors (e.g. split-file ids absent from the metadata). */
  warnings: string[];
}

const MAX_LISTED = 5;

/** The names in the videos folder; a symbolic link whose target is gone counts as missing, and is listed. */
function listFiles(videosDir: string): { names: Set<string>; brokenLinks: string[] } {
  try {
    const names = new Set<string>();
    const brokenLinks: string[] = [];
    for (const entry of fs.readdirSync(videosDir, { withFileTypes: true })) {
      if (entry.isSymbolicLink() && !fs.existsSync(path.join(videosDir, entry.name))) brokenLinks.push(entry.name);
      else names.add(entry.name);
    }
    return { names, brokenLinks };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MetadataError(code === 'ENOENT' ? 'videos folder not found' : `cannot list videos folder (${code})`, { file: videosDir, cause: error });
  }
}

/**
 * Joins validated metadata with the files on disk: video_id -> {gloss, label, split, bbox, frame range, path}.
 * Subset and split file narrow the selection; labels are positions in the resulting class list.
 */
export function buildVideoIndex(metadata: WlaslMetadata, options: VideoIndexOptions): VideoIndex {
  const videosDir = path.resolve(options.videosDir);
  const { names: files, brokenLinks } = listFiles(videosDir);
  const datasetDir = options.followSymlinks ? undefined : path.resolve(options.datasetDir ?? path.dirname(videosDir));
  const warnings: string[] = [];
  if (brokenLinks.length) warnings.push(`${brokenLinks.length} file(s) in ${videosDir} are symbolic links to nothing, counted as missing videos (e.g. ${brokenLinks.slice(0, MAX_LISTED).join(', ')})`);

  const subset = options.subset !== undefined ? parseSubset(options.subset) : null;
  const allowedGlosses = subset !== null ? new Set(subsetGlosses(metadata, subset)) : null;
  const split = typeof options.splitFile === 'string' ? readSplitFile(options.splitFile) : options.splitFile ?? null;

  const glossPosition = new Map(metadata.glosses.map((g, i) => [g.gloss, i]));
  const selected: { gloss: string; instance: WlaslMetadata['glosses'][number]['instances'][number]; split: Split }[] = [];
  const classIdMismatch: string[] = [];
  for (const g of metadata.glosses) {
    if (allowedGlosses && !allowedGlosses.has(g.gloss)) continue;
    for (const inst of g.instances) {
      let instSplit = inst.split;
      if (split) {
        const s = split.entries.get(inst.videoId);
        if (!s) continue;
        instSplit = s.split;
        if (s.classId !== glossPosition.get(g.gloss)) classIdMismatch.push(`${inst.videoId} (class ${s.classId}, gloss '${g.gloss}' is #${glossPosition.get(g.gloss)})`);
      }
      selected.push({ gloss: g.gloss, instance: inst, split: instSplit });
    }
  }

  if (split) {
    // Nothing to do is an error, not an empty run that exits 0: the usual cause is a split file of another subset.
    if (selected.length === 0) {
      throw new MetadataError(`none of the ${split.entries.size} video ids of the split file is in ${subset !== null ? `the first ${subset} glosses of ` : ''}the metadata (${metadata.file}): is it the split file of another WLASL subset?`, { file: split.file });
    }
    const known = new Set(selected.map((s) => s.instance.videoId));
    const unknown = [...split.entries.keys()].filter((id) => !known.has(id));
    if (unknown.length) {
      warnings.push(`${unknown.length} video id(s) of ${path.basename(split.file)} are not in the selected metadata (e.g. ${unknown.slice(0, MAX_LISTED).join(', ')})`);
    }
    if (classIdMismatch.length) {
      warnings.push(`${classIdMismatch.length} video(s) of ${path.basename(split.file)} have a class id that is not their gloss's position in the metadata (e.g. ${classIdMismatch.slice(0, MAX_LISTED).join('; ')})`);
    }
  }

  // Class list in metadata order, restricted to glosses that have at least one selected instance.
  const usedGlosses = new Set(selected.map((s) => s.gloss));
  const classes = metadata.glosses.map((g) => g.gloss).filter((g) => usedGlosses.has(g));
  const classIndex = new Map(classes.map((g, i) => [g, i]));

  const entries: VideoEntry[] = [];
  const present: VideoEntry[] = [];
  const missing: VideoEntry[] = [];
  const byId = new Map<string, VideoEntry>();
  for (const { gloss, instance: inst, split: instSplit } of selected) {
    const fileName = `${inst.videoId}.mp4`;
    const entry: VideoEntry = {
      videoId: inst.videoId,
      gloss,
      label: classIndex.get(gloss)!,
      split: instSplit,
      bbox: inst.bbox ? ([...inst.bbox] as Bbox) : null,
      fps: inst.fps,
      frameStart: inst.frameStart,
      frameEnd: inst.frameEnd,
      signerId: inst.signerId,
      instanceId: inst.instanceId,
      variationId: inst.variationId,
      source: inst.source,
      url: inst.url,
      path: files.has(fileName) ? path.join(videosDir, fileName) : null,
      ...(datasetDir !== undefined ? { datasetDir } : {}),
    };
    entries.push(entry);
    (entry.path ? present : missing).push(entry);
    byId.set(entry.videoId, entry);
  }

  return {
    metadataFile: metadata.file,
    videosDir,
    subset,
    splitFile: split ? split.file : null,
    entries,
    present,
    missing,
    byId,
    classes,
    classIndex,
    warnings,
  };
}

/** Present entries of one split, or of several as one (train + val: what a training stage iterates over). */
export function entriesOfSplit(index: VideoIndex, split: Split | readonly Split[], options: { includeMissing?: boolean } = {}): VideoEntry[] {
  const splits: readonly Split[] = typeof split === 'string' ? [split] : split;
  return (options.includeMissing ? index.entries : index.present).filter((e) => splits.includes(e.split));
}

/** Instance counts per split, all and present: a quick summary line for logs. */
export function summariseIndex(index: VideoIndex): string {
  const parts = SPLITS.map((s) => {
    const all = index.entries.filter((e) => e.split === s).length;
    const have = index.present.filter((e) => e.split === s).length;
    return `${s} ${have}/${all}`;
  });
  const subset = index.subset !== null ? `WLASL${index.subset}, ` : '';
  return `${subset}${index.classes.length} glosses, ${index.present.length}/${index.entries.length} videos present (${parts.join(', ')})`;
}
