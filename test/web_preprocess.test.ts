import { test } from 'node:test';
import { STREAM_LANDMARK_DIMS, STREAM_POSITION_DIMS } from '../src/streams/landmark_features';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { windowStarts } from '../src/dataset/sequences';
import { DEFAULT_CONFIG } from '../src/config';
import { ModelDirError } from '../src/errors';
import { averageWindows, buildHeadInput, selectClipFrames, selectWindowFrames, topK } from '../src/model/head_input';
import { checkLandmarkRecognizer, recognizeLandmarkClip } from '../src/pipeline/recognize_clip';
import { READY_MODEL_DIR } from '../src/model/model_dir';
import { directoryLoader } from '../src/backbone/model_dir';
import { loadLandmarkModels } from '../src/landmarks/human';
import { landmarkFrames } from '../src/landmarks/stage';
import { DEFAULT_LANDMARK_PARAMS } from '../src/landmarks/params';
import { predictClipVideo } from '../src/pipeline/predict_clip';
import { parseModelInfo } from '../src/model/model_info';
import { prepareFeatures } from '../src/model/preprocess';
import { initBackend } from '../src/runtime/backend';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { extractFrames } from '../src/video/extract';
import { probeVideo } from '../src/video/probe';
import { readTrackTiming } from '../web/src/mp4_info';
import { makeTempDir, REAL10_DIR } from './helpers';
import { nodeFramesConfig } from './web_fixture';

/** The shared, platform-free pieces the browser page runs, checked against the Node implementations. */

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

test('buildHeadInput equals the training-side prepareFeatures (standardise + velocity) on every window', async () => {
  await initBackend();
  const frames = 31;
  const dim = 12;
  const features = seeded(frames * dim, 7);
  const stats = { mean: Array.from(seeded(dim, 8)), std: Array.from(seeded(dim, 9), (v) => 0.5 + Math.abs(v)) };
  for (const velocity of [false, true]) {
    for (const [sampleSize, stride] of [[5, 5], [8, 3]] as const) {
      const built = buildHeadInput(features, frames, dim, { sampleSize, stride, stats, velocity });
      const starts = windowStarts(frames, sampleSize, stride);
      assert.deepEqual(built.starts, starts);
      const windows = tf.tidy(() => tf.stack(starts.map((s) => tf.tensor2d(features, [frames, dim]).slice([s, 0], [sampleSize, dim]))) as tf.Tensor3D);
      const expected = prepareFeatures(windows, { stats, velocity });
      const want = expected.dataSync();
      tf.dispose([windows, expected]);
      assert.equal(built.input.length, want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(built.input[i]! - want[i]!));
      assert.ok(worst < 1e-5, `velocity=${velocity} ${sampleSize}/${stride}: differs by ${worst}`);
    }
  }
  assert.throws(() => buildHeadInput(features, frames, dim, { sampleSize: 40, stride: 40, stats: null, velocity: false }), ModelDirError);
});

test('selectWindowFrames pads a short clip exactly as extractFrames does, and refuses one with no frame in the window', async () => {
  const tmp = makeTempDir();
  const clip = path.join(tmp, 'twenty.mp4');
  execFileSync(ffmpegBinaries().ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-frames:v', '20', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);
  const info = { frames: { window: { start: 5, end: 35 }, size: 32, cropToBbox: false } };
  const node = await extractFrames({ videoId: 'twenty', path: clip, bbox: null }, nodeFramesConfig(info));
  const selection = selectWindowFrames(info.frames.window, (await probeVideo(clip)).frameCount);
  assert.deepEqual(selection.indices, node.sourceFrames);
  assert.equal(selection.padded, node.padded);
  assert.equal(selection.padded, 16);
  assert.throws(() => selectWindowFrames({ start: 5, end: 35 }, 5, 'x.mp4'), /x\.mp4: clip too short: it has 5 frame/);
});

test('readTrackTiming reads frame rate and count from MP4 boxes as ffprobe does', async () => {
  const tmp = makeTempDir();
  const files: string[] = [];
  for (const [rate, frames] of [['25', 63], ['30000/1001', 40]] as const) {
    const file = path.join(tmp, `clip_${frames}.mp4`);
    execFileSync(ffmpegBinaries().ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=${rate}`, '-frames:v', String(frames), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
    files.push(file);
  }
  if (REAL10_DIR) files.push(...fs.readdirSync(path.join(REAL10_DIR, 'videos')).slice(0, 3).map((n) => path.join(REAL10_DIR!, 'videos', n)));
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    const timing = readTrackTiming(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const probe = await probeVideo(file);
    assert.ok(timing, `${file}: no timing`);
    assert.equal(timing.frameCount, probe.frameCount, `${file}: frame count`);
    assert.ok(Math.abs(timing.fps - probe.fps) < 0.01, `${file}: fps ${timing.fps} vs ffprobe ${probe.fps}`);
  }
  assert.equal(readTrackTiming(new Uint8Array(64).buffer), null);
  assert.equal(readTrackTiming(new TextEncoder().encode('not an mp4 at all').buffer), null);
});

test('averageWindows and topK', () => {
  const probs = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.3, 0.6]);
  const mean = averageWindows(probs, 2, 3);
  assert.deepEqual(Array.from(mean, (v) => +v.toFixed(5)), [0.4, 0.25, 0.35]);
  assert.deepEqual(topK(mean, ['a', 'b', 'c'], 2).map((g) => g.gloss), ['a', 'c']);
  assert.throws(() => averageWindows(probs, 4, 3), ModelDirError);
});

test('parseModelInfo reads saveModelDir\'s description, fills defaults for older folders, and names the file on errors', () => {
  const saved = {
    format: 'wlasl-model',
    version: 1,
    classes: ['a', 'b'],
    featureDim: 2,
    head: { hidden: 16, layers: 1, dropout: 0, standardize: true, velocity: true },
    featureStats: { mean: [0, 1], std: [1, 2] },
    frames: { window: { start: 3, end: 40, useMetadataRange: false, shortVideoPolicy: 'pad' }, size: 224, cropToBbox: true, output: 'raw', jpegQuality: 92, concurrency: 0 },
    sequence: { sampleSize: 5, stride: 2 },
    backbone: { alpha: 0.35, weightsId: 'x', normalization: 'minus1to1', dir: 'backbone' },
  };
  const info = parseModelInfo(saved);
  assert.equal(info.featureStats, null, 'saveModelDir folds the statistics into the head: they must not be applied twice');
  assert.deepEqual(info.sequence, { sampleSize: 5, stride: 2 });
  // A folder without maxFrames or a stream was written by the windows-only code: 64 frames, CNN windows.
  assert.deepEqual(info.frames.window, { start: 3, end: 40, maxFrames: 64 });
  assert.deepEqual(info.stream, { features: 'cnn', wholeClip: false, evalViews: 'whole', handAngles: false, rightLeads: false, faceContact: false });
  // A landmark model saved before hand angles reads the stream without them; one saved since says so.
  const landmarkStream = { features: 'landmarks', wholeClip: true, minSpan: 0.5, augmentLandmarks: true, evalViews: 'spans' };
  const landmarkModel = { ...saved, featureStats: null, featureDim: STREAM_POSITION_DIMS, stream: landmarkStream };
  assert.equal(parseModelInfo(landmarkModel).stream.handAngles, false);
  assert.equal(parseModelInfo({ ...landmarkModel, featureDim: STREAM_LANDMARK_DIMS, stream: { ...landmarkStream, handAngles: true } }).stream.handAngles, true);
  assert.throws(() => parseModelInfo({ ...landmarkModel, stream: { ...landmarkStream, handAngles: 'yes' } }), /handAngles/);
  // Likewise a model saved before the leading hand was mirrored reads clips as filmed.
  assert.equal(parseModelInfo(landmarkModel).stream.rightLeads, false);
  assert.equal(parseModelInfo({ ...landmarkModel, stream: { ...landmarkStream, rightLeads: true } }).stream.rightLeads, true);
  assert.throws(() => parseModelInfo({ ...landmarkModel, stream: { ...landmarkStream, rightLeads: 1 } }), /rightLeads/);
  // A description whose width contradicts its stream is refused when read, naming the file and the setting.
  assert.throws(() => parseModelInfo({ ...landmarkModel, stream: { ...landmarkStream, handAngles: true } }), /wlasl-model\.json: not a valid model description: featureDim 147: the landmark stream with hand angles \(stream\.handAngles true\) and without face contact \(stream\.faceContact false or absent\) has 185 values a frame/);
  assert.throws(() => parseModelInfo({ ...landmarkModel, featureDim: STREAM_LANDMARK_DIMS }), /featureDim 185: the landmark stream without hand angles/);
  // Face contact: absent is without it (models saved before it); its 14 values a frame are checked likewise.
  assert.equal(parseModelInfo(landmarkModel).stream.faceContact, false);
  const contactModel = { ...landmarkModel, featureDim: STREAM_LANDMARK_DIMS + 14, stream: { ...landmarkStream, handAngles: true, faceContact: true } };
  assert.equal(parseModelInfo(contactModel).stream.faceContact, true);
  assert.throws(() => parseModelInfo({ ...contactModel, featureDim: STREAM_LANDMARK_DIMS }), /featureDim 185: the landmark stream with hand angles \(stream\.handAngles true\) and with face contact \(stream\.faceContact true\) has 199 values a frame/);
  assert.throws(() => parseModelInfo({ ...contactModel, stream: { ...contactModel.stream, faceContact: 'no' } }), /faceContact/);
  assert.equal(info.velocity, true);
  // A folder written before `sequence` and `frames` were always stored: the sequence length under its old name,
  // frames from the defaults in src/config.ts.
  const { sequence: _sequence, frames: _frames, ...older } = saved;
  const olderInfo = parseModelInfo({ ...older, sequenceLength: 8 });
  assert.deepEqual(olderInfo.sequence, { sampleSize: 8, stride: 8 });
  assert.deepEqual(olderInfo.frames.window, { start: DEFAULT_CONFIG.frames.window.start, end: DEFAULT_CONFIG.frames.window.end, maxFrames: 64 });
  assert.throws(() => parseModelInfo(older, 'm/wlasl-model.json'), /m\/wlasl-model\.json: .*sequence: missing/);
  assert.throws(() => parseModelInfo({ ...saved, backbone: { ...saved.backbone, dir: '../elsewhere' } }, 'm/wlasl-model.json'), /m\/wlasl-model\.json: .*backbone\.dir/);
  assert.throws(() => parseModelInfo({ ...saved, classes: [] }, 'm/wlasl-model.json'), /m\/wlasl-model\.json: not a valid model description: classes/);
  assert.throws(() => parseModelInfo({ ...saved, featureStats: { mean: [0], std: [1] } }, 'm/wlasl-model.json'), /featureStats: 1 means and 1 stds for 2 features/);
  // The flat description an early fixture wrote is not a model folder this code ever saved.
  assert.throws(() => parseModelInfo({ classes: ['a'], sequence: { sampleSize: 5, stride: 5 } }, 'm/wlasl-model.json'), /format/);
});

test('the page\'s landmark path (recognize_clip.ts) gives predict\'s probabilities on the same frames, and selects the frames the frame stage selects', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10', timeout: 300_000 }, async () => {
  await initBackend();
  const video = path.join(REAL10_DIR!, 'videos', '09966.mp4'); // a train-split clip
  const info = parseModelInfo(JSON.parse(fs.readFileSync(path.join(READY_MODEL_DIR, 'wlasl-model.json'), 'utf8')));
  const head = await tf.loadLayersModel(directoryLoader(READY_MODEL_DIR));
  const recognizer = { head, info, landmarks: await loadLandmarkModels() };
  checkLandmarkRecognizer(recognizer);
  const job = { videoId: 'clip', path: video, bbox: null, frameStart: 1, frameEnd: -1 };
  const frames = await landmarkFrames(job, DEFAULT_CONFIG.frames, DEFAULT_LANDMARK_PARAMS);
  // The page selects a whole clip's frames with selectClipFrames; Node's frame stage with selectFrames.
  const { frameCount } = await probeVideo(video);
  assert.deepEqual(selectClipFrames(frameCount, info.frames.window.maxFrames).indices, frames.details.sourceFrames);
  const page = await recognizeLandmarkClip(recognizer, frames.frames, frames.count, frames.geometry);
  // The whole frame, as the page reads it (predict would find the signer first and cut the clip to it).
  const node = await predictClipVideo(READY_MODEL_DIR, video, { top: 100, autoFrame: false });
  const nodeProbs = new Map(node.top.map((g) => [g.gloss, g.probability]));
  let worst = 0;
  info.classes.forEach((gloss, i) => (worst = Math.max(worst, Math.abs(page.probabilities[i]! - (nodeProbs.get(gloss) ?? NaN)))));
  assert.ok(worst < 1e-4, `probabilities differ by up to ${worst}`);
  assert.equal(page.windows, node.windows);
  head.dispose();
});
