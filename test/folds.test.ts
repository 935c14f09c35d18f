import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stratifiedFolds, type FoldItem } from '../src/dataset/folds';
import { findDuplicateVideos } from '../src/metadata/duplicates';
import { loadIndex } from '../src/pipeline/run';
import { REAL10_DIR } from './helpers';

function foldSizes(fold: Map<string, number>, k: number, items: readonly FoldItem[], label?: number): number[] {
  const sizes = new Array<number>(k).fill(0);
  for (const item of items) if (label === undefined || item.label === label) sizes[fold.get(item.id)!]!++;
  return sizes;
}

test('folds: every item held out once, each label spread evenly, the same folds whatever the input order', () => {
  // 7 labels of 3..9 items: label sizes that do not divide by k, so the dealing has to carry on across labels.
  const items: FoldItem[] = [];
  for (let label = 0; label < 7; label++) for (let i = 0; i < 3 + label; i++) items.push({ id: `v${label}-${i}`, label });
  const k = 4;
  const fold = stratifiedFolds(items, k, 42);
  assert.equal(fold.size, items.length);
  for (const f of fold.values()) assert.ok(Number.isInteger(f) && f >= 0 && f < k);
  const sizes = foldSizes(fold, k, items);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  for (let label = 0; label < 7; label++) {
    const perLabel = foldSizes(fold, k, items, label);
    assert.ok(Math.max(...perLabel) - Math.min(...perLabel) <= 1, `label ${label}: ${perLabel}`);
  }
  assert.deepEqual(stratifiedFolds([...items].reverse(), k, 42), fold);
  const other = stratifiedFolds(items, k, 7);
  assert.ok(items.some((item) => other.get(item.id) !== fold.get(item.id)), 'another seed deals other folds');
  assert.throws(() => stratifiedFolds(items, 1, 42), /folds must be an integer of at least 2, got 1/);
  assert.throws(() => stratifiedFolds([...items, items[0]!], k, 42), /distinct ids/);
});

test('folds on wlasl-real10: byte-identical videos share a fold, and every gloss is in every fold', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10' }, async () => {
  const index = loadIndex({ dataDir: REAL10_DIR! });
  const items = index.present.map((e) => ({ id: e.videoId, label: e.label }));
  const duplicates = await findDuplicateVideos(index.present);
  const groups = duplicates.groups.map((g) => g.members.map((m) => m.videoId));
  assert.ok(groups.length >= 1, 'real10 has a pair of byte-identical clips (17721 = 17722)');
  const k = 5;
  const fold = stratifiedFolds(items, k, 42, groups);
  assert.equal(fold.size, items.length);
  for (const group of groups) assert.equal(new Set(group.map((id) => fold.get(id))).size, 1, `group ${group} split across folds`);
  for (const label of new Set(items.map((i) => i.label))) {
    const perLabel = foldSizes(fold, k, items, label);
    assert.ok(Math.min(...perLabel) >= 1, `label ${label} missing from a fold: ${perLabel}`);
    assert.ok(Math.max(...perLabel) - Math.min(...perLabel) <= 2, `label ${label}: ${perLabel}`);
  }
});
