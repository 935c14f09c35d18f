import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/runtime/backend';
import { generateWlaslLikeMetadata, parseWlaslMetadata, buildVideoIndex } from '../src/metadata/index';
import { createHead, fit } from '../src/model/train';
import { evaluate } from '../src/model/metrics';
import type { SequenceSource } from '../src/dataset/types';
import { toySource } from './model_train_fixture';
import { MODEL_TEST_CONFIG, TRAIN_TEST_CONFIG } from './model_train_settings';
import { makeTempDir } from './helpers';

/**
 * Issue 8, determinism: the same seed twice gives identical splits, batch order, initial weights and metrics,
 * and another seed changes what a seed is meant to change (so these checks can fail). Also covered elsewhere:
 * test/dataset_sequences.test.ts (a source's shuffle per seed), test/model_train.test.ts (metrics with and
 * without a helper thread, resume after SIGKILL equals an uninterrupted run).
 */

test('same metadata and subset twice: identical splits, labels and order (no hidden randomness in indexing)', () => {
  const dir = makeTempDir('wlasl-determinism-');
  const text = JSON.stringify(generateWlaslLikeMetadata({ glosses: 120, instances: 1500 }));
  fs.mkdirSync(path.join(dir, 'videos'));
  const index = () => buildVideoIndex(parseWlaslMetadata(text, 'generated.json'), { videosDir: path.join(dir, 'videos'), subset: 100 });
  const rows = (i: ReturnType<typeof index>) => i.entries.map((e) => `${e.videoId}:${e.split}:${e.label}`);
  const a = index();
  const b = index();
  assert.ok(a.entries.length > 500, `${a.entries.length} entries`);
  assert.deepEqual(rows(a), rows(b));
  assert.deepEqual(a.classes, b.classes);
  assert.deepEqual(new Set(a.entries.map((e) => e.split)), new Set(['train', 'val', 'test']));
});

/** Wraps a source and records the video ids of every batch fit asks for. */
function recording(source: SequenceSource, log: string[][]): SequenceSource {
  return {
    get numSamples() { return source.numSamples; },
    get numClasses() { return source.numClasses; },
    get sequenceLength() { return source.sequenceLength; },
    get featureDim() { return source.featureDim; },
    samples: () => source.samples(),
    async *batches(batchSize, options) {
      for await (const batch of source.batches(batchSize, options)) {
        log.push([...batch.videoIds]);
        yield batch;
      }
    },
  };
}

test('same seed twice: identical initial weights, batch order in every epoch, final weights and metrics; another seed differs', async () => {
  await initBackend();
  const train = toySource({ videosPerClass: 5, classes: 3, steps: 4, dim: 12, windows: 2, seed: 1 });
  const val = toySource({ videosPerClass: 2, classes: 3, steps: 4, dim: 12, windows: 2, seed: 2 });
  const config = { ...TRAIN_TEST_CONFIG, epochs: 3 };
  const run = async (seed: number) => {
    const head = await createHead(train, MODEL_TEST_CONFIG, seed);
    const initial = head.snapshot().map((w) => Array.from(w));
    const batches: string[][] = [];
    const result = await fit(head, recording(train, batches), val, { ...config, seed }, { progress: 'none' });
    const report = await evaluate(head, val);
    return { initial, batches, final: head.snapshot().map((w) => Array.from(w)), history: result.history.map(({ seconds: _s, ...r }) => r), perVideo: report.perVideo };
  };
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  assert.deepEqual(a.initial, b.initial, 'initial weights');
  assert.ok(a.batches.length >= config.epochs * 2, `${a.batches.length} training batches recorded`);
  assert.deepEqual(a.batches, b.batches, 'batch order');
  assert.notDeepEqual(a.batches.slice(0, 2), a.batches.slice(a.batches.length / config.epochs, a.batches.length / config.epochs + 2), 'each epoch reshuffles');
  assert.deepEqual(a.final, b.final, 'trained weights');
  assert.deepEqual(a.history, b.history, 'per-epoch losses and accuracies');
  assert.deepEqual(a.perVideo, b.perVideo, 'metrics');
  assert.notDeepEqual(a.initial, c.initial, 'another seed, other initial weights');
  assert.notDeepEqual(a.batches, c.batches, 'another seed, other batch order');
});
