import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Shared test utilities: paths to the repo and to the optional real data beside it, and temp folders. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** ../shared/<parts> (real WLASL clips and real weights); undefined when absent so tests can skip cleanly. */
export function sharedPath(...parts: string[]): string | undefined {
  const p = path.resolve(REPO_ROOT, '..', 'shared', ...parts);
  return fs.existsSync(p) ? p : undefined;
}

export const REAL10_DIR = sharedPath('data', 'wlasl-real10');
export const MOBILENET_035_DIR = sharedPath('weights', 'mobilenet_v2_0.35_224_no_top');

/** A fresh temporary folder removed when the process exits. */
export function makeTempDir(prefix = 'wlasl-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
