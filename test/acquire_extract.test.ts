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

/** Every file under `dir` with its bytes, following nothing: to show a folder was not touched. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    out.set(name, st.isSymbolicLink() ? `link:${fs.readlinkSync(p)}` : st.isFile() ? fs.readFileSync(p).toString('base64') : 'dir');
  }
  return out;
}

test('a symbolic link already in the output folder is never written through: refused naming it, nothing written', async () => {
  const dir = makeTempDir();
  const zipFile = path.join(dir, 'wlasl-processed.zip');
  await makeKaggleLikeZip(zipFile);
  const victim = path.join(dir, 'victim');
  fs.mkdirSync(victim);
  fs.writeFileSync(path.join(victim, 'precious.txt'), 'user data\n');
  fs.writeFileSync(path.join(victim, '90001.mp4'), 'not to be replaced\n');
  const before = snapshot(victim);

  // A link at an entry's own path (videos/90001.mp4 -> a file elsewhere), at a folder on the way
  // (videos -> another folder), and at the metadata file, dangling.
  const cases: Array<{ name: string; setup: (out: string) => string }> = [
    { name: 'file link', setup: (out) => (fs.mkdirSync(path.join(out, 'videos'), { recursive: true }), fs.symlinkSync(path.join(victim, '90001.mp4'), path.join(out, 'videos', '90001.mp4')), path.join(out, 'videos', '90001.mp4')) },
    { name: 'folder link', setup: (out) => (fs.mkdirSync(out, { recursive: true }), fs.symlinkSync(victim, path.join(out, 'videos')), path.join(out, 'videos')) },
    { name: 'dangling link', setup: (out) => (fs.mkdirSync(out, { recursive: true }), fs.symlinkSync(path.join(victim, 'new.json'), path.join(out, 'WLASL_v0.3.json')), path.join(out, 'WLASL_v0.3.json')) },
  ];
  for (const c of cases) {
    const out = path.join(dir, c.name.replace(' ', '-'));
    const link = c.setup(out);
    await assert.rejects(extractZip(zipFile, out), (e: unknown) => {
      assert.ok(e instanceof ArchiveError, `${c.name}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${link}: a symbolic link (-> `), `${c.name}: ${e.message}`);
      assert.match(e.message, /refusing to write through it/);
      return true;
    });
    assert.deepEqual(snapshot(victim), before, `${c.name}: the link's target folder is untouched`);
    assert.equal(fs.existsSync(path.join(victim, 'new.json')), false);
    assert.equal(fs.lstatSync(link).isSymbolicLink(), true, `${c.name}: the user's link is left as it was`);
    // Refused before anything was written: no entry landed in the output folder.
    assert.equal(fs.existsSync(path.join(out, 'videos', '90000.mp4')), false, `${c.name}: nothing extracted`);
  }

  // The output folder itself may be a link (a dataset on another disk): that is the user's choice, and works.
  const elsewhere = path.join(dir, 'big-disk');
  fs.mkdirSync(elsewhere);
  fs.symlinkSync(elsewhere, path.join(dir, 'out-link'));
  const result = await extractZip(zipFile, path.join(dir, 'out-link'));
  assert.equal(result.extracted, VIDEO_IDS.length + 1);
  assert.ok(fs.readFileSync(path.join(elsewhere, 'videos', '90000.mp4')).equals(fs.readFileSync(path.join(SAMPLE, 'videos', '90000.mp4'))));
});
