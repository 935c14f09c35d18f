import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers';

// Notebooks import src/ through tslab, which resolves a relative import only to "<path>.js" compiled from
// "<path>.ts": a folder import ('./metadata') works under tsx but fails in every notebook.
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

test('every relative import in src/ names a .ts file, never a folder', () => {
  const bad: string[] = [];
  const files = tsFiles(path.join(REPO_ROOT, 'src'));
  assert.ok(files.length > 5);
  for (const file of files) {
    // Comments may show notebook imports such as "./src/index"; only code counts.
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g)) {
      const spec = m[1]!;
      const target = path.resolve(path.dirname(file), spec);
      if (!fs.existsSync(`${target}.ts`) && !fs.existsSync(target + '') ) bad.push(`${path.relative(REPO_ROOT, file)}: '${spec}' does not exist`);
      else if (!fs.existsSync(`${target}.ts`) && fs.statSync(target).isDirectory()) bad.push(`${path.relative(REPO_ROOT, file)}: '${spec}' is a folder`);
    }
  }
  assert.deepEqual(bad, []);
});
