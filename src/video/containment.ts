import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VideoJob } from '../metadata/types';
import { VideoFailure } from './types';

/**
 * The dataset-folder rule for videos: a video listed in <data>/videos is read only when its real path lies
 * inside the dataset folder or inside the videos folder itself. A symbolic link that leads elsewhere (to
 * /etc/passwd, to another user's files) is refused unless the user asks for links to be followed
 * (--follow-symlinks). Links on the folders themselves (videos/ or the dataset on another disk) are fine.
 */

function isInside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

function realpathOrNull(file: string): string | null {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return null;
  }
}

/** Why `file` may not be read as part of the dataset in `datasetDir`, or null when it may. */
export function linkOutsideReason(file: string, datasetDir: string): string | null {
  const real = realpathOrNull(file);
  if (real === null) return null; // missing or a dangling link: the probe reports it as missing
  for (const root of [datasetDir, path.dirname(file)]) {
    const realRoot = realpathOrNull(root);
    if (realRoot !== null && isInside(real, realRoot)) return null;
  }
  return `symbolic link to ${real}, outside the dataset folder ${path.resolve(datasetDir)}: refused (pass --follow-symlinks to read such links)`;
}

/** Throws VideoFailure 'outside-dataset' for a listed video whose link leads out of its dataset folder. */
export function checkInsideDataset(job: VideoJob): void {
  if (job.datasetDir === undefined) return;
  const reason = linkOutsideReason(job.path, job.datasetDir);
  if (reason) throw new VideoFailure('outside-dataset', reason, { file: job.path });
}
