import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArchiveError } from '../src/errors';
import { extractZip } from '../src/acquire/extract';
import { makeTempDir } from './helpers';
import { makeKaggleLikeZip, SAMPLE, VIDEO_IDS } from './acquire_zip';

test('extracts a real archive byte for byte, with progress', async () => {
  const dir = makeTempDir();
  const zipFile = path.join(dir, 'wlasl-processed.zip');
  await makeKaggleLikeZip(zipFile);
  const seen: number[] = [];
  const result = await extractZip(zipFile, path.join(dir, 'out'), { onProgress: (p) => seen.push(p.entriesDone) });
  assert.equal(result.files, VIDEO_IDS.length + 1);
  assert.equal(result.extracted, result.files);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  for (const id of VIDEO_IDS) {
    assert.ok(fs.readFileSync(path.join(dir, 'out', 'videos', `${id}.mp4`)).equals(fs.readFileSync(path.join(SAMPLE, 'videos', `${id}.mp4`))));
  }
  assert.equal(fs.readFileSync(path.join(dir, 'out', 'WLASL_v0.3.json'), 'utf8'), fs.readFileSync(path.join(SAMPLE, 'WLASL_v0.3.json'), 'utf8'));
});

test('an interrupted extraction resumes where it stopped', async () => {
  const dir = makeTempDir();
  const zipFile = path.join(dir, 'a.zip');
  await makeKaggleLikeZip(zipFile);
  const out = path.join(dir, 'out');
  await assert.rejects(
    extractZip(zipFile, out, { onProgress: (p) => { if (p.entriesDone === 3) throw new Error('killed'); } }),
    /killed/,
  );
  // A half-written file from a crash is not taken as done (its size is wrong).
  fs.writeFileSync(path.join(out, 'videos', '90001.mp4'), 'partial');
  const result = await extractZip(zipFile, out);
  assert.equal(result.skipped, 2);
  assert.equal(result.extracted, 4);
  for (const id of VIDEO_IDS) assert.ok(fs.readFileSync(path.join(out, 'videos', `${id}.mp4`)).equals(fs.readFileSync(path.join(SAMPLE, 'videos', `${id}.mp4`))));
  assert.deepEqual(fs.readdirSync(path.join(out, 'videos')).filter((f) => f.endsWith('.tmp')), []);
});

test('a zip-slip archive is refused before anything is written', async () => {
  const dir = makeTempDir();
  const zipFile = path.join(dir, 'evil.zip');
  // yazl refuses '..' itself, so write a same-length name and patch the bytes (zip names carry no checksum).
  const buf = await makeKaggleLikeZip(zipFile, { '90300': 'xx/xx/evil.mp4' });
  let patched = buf.toString('latin1').split('xx/xx/evil.mp4').join('../../evil.mp4');
  fs.writeFileSync(zipFile, Buffer.from(patched, 'latin1'));
  patched = '';
  const out = path.join(dir, 'deep', 'out');
  await assert.rejects(extractZip(zipFile, out), (e: unknown) => e instanceof ArchiveError && /zip-slip/.test(e.message) && e.message.includes('evil.zip'));
  assert.equal(fs.existsSync(path.join(dir, 'evil.mp4')), false);
  assert.equal(fs.existsSync(path.join(out, 'WLASL_v0.3.json')), false, 'nothing extracted from a refused archive');
});

test('a damaged or absent archive gives an ArchiveError naming it', async () => {
  const dir = makeTempDir();
  const zipFile = path.join(dir, 'broken.zip');
  fs.writeFileSync(zipFile, fs.readFileSync(path.join(SAMPLE, 'videos', '90000.mp4')));
  await assert.rejects(extractZip(zipFile, path.join(dir, 'out')), (e: unknown) => e instanceof ArchiveError && e.message.includes('broken.zip'));
  await assert.rejects(extractZip(path.join(dir, 'none.zip'), path.join(dir, 'out')), (e: unknown) => e instanceof ArchiveError && /not found/.test(e.message));
});
