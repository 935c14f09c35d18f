import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClipSequenceSource, EVAL_SPANS, spreadIndices, type ClipFrames } from '../src/streams/clip_source';
import { augmentLandmarkRows, dropHandFrames, type LandmarkAugmentation, fillGaps, landmarkStreamDims, landmarkStreamFrames, leftWristHigher, mirrorLandmarkRows, STREAM_LANDMARK_DIMS, STREAM_LAYOUT, STREAM_POSITION_DIMS } from '../src/streams/landmark_features';
import { CONTACT_PER_HAND, faceContactOffset } from '../src/landmarks/stream_width';
import { landmarkVectors, LANDMARK_DIMS, LANDMARK_LAYOUT, NORMALISED_BODY_POINTS } from '../src/landmarks/normalise';
import { readLandmarkEntry } from '../src/landmarks/cache';
import { HAND_CROP_DIMS, HAND_FEATURE_DIM, handCropBoxes } from '../src/streams/hand_crops';
import { initBackend } from '../src/runtime/backend';
import { seededRandom } from '../src/runtime/random';
import { makeTempDir, REAL10_DIR, runCli } from './helpers';

const skip = REAL10_DIR ? false : 'no ../shared/data/wlasl-real10';

// The hand-crop module brings the wasm backend in: initialise it before any tensor.
before(async () => {
  await initBackend();
});

test('spreadIndices takes the centres of equal parts: a long clip is thinned evenly, a short one repeats evenly', () => {
  // Part i of 8 frames covers 8i..8i+7; its centre 8i+3.5 rounds up.
  assert.deepEqual(spreadIndices(4, 0, 32, 32), [4, 12, 20, 28]);
  assert.deepEqual(spreadIndices(4, 0, 2, 2), [0, 0, 1, 1]);
  assert.deepEqual(spreadIndices(3, 10, 6, 32), [11, 13, 15]);
});

test('fillGaps: a missing stretch is linear between its neighbours, the ends copy the nearest seen frame', () => {
  const data = Float32Array.from([0, 0, 0, 4, 0, 0, 10, 0]); // 8 frames x 1 value, seen at 1 (0), 3 (4), 6 (10)
  const seen = new Set([1, 3, 6]);
  data[1] = 2;
  fillGaps(data, 1, 8, 0, 1, (t) => seen.has(t));
  assert.deepEqual(Array.from(data), [2, 2, 3, 4, 6, 8, 10, 10]);
});

function clip(frames: number, dim: number, value: (t: number, k: number) => number, videoId = 'v', label = 0): ClipFrames {
  const data = new Float32Array(frames * dim);
  for (let t = 0; t < frames; t++) for (let k = 0; k < dim; k++) data[t * dim + k] = value(t, k);
  return { videoId, label, frames, data };
}

test('a clip source gives one sequence per evaluation view, the same each time; training views vary with the seed only', async () => {
  const clips = [clip(40, 3, (t) => t, 'a', 0), clip(9, 3, (t) => 100 + t, 'b', 1)];
  const evalSource = new ClipSequenceSource(clips, 8, 2, { minSpan: 1 }, EVAL_SPANS);
  assert.equal(evalSource.numSamples, 2 * EVAL_SPANS.length);
  const read = async (source: ClipSequenceSource, seed: number, shuffle: boolean) => {
    const out: number[][] = [];
    for await (const b of source.batches(4, { shuffle, seed })) {
      out.push(Array.from(b.x.dataSync()));
      b.x.dispose();
    }
    return out.flat();
  };
  assert.deepEqual(await read(evalSource, 1, false), await read(evalSource, 2, false));
  const train = new ClipSequenceSource(clips, 8, 2, { minSpan: 0.5 });
  const a = await read(train, 5, true);
  assert.deepEqual(a, await read(train, 5, true));
  assert.notDeepEqual(a, await read(train, 6, true));
  // Frames stay in order in every view: time is never shuffled, only cut and stretched.
  for (let s = 0; s < a.length / 24; s++) {
    const times = Array.from({ length: 8 }, (_, t) => a[s * 24 + t * 3]!);
    assert.deepEqual(times, [...times].sort((x, y) => x - y));
  }
});

test('the stream layout tiles its width: body, hands, masks end at STREAM_POSITION_DIMS, the angles at STREAM_LANDMARK_DIMS', () => {
  const parts = Object.values(STREAM_LAYOUT).sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const part of parts) {
    assert.equal(part.offset, end);
    end += part.length;
    if (part === STREAM_LAYOUT.mask) assert.equal(end, STREAM_POSITION_DIMS);
  }
  assert.equal(end, STREAM_LANDMARK_DIMS);
});

test('landmark augmentation moves positions but not masks or hand angles; mirroring swaps the hands with their angles, twice is the identity', () => {
  const rows = new Float32Array(4 * STREAM_LANDMARK_DIMS);
  const rng = seededRandom(3);
  for (let i = 0; i < rows.length; i++) rows[i] = rng() - 0.5;
  for (let t = 0; t < 4; t++) for (let k = 0; k < STREAM_LAYOUT.mask.length; k++) rows[t * STREAM_LANDMARK_DIMS + STREAM_LAYOUT.mask.offset + k] = k % 2;
  const block = (r: Float32Array, part: { offset: number; length: number }, t = 0) => Array.from(r.subarray(t * STREAM_LANDMARK_DIMS + part.offset, t * STREAM_LANDMARK_DIMS + part.offset + part.length));
  const mirrored = Float32Array.from(rows);
  mirrorLandmarkRows(mirrored, STREAM_LANDMARK_DIMS, { handAngles: true });
  assert.notDeepEqual(Array.from(mirrored), Array.from(rows));
  assert.deepEqual([block(mirrored, STREAM_LAYOUT.leftAngles, 2), block(mirrored, STREAM_LAYOUT.rightAngles, 2)], [block(rows, STREAM_LAYOUT.rightAngles, 2), block(rows, STREAM_LAYOUT.leftAngles, 2)]);
  mirrorLandmarkRows(mirrored, STREAM_LANDMARK_DIMS, { handAngles: true });
  assert.deepEqual(Array.from(mirrored), Array.from(rows));
  // Rows without angles (a model saved before them) are mirrored within their own 147 values.
  const narrow = rows.slice(0, 4 * STREAM_POSITION_DIMS);
  const narrowMirrored = Float32Array.from(narrow);
  mirrorLandmarkRows(narrowMirrored, STREAM_POSITION_DIMS, { handAngles: false });
  assert.deepEqual(Array.from(narrowMirrored.subarray(STREAM_LAYOUT.left.offset, STREAM_LAYOUT.right.offset)).slice(2), Array.from(narrow.subarray(STREAM_LAYOUT.right.offset, STREAM_LAYOUT.mask.offset)).slice(2).map((v, i) => (i % 3 === 0 ? -v : v)));
  const moved = Float32Array.from(rows);
  augmentLandmarkRows(moved, STREAM_LANDMARK_DIMS, { handAngles: true }, seededRandom(9));
  for (let t = 0; t < 4; t++) {
    assert.deepEqual(block(moved, STREAM_LAYOUT.mask, t), block(rows, STREAM_LAYOUT.mask, t));
    assert.deepEqual(block(moved, { offset: STREAM_LAYOUT.leftAngles.offset, length: 2 * STREAM_LAYOUT.leftAngles.length }, t), block(rows, { offset: STREAM_LAYOUT.leftAngles.offset, length: 2 * STREAM_LAYOUT.leftAngles.length }, t));
  }
  assert.notDeepEqual(block(moved, STREAM_LAYOUT.body), block(rows, STREAM_LAYOUT.body));
});

test('a view\'s squeeze scales x and y against each other and its shear slides x along y, one draw per view; without them a view is what it was, to the bit', () => {
  const rows = new Float32Array(3 * STREAM_LANDMARK_DIMS);
  const rng = seededRandom(21);
  for (let i = 0; i < rows.length; i++) rows[i] = rng() - 0.5;
  for (let t = 0; t < 3; t++) for (let k = 0; k < STREAM_LAYOUT.mask.length; k++) rows[t * STREAM_LANDMARK_DIMS + STREAM_LAYOUT.mask.offset + k] = 1;
  const view = (a: Partial<LandmarkAugmentation>, seed = 5) => {
    const out = Float32Array.from(rows);
    augmentLandmarkRows(out, STREAM_LANDMARK_DIMS, { handAngles: true }, seededRandom(seed), { rotate: 0, scale: 0, shift: 0, mirror: 0, ...a });
    return out;
  };
  assert.deepEqual(Array.from(view({ rotate: 0.3, scale: 0.25, shift: 0.2, squeeze: 0, shear: 0 })), Array.from(view({ rotate: 0.3, scale: 0.25, shift: 0.2 })));
  const points = (r: Float32Array) => {
    const out: Array<[number, number, number, number]> = [];
    for (let t = 0; t < 3; t++) {
      for (let k = 0; k < STREAM_LAYOUT.body.length; k += 2) out.push([rows[t * STREAM_LANDMARK_DIMS + k]!, rows[t * STREAM_LANDMARK_DIMS + k + 1]!, r[t * STREAM_LANDMARK_DIMS + k]!, r[t * STREAM_LANDMARK_DIMS + k + 1]!]);
      // A hand's shape (its points about the wrist) takes the same squeeze.
      const shape = t * STREAM_LANDMARK_DIMS + STREAM_LAYOUT.right.offset + 2;
      out.push([rows[shape]!, rows[shape + 1]!, r[shape]!, r[shape + 1]!]);
    }
    return out;
  };
  const squeezed = points(view({ squeeze: 0.15 }));
  const q = squeezed[0]![2] / squeezed[0]![0] - 1;
  assert.ok(Math.abs(q) > 1e-3 && Math.abs(q) <= 0.15, `squeeze ${q}`);
  for (const [x, y, x2, y2] of squeezed) assert.ok(Math.abs(x2 - x * (1 + q)) < 1e-5 && Math.abs(y2 - y * (1 - q)) < 1e-5);
  const sheared = points(view({ shear: 0.15 }));
  const h = (sheared[0]![2] - sheared[0]![0]) / sheared[0]![1];
  assert.ok(Math.abs(h) > 1e-3 && Math.abs(h) <= 0.15, `shear ${h}`);
  for (const [x, y, x2, y2] of sheared) assert.ok(Math.abs(x2 - (x + h * y)) < 1e-5 && y2 === y);
  // Masks and angles stay; different seeds draw different views.
  const both = view({ squeeze: 0.15, shear: 0.15 });
  const block = (r: Float32Array, from: number, to: number) => Array.from(r.subarray(from, to));
  assert.deepEqual(block(both, STREAM_LAYOUT.mask.offset, STREAM_LANDMARK_DIMS), block(rows, STREAM_LAYOUT.mask.offset, STREAM_LANDMARK_DIMS));
  assert.notDeepEqual(Array.from(both), Array.from(view({ squeeze: 0.15, shear: 0.15 }, 6)));
});

test('dropped hands: a frame that loses a hand has mask 0 and every block of that hand (position, shape, angles, face contact) filled from the frames that kept it; the body and the other hand stay; rate 0 draws nothing', () => {
  const parts = { handAngles: true, faceContact: true };
  const dims = landmarkStreamDims(parts);
  const frames = 12;
  const rows = new Float32Array(frames * dims);
  const rng = seededRandom(5);
  for (let i = 0; i < rows.length; i++) rows[i] = rng() - 0.5;
  const handMask = (h: number) => STREAM_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length + h;
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < STREAM_LAYOUT.mask.length; k++) rows[t * dims + STREAM_LAYOUT.mask.offset + k] = 1;
    // The right hand is missed in frame 3 already: it must stay missed, and must not count as dropped.
    if (t === 3) rows[t * dims + handMask(1)] = 0;
  }
  let draws = 0;
  const counting = () => {
    draws++;
    return 0.5;
  };
  const same = Float32Array.from(rows);
  dropHandFrames(same, dims, parts, counting, 0);
  assert.deepEqual(Array.from(same), Array.from(rows));
  assert.equal(draws, 0);

  const dropped = Float32Array.from(rows);
  dropHandFrames(dropped, dims, parts, seededRandom(11), 0.4);
  const contact = faceContactOffset(parts);
  const blocks = [
    [STREAM_LAYOUT.left, STREAM_LAYOUT.leftAngles, { offset: contact, length: CONTACT_PER_HAND }],
    [STREAM_LAYOUT.right, STREAM_LAYOUT.rightAngles, { offset: contact + CONTACT_PER_HAND, length: CONTACT_PER_HAND }],
  ];
  const inBlock = (h: number, k: number) => blocks[h]!.some((b) => k >= b.offset && k < b.offset + b.length);
  let lost = 0;
  for (let h = 0; h < 2; h++) {
    const kept = Array.from({ length: frames }, (_, t) => dropped[t * dims + handMask(h)]! > 0);
    assert.ok(kept.some(Boolean), 'a hand keeps at least one frame');
    for (let t = 0; t < frames; t++) {
      const wasSeen = rows[t * dims + handMask(h)]! > 0;
      if (!wasSeen) assert.equal(kept[t], false);
      if (kept[t] || !wasSeen) continue;
      lost++;
      const before = kept.lastIndexOf(true, t);
      const after = kept.indexOf(true, t);
      for (let k = 0; k < dims; k++) {
        if (!inBlock(h, k)) continue;
        const at = (f: number) => rows[f * dims + k]!;
        const expected = before < 0 ? at(after) : after < 0 ? at(before) : at(before) + ((t - before) / (after - before)) * (at(after) - at(before));
        assert.ok(Math.abs(dropped[t * dims + k]! - expected) < 1e-5, `hand ${h}, frame ${t}, value ${k}: ${dropped[t * dims + k]} against ${expected}`);
      }
    }
  }
  assert.ok(lost >= 4, `a rate of 0.4 over 23 seen hands dropped ${lost}`);
  // Everything that is no hand's block (body, masks but the hands', the other values) is as it was, in every frame.
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < dims; k++) {
      if (inBlock(0, k) || inBlock(1, k) || k === handMask(0) || k === handMask(1)) continue;
      assert.equal(dropped[t * dims + k], rows[t * dims + k]);
    }
  }
});

test('dropped hands in runs (maxRun): lost frames come in runs of at most maxRun, about `rate` of the seen frames in all; maxRun 1 is frame by frame, draw for draw', () => {
  const parts = { handAngles: true, faceContact: true };
  const dims = landmarkStreamDims(parts);
  const frames = 16;
  const handMask = (h: number) => STREAM_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length + h;
  const base = new Float32Array(frames * dims);
  const fill = seededRandom(3);
  for (let i = 0; i < base.length; i++) base[i] = fill() - 0.5;
  for (let t = 0; t < frames; t++) for (let k = 0; k < STREAM_LAYOUT.mask.length; k++) base[t * dims + STREAM_LAYOUT.mask.offset + k] = 1;
  const lostRuns = (rows: Float32Array, h: number): number[] => {
    const runs: number[] = [];
    let run = 0;
    for (let t = 0; t <= frames; t++) {
      if (t < frames && rows[t * dims + handMask(h)]! === 0) run++;
      else if (run > 0) {
        runs.push(run);
        run = 0;
      }
    }
    return runs;
  };
  // The share lost is the rate asked for (runs cut short by the view's end take a little off).
  for (const rate of [0.25, 0.4]) {
    let lost = 0;
    let longest = 0;
    const views = 2000;
    const rng = seededRandom(21);
    for (let v = 0; v < views; v++) {
      const rows = Float32Array.from(base);
      dropHandFrames(rows, dims, parts, rng, rate, 4);
      for (let h = 0; h < 2; h++) {
        const runs = lostRuns(rows, h);
        assert.ok(runs.reduce((a, b) => a + b, 0) < frames, 'a hand keeps at least one frame');
        lost += runs.reduce((a, b) => a + b, 0);
        longest = Math.max(longest, ...runs);
      }
    }
    const share = lost / (views * 2 * frames);
    assert.ok(Math.abs(share - rate) < 0.025, `${(share * 100).toFixed(1)}% of the seen frames lost at rate ${rate}`);
    assert.ok(longest >= 4, `the longest run: ${longest}`);
  }
  // Scripted draws: a run starts at frame 2 (draw 0 < the start chance) for floor(0.99 * 4) + 1 = 4 frames; no other starts.
  const script = [0.9, 0.9, 0, 0.99];
  const scripted = Float32Array.from(base);
  dropHandFrames(scripted, dims, parts, () => script.shift() ?? 0.9, 0.25, 4);
  assert.deepEqual(Array.from({ length: frames }, (_, t) => scripted[t * dims + handMask(0)]), Array.from({ length: frames }, (_, t) => (t >= 2 && t < 6 ? 0 : 1)));
  assert.deepEqual(lostRuns(scripted, 1), []);
  // maxRun 1 is frame by frame, one draw a seen frame, as the rows were measured with: each hand's frame is lost
  // exactly when its draw falls below the rate (left hand's frames first, then the right's).
  const once = Float32Array.from(base);
  const draws = seededRandom(9);
  const expected = [0, 1].map(() => Array.from({ length: frames }, () => (draws() < 0.25 ? 0 : 1)));
  dropHandFrames(once, dims, parts, seededRandom(9), 0.25, 1);
  [0, 1].forEach((h) => assert.deepEqual(Array.from({ length: frames }, (_, t) => once[t * dims + handMask(h)]), expected[h]));
  // Frame by frame, runs are mostly single frames; with runs of up to 4 the mean run is longer.
  const meanRun = (maxRun: number) => {
    const r = seededRandom(4);
    const runs: number[] = [];
    for (let v = 0; v < 200; v++) {
      const rows = Float32Array.from(base);
      dropHandFrames(rows, dims, parts, r, 0.25, maxRun);
      runs.push(...lostRuns(rows, 0), ...lostRuns(rows, 1));
    }
    return runs.reduce((x, y) => x + y, 0) / runs.length;
  };
  const [single, long] = [meanRun(1), meanRun(4)];
  assert.ok(long > single + 0.8, `mean run ${long.toFixed(2)} with maxRun 4, ${single.toFixed(2)} frame by frame`);
});

test("hand angles read the handshape: the same when the hand turns, comes nearer or moves; a bent finger changes its own bend only", () => {
  const rng = seededRandom(5);
  // A hand of 21 points about its wrist (signer's units), seen in frame 0; frame 1 turned 0.7 rad in the picture,
  // 1.8x nearer and elsewhere; frame 2 as frame 0 with the index fingertip bent; frame 3 without the hand.
  const hand = Array.from({ length: 21 }, (_, p) => (p === 0 ? [0.3, 0.4, 0] : [0.3 + (rng() - 0.5) * 0.4, 0.4 - rng() * 0.4, (rng() - 0.5) * 0.1]));
  const turned = hand.map(([x, y, z]) => [0.9 + 1.8 * (Math.cos(0.7) * (x! - 0.3) - Math.sin(0.7) * (y! - 0.4)), -0.2 + 1.8 * (Math.sin(0.7) * (x! - 0.3) + Math.cos(0.7) * (y! - 0.4)), 1.8 * z!]);
  const bent = hand.map((point, p) => (p === 8 ? [point[0]! + 0.08, point[1]! + 0.05, point[2]!] : point));
  const frames = 4;
  const data = new Float32Array(frames * LANDMARK_DIMS);
  [hand, turned, bent].forEach((points, t) => {
    points.forEach((point, p) => data.set(point, t * LANDMARK_DIMS + LANDMARK_LAYOUT.left.offset + p * 3));
    data[t * LANDMARK_DIMS + LANDMARK_LAYOUT.mask.offset + 7] = 1; // the left hand is present
  });
  const vectors = { data, frames, dims: LANDMARK_DIMS, valid: Uint8Array.from([1, 1, 1, 0]), reference: { cx: 0, cy: 0, width: 1 }, referenceSource: 'shoulders' as const };
  const stream = landmarkStreamFrames(vectors, { handAngles: true });
  const angles = (t: number, part = STREAM_LAYOUT.leftAngles) => Array.from(stream.subarray(t * STREAM_LANDMARK_DIMS + part.offset, t * STREAM_LANDMARK_DIMS + part.offset + part.length));
  angles(0).forEach((c) => assert.ok(c >= -1 && c <= 1 && c !== 0, `cosine ${c}`));
  angles(1).forEach((c, i) => assert.ok(Math.abs(c - angles(0)[i]!) < 1e-5, `angle ${i}: ${c} turned against ${angles(0)[i]}`));
  // Index finger: angles 3..5 are its three bends; only the last (the joint before the moved tip) changes.
  const changed = angles(2).map((c, i) => Math.abs(c - angles(0)[i]!) > 1e-4);
  assert.deepEqual(changed.map((c, i) => (c ? i : -1)).filter((i) => i >= 0), [5]);
  // The right hand was never seen: zeros, as its mask says. A missed frame of a seen hand is filled from its neighbours.
  assert.deepEqual(angles(0, STREAM_LAYOUT.rightAngles), new Array(STREAM_LAYOUT.rightAngles.length).fill(0));
  angles(3).forEach((c, i) => assert.ok(Math.abs(c - angles(2)[i]!) < 1e-5));
  // Without hand angles the stream is the 147 values of models saved before them, the same values.
  const narrow = landmarkStreamFrames(vectors, { handAngles: false });
  assert.equal(narrow.length, frames * STREAM_POSITION_DIMS);
  for (let t = 0; t < frames; t++) assert.deepEqual(Array.from(narrow.subarray(t * STREAM_POSITION_DIMS, (t + 1) * STREAM_POSITION_DIMS)), Array.from(stream.subarray(t * STREAM_LANDMARK_DIMS, t * STREAM_LANDMARK_DIMS + STREAM_POSITION_DIMS)));
});

test('face contact: where the fingertips are about the nose, in shoulder widths; the same handshape at the chin and the forehead reads apart; a hand never seen is zeros', () => {
  const rng = seededRandom(17);
  const parts = { handAngles: true, faceContact: true };
  const dims = landmarkStreamDims(parts);
  assert.equal(dims, STREAM_LANDMARK_DIMS + 2 * CONTACT_PER_HAND);
  assert.equal(faceContactOffset(parts), STREAM_LANDMARK_DIMS);
  assert.equal(faceContactOffset({ handAngles: false, faceContact: true }), STREAM_POSITION_DIMS);
  // One handshape, its wrist below the chin in frame 0 and 0.5 shoulder widths higher (at the forehead) in frame 1;
  // the nose at (0.1, -0.6) in both, seen; the right hand never seen.
  const shape = Array.from({ length: 21 }, (_, p) => (p === 0 ? [0, 0, 0] : [(rng() - 0.5) * 0.3, -rng() * 0.3, (rng() - 0.5) * 0.05]));
  const frames = 2;
  const data = new Float32Array(frames * LANDMARK_DIMS);
  const nose = [0.1, -0.6];
  for (let t = 0; t < frames; t++) {
    const r = t * LANDMARK_DIMS;
    data.set(nose, r);
    data[r + LANDMARK_LAYOUT.mask.offset] = 1;
    shape.forEach(([x, y, z], p) => data.set([0.2 + x!, -0.3 - 0.5 * t + y!, z!], r + LANDMARK_LAYOUT.left.offset + p * 3));
    data[r + LANDMARK_LAYOUT.mask.offset + NORMALISED_BODY_POINTS.length] = 1;
  }
  const vectors = { data, frames, dims: LANDMARK_DIMS, valid: new Uint8Array(frames).fill(1), reference: { cx: 0, cy: 0, width: 1 }, referenceSource: 'shoulders' as const };
  const stream = landmarkStreamFrames(vectors, parts);
  assert.equal(stream.length, frames * dims);
  const contact = (t: number, h: number) => Array.from(stream.subarray(t * dims + STREAM_LANDMARK_DIMS + h * CONTACT_PER_HAND, t * dims + STREAM_LANDMARK_DIMS + (h + 1) * CONTACT_PER_HAND));
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
  for (let t = 0; t < frames; t++) {
    const tip = (p: number) => [0.2 + shape[p]![0]! - nose[0]!, -0.3 - 0.5 * t + shape[p]![1]! - nose[1]!];
    const palm = Math.hypot(shape[9]![0]!, shape[9]![1]!);
    assert.ok(near(contact(t, 0), [...tip(4), ...tip(8), ...tip(12), palm]), `frame ${t}: ${contact(t, 0)}`);
    assert.deepEqual(contact(t, 1), new Array(CONTACT_PER_HAND).fill(0));
  }
  // The angles and the shape read the same handshape in both frames; the contact tells the places apart by 0.5.
  const row = (t: number, from: number, to: number) => Array.from(stream.subarray(t * dims + from, t * dims + to));
  assert.ok(near(row(0, STREAM_LAYOUT.left.offset + 2, STREAM_LAYOUT.right.offset), row(1, STREAM_LAYOUT.left.offset + 2, STREAM_LAYOUT.right.offset)));
  assert.ok(near(row(0, STREAM_POSITION_DIMS, STREAM_LANDMARK_DIMS), row(1, STREAM_POSITION_DIMS, STREAM_LANDMARK_DIMS)));
  [1, 3, 5].forEach((k) => assert.ok(Math.abs(contact(0, 0)[k]! - contact(1, 0)[k]! - 0.5) < 1e-5));
  // The stream without face contact is the same values less the contact blocks.
  const without = landmarkStreamFrames(vectors, { handAngles: true });
  for (let t = 0; t < frames; t++) assert.deepEqual(Array.from(without.subarray(t * STREAM_LANDMARK_DIMS, (t + 1) * STREAM_LANDMARK_DIMS)), row(t, 0, STREAM_LANDMARK_DIMS));

  // A training view turns and scales the contact with the positions: the tips stay where they were about the
  // nose, the palm keeps its length against the shoulders; masks do not move.
  const rows = new Float32Array(3 * dims);
  for (let i = 0; i < rows.length; i++) rows[i] = rng() - 0.5;
  const wristLessNose = (r: Float32Array, t: number) => [r[t * dims + 10]! - r[t * dims]!, r[t * dims + 11]! - r[t * dims + 1]!];
  const shoulderWidth = (r: Float32Array, t: number) => Math.hypot(r[t * dims + 2]! - r[t * dims + 4]!, r[t * dims + 3]! - r[t * dims + 5]!);
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < 3; i++) rows.set(wristLessNose(rows, t), t * dims + STREAM_LANDMARK_DIMS + i * 2);
    rows[t * dims + STREAM_LANDMARK_DIMS + 6] = shoulderWidth(rows, t);
  }
  const moved = Float32Array.from(rows);
  augmentLandmarkRows(moved, dims, parts, seededRandom(4));
  for (let t = 0; t < 3; t++) {
    const c = Array.from(moved.subarray(t * dims + STREAM_LANDMARK_DIMS, t * dims + STREAM_LANDMARK_DIMS + 7));
    assert.ok(near(c, [...wristLessNose(moved, t), ...wristLessNose(moved, t), ...wristLessNose(moved, t), shoulderWidth(moved, t)]), `view frame ${t}`);
    assert.ok(!near(c.slice(0, 2), wristLessNose(rows, t)), 'the view turned');
    const masks = (r: Float32Array) => Array.from(r.subarray(t * dims + STREAM_LAYOUT.mask.offset, t * dims + STREAM_POSITION_DIMS));
    assert.deepEqual(masks(moved), masks(rows));
  }
  // A mirror swaps the hands' contact and negates its x; twice is the identity.
  const mirrored = Float32Array.from(rows);
  mirrorLandmarkRows(mirrored, dims, parts);
  const block = (r: Float32Array, h: number) => Array.from(r.subarray(STREAM_LANDMARK_DIMS + h * CONTACT_PER_HAND, STREAM_LANDMARK_DIMS + (h + 1) * CONTACT_PER_HAND));
  assert.ok(near(block(mirrored, 0), block(rows, 1).map((v, i) => (i < 6 && i % 2 === 0 ? -v : v))));
  assert.ok(near(block(mirrored, 1), block(rows, 0).map((v, i) => (i < 6 && i % 2 === 0 ? -v : v))));
  mirrorLandmarkRows(mirrored, dims, parts);
  assert.deepEqual(Array.from(mirrored), Array.from(rows));
});

test('rightLeads: a clip whose left wrist is held higher is mirrored, so a sign and its mirror image read the same; a wrist never seen is not raised', () => {
  const rng = seededRandom(11);
  const frames = 6;
  const B = NORMALISED_BODY_POINTS;
  // A signer (shoulder centre at the origin, shoulders 1 apart, y down) raising the left hand, whose 21 points
  // move a little, while the right arm rests; the right hand is seen in some frames.
  const signer = new Float32Array(frames * LANDMARK_DIMS);
  const body: Record<string, [number, number]> = { nose: [0, -0.6], leftShoulder: [0.5, 0], rightShoulder: [-0.5, 0], leftElbow: [0.7, 0.4], rightElbow: [-0.6, 0.7], leftWrist: [0.4, -0.3], rightWrist: [-0.6, 1.3] };
  for (let t = 0; t < frames; t++) {
    const r = t * LANDMARK_DIMS;
    B.forEach((name, k) => {
      signer[r + k * 2] = body[name]![0] + (name === 'leftWrist' ? 0.05 * t : 0);
      signer[r + k * 2 + 1] = body[name]![1];
      signer[r + LANDMARK_LAYOUT.mask.offset + k] = 1;
    });
    for (let p = 0; p < 21; p++) for (let c = 0; c < 3; c++) signer[r + LANDMARK_LAYOUT.left.offset + p * 3 + c] = (c === 0 ? 0.4 : c === 1 ? -0.3 : 0) + (p ? (rng() - 0.5) * 0.3 : 0);
    signer[r + LANDMARK_LAYOUT.mask.offset + B.length] = 1;
    if (t % 2 === 0) {
      for (let p = 0; p < 21; p++) for (let c = 0; c < 3; c++) signer[r + LANDMARK_LAYOUT.right.offset + p * 3 + c] = (c === 0 ? -0.6 : c === 1 ? 1.3 : 0) + (p ? (rng() - 0.5) * 0.3 : 0);
      signer[r + LANDMARK_LAYOUT.mask.offset + B.length + 1] = 1;
    }
  }
  // The same signer in a mirror: x negated, the signer's left and right trade places.
  const mirror = new Float32Array(signer.length);
  const pairs = new Map<number, number>([[1, 2], [2, 1], [3, 4], [4, 3], [5, 6], [6, 5]]);
  for (let t = 0; t < frames; t++) {
    const r = t * LANDMARK_DIMS;
    B.forEach((_, k) => {
      const from = pairs.get(k) ?? k;
      mirror[r + k * 2] = -signer[r + from * 2]!;
      mirror[r + k * 2 + 1] = signer[r + from * 2 + 1]!;
      mirror[r + LANDMARK_LAYOUT.mask.offset + k] = signer[r + LANDMARK_LAYOUT.mask.offset + from]!;
    });
    for (const [to, from] of [['left', 'right'], ['right', 'left']] as const) {
      for (let i = 0; i < 63; i++) mirror[r + LANDMARK_LAYOUT[to].offset + i] = (i % 3 === 0 ? -1 : 1) * signer[r + LANDMARK_LAYOUT[from].offset + i]!;
    }
    mirror[r + LANDMARK_LAYOUT.mask.offset + B.length] = signer[r + LANDMARK_LAYOUT.mask.offset + B.length + 1]!;
    mirror[r + LANDMARK_LAYOUT.mask.offset + B.length + 1] = signer[r + LANDMARK_LAYOUT.mask.offset + B.length]!;
  }
  const vectorsOf = (data: Float32Array) => ({ data, frames, dims: LANDMARK_DIMS, valid: new Uint8Array(frames).fill(1), reference: { cx: 0, cy: 0, width: 1 }, referenceSource: 'shoulders' as const });
  const asFilmed = landmarkStreamFrames(vectorsOf(signer), { handAngles: true });
  const mirrorAsFilmed = landmarkStreamFrames(vectorsOf(mirror), { handAngles: true });
  assert.equal(leftWristHigher(asFilmed, STREAM_LANDMARK_DIMS), true);
  assert.equal(leftWristHigher(mirrorAsFilmed, STREAM_LANDMARK_DIMS), false);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(maxDiff(asFilmed, mirrorAsFilmed) > 0.5, 'as filmed, the two differ');
  const led = landmarkStreamFrames(vectorsOf(signer), { handAngles: true, rightLeads: true });
  const mirrorLed = landmarkStreamFrames(vectorsOf(mirror), { handAngles: true, rightLeads: true });
  assert.ok(maxDiff(led, mirrorLed) < 1e-5, `with rightLeads they read the same (max difference ${maxDiff(led, mirrorLed)})`);
  // With face contact too: the mirror carries each hand's contact with it.
  const withContact = { handAngles: true, faceContact: true, rightLeads: true };
  const ledContact = landmarkStreamFrames(vectorsOf(signer), withContact);
  const mirrorLedContact = landmarkStreamFrames(vectorsOf(mirror), withContact);
  assert.ok(maxDiff(ledContact, mirrorLedContact) < 1e-5, `with face contact they read the same (max difference ${maxDiff(ledContact, mirrorLedContact)})`);
  assert.deepEqual(Array.from(mirrorLed), Array.from(mirrorAsFilmed), 'a clip already led by its right hand is left as it is');
  // The right wrist resting below the shoulders and the left never seen: gap-filled to shoulder height, the left
  // wrist must not count as raised.
  const unseen = Float32Array.from(signer);
  for (let t = 0; t < frames; t++) unseen[t * LANDMARK_DIMS + LANDMARK_LAYOUT.mask.offset + B.indexOf('leftWrist')] = 0;
  assert.equal(leftWristHigher(landmarkStreamFrames(vectorsOf(unseen), { handAngles: true }), STREAM_LANDMARK_DIMS), false);
});

/** A copy of a few glosses of wlasl-real10 (copies: the dataset refuses links leading out of it). */
function real10Subset(root: string, glosses: number, perSplit: Record<string, number>): string {
  const data = path.join(root, 'data');
  fs.mkdirSync(path.join(data, 'videos'), { recursive: true });
  const metadata = JSON.parse(fs.readFileSync(path.join(REAL10_DIR!, 'WLASL_v0.3.json'), 'utf8')) as Array<{ gloss: string; instances: Array<{ video_id: string; split: string }> }>;
  const kept = metadata.slice(0, glosses).map((g) => {
    const counts: Record<string, number> = {};
    const instances = g.instances.filter((i) => (counts[i.split] = (counts[i.split] ?? 0) + 1) <= (perSplit[i.split] ?? 0));
    for (const i of instances) fs.copyFileSync(path.join(REAL10_DIR!, 'videos', `${i.video_id}.mp4`), path.join(data, 'videos', `${i.video_id}.mp4`));
    return { ...g, instances };
  });
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), JSON.stringify(kept));
  return data;
}

test('run --features landmarks on real clips: the landmark stage feeds the LSTM, the model folder records its stream, evaluate and predict read clips the same way', { skip, timeout: 900_000 }, async () => {
  const root = makeTempDir();
  const data = real10Subset(root, 3, { train: 3, val: 1, test: 1 });
  const env = { XDG_CACHE_HOME: path.join(root, 'xdg') };
  const runDir = path.join(root, 'run');
  const small = ['--max-frames', '12', '--sample-size', '8', '--epochs', '3', '--hidden', '16', '--seed', '7', '--workers', '1'];
  const run = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', ...small], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const summary = fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /^landmarks: 15 computed, 0 reused, 0 failed, hands at \d+\.\d% of visible wrists/m);
  assert.match(summary, /^sequences: landmarks stream with hand angles, face contact, the leading hand on the right, whole clip, 8 frames spread over it; training views: spans >= 0\.5, landmarks turned\/scaled\/shifted, hands dropped from 25% of frames;/m);
  assert.doesNotMatch(summary, /^backbone:/m);
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'wlasl-model.json'), 'utf8')) as { featureDim: number; stream: { features: string }; backbone?: unknown };
  assert.deepEqual([meta.stream.features, meta.featureDim, meta.backbone], ['landmarks', landmarkStreamDims({ handAngles: true, faceContact: true }), undefined]);
  assert.ok(!fs.existsSync(path.join(runDir, 'model', 'backbone')), 'a landmark model carries no CNN');
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8')) as { test: { perVideo: { count: number }; perSequence: { count: number } } };
  assert.deepEqual([metrics.test.perVideo.count, metrics.test.perSequence.count], [3, 3 * EVAL_SPANS.length]);

  // The cached vectors are what the stage computed, in shoulder widths: shoulders 1 apart about the origin.
  const cacheDir = fs.readdirSync(path.join(root, 'xdg', 'wlasl-cnn-lstm', 'datasets')).map((d) => path.join(root, 'xdg', 'wlasl-cnn-lstm', 'datasets', d, 'landmarks'))[0]!;
  const key = fs.readdirSync(cacheDir)[0]!;
  const videoId = fs.readdirSync(path.join(data, 'videos'))[0]!.replace('.mp4', '');
  const entry = readLandmarkEntry(path.join(cacheDir, key), key, videoId);
  assert.equal(entry.frames.length, 12);
  const vectors = landmarkVectors(entry.frames, 0.3)!;
  const stream = landmarkStreamFrames(vectors, { handAngles: true });
  assert.equal(stream.length, 12 * STREAM_LANDMARK_DIMS);
  const shoulders = (t: number) => Math.hypot(vectors.data[t * LANDMARK_DIMS + 2]! - vectors.data[t * LANDMARK_DIMS + 4]!, vectors.data[t * LANDMARK_DIMS + 3]! - vectors.data[t * LANDMARK_DIMS + 5]!);
  const seen = Array.from({ length: 12 }, (_, t) => t).filter((t) => vectors.data[t * LANDMARK_DIMS + LANDMARK_LAYOUT.mask.offset + 1] && vectors.data[t * LANDMARK_DIMS + LANDMARK_LAYOUT.mask.offset + 2]);
  assert.ok(seen.length > 6);
  const median = seen.map(shoulders).sort((a, b) => a - b)[seen.length >> 1]!;
  assert.ok(Math.abs(median - 1) < 0.15, `median shoulder width ${median}`);

  const evaluated = await runCli(['evaluate', '--model', path.join(runDir, 'model'), '--data', data, '--split', 'test'], env);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /per video \(3\): top-1 /);
  const video = path.join(data, 'videos', `${videoId}.mp4`);
  const predicted = await runCli(['predict', video, '--model', path.join(runDir, 'model'), '--json'], env);
  assert.equal(predicted.code, 0, predicted.stderr);
  const p = JSON.parse(predicted.stdout) as { top: Array<{ probability: number }>; windows: number; frames: number };
  assert.deepEqual([p.top.length, p.windows, p.frames], [3, EVAL_SPANS.length, 12]);
  assert.ok(Math.abs(p.top.reduce((s, t) => s + t.probability, 0) - 1) < 1e-4);

  // A model of the stream before hand angles (and before the leading hand was mirrored, and face contact): its
  // meta has none of the settings (as saved then); it reads 147 values a frame, and predicts as the same model
  // told so explicitly.
  const oldDir = path.join(root, 'old-run');
  const old = await runCli(['run', '--data', data, '--run-dir', oldDir, '--features', 'landmarks', '--no-hand-angles', '--no-right-leads', '--no-face-contact', ...small], env);
  assert.equal(old.code, 0, old.stderr + old.stdout);
  assert.match(fs.readFileSync(path.join(oldDir, 'summary.txt'), 'utf8'), /^sequences: landmarks stream without hand angles, /m);
  const oldMetaFile = path.join(oldDir, 'model', 'wlasl-model.json');
  const oldMeta = JSON.parse(fs.readFileSync(oldMetaFile, 'utf8')) as { featureDim: number; stream: Record<string, unknown> };
  assert.deepEqual([oldMeta.featureDim, oldMeta.stream.handAngles, oldMeta.stream.rightLeads, oldMeta.stream.faceContact], [STREAM_POSITION_DIMS, false, false, false]);
  const explicit = await runCli(['predict', video, '--model', path.join(oldDir, 'model'), '--json'], env);
  delete oldMeta.stream.handAngles;
  delete oldMeta.stream.rightLeads;
  delete oldMeta.stream.faceContact;
  fs.writeFileSync(oldMetaFile, JSON.stringify(oldMeta));
  const legacy = await runCli(['predict', video, '--model', path.join(oldDir, 'model'), '--json'], env);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.deepEqual(JSON.parse(legacy.stdout).top, JSON.parse(explicit.stdout).top);
  // Resuming a run of that stream under today's default says how to resume it.
  const resumed = await runCli(['run', '--data', data, '--run-dir', oldDir, '--features', 'landmarks', '--resume', ...small], env);
  assert.notEqual(resumed.code, 0);
  assert.match(resumed.stderr, /resume it with --no-hand-angles/);
  assert.match(resumed.stderr, /resume it with --no-right-leads/);
  assert.match(resumed.stderr, /resume it with --no-face-contact/);
  // And the other way: a run with hand angles resumed without them.
  const without = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', '--no-hand-angles', '--resume', ...small], env);
  assert.notEqual(without.code, 0);
  assert.match(without.stderr, /resume it with --hand-angles/);
  assert.doesNotMatch(without.stderr, /face-contact/);
  // And without face contact: the width tells it apart from hand angles.
  const withoutContact = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', '--no-face-contact', '--resume', ...small], env);
  assert.notEqual(withoutContact.code, 0);
  assert.match(withoutContact.stderr, /the checkpoint reads landmarks with face contact: resume it with --face-contact/);
  assert.doesNotMatch(withoutContact.stderr, /hand-angles/);
  // Clips read as filmed instead of with the leading hand on the right: the same width, so the checkpoint says it.
  const asFilmed = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', '--no-right-leads', '--resume', ...small], env);
  assert.notEqual(asFilmed.code, 0);
  assert.match(asFilmed.stderr, /the checkpoint read clips with the leading hand mirrored to the right: resume it with --right-leads/);
  // Hands dropped at another rate: the same data, read otherwise in training, so the checkpoint says it.
  const otherDrop = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', '--hand-drop', '0', '--resume', ...small], env);
  assert.notEqual(otherDrop.code, 0);
  assert.match(otherDrop.stderr, /the checkpoint was trained with hands dropped from 25% of frames: resume it with --hand-drop 0\.25/);
  // Training views of other spans, or landmarks as computed: the same data, other views, so the checkpoint says it.
  const otherViews = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'landmarks', '--min-span', '0.8', '--no-augment-landmarks', '--resume', ...small], env);
  assert.notEqual(otherViews.code, 0);
  assert.match(otherViews.stderr, /the checkpoint's training views covered random spans of at least 0\.5 of each clip: resume it with --min-span 0\.5/);
  assert.match(otherViews.stderr, /the checkpoint's training views of the landmarks were turned, scaled and shifted: resume it with --augment-landmarks/);
  const savedStream = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'wlasl-model.json'), 'utf8')).stream;
  assert.deepEqual([savedStream.rightLeads, savedStream.handDrop], [true, 0.25]);
});

test('run --features hands: the backbone on hand crops placed by the landmarks feeds the LSTM; the stage resumes and follows its landmark entries; evaluate and predict read it', { skip, timeout: 900_000 }, async () => {
  const root = makeTempDir();
  const data = real10Subset(root, 3, { train: 3, val: 1, test: 1 });
  const env = { XDG_CACHE_HOME: path.join(root, 'xdg') };
  const runDir = path.join(root, 'run');
  const small = ['--max-frames', '12', '--sample-size', '8', '--epochs', '2', '--hidden', '16', '--seed', '7', '--workers', '1', '--no-velocity'];
  const run = await runCli(['run', '--data', data, '--run-dir', runDir, '--features', 'hands', ...small], env);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const summary = fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /^landmarks: 15 computed/m);
  assert.match(summary, /^hand crops: 15 computed, 0 reused, 0 failed$/m);
  assert.match(summary, /^sequences: hands stream, whole clip, 8 frames spread over it; training views: spans >= 0\.5; head /m);
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'wlasl-model.json'), 'utf8')) as { featureDim: number; stream: { features: string } };
  assert.deepEqual([meta.stream.features, meta.featureDim], ['hands', HAND_CROP_DIMS]);

  // Each frame's masks say which hands the landmarks found; a found hand has backbone features, a missing one zeros.
  const datasetDir = fs.readdirSync(path.join(root, 'xdg', 'wlasl-cnn-lstm', 'datasets')).map((d) => path.join(root, 'xdg', 'wlasl-cnn-lstm', 'datasets', d))[0]!;
  const lmRoot = path.join(datasetDir, 'landmarks');
  const key = fs.readdirSync(lmRoot)[0]!;
  const handsRoot = path.join(datasetDir, 'hand-crops');
  const handsDir = path.join(handsRoot, fs.readdirSync(handsRoot)[0]!);
  const ids = fs.readdirSync(path.join(data, 'videos')).map((f) => f.replace('.mp4', ''));
  let handsSeen = 0;
  for (const id of ids) {
    const entry = readLandmarkEntry(path.join(lmRoot, key), key, id);
    const bytes = fs.readFileSync(path.join(handsDir, `${id}.f32`));
    const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    assert.equal(v.length, entry.frames.length * HAND_CROP_DIMS);
    entry.frames.forEach((frame, t) => {
      (['left', 'right'] as const).forEach((side, k) => {
        const mask = v[t * HAND_CROP_DIMS + 2 * HAND_FEATURE_DIM + k]!;
        const features = v.subarray(t * HAND_CROP_DIMS + k * HAND_FEATURE_DIM, t * HAND_CROP_DIMS + (k + 1) * HAND_FEATURE_DIM);
        const energy = features.reduce((s, x) => s + Math.abs(x), 0);
        assert.equal(mask, frame[side] ? 1 : 0, `${id} frame ${t} ${side}`);
        assert.ok(frame[side] ? energy > 0 : energy === 0, `${id} frame ${t} ${side}: features ${energy}`);
        if (frame[side]) handsSeen++;
      });
    });
  }
  assert.ok(handsSeen > 15 * 12 * 0.5, `hands in ${handsSeen} of ${15 * 12 * 2} frame sides`);

  // Resumable: a clip whose stamp is gone (killed before it was written) is computed again, the rest reused.
  fs.rmSync(path.join(handsDir, `${ids[0]}.json`));
  const again = await runCli(['run', '--data', data, '--run-dir', runDir, '--overwrite', '--features', 'hands', ...small], env);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8'), /^hand crops: 1 computed, 14 reused, 0 failed$/m);

  const evaluated = await runCli(['evaluate', '--model', path.join(runDir, 'model'), '--data', data, '--split', 'test'], env);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /per video \(3\): top-1 /);
  const predicted = await runCli(['predict', path.join(data, 'videos', `${ids[0]}.mp4`), '--model', path.join(runDir, 'model'), '--json'], env);
  assert.equal(predicted.code, 0, predicted.stderr);
  const p = JSON.parse(predicted.stdout) as { top: Array<{ probability: number }>; windows: number; frames: number };
  assert.deepEqual([p.top.length, p.windows, p.frames], [3, EVAL_SPANS.length, 12]);
  assert.ok(Math.abs(p.top.reduce((s, t) => s + t.probability, 0) - 1) < 1e-4);
});

test('hand crops: a square around each hand, in the decoded frame\'s 0..1 coordinates; no box where a hand is missing', () => {
  // A 200x200 source crop at (100, 50); the right hand spans x 140..160, y 90..130 in source pixels (40 tall).
  const points = Array.from({ length: 21 }, (_, p) => [140 + (p % 2) * 20, 90 + (p % 3) * 20, 0]).flat();
  const frame = { body: [], left: null, right: { points, score: 1, source: 'wrist' as const } };
  const boxes = handCropBoxes({ geometry: { size: 448, crop: { x: 100, y: 50, width: 200, height: 200 } }, frames: [frame, { ...frame, right: null }] }, 1.5);
  assert.equal(boxes.length, 2);
  assert.equal(boxes[0]![0], null, 'no left hand, no box');
  // Centre (150, 110) in source pixels; side 1.5 x 40 = 60: x 120..180, y 80..140 -> (x - 100) / 200, (y - 50) / 200.
  const [y1, x1, y2, x2] = boxes[0]![1]!;
  for (const [got, want] of [[y1, 0.15], [x1, 0.1], [y2, 0.45], [x2, 0.4]] as const) assert.ok(Math.abs(got - want) < 1e-9, `${got} vs ${want}`);
  assert.deepEqual(boxes[1], [null, null]);
});
