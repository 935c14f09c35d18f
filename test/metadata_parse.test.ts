import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetadataError } from '../src/errors';
import { parseWlaslMetadata, readWlaslMetadata, subsetGlosses, parseSubset, generateWlaslLikeMetadata, parseSplitFile } from '../src/metadata/index';
import { REAL10_DIR, REPO_ROOT, makeTempDir } from './helpers';

// Real files: the committed embedded sample always, the 10 real WLASL glosses of ../shared when present.
const REAL_JSONS: [string, string][] = [
  ['the embedded sample', path.join(REPO_ROOT, 'data', 'sample', 'WLASL_v0.3.json')],
  ...(REAL10_DIR ? [['the 10-gloss real WLASL subset', path.join(REAL10_DIR, 'WLASL_v0.3.json')] as [string, string]] : []),
];

function oneGloss(instanceOverrides: Record<string, unknown>): string {
  const instance = { bbox: [10, 20, 300, 400], fps: 25, frame_end: -1, frame_start: 1, instance_id: 0, signer_id: 3, source: 's', split: 'train', url: 'u', variation_id: 0, video_id: '01234', ...instanceOverrides };
  return JSON.stringify([{ gloss: 'book', instances: [{ ...instance, video_id: '00001' }, instance] }]);
}

function expectMetadataError(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MetadataError, `expected MetadataError, got ${String(error)}`);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(error.message.includes(f), `message lacks '${f}': ${error.message}`);
      else assert.match(error.message, f);
    }
    return true;
  });
}

for (const [name, realJson] of REAL_JSONS) test(`parses the real WLASL_v0.3.json of ${name}`, () => {
  const metadata = readWlaslMetadata(realJson);
  const raw = JSON.parse(fs.readFileSync(realJson, 'utf8')) as { gloss: string; instances: { video_id: string; bbox: number[]; split: string }[] }[];
  assert.equal(metadata.glosses.length, raw.length);
  assert.deepEqual(metadata.glosses.map((g) => g.gloss), raw.map((g) => g.gloss));
  assert.equal(metadata.instanceCount, raw.reduce((n, g) => n + g.instances.length, 0));
  const first = raw[0]!.instances[0]!;
  const parsed = metadata.glosses[0]!.instances[0]!;
  assert.equal(parsed.videoId, first.video_id);
  assert.deepEqual(parsed.bbox, first.bbox);
  assert.equal(parsed.split, first.split);
  assert.equal(parsed.frameEnd, -1);
});

test('malformed JSON names the file and the line', () => {
  expectMetadataError(() => parseWlaslMetadata('[{"gloss": "book",\n "instances": [}]', 'bad.json'), 'bad.json', 'not valid JSON', /line 2/);
  expectMetadataError(() => parseWlaslMetadata('', 'empty.json'), 'empty.json', 'not valid JSON');
});

test('bad fields name the gloss, the instance and the field', () => {
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ bbox: [10, 20, 300] }), 'm.json'), "gloss #0 'book'", 'instance #1 (video_id 01234)', "field 'bbox");
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ bbox: [300, 20, 10, 400] }), 'm.json'), "field 'bbox'", 'x_max');
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ split: 'training' }), 'm.json'), "field 'split'", 'instance #1');
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ video_id: '../../etc/passwd' }), 'm.json'), "field 'video_id'");
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ frame_start: 'one' }), 'm.json'), "field 'frame_start'");
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ video_id: undefined }), 'm.json'), "field 'video_id'", 'instance #1');
  expectMetadataError(() => parseWlaslMetadata('{"gloss": "book"}', 'm.json'), 'expected a JSON list');
  expectMetadataError(() => parseWlaslMetadata('[{"instances": []}]', 'm.json'), "gloss #0 (no name)", "field 'gloss'");
});

test('duplicate video ids and glosses are refused', () => {
  expectMetadataError(() => parseWlaslMetadata(oneGloss({ video_id: '00001' }), 'm.json'), "video_id' 00001 is already used by gloss 'book'");
  const twice = JSON.stringify([{ gloss: 'a', instances: [] }, { gloss: 'a', instances: [] }]);
  expectMetadataError(() => parseWlaslMetadata(twice, 'm.json'), "gloss 'a' appears twice");
});

test('optional fields get WLASL defaults; null bbox is kept as null', () => {
  const text = JSON.stringify([{ gloss: 'go', instances: [{ video_id: '5', split: 'val', bbox: null }] }]);
  const m = parseWlaslMetadata(text, 'm.json');
  const inst = m.glosses[0]!.instances[0]!;
  assert.equal(inst.bbox, null);
  assert.equal(inst.fps, 25);
  assert.equal(inst.frameStart, 1);
  assert.equal(inst.frameEnd, -1);
});

test('WLASL100/300/1000/2000 are the first K glosses in file order', () => {
  const raw = generateWlaslLikeMetadata();
  const metadata = parseWlaslMetadata(JSON.stringify(raw), 'wlasl-size.json');
  assert.equal(metadata.glosses.length, 2000);
  assert.equal(metadata.instanceCount, 21083);
  for (const k of [100, 300, 1000, 2000]) {
    const glosses = subsetGlosses(metadata, `WLASL${k}`);
    assert.deepEqual(glosses, raw.slice(0, k).map((g) => g.gloss));
  }
  assert.equal(parseSubset('wlasl300'), 300);
  assert.equal(parseSubset(1000), 1000);
  assert.throws(() => parseSubset('WLASL-big'), MetadataError);
  const small = parseWlaslMetadata(JSON.stringify(raw.slice(0, 50)), 'small.json');
  expectMetadataError(() => subsetGlosses(small, 'WLASL100'), 'needs 100 glosses', 'small.json');
});

test('split files in the nslt_K.json format are validated', () => {
  const ok = parseSplitFile(JSON.stringify({ '05237': { subset: 'train', action: [77, 1, 55] } }), 'nslt_100.json');
  assert.deepEqual(ok.entries.get('05237'), { split: 'train', classId: 77, frameStart: 1, frameEnd: 55 });
  expectMetadataError(() => parseSplitFile(JSON.stringify({ '05237': { subset: 'dev', action: [77, 1, 55] } }), 'nslt_100.json'), 'nslt_100.json', 'video_id 05237', "'subset'");
  const dir = makeTempDir();
  fs.writeFileSync(path.join(dir, 'broken.json'), '{');
  expectMetadataError(() => parseSplitFile('{', path.join(dir, 'broken.json')), 'broken.json');
  expectMetadataError(() => readWlaslMetadata(path.join(dir, 'nope.json')), 'nope.json', 'not found');
});

test('a UTF-8 byte-order mark (as Windows editors save JSON) is accepted in the metadata and split files', () => {
  const bom = '\uFEFF';
  const metadata = parseWlaslMetadata(bom + oneGloss({}), 'bom.json');
  assert.equal(metadata.glosses[0]!.gloss, 'book');
  const split = parseSplitFile(bom + JSON.stringify({ '00001': { subset: 'train', action: [0, 1, 10] } }), 'nslt_bom.json');
  assert.equal(split.entries.get('00001')!.split, 'train');
  // Still a clear error, with the place, for a file that is not JSON at all.
  expectMetadataError(() => parseWlaslMetadata(bom + '[{"gloss": }]', 'bad.json'), 'bad.json: not valid JSON at line 1');
  expectMetadataError(() => parseSplitFile('{', 'nslt.json'), 'nslt.json: split file is not valid JSON');
});
