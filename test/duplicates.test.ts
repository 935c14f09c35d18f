import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { duplicatesCsv, findDuplicateVideos, formatDuplicates } from '../src/metadata/duplicates';
import type { Split, VideoEntry } from '../src/metadata/types';
import { makeTempDir } from './helpers';
import { makeGradientVideo } from './video_fixtures';

function entry(videoId: string, gloss: string, split: Split, file: string | null): VideoEntry {
  return { videoId, gloss, label: 0, split, bbox: null, fps: 25, frameStart: 1, frameEnd: -1, signerId: 0, instanceId: 0, variationId: 0, source: 'test', url: '', path: file };
}

test('byte-identical videos are found by content, not by size: copies across splits and under other glosses are named', async () => {
  const dir = makeTempDir();
  const original = makeGradientVideo(path.join(dir, 'a.mp4'));
  const other = makeGradientVideo(path.join(dir, 'other.mp4'), { frames: 30 });
  for (const name of ['b.mp4', 'c.mp4']) fs.copyFileSync(original, path.join(dir, name));
  // Same size as the original, one byte different: not a copy.
  const bytes = fs.readFileSync(original);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(path.join(dir, 'edited.mp4'), bytes);
  const entries = [
    entry('100', 'drink', 'train', original),
    entry('101', 'drink', 'val', path.join(dir, 'b.mp4')),
    entry('102', 'eat', 'test', path.join(dir, 'c.mp4')),
    entry('103', 'drink', 'train', path.join(dir, 'edited.mp4')),
    entry('104', 'drink', 'val', other),
    entry('105', 'drink', 'val', null),
  ];
  const report = await findDuplicateVideos(entries);
  assert.equal(report.groups.length, 1);
  assert.deepEqual(report.groups[0]!.members.map((m) => m.videoId), ['100', '101', '102']);
  assert.equal(report.groups[0]!.bytes, fs.statSync(original).size);
  assert.deepEqual(report.copiesOfTraining, { val: ['101'], test: ['102'] });
  assert.equal(report.conflictingGlosses.length, 1);
  const lines = formatDuplicates(report);
  assert.equal(lines[0], 'duplicates: 1 groups of byte-identical videos (3 files; all in data/duplicate_videos.csv)');
  assert.match(lines[1]!, /100 \(drink, train\) = 101 \(drink, val\) = 102 \(eat, test\)$/);
  assert.match(lines[2]!, /^  the same video under different glosses: 100 /);
  const csv = duplicatesCsv(report).trim().split('\n');
  assert.equal(csv[0], 'group,video_id,gloss,split,bytes,sha256');
  assert.equal(csv.length, 4);
  assert.match(csv[3]!, /^1,102,eat,test,\d+,[0-9a-f]{64}$/);

  // A model trained on train + val: val is training, so only the test copy is held-out data seen in training; a
  // val clip copied only into val is no copy of training at all.
  const trainVal = await findDuplicateVideos(entries, ['train', 'val']);
  assert.deepEqual(trainVal.copiesOfTraining, { val: [], test: ['102'] });
  assert.match(formatDuplicates(trainVal)[1]!, /^  copies of training videos in val or test .*: 100 \(drink, train\) = 101/);
  const valOnly = await findDuplicateVideos([entries[1]!, entries[3]!], ['train']);
  assert.deepEqual([valOnly.groups.length, valOnly.copiesOfTraining], [0, { val: [], test: [] }]);
  const valAndTest = await findDuplicateVideos([entries[1]!, entries[2]!, entries[3]!]);
  assert.deepEqual([valAndTest.groups.length, valAndTest.copiesOfTraining], [1, { val: [], test: [] }]);
  assert.doesNotMatch(formatDuplicates(valAndTest).join('\n'), /copies of training/);
  assert.match(formatDuplicates(await findDuplicateVideos([entries[1]!, entries[2]!], ['train', 'val'])).join('\n'), /copies of training videos in val or test .*: 101 \(drink, val\) = 102 \(eat, test\)$/m);

  const none = await findDuplicateVideos([entries[0]!, entries[3]!, entries[4]!]);
  assert.deepEqual([none.groups.length, formatDuplicates(none).length], [0, 0]);
});
