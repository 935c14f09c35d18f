import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { ArchiveError } from '../errors';
import { tempSibling } from '../runtime/atomic';
import { createProgress } from '../runtime/progress';

export interface ExtractProgress {
  entriesDone: number;
  entriesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Name of the entry just finished. */
  entry: string;
  /** True when the entry was already there from an earlier (interrupted) run. */
  skipped: boolean;
}

export interface ExtractOptions {
  onProgress?: (p: ExtractProgress) => void;
  /** Show a progress bar / lines on stderr (default false; the CLI turns it on). */
  progress?: boolean;
}

export interface ExtractResult {
  dir: string;
  files: number;
  extracted: number;
  skipped: number;
  bytes: number;
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) reject(error ?? new Error('no zip file'));
      else resolve(zip);
    });
  });
}

/** Reads the whole central directory first, so an unsafe archive is refused before anything is written. */
function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) reject(error ?? new Error('no stream'));
      else resolve(stream);
    });
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Where an entry would land; throws when it escapes `root` (zip-slip) or is a symlink. */
function safeTarget(zipPath: string, root: string, entry: yauzl.Entry): string {
  const name = entry.fileName;
  if (path.isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes('..')) {
    throw new ArchiveError(`entry '${name}' would be written outside ${root} (zip-slip); refusing the whole archive`, { file: zipPath });
  }
  const target = path.resolve(root, name);
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new ArchiveError(`entry '${name}' would be written outside ${root} (zip-slip); refusing the whole archive`, { file: zipPath });
  }
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (mode === S_IFLNK) throw new ArchiveError(`entry '${name}' is a symbolic link; refusing the whole archive`, { file: zipPath });
  return target;
}

/**
 * Throws when writing `target` would go through a symbolic link already inside `root` (a link at the target
 * itself or at a folder on the way): extraction only ever writes real files and folders of its own. `root`
 * itself may be a link (the user chose it). `checked` remembers folders already found to be real.
 */
async function refuseLinksOnTheWay(zipPath: string, root: string, entryName: string, target: string, checked?: Set<string>): Promise<void> {
  const parts = path.relative(root, target).split(path.sep).filter(Boolean);
  let at = root;
  for (const [i, part] of parts.entries()) {
    at = path.join(at, part);
    const last = i === parts.length - 1;
    if (!last && checked?.has(at)) continue;
    const st = await fs.promises.lstat(at).catch(() => null);
    if (!st) return; // nothing there yet, nor below it
    if (st.isSymbolicLink()) {
      const to = await fs.promises.readlink(at).catch(() => '?');
      throw new ArchiveError(`a symbolic link (-> ${to}) is already in the output folder where entry '${entryName}' goes; refusing to write through it (remove the link, or extract into a new folder)`, { file: at });
    }
    if (!last && st.isDirectory()) checked?.add(at);
  }
}

/**
 * Extracts a zip (e.g. Kaggle's wlasl-processed.zip) into `dir` safely: entries escaping `dir` (zip-slip),
 * symbolic links in the archive, or symbolic links already in `dir` where an entry goes make it refuse the
 * archive before writing anything (and each write checks again). Each file is written to a temporary
 * name and renamed, so a file present with the entry's size is complete: an interrupted extraction resumes
 * where it stopped.
 */
export async function extractZip(zipPath: string, dir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const root = path.resolve(dir);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArchiveError(code === 'ENOENT' ? 'archive not found' : `not a readable zip archive (${(error as Error).message})`, { file: zipPath, cause: error });
  }
  try {
    let entries: yauzl.Entry[];
    try {
      entries = await listEntries(zip);
    } catch (error) {
      const message = (error as Error).message;
      const unsafe = /invalid relative path|absolute path/.test(message);
      throw new ArchiveError(unsafe ? `an entry would be written outside ${root} (zip-slip: ${message}); refusing the whole archive` : `corrupt zip archive (${message})`, { file: zipPath, cause: error });
    }
    const files = entries.filter((e) => !e.fileName.endsWith('/'));
    const targets = new Map(entries.map((e) => [e, safeTarget(zipPath, root, e)]));
    const bytesTotal = files.reduce((n, e) => n + e.uncompressedSize, 0);
    const bar = createProgress(`extract ${path.basename(zipPath)}`, files.length, { unit: 'files', mode: options.progress ? undefined : 'none' });

    const realFolders = new Set<string>();
    for (const e of entries) await refuseLinksOnTheWay(zipPath, root, e.fileName, targets.get(e)!, realFolders);
    await fs.promises.mkdir(root, { recursive: true });
    for (const e of entries) if (e.fileName.endsWith('/')) await fs.promises.mkdir(targets.get(e)!, { recursive: true });

    let extracted = 0;
    let skipped = 0;
    let bytesDone = 0;
    for (const [i, entry] of files.entries()) {
      const target = targets.get(entry)!;
      // Checked again at write time: a link made during a long extraction is refused too.
      await refuseLinksOnTheWay(zipPath, root, entry.fileName, target);
      const existing = await fs.promises.lstat(target).catch(() => null);
      const done = existing?.isFile() === true && existing.size === entry.uncompressedSize;
      if (!done) {
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        const tmp = tempSibling(target);
        try {
          const stream = await openEntry(zip, entry);
          // 'wx': a file or link already at the temporary name is never written through.
          await pipeline(stream, fs.createWriteStream(tmp, { flags: 'wx' }));
          await fs.promises.rename(tmp, target);
        } catch (error) {
          await fs.promises.rm(tmp, { force: true });
          throw new ArchiveError(`cannot extract entry '${entry.fileName}' (${(error as Error).message})`, { file: zipPath, cause: error });
        }
        extracted++;
      } else {
        skipped++;
      }
      bytesDone += entry.uncompressedSize;
      bar.tick(1, entry.fileName);
      options.onProgress?.({ entriesDone: i + 1, entriesTotal: files.length, bytesDone, bytesTotal, entry: entry.fileName, skipped: done });
    }
    bar.stop(`extracted ${extracted} file(s), ${skipped} already present -> ${root}`);
    return { dir: root, files: files.length, extracted, skipped, bytes: bytesTotal };
  } finally {
    zip.close();
  }
}
