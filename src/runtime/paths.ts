import * as fs from 'node:fs';
import * as path from 'node:path';

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (for a file not yet written). */
export function realPathOf(p: string): string {
  const absolute = path.resolve(p);
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(fs.realpathSync(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/** Whether `p` is `folder` or lies inside it, after resolving symlinks on both sides. */
export function isInsideFolder(p: string, folder: string): boolean {
  const target = realPathOf(p);
  const root = realPathOf(folder);
  return target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
