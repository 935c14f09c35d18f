import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsafeNameError } from '../src/errors';
import { parseWlaslMetadata, buildVideoIndex, readWlaslMetadata } from '../src/metadata/index';
import { organiseSplits, readGlossMapping, safeGlossName, glossFromSafeName, safeGlossNames } from '../src/organise/index';
import { REPO_ROOT, makeTempDir } from './helpers';

const SAMPLE = path.join(REPO_ROOT, 'data', 'sample');

/** A videos folder with real copies of a few sample videos (copies, so link counts are ours to check). */
function videosWith(ids: string[]): string {
  const dir = path.join(makeTempDir(), 'videos');
  fs.mkdirSync(dir);
  for (const id of ids) fs.copyFileSync(path.join(SAMPLE, 'videos', `${id}.mp4`), path.join(dir, `${id}.mp4`));
  return dir;
}

test('hard links into split/gloss folders; originals untouched; rerun changes nothing', async () => {
  const metadata = readWlaslMetadata(path.join(SAMPLE, 'WLASL_v0.3.json'));
  const ids = ['90000', '90016', '90020', '90100', '90400', '90401'];
  const videosDir = videosWith(ids);
  const before = new Map(ids.map((id) => [id, fs.readFileSync(path.join(videosDir, `${id}.mp4`))]));
  const index = buildVideoIndex(metadata, { videosDir });
  const out = makeTempDir();
  const result = await organiseSplits(index, out, { mode: 'hardlink' });
  assert.equal(result.created, ids.length);
  assert.equal(result.missing, index.entries.length - ids.length);
  for (const id of ids) {
    const e = index.byId.get(id)!;
    const dst = path.join(out, e.split, e.gloss, `${id}.mp4`);
    assert.equal(fs.statSync(dst).ino, fs.statSync(e.path!).ino, `${dst} is a hard link`);
    assert.ok(fs.readFileSync(path.join(videosDir, `${id}.mp4`)).equals(before.get(id)!), 'original unchanged');
    assert.ok(fs.existsSync(e.path!), 'original not moved');
  }
  assert.ok(fs.existsSync(path.join(out, 'val', 'open', '90016.mp4')));
  assert.ok(fs.existsSync(path.join(out, 'test', 'open', '90020.mp4')));
  const again = await organiseSplits(index, out, { mode: 'hardlink' });
  assert.equal(again.created, 0);
  assert.equal(again.unchanged, ids.length);
});

test('symlink and copy modes', async () => {
  const metadata = readWlaslMetadata(path.join(SAMPLE, 'WLASL_v0.3.json'));
  const videosDir = videosWith(['90000', '90300']);
  const index = buildVideoIndex(metadata, { videosDir });
  const outS = makeTempDir();
  await organiseSplits(index, outS, { mode: 'symlink' });
  const link = path.join(outS, 'train', 'shrink', '90300.mp4');
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.equal(fs.readlinkSync(link), path.join(videosDir, '90300.mp4'));
  const outC = makeTempDir();
  await organiseSplits(index, outC, { mode: 'copy' });
  const copy = path.join(outC, 'train', 'open', '90000.mp4');
  assert.notEqual(fs.statSync(copy).ino, fs.statSync(path.join(videosDir, '90000.mp4')).ino);
  assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(path.join(videosDir, '90000.mp4'))));
  // A stale file from another mode is replaced, not kept.
  const relinked = await organiseSplits(index, outC, { mode: 'symlink' });
  assert.equal(relinked.created, 2);
  assert.ok(fs.lstatSync(copy).isSymbolicLink());
  await assert.rejects(organiseSplits(index, outC, { mode: 'move' as never }), /hardlink, symlink or copy/);
});

test('unsafe gloss names become safe, reversible folder names', async () => {
  const glosses = ['../../escape', 'a/b\\c', 'con', 'thank you', "don't want", 'tab\there\u0001', '.', '..', 'café', '100%'];
  for (const g of glosses) {
    const safe = safeGlossName(g);
    assert.match(safe, /^[A-Za-z0-9_%-]+$/, `${JSON.stringify(g)} -> ${safe}`);
    assert.notEqual(safe.toLowerCase(), 'con');
    assert.equal(glossFromSafeName(safe), g);
  }
  assert.equal(safeGlossName('thank you'), 'thank%20you');
  assert.equal(safeGlossName('book'), 'book');
  assert.throws(() => safeGlossName(''), UnsafeNameError);
  assert.throws(() => safeGlossNames(['Book', 'book']), (e: unknown) => e instanceof UnsafeNameError && /case-insensitive/.test(e.message));

  // Organise real files under those glosses: everything stays inside outDir, and the mapping file reverses it.
  const ids = glosses.map((_, i) => ['90000', '90001', '90002', '90003', '90004', '90005', '90006', '90007', '90008', '90009'][i]!);
  const videosDir = videosWith(ids);
  const text = JSON.stringify(glosses.map((gloss, i) => ({ gloss, instances: [{ video_id: ids[i], split: 'train', bbox: [0, 0, 10, 10] }] })));
  const index = buildVideoIndex(parseWlaslMetadata(text, 'unsafe.json'), { videosDir });
  const root = makeTempDir();
  const out = path.join(root, 'organised');
  const result = await organiseSplits(index, out, { mode: 'symlink' });
  assert.equal(result.created, glosses.length);
  assert.deepEqual(fs.readdirSync(root), ['organised'], 'nothing written outside outDir');
  const folders = fs.readdirSync(path.join(out, 'train')).sort();
  assert.equal(folders.length, glosses.length);
  const mapping = readGlossMapping(out);
  assert.deepEqual([...mapping.values()].sort(), [...glosses].sort());
  for (const folder of folders) {
    const gloss = mapping.get(folder)!;
    const e = index.entries.find((x) => x.gloss === gloss)!;
    assert.ok(fs.existsSync(path.join(out, 'train', folder, `${e.videoId}.mp4`)));
  }
});
