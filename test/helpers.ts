import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

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

/** Intersection over union of two [x0, y0, x1, y1] boxes. */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const inter = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)) * Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return inter / (area(a) + area(b) - inter);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI (src/cli/main.ts) in a child process. Progress lines are off; `env` adds to the process's
 * environment (give XDG_CACHE_HOME or --cache-dir so no test writes into the real home's cache).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCommand(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], REPO_ROOT, env);
}

/** Runs any command to its end with progress lines off, collecting its output and exit status. */
export function runCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, WLASL_PROGRESS: 'none', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
