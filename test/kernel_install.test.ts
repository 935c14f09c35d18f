import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, makeTempDir } from './helpers';
import { KERNEL_NAME, findJupyter } from '../scripts/install_kernel';

// `npm run kernel:install` against a throw-away Jupyter data directory, so the user's own setup is untouched.
function install(env: Record<string, string>, args: string[] = []) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'install_kernel.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return result;
}

function readSpec(file: string): { argv: string[]; display_name: string; language: string } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { argv: string[]; display_name: string; language: string };
}

function checkSpec(file: string): void {
  const spec = readSpec(file);
  assert.equal(spec.display_name, 'TypeScript (wlasl)');
  assert.equal(spec.language, 'typescript');
  assert.equal(spec.argv[0], process.execPath);
  assert.equal(spec.argv[1], path.join(REPO_ROOT, 'scripts', 'tslab_kernel.js'));
  assert.ok(spec.argv.includes('{connection_file}'));
}

test('kernel:install registers the project kernel for the user only, and Jupyter lists it', () => {
  const home = makeTempDir('wlasl-kernel-home-');
  const dataDir = path.join(home, 'jupyter-data');
  const systemSpecs = ['/usr/local/share/jupyter/kernels', '/usr/share/jupyter/kernels'].map((d) => path.join(d, KERNEL_NAME, 'kernel.json'));
  const stamp = (f: string): number | null => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : null);
  const before = systemSpecs.map(stamp);
  install({ JUPYTER_DATA_DIR: dataDir, HOME: home });
  // Not system-wide: no system Jupyter directory got a (new) copy.
  assert.deepEqual(systemSpecs.map(stamp), before);
  const specFile = path.join(dataDir, 'kernels', KERNEL_NAME, 'kernel.json');
  checkSpec(specFile);
  const jupyter = findJupyter();
  if (jupyter) {
    const listed = JSON.parse(execFileSync(jupyter, ['kernelspec', 'list', '--json'], { env: { ...process.env, JUPYTER_DATA_DIR: dataDir, HOME: home }, encoding: 'utf8' })) as {
      kernelspecs: Record<string, { resource_dir: string }>;
    };
    assert.equal(fs.realpathSync(listed.kernelspecs[KERNEL_NAME]!.resource_dir), fs.realpathSync(path.dirname(specFile)));
  }
});

test('kernel:install -- --prefix DIR installs into DIR/share/jupyter/kernels', () => {
  const home = makeTempDir('wlasl-kernel-prefix-');
  const prefix = path.join(home, 'venv');
  install({ JUPYTER_DATA_DIR: path.join(home, 'user-data'), HOME: home }, ['--prefix', prefix]);
  checkSpec(path.join(prefix, 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json'));
  assert.ok(!fs.existsSync(path.join(home, 'user-data', 'kernels', KERNEL_NAME)), 'the user directory is left alone');
});
