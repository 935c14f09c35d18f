import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { outputError, type WlaslError } from '../errors';

/**
 * Atomic file writes: write to a temporary sibling, fsync, then rename. A kill at any moment leaves either
 * the old file or the new one, never half of one, which is what makes every long stage resumable.
 */
export function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * The error for a folder that could not be made. A recursive mkdir under a read-only mount reports ENOENT,
 * which would send the user looking for a missing folder: the nearest existing ancestor says what is wrong.
 */
export function mkdirError(error: unknown, dir: string, what = 'cannot create the folder'): WlaslError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    let ancestor = path.dirname(dir);
    while (!fs.existsSync(ancestor) && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
    try {
      fs.accessSync(ancestor, fs.constants.W_OK);
    } catch (accessError) {
      return outputError(accessError, dir, what);
    }
  }
  return outputError(error, dir, what);
}

/** Errors name the target and the problem (OutputError: "no space left on device (ENOSPC)"); no temporary is left. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
  } catch (error) {
    throw mkdirError(error, path.dirname(target));
  }
  const tmp = tempSibling(target);
  try {
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, target);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw outputError(error, target);
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
  } catch (error) {
    throw mkdirError(error, path.dirname(target));
  }
  const tmp = tempSibling(target);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw outputError(error, target);
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Publish a finished directory atomically: build it under a temporary name, then rename into place.
 * An existing target is replaced (removed first), so a rerun redoes half-written work cleanly.
 */
export async function publishDirectory(tmpDir: string, target: string): Promise<void> {
  await fs.promises.rm(target, { recursive: true, force: true });
  await fs.promises.rename(tmpDir, target);
}

export function tempDirFor(target: string): string {
  return tempSibling(target.replace(/[\\/]+$/, ''));
}
/**
 * Builds a folder in a temporary sibling with `fill`, then renames it into place: a reader sees the old folder
 * or the whole new one, never half of it.
 */
export async function writeDirectoryAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempDirFor(dir);
  await fs.promises.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await publishDirectory(tmp, dir);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

