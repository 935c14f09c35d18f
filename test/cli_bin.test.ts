import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, makeTempDir, runCommand } from './helpers';

/**
 * package.json's "bin" (bin/wlasl.js). npm does not link a project's own bin into its node_modules/.bin, but
 * `npx wlasl` in the project finds it: npm exec sees the command in the local package.json's "bin" and links the
 * project into its npx cache (no registry access). These run exactly that command.
 */
const run = runCommand;

test('`npx wlasl --help` in the repository runs the CLI; its errors keep their exit status', async () => {
  const tmp = makeTempDir();
  // A private npm cache, offline: the test touches neither the user's ~/.npm nor the network.
  const env = { npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  const help = await run('npx', ['wlasl', '--help'], REPO_ROOT, env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: wlasl \[options\] \[command\]/);
  for (const command of ['run', 'evaluate', 'predict', 'cache']) assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));

  const missing = path.join(tmp, 'no-model');
  const failed = await run('npx', ['wlasl', 'predict', 'clip.mp4', '--model', missing], REPO_ROOT, env);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^error: .*no-model.*wlasl-model\.json: missing/m);
});

test('bin/wlasl.js runs from any working directory (tsx is found beside the script, not in the cwd)', async () => {
  const tmp = makeTempDir();
  const bin = path.join(REPO_ROOT, 'bin', 'wlasl.js');
  assert.ok(fs.statSync(bin).mode & 0o111, 'executable');
  const cacheDir = path.join(tmp, 'cache');
  const result = await run(bin, ['cache', '--cache-dir', cacheDir], tmp, {});
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(cacheDir), result.stdout);
});
