import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetadataError } from '../src/errors';
import {
  readWlaslMetadata, parseWlaslMetadata, buildVideoIndex, bboxMap, writeBboxMap, missingReport, writeMissingReport,
  countsTable, countsRows, generateWlaslLikeMetadata, parseSplitFile, entriesOfSplit, summariseIndex,
} from '../src/metadata/index';
import { REAL10_DIR, REPO_ROOT, makeTempDir } from './helpers';
import { organiseSplits } from '../src/organise/organise';

// Real files on every machine: the embedded sample (committed, WLASL-shaped) always, and the 10 real WLASL
// glosses of ../shared when present.
const DATASETS: [string, string][] = [['embedded sample', path.join(REPO_ROOT, 'data', 'sample')], ...(REAL10_DIR ? [['real10', REAL10_DIR] as [string, string]] : [])];

for (const [name, DATA_DIR] of DATASETS) {
  /** A videos folder holding links to the first `keep` real videos of each gloss (the rest are "missing"). */
  function partialVideosDir(keep: number): { dir: string; kept: Set<string> } {
    const dir = makeTempDir();
    const metadata = readWlaslMetadata(path.join(DATA_DIR, 'WLASL_v0.3.json'));
    const kept = new Set<string>();
    for (const g of metadata.glosses) {
      for (const inst of g.instances.slice(0, keep)) {
        fs.symlinkSync(path.join(DATA_DIR, 'videos', `${inst.videoId}.mp4`), path.join(dir, `${inst.videoId}.mp4`));
        kept.add(inst.videoId);
      }
    }
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a video');
    return { dir, kept };
  }

  test(`${name}: every instance indexed with its file, labels in file order`, () => {
    const metadata = readWlaslMetadata(path.join(DATA_DIR, 'WLASL_v0.3.json'));
    const index = buildVideoIndex(metadata, { videosDir: path.join(DATA_DIR, 'videos') });
    assert.deepEqual(index.classes, metadata.glosses.map((g) => g.gloss));
    assert.equal(index.entries.length, metadata.instanceCount);
    for (const e of index.entries) {
      assert.equal(index.classes[e.label], e.gloss);
      assert.ok(e.path && fs.existsSync(e.path), `${e.videoId} should exist`);
      assert.equal(index.byId.get(e.videoId), e);
    }
    // Each entry carries its instance's split, bbox and frame range from the file, and the file's path.
    const raw = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'WLASL_v0.3.json'), 'utf8')) as {
      gloss: string; instances: { video_id: string; split: string; bbox: number[]; frame_start: number; frame_end: number }[];
    }[];
    for (const g of raw) {
      for (const i of g.instances) {
        const e = index.byId.get(i.video_id)!;
        assert.deepEqual([e.gloss, e.split, e.bbox, e.frameStart, e.frameEnd], [g.gloss, i.split, i.bbox, i.frame_start, i.frame_end]);
        assert.equal(e.path, path.join(DATA_DIR, 'videos', `${i.video_id}.mp4`));
      }
    }
    assert.equal(index.missing.length, 0);
    const train = entriesOfSplit(index, 'train');
    assert.ok(train.length > 0 && train.every((e) => e.split === 'train'));
    const n = metadata.instanceCount;
    assert.ok(summariseIndex(index).includes(`${metadata.glosses.length} glosses, ${n}/${n} videos present`), summariseIndex(index));
  });

  test(`${name}: missing videos are reported as a danfojs table and as CSV/JSON files`, async () => {
    const metadata = readWlaslMetadata(path.join(DATA_DIR, 'WLASL_v0.3.json'));
    const { dir, kept } = partialVideosDir(7);
    const index = buildVideoIndex(metadata, { videosDir: dir });
    const expectedMissing = index.entries.filter((e) => !kept.has(e.videoId)).map((e) => e.videoId);
    assert.equal(index.missing.length, metadata.instanceCount - kept.size);
    assert.deepEqual(index.missing.map((e) => e.videoId), expectedMissing);
    assert.ok(index.missing.every((e) => e.path === null));

    const df = missingReport(index);
    assert.deepEqual(df.shape, [expectedMissing.length, 6]);
    assert.deepEqual(df.column('video_id').values, expectedMissing);

    const out = makeTempDir();
    await writeMissingReport(index, path.join(out, 'missing.csv'));
    const lines = fs.readFileSync(path.join(out, 'missing.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'video_id,gloss,label,split,source,url');
    assert.equal(lines.length, expectedMissing.length + 1);
    assert.ok(lines[1]!.startsWith(`${expectedMissing[0]},`), 'ids keep their leading zeros');
    await writeMissingReport(index, path.join(out, 'missing.json'));
    const json = JSON.parse(fs.readFileSync(path.join(out, 'missing.json'), 'utf8'));
    assert.equal(json.missing, expectedMissing.length);
    assert.deepEqual(json.rows.map((r: { video_id: string }) => r.video_id), expectedMissing);
    await assert.rejects(writeMissingReport(index, path.join(out, 'missing.txt')), /\.csv or \.json/);

    // Nothing missing: the table is empty but keeps its columns.
    const full = buildVideoIndex(metadata, { videosDir: path.join(DATA_DIR, 'videos') });
    assert.deepEqual(missingReport(full).columns, ['video_id', 'gloss', 'label', 'split', 'source', 'url']);
  });

  test(`${name}: counts per split and gloss add up to the index`, () => {
    const metadata = readWlaslMetadata(path.join(DATA_DIR, 'WLASL_v0.3.json'));
    const { dir } = partialVideosDir(9);
    const index = buildVideoIndex(metadata, { videosDir: dir });
    const rows = countsRows(index);
    assert.equal(rows.length, index.classes.length);
    for (const r of rows) {
      const mine = index.entries.filter((e) => e.gloss === r.gloss);
      assert.equal(r.total, mine.length);
      assert.equal(r.present, mine.filter((e) => e.path).length);
      assert.equal(r.train + r.val + r.test, r.present);
      assert.equal(r.train, mine.filter((e) => e.path && e.split === 'train').length);
      assert.equal(r.missing, r.total - r.present);
    }
    const df = countsTable(index);
    assert.deepEqual(df.columns, ['gloss', 'label', 'train', 'val', 'test', 'total', 'present', 'missing']);
    assert.equal(df.shape[0], index.classes.length);
  });

  test(`${name}: bbox map equals the metadata bboxes (the original bbox_file), written as JSON`, async () => {
    const jsonPath = path.join(DATA_DIR, 'WLASL_v0.3.json');
    const raw = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as { instances: { video_id: string; bbox: number[] }[] }[];
    const index = buildVideoIndex(readWlaslMetadata(jsonPath), { videosDir: path.join(DATA_DIR, 'videos') });
    const map = bboxMap(index);
    const expected: Record<string, number[]> = {};
    for (const g of raw) for (const i of g.instances) expected[i.video_id] = i.bbox;
    assert.deepEqual(map, expected);
    const out = path.join(makeTempDir(), 'sub', 'bbox.json');
    await writeBboxMap(index, out);
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), expected);
  });

  test(`${name}: a split file (nslt_K.json) selects videos and their splits; strays become warnings`, () => {
    const metadata = readWlaslMetadata(path.join(DATA_DIR, 'WLASL_v0.3.json'));
    const chosen = metadata.glosses.slice(0, 3).flatMap((g, classId) => g.instances.slice(0, 4).map((i) => ({ id: i.videoId, classId })));
    const split: Record<string, { subset: string; action: number[] }> = {};
    for (const [n, c] of chosen.entries()) split[c.id] = { subset: n % 4 === 0 ? 'test' : 'train', action: [c.classId, 1, 60] };
    split['99999'] = { subset: 'train', action: [0, 1, 10] };
    const index = buildVideoIndex(metadata, { videosDir: path.join(DATA_DIR, 'videos'), splitFile: parseSplitFile(JSON.stringify(split), 'nslt_3.json') });
    assert.equal(index.entries.length, chosen.length);
    assert.deepEqual(index.classes, metadata.glosses.slice(0, 3).map((g) => g.gloss));
    for (const e of index.entries) assert.equal(e.split, split[e.videoId]!.subset);
    assert.equal(index.warnings.length, 1);
    assert.match(index.warnings[0]!, /1 video id\(s\) of nslt_3.json .*99999/);
    // A split file none of whose ids is in the metadata (another subset's) is refused, not an empty run.
    const stranger = parseSplitFile(JSON.stringify({ '99998': { subset: 'train', action: [0, 1, 10] }, '99999': { subset: 'test', action: [1, 1, 10] } }), 'nslt_2000.json');
    assert.throws(() => buildVideoIndex(metadata, { videosDir: path.join(DATA_DIR, 'videos'), splitFile: stranger }), /nslt_2000\.json: none of the 2 video ids of the split file is in the metadata/);
  });

}

test('subsets narrow the index of a WLASL-size file (2,000 glosses, 21,083 instances)', () => {
  const raw = generateWlaslLikeMetadata();
  const metadata = parseWlaslMetadata(JSON.stringify(raw), 'wlasl-size.json');
  const videosDir = makeTempDir();
  // A few files present: the rest are reported missing.
  for (const id of ['00001', '00002', '00500']) fs.writeFileSync(path.join(videosDir, `${id}.mp4`), 'x');
  const all = buildVideoIndex(metadata, { videosDir });
  assert.equal(all.entries.length, 21083);
  assert.equal(all.classes.length, 2000);
  assert.equal(all.present.length, 3);
  assert.equal(all.missing.length, 21080);
  const w100 = buildVideoIndex(metadata, { videosDir, subset: 'WLASL100' });
  assert.deepEqual(w100.classes, raw.slice(0, 100).map((g) => g.gloss));
  assert.equal(w100.entries.length, raw.slice(0, 100).reduce((n, g) => n + g.instances.length, 0));
  assert.ok(w100.entries.every((e) => e.label < 100 && w100.classes[e.label] === e.gloss));
  assert.throws(() => buildVideoIndex(metadata, { videosDir: path.join(videosDir, 'nope') }), (e: unknown) => e instanceof MetadataError && /videos folder not found/.test(e.message));
});

test('a video file that is a symbolic link to nothing counts as missing, with a warning; organise copies the rest', async () => {
  const root = makeTempDir();
  const data = path.join(root, 'data');
  fs.mkdirSync(path.join(data, 'videos'), { recursive: true });
  const sample = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'data', 'sample', 'WLASL_v0.3.json'), 'utf8')) as Array<{ gloss: string; instances: Array<{ video_id: string }> }>;
  const instances = sample[0]!.instances.slice(0, 3);
  for (const i of instances.slice(0, 2)) fs.copyFileSync(path.join(REPO_ROOT, 'data', 'sample', 'videos', `${i.video_id}.mp4`), path.join(data, 'videos', `${i.video_id}.mp4`));
  const dangling = instances[2]!.video_id;
  fs.symlinkSync(path.join(root, 'gone.mp4'), path.join(data, 'videos', `${dangling}.mp4`));
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), JSON.stringify([{ ...sample[0], instances }]));
  const index = buildVideoIndex(readWlaslMetadata(path.join(data, 'WLASL_v0.3.json')), { videosDir: path.join(data, 'videos') });
  assert.deepEqual(index.missing.map((e) => e.videoId), [dangling]);
  assert.equal(index.present.length, 2);
  assert.match(index.warnings.join('\n'), new RegExp(`1 file\\(s\\) in .* are symbolic links to nothing, counted as missing videos \\(e\\.g\\. ${dangling}\\.mp4\\)`));
  // Copying no longer meets the dangling link (it stopped the whole step with ENOENT).
  const organised = await organiseSplits(index, path.join(root, 'out'), { mode: 'copy' });
  assert.deepEqual([organised.created, organised.missing], [2, 1]);
});
