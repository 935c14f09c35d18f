/**
 * Executes notebooks headless with the project's tslab kernel and fails on the first cell error, printing that
 * cell's real error text.
 *
 *   npm run notebooks                 # every notebooks/*.ipynb, in name order
 *   npm run notebooks -- 03 05        # only notebooks whose name contains one of the arguments
 *
 * Each notebook runs through scripts/execute_notebook.py (nbclient), which keeps the executed copy even when a cell
 * fails and reports that cell's own stderr: tslab's error reply carries an empty message.
 * A notebook that ran is then checked against the outputs it declares in `metadata.wlasl.expect` (see
 * scripts/notebook_expect.ts): a missing chart or table, an error output or a cell that did not run fails it.
 * Notebooks in notebooks/ must declare expectations; a notebook from elsewhere given as an argument need not.
 * Executed copies go to .executed/ (ignored by git): committed notebooks keep their own light outputs. The
 * kernelspec is written into .executed/jupyter and put first on JUPYTER_PATH, so the run uses this checkout's
 * kernel whatever the user has installed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_NAME, kernelSpec, findJupyter } from './install_kernel';
import { checkExecutedFile } from './notebook_expect';

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, '.executed');

function installPrivateKernel(): string {
  const jupyterPath = path.join(outDir, 'jupyter');
  const dir = path.join(jupyterPath, 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(kernelSpec(), null, 2) + '\n');
  return jupyterPath;
}

function main(): number {
  const args = process.argv.slice(2);
  // An argument that is a notebook file is run as given; others filter notebooks/ by name.
  const explicit = args.filter((a) => a.endsWith('.ipynb') && fs.existsSync(a)).map((a) => path.resolve(a));
  const filters = args.filter((a) => !explicit.includes(path.resolve(a)));
  const notebooks = explicit.length
    ? explicit
    : fs
        .readdirSync(path.join(root, 'notebooks'))
        .filter((f) => f.endsWith('.ipynb'))
        .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
        .sort()
        .map((f) => path.join(root, 'notebooks', f));
  if (notebooks.length === 0) {
    console.error(`no notebooks match ${filters.join(' ')}`);
    return 1;
  }
  const jupyter = findJupyter();
  if (!jupyter) {
    console.error('jupyter not found: install Debian packages jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel (see .ci/run), or set WLASL_JUPYTER');
    return 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const jupyterPath = installPrivateKernel();
  const env = {
    ...process.env,
    JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    WLASL_PROGRESS: 'lines',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  const timings: string[] = [];
  let failed = 0;
  const python = process.env.WLASL_JUPYTER_PYTHON ?? '/usr/bin/python3';
  for (const input of notebooks) {
    const name = path.basename(input);
    const started = Date.now();
    const result = spawnSync(
      python,
      [path.join(__dirname, 'execute_notebook.py'), input, path.join(outDir, name), KERNEL_NAME, process.env.WLASL_NOTEBOOK_TIMEOUT ?? '1800'],
      { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] },
    );
    const seconds = (Date.now() - started) / 1000;
    if (result.status !== 0) {
      failed++;
      console.error(`FAIL ${name} (${seconds.toFixed(1)} s)`);
      console.error(result.stderr.split('\n').filter((l) => !/Debugger warning|frozen modules|Xfrozen_modules|PYDEVD|Debugging will proceed/.test(l)).join('\n'));
    } else {
      const problems = checkExecutedFile(path.join(outDir, name), {
        label: path.relative(root, input),
        requireExpectations: path.dirname(input) === path.join(root, 'notebooks'),
      });
      if (problems.length > 0) {
        failed++;
        console.error(`FAIL ${name} (${seconds.toFixed(1)} s): ran, but the executed copy .executed/${name} lacks what it promises:`);
        for (const p of problems) console.error(`  ${p}`);
      } else {
        console.log(`ok   ${name} (${seconds.toFixed(1)} s)`);
      }
    }
    timings.push(`${name}\t${seconds.toFixed(1)}`);
  }
  fs.writeFileSync(path.join(outDir, 'timings.tsv'), timings.join('\n') + '\n');
  console.log(`${notebooks.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) process.exit(main());
