/**
 * Registers the project's tslab kernel ("TypeScript (wlasl)") with the user's Jupyter.
 *
 *   npm run kernel:install                  # per-user (default; never system-wide unless asked)
 *   npm run kernel:install -- --prefix DIR  # into DIR/share/jupyter/kernels (e.g. a venv)
 *   npm run kernel:install -- --system      # system-wide (needs write access)
 *
 * The kernelspec runs scripts/tslab_kernel.js with this Node, which starts tslab from the project root
 * (see that file for why). Uses `jupyter kernelspec install` when a Jupyter is found, else writes the
 * kernelspec into the user's Jupyter data directory directly.
 */
import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const KERNEL_NAME = 'wlasl-tslab';
const projectRoot = path.resolve(__dirname, '..');

export function kernelSpec(): Record<string, unknown> {
  return {
    argv: [process.execPath, path.join(projectRoot, 'scripts', 'tslab_kernel.js'), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (wlasl)',
    language: 'typescript',
    metadata: { project: projectRoot },
  };
}

/** Debian's Jupyter is at /usr/bin; the `python3` first on PATH may be another Python without it. */
export function findJupyter(): string | undefined {
  const candidates = [process.env.WLASL_JUPYTER, '/usr/bin/jupyter', 'jupyter'].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Jupyter');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? os.homedir(), 'jupyter');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'jupyter');
}

function main(): void {
  const program = new Command()
    .name('install_kernel')
    .description('Register the project tslab kernel with Jupyter')
    .option('--prefix <dir>', 'install into <dir>/share/jupyter/kernels')
    .option('--system', 'install system-wide (default: per user)')
    .parse();
  const opts = program.opts<{ prefix?: string; system?: boolean }>();

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'wlasl-kernel-'));
  const specDir = path.join(staging, KERNEL_NAME);
  fs.mkdirSync(specDir);
  fs.writeFileSync(path.join(specDir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2) + '\n');

  const jupyter = findJupyter();
  try {
    if (jupyter) {
      const where = opts.prefix ? ['--prefix', path.resolve(opts.prefix)] : opts.system ? [] : ['--user'];
      execFileSync(jupyter, ['kernelspec', 'install', '--replace', '--name', KERNEL_NAME, ...where, specDir], { stdio: 'inherit' });
    } else {
      if (opts.system) throw new Error('no jupyter found: a system-wide install needs `jupyter kernelspec`');
      const base = opts.prefix ? path.join(path.resolve(opts.prefix), 'share', 'jupyter') : userDataDir();
      const target = path.join(base, 'kernels', KERNEL_NAME);
      fs.mkdirSync(target, { recursive: true });
      fs.copyFileSync(path.join(specDir, 'kernel.json'), path.join(target, 'kernel.json'));
      console.log(`no jupyter found on PATH; wrote ${target}/kernel.json`);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  console.log(`kernel '${KERNEL_NAME}' ("TypeScript (wlasl)") registered; it starts tslab in ${projectRoot}`);
}

if (require.main === module) main();
