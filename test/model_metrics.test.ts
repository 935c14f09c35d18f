import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { summarisePredictions, rankOf, perClassTable } from '../src/model/metrics';
import { dataFrameToHtml } from '../src/plot/table';
import { perClassAccuracySpec } from '../src/plot/specs';

test('metrics on a hand-made case: per-sequence and per-video top-k, confusion, per-class accuracy', () => {
  // 3 classes, 3 videos; video "a" (class 0) has two windows whose average favours class 0 although its second
  // window alone favours class 1; video "b" (class 1) is predicted class 2; video "c" (class 2) is right.
  const probs = Float32Array.from([
    0.6, 0.3, 0.1, // a, window 1 -> 0
    0.3, 0.4, 0.3, // a, window 2 -> 1 (wrong alone)
    0.2, 0.3, 0.5, // b -> 2 (wrong), true class ranked 2nd
    0.1, 0.1, 0.8, // c -> 2
  ]);
  const labels = [0, 0, 1, 2];
  const videoIds = ['a', 'a', 'b', 'c'];
  const r = summarisePredictions(probs, labels, videoIds, 3, ['zero', 'one', 'two']);
  assert.deepEqual(r.perSequence, { count: 4, top1: 2 / 4, top5: 1, top10: 1 });
  assert.deepEqual(r.perVideo, { count: 3, top1: 2 / 3, top5: 1, top10: 1 });
  assert.deepEqual(r.confusion, [
    [1, 0, 0],
    [0, 0, 1],
    [0, 0, 1],
  ]);
  assert.deepEqual(r.perClass.map((c) => [c.name, c.videos, c.correct, c.accuracy]), [['zero', 1, 1, 1], ['one', 1, 0, 0], ['two', 1, 1, 1]]);
  assert.deepEqual(r.videos.map((v) => [v.videoId, v.predicted]), [['a', 0], ['b', 2], ['c', 2]]);
  assert.ok(Math.abs(r.videos[0]!.top5[0]!.prob - 0.45) < 1e-6);
  // JSON-serialisable as is.
  assert.deepEqual(JSON.parse(JSON.stringify(r)).confusion, r.confusion);
  // Ties count against the true class.
  assert.equal(rankOf([0.5, 0.5], 1), 1);
  const df = perClassTable(r);
  assert.deepEqual(df.shape, [3, 5]);
  assert.deepEqual(df.columns, ['label', 'gloss', 'videos', 'correct', 'accuracy']);
});

test('top-5 and top-10 differ from top-1 when the true class is ranked lower', () => {
  const C = 12;
  const probs = new Float32Array(C);
  for (let c = 0; c < C; c++) probs[c] = (C - c) / 100; // class 0 highest ... class 11 lowest
  const at = (label: number) => summarisePredictions(probs, [label], ['v'], C).perSequence;
  assert.deepEqual(at(0), { count: 1, top1: 1, top5: 1, top10: 1 });
  assert.deepEqual(at(4), { count: 1, top1: 0, top5: 1, top10: 1 });
  assert.deepEqual(at(5), { count: 1, top1: 0, top5: 0, top10: 1 });
  assert.deepEqual(at(10), { count: 1, top1: 0, top5: 0, top10: 0 });
});

test('a class with no test video has no accuracy: null in the table (shown as a dash), no bar in the chart', () => {
  // 3 classes; class 1 has no video in this split. The control is matched by gloss.
  const probs = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.2, 0.7]);
  const r = summarisePredictions(probs, [0, 2], ['a', 'c'], 3, ['zero', 'one', 'two']);
  const control = summarisePredictions(Float32Array.from([0.2, 0.1, 0.7, 0.1, 0.2, 0.7]), [0, 2], ['a', 'c'], 3, ['zero', 'one', 'two']);
  assert.ok(Number.isNaN(r.perClass[1]!.accuracy));
  const df = perClassTable(r, { control });
  assert.deepEqual(df.columns, ['label', 'gloss', 'videos', 'correct', 'accuracy', 'control accuracy']);
  const html = dataFrameToHtml(df);
  assert.match(html, /<td>one<\/td><td>0<\/td><td>0<\/td><td>—<\/td><td>—<\/td>/);
  assert.match(html, /<td>zero<\/td><td>1<\/td><td>1<\/td><td>1<\/td><td>0<\/td>/);
  const spec = perClassAccuracySpec(r.perClass.map((c) => ({ gloss: c.name, accuracy: c.accuracy, videos: c.videos }))) as { data: { values: { gloss: string }[] }; title: { subtitle: string } };
  assert.deepEqual(spec.data.values.map((v) => v.gloss), ['zero', 'two']);
  assert.match(spec.title.subtitle, /1 class with no video/);
});
