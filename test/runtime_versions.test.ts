import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { versions } from '../src/runtime/versions';
import { REPO_ROOT } from './helpers';

test('versions() reports the installed version of every package, also those whose exports hide package.json (sharp)', () => {
  const v = versions();
  assert.equal(v.node, process.version);
  for (const [name, version] of Object.entries(v.packages)) {
    const pkgJson = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
    const expected = fs.existsSync(pkgJson) ? (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string }).version : 'not installed';
    assert.equal(version, expected, name);
  }
  assert.match(v.packages.sharp!, /^\d+\.\d+\.\d+/);
  assert.match(v.packages['@tensorflow/tfjs']!, /^4\./);
  assert.match(v.ffmpeg.version, /^ffmpeg version /);
});
