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

/** The relative imports of a source file (static, dynamic and require), comments left out. */
function relativeImports(file: string): string[] {
  // Comments may show notebook imports such as "./src/index"; only code counts.
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g)].map((m) => m[1]!);
}

test('every relative import in src/ names a .ts file, never a folder', () => {
  const bad: string[] = [];
  const files = tsFiles(path.join(REPO_ROOT, 'src'));
  assert.ok(files.length > 5);
  for (const file of files) {
    for (const spec of relativeImports(file)) {
      const target = path.resolve(path.dirname(file), spec);
      if (!fs.existsSync(`${target}.ts`) && !fs.existsSync(target + '') ) bad.push(`${path.relative(REPO_ROOT, file)}: '${spec}' does not exist`);
      else if (!fs.existsSync(`${target}.ts`) && fs.statSync(target).isDirectory()) bad.push(`${path.relative(REPO_ROOT, file)}: '${spec}' is a folder`);
    }
  }
  assert.deepEqual(bad, []);
});

/**
 * The library is a one-way stack in data-flow order: a folder imports only from floors below it, so a stage
 * can be read, tested and replaced without the ones after it. A new folder must be given its floor here.
 */
const FLOORS: Record<string, number> = {
  errors: 0,
  config: 1,
  runtime: 1,
  metadata: 2,
  plot: 2,
  acquire: 3,
  organise: 4,
  video: 3,
  sample: 3,
  backbone: 4,
  landmarks: 4,
  features: 5,
  dataset: 6,
  model: 7,
  streams: 7,
  pipeline: 8,
  notebook: 9,
  cli: 9,
  index: 10,
};

test('src/ imports follow the data flow: no folder imports from a floor above or beside it', () => {
  const srcDir = path.join(REPO_ROOT, 'src');
  const unitOf = (file: string) => path.relative(srcDir, file).split(path.sep)[0]!.replace(/\.ts$/, '');
  const against: string[] = [];
  const edges = new Set<string>();
  for (const file of tsFiles(srcDir)) {
    const from = unitOf(file);
    assert.ok(from in FLOORS, `src/${from} has no floor in FLOORS`);
    for (const spec of relativeImports(file)) {
      const to = unitOf(path.resolve(path.dirname(file), spec));
      if (to === from) continue;
      edges.add(`${from} -> ${to}`);
      if (!(FLOORS[to]! < FLOORS[from]!)) against.push(`${path.relative(REPO_ROOT, file)} imports ${spec} (${from}, floor ${FLOORS[from]}, -> ${to}, floor ${FLOORS[to]})`);
    }
  }
  assert.ok(edges.size > 20, `only ${edges.size} cross-folder imports found: the scan is broken`);
  assert.deepEqual(against, []);
});
