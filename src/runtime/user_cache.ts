import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CacheError, outputError } from '../errors';
import { tempSibling, writeFileAtomic, writeJsonAtomic } from './atomic';

/**
 * Where the caches live: one per-user folder, never the dataset folder (a mounted Kaggle download or a lab
 * share may be read-only, or shared by people who do not want our files in it). Layout:
 *
 *   <root>/CACHEDIR.TAG                              marks the folder as ours (and as a cache to backup tools)
 *   <root>/weights/<name>-<hash>/                    downloaded and calibrated backbone weights, for every dataset
 *   <root>/datasets/<data name>-<hash>/dataset.json  which data folder this is (and our mark on the folder)
 *   <root>/datasets/<data name>-<hash>/features/<key>/   the feature cache of that dataset (features/cache.ts)
 *
 * root = --cache-dir, else $XDG_CACHE_HOME/wlasl-cnn-lstm, else ~/.cache/wlasl-cnn-lstm. A dataset's folder is
 * named by its data folder and a hash of the resolved paths of its metadata file and videos folder: video ids
 * repeat across datasets, so two datasets must never share feature files, and the same data reached by another
 * path (relative, through a symlink) must find its cache. `wlasl cache` shows the sizes, `--clear` empties it.
 */
export const CACHE_DIR_NAME = 'wlasl-cnn-lstm';
export const CACHE_TAG_FILE = 'CACHEDIR.TAG';
export const DATASET_RECORD = 'dataset.json';
const WEIGHTS = 'weights';
const DATASETS = 'datasets';
// The Cache Directory Tagging spec (https://bford.info/cachedir/): backup tools skip a folder holding this file.
const CACHE_TAG = `Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ${CACHE_DIR_NAME}.\n# For information about cache directory tags, see https://bford.info/cachedir/\n`;

/** The cache root: `cacheDir` when given, else $XDG_CACHE_HOME/wlasl-cnn-lstm, else ~/.cache/wlasl-cnn-lstm. */
export function cacheRoot(cacheDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (cacheDir) return path.resolve(cacheDir);
  // The XDG Base Directory spec: a relative $XDG_CACHE_HOME is invalid and is ignored.
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, CACHE_DIR_NAME);
}

/** The one place backbone weights are cached (downloads and calibrated random weights), shared by all datasets. */
export function weightsCacheDir(root: string = cacheRoot()): string {
  return path.join(root, WEIGHTS);
}

/** What identifies a dataset: its metadata file and its videos folder. */
export interface DatasetFiles {
  metadataFile: string;
  videosDir: string;
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

function datasetIdentity(dataset: DatasetFiles): { dataDir: string; metadataFile: string; videosDir: string } {
  const dataDir = realOrResolved(path.dirname(dataset.metadataFile));
  return { dataDir, metadataFile: path.join(dataDir, path.basename(dataset.metadataFile)), videosDir: realOrResolved(dataset.videosDir) };
}

/** <root>/datasets/<data folder name>-<12 hex of the resolved metadata and videos paths>. */
export function datasetCacheDir(root: string, dataset: DatasetFiles): string {
  const id = datasetIdentity(dataset);
  const hash = createHash('sha256').update(`${id.metadataFile}\n${id.videosDir}`).digest('hex').slice(0, 12);
  const name = path.basename(id.dataDir).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 40) || 'data';
  return path.join(root, DATASETS, `${name}-${hash}`);
}

export interface CacheLocation {
  root: string;
  /** Backbone weights, shared by every dataset. */
  weightsDir: string;
  /** This dataset's part of the cache. */
  datasetDir: string;
  /** The feature cache root of this dataset (features/cache.ts puts <key>/ folders in it). */
  featuresDir: string;
}

export function cacheLocation(dataset: DatasetFiles, cacheDir?: string): CacheLocation {
  const root = cacheRoot(cacheDir);
  const datasetDir = datasetCacheDir(root, dataset);
  return { root, weightsDir: weightsCacheDir(root), datasetDir, featuresDir: path.join(datasetDir, 'features') };
}

/** Our CACHEDIR.TAG: the tag signature and our name (another program's tag does not make a folder ours). */
export function isOurCache(root: string): boolean {
  try {
    const text = fs.readFileSync(path.join(root, CACHE_TAG_FILE), 'utf8');
    return text.startsWith('Signature: 8a477f597d28d172789f06886806bc55') && text.includes(`created by ${CACHE_DIR_NAME}`);
  } catch {
    return false;
  }
}

function isOurDatasetDir(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, DATASET_RECORD), 'utf8')) as { createdBy?: unknown }).createdBy === CACHE_DIR_NAME;
  } catch {
    return false;
  }
}

/** A temporary sibling left by an atomic write or an interrupted clear (runtime/atomic.ts names them so). */
function isTemporaryName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Makes the root ours before anything is written into it. A folder that exists, is not ours and holds other
 * things is refused: `wlasl cache --clear` deletes what is under a tagged root, so tagging someone's folder
 * (`--cache-dir ~`) would put their files at risk. A root holding only our own folder names is adopted (the
 * weights cache used to live at ~/.cache/wlasl-cnn-lstm/weights, untagged).
 */
async function claimRoot(root: string): Promise<void> {
  if (isOurCache(root)) return;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(error, root, 'cannot read the cache folder');
  }
  const foreign = entries.filter((e) => e !== WEIGHTS && e !== DATASETS && e !== CACHE_TAG_FILE && !isTemporaryName(e));
  if (foreign.length > 0) {
    const oldLayout = entries.includes('features') ? ': it looks like a cache from before the per-user cache (features/ at its top); delete it or' : '; nothing was written:';
    throw new CacheError(`not a ${CACHE_DIR_NAME} cache folder (no ${CACHE_TAG_FILE} of ours) and not empty (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})${oldLayout} give an empty or new folder as --cache-dir`, { file: root });
  }
  await writeFileAtomic(path.join(root, CACHE_TAG_FILE), CACHE_TAG);
}

/**
 * The cache location of a dataset, created and marked as ours: the root's CACHEDIR.TAG and the dataset's
 * dataset.json (which data folder it belongs to, for `wlasl cache`). Nothing is written near the dataset.
 */
export async function openCache(dataset: DatasetFiles, cacheDir?: string): Promise<CacheLocation> {
  const location = cacheLocation(dataset, cacheDir);
  await claimRoot(location.root);
  // Under our tagged root the folder is ours even when a kill came before its record was written.
  // No timestamp in the record: a copy of the cache compares equal to the original (scripts/kill_trials.ts).
  if (!isOurDatasetDir(location.datasetDir)) await writeJsonAtomic(path.join(location.datasetDir, DATASET_RECORD), { createdBy: CACHE_DIR_NAME, ...datasetIdentity(dataset) });
  return location;
}

/** The weights cache under `root` (default: the per-user root), with the root marked as ours: for callers with no dataset. */
export async function openWeightsCache(root: string = cacheRoot()): Promise<string> {
  await claimRoot(root);
  return weightsCacheDir(root);
}

/** Bytes of the files under `p` (symlinks counted as links, never followed). */
function treeBytes(p: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(p);
  } catch {
    return 0; // removed meanwhile
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of fs.readdirSync(p)) total += treeBytes(path.join(p, name));
  return total;
}

function listDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !isTemporaryName(e.name)).map((e) => path.join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

export interface CacheUsage {
  root: string;
  exists: boolean;
  ours: boolean;
  datasets: Array<{ dir: string; dataDir: string | null; bytes: number }>;
  weights: Array<{ dir: string; bytes: number }>;
  totalBytes: number;
}

/** The size of each dataset's cache and each cached backbone under `root`. Reads only. */
export function cacheUsage(root: string): CacheUsage {
  const exists = fs.existsSync(root);
  const datasets = listDirs(path.join(root, DATASETS)).map((dir) => {
    let dataDir: string | null = null;
    try {
      dataDir = (JSON.parse(fs.readFileSync(path.join(dir, DATASET_RECORD), 'utf8')) as { dataDir?: string }).dataDir ?? null;
    } catch {
      // Not ours, or damaged: listed with its size, without a data folder.
    }
    return { dir, dataDir, bytes: treeBytes(dir) };
  });
  const weights = listDirs(path.join(root, WEIGHTS)).map((dir) => ({ dir, bytes: treeBytes(dir) }));
  return { root, exists, ours: isOurCache(root), datasets, weights, totalBytes: exists ? treeBytes(root) : 0 };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `wlasl cache`: the root, then one line per dataset and per cached backbone, with sizes. */
export function formatCacheUsage(usage: CacheUsage): string {
  if (!usage.exists) return `cache: ${usage.root} (nothing cached yet)`;
  const rel = (dir: string) => path.relative(usage.root, dir);
  const lines = [`cache: ${usage.root} (${formatBytes(usage.totalBytes)}${usage.ours ? '' : `; no ${CACHE_TAG_FILE} of ours: not a ${CACHE_DIR_NAME} cache`})`];
  lines.push(usage.datasets.length ? 'datasets (features):' : 'datasets: none');
  for (const d of usage.datasets) lines.push(`  ${formatBytes(d.bytes).padStart(10)}  ${rel(d.dir)}  ${d.dataDir ?? '(not ours: no dataset.json)'}`);
  lines.push(usage.weights.length ? 'weights:' : 'weights: none');
  for (const w of usage.weights) lines.push(`  ${formatBytes(w.bytes).padStart(10)}  ${rel(w.dir)}`);
  return lines.join('\n');
}

export interface ClearReport {
  root: string;
  removed: Array<{ path: string; bytes: number }>;
  /** Entries under the root that we did not create, kept. */
  leftAlone: string[];
}

/** Renamed away first, then deleted: a clear killed halfway never leaves a half-deleted cache that a run would read. */
async function removeTree(p: string, report: ClearReport): Promise<void> {
  const bytes = treeBytes(p);
  const doomed = tempSibling(p);
  try {
    await fs.promises.rename(p, doomed);
    await fs.promises.rm(doomed, { recursive: true, force: true });
  } catch (error) {
    throw outputError(error, p, 'cannot delete');
  }
  report.removed.push({ path: p, bytes });
}

/**
 * `wlasl cache --clear`: deletes the cache under `root`, or with `dataset` only that dataset's part, and
 * returns what it deleted. Only what we created is deleted: the root must carry our CACHEDIR.TAG and a
 * dataset folder our dataset.json; anything else found under the root is left alone and listed.
 */
export async function clearCache(root: string, options: { dataset?: DatasetFiles } = {}): Promise<ClearReport> {
  const report: ClearReport = { root, removed: [], leftAlone: [] };
  if (!fs.existsSync(root)) return report;
  if (!isOurCache(root)) throw new CacheError(`not a ${CACHE_DIR_NAME} cache folder (no ${CACHE_TAG_FILE} of ours); nothing deleted`, { file: root });
  if (options.dataset) {
    const dir = datasetCacheDir(root, options.dataset);
    if (!fs.existsSync(dir)) return report;
    if (!isOurDatasetDir(dir)) throw new CacheError(`not a dataset cache of ours (no ${DATASET_RECORD}); nothing deleted`, { file: dir });
    await removeTree(dir, report);
    return report;
  }
  for (const name of fs.readdirSync(root).sort()) {
    const p = path.join(root, name);
    if (name === WEIGHTS || isTemporaryName(name)) await removeTree(p, report);
    else if (name === DATASETS) {
      for (const child of fs.readdirSync(p).sort()) {
        const dir = path.join(p, child);
        if (isOurDatasetDir(dir) || isTemporaryName(child)) await removeTree(dir, report);
        else report.leftAlone.push(dir);
      }
      if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
    } else if (name !== CACHE_TAG_FILE) report.leftAlone.push(p);
  }
  // The tag goes last, and only with everything else: a root still holding foreign files stays marked as ours.
  if (report.leftAlone.length === 0) {
    fs.rmSync(path.join(root, CACHE_TAG_FILE), { force: true });
    fs.rmdirSync(root);
    report.removed.push({ path: root, bytes: 0 });
  }
  return report;
}

/** What `wlasl cache --clear` prints. */
export function formatClearReport(report: ClearReport): string {
  if (report.removed.length === 0 && report.leftAlone.length === 0) return `nothing to delete in ${report.root}`;
  const lines = report.removed.map((r) => `removed ${r.path}${r.bytes ? ` (${formatBytes(r.bytes)})` : ''}`);
  for (const p of report.leftAlone) lines.push(`left alone (not created by ${CACHE_DIR_NAME}): ${p}`);
  const freed = report.removed.reduce((n, r) => n + r.bytes, 0);
  lines.push(`freed ${formatBytes(freed)}`);
  return lines.join('\n');
}

/** `p` with the home folder written `~`: notebook outputs then show where the cache is without this machine's user. */
export function homeRelative(p: string): string {
  const home = os.homedir();
  return p === home || p.startsWith(home + path.sep) ? path.join('~', path.relative(home, p)) : p;
}
