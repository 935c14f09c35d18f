import { recognizeFrames } from '../../src/model/recognize';
import { recognizeLandmarkClip } from '../../src/pipeline/recognize_clip';
import type { RankedGloss } from '../../src/model/head_input';
import type { FrameLandmarks } from '../../src/landmarks/types';
import { DEFAULT_LANDMARK_PARAMS } from '../../src/landmarks/params';
import { framePoints, KEYPOINT_COLORS } from '../../src/landmarks/points';
import { frameSigner, signerCrop, type FramingDecision } from '../../src/landmarks/framing';
import type { CropRect } from '../../src/video/types';
import { openCamera, openVideoFile, PageError, recordCamera, type ClipReading, type FramePlan, type WindowFrames } from './frames';
import { loadPageModel, pickBackend, warmUp, type PageModel } from './model';

/**
 * The page: load the served model directory, then recognise a sign from a chosen (or dropped) file or a webcam
 * recording (a 3-2-1 countdown, a few seconds, "Record again"). A landmark model's keypoints are drawn over the
 * frames it read. `window.wlasl` exposes the state to the end-to-end tests (test/web_page.test.ts,
 * test/web_landmarks.test.ts) and to curious users.
 */
interface PageRecognition {
  probabilities: Float32Array;
  top: RankedGloss[];
  /** Windows (CNN) or evaluation views (landmarks) averaged. */
  windows: number;
}

interface PageResult {
  source: string;
  recognition: PageRecognition;
  frames: WindowFrames;
  /** A landmark model's landmarks of each frame read (source pixels), and how many frames had a hand. */
  landmarks?: { frames: FrameLandmarks[]; framesWithHand: number; visibleWrists: number; handsAtVisibleWrists: number };
  /** A landmark model: the signer's box found in a first reading (of a file or a recording), and whether the clip was read again cut to it (as `predict`). */
  framing?: FramingDecision;
  /** Milliseconds: frame extraction, backbone (or landmark models), head, and from the user's action to the shown result. */
  timings: { framesMs: number; backboneMs: number; headMs: number; totalMs: number };
}

interface PageState {
  /** 'loading' | 'ready' | 'working' | 'done' | 'error' */
  state: string;
  backend?: string;
  loadMs?: number;
  error?: { kind: string; message: string };
  result?: PageResult;
  /** RGB frames of the last result, base64 (for comparing with Node's preprocessing). */
  lastFramesBase64(): string | null;
  /** The last result without its pixels, as plain JSON (probabilities as an array). */
  resultSummary(): unknown;
  /** What the model reads: 'windows' (CNN) or 'landmarks'. */
  modelKind?: string;
  /** Countdown numbers shown before the last recording (3, 2, 1). */
  countdownShown: number[];
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $('status');
const messageEl = $('message');
const fileInput = $<HTMLInputElement>('file');
const recordButton = $<HTMLButtonElement>('record');
const retryButton = $<HTMLButtonElement>('retry');
const video = $<HTMLVideoElement>('video');
const overlay = $<HTMLCanvasElement>('overlay');
const countdownEl = $('countdown');
const dropZone = $('drop');

const page: PageState = {
  state: 'loading',
  countdownShown: [],
  lastFramesBase64() {
    const frames = page.result?.frames.frames;
    if (!frames) return null;
    let text = '';
    for (let i = 0; i < frames.length; i += 0x8000) text += String.fromCharCode(...frames.subarray(i, i + 0x8000));
    return btoa(text);
  },
  resultSummary() {
    const r = page.result;
    if (!r) return null;
    const { frames: _pixels, ...frames } = r.frames;
    const landmarks = r.landmarks ? { ...r.landmarks, frames: r.landmarks.frames.length } : undefined;
    return { ...r, frames, landmarks, recognition: { ...r.recognition, probabilities: Array.from(r.recognition.probabilities) } };
  },
};
(window as unknown as { wlasl: PageState }).wlasl = page;

function setStatus(state: string, text: string): void {
  page.state = state;
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function showError(error: unknown): void {
  const kind = error instanceof PageError ? error.kind : 'failed';
  const message = error instanceof Error ? error.message : String(error);
  page.error = { kind, message };
  messageEl.dataset.kind = kind;
  messageEl.textContent = message;
}

function clearError(): void {
  page.error = undefined;
  messageEl.dataset.kind = '';
  messageEl.textContent = '';
}

/** A frame of the result (RGB, size x size) on a canvas, with its keypoints when the model read landmarks. */
function drawFrame(ctx: CanvasRenderingContext2D, result: PageResult, i: number): void {
  const f = result.frames;
  const bytes = f.size * f.size * 3;
  const image = new ImageData(f.size, f.size);
  const rgb = f.frames.subarray(i * bytes, (i + 1) * bytes);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    image.data[p] = rgb[q]!;
    image.data[p + 1] = rgb[q + 1]!;
    image.data[p + 2] = rgb[q + 2]!;
    image.data[p + 3] = 255;
  }
  const scratch = document.createElement('canvas');
  scratch.width = scratch.height = f.size;
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  const { width, height } = ctx.canvas;
  ctx.drawImage(scratch, 0, 0, width, height);
  const frame = result.landmarks?.frames[i];
  if (!frame) return;
  // Landmarks are in source pixels; the frames show f.crop of the source picture stretched to the canvas.
  const points = framePoints(frame, DEFAULT_LANDMARK_PARAMS.minBodyScore, (x, y) => ({ x: ((x - f.crop.x) * width) / f.crop.width, y: ((y - f.crop.y) * height) / f.crop.height }));
  const radius = Math.max(1.5, width / 110);
  for (const p of points) {
    ctx.fillStyle = KEYPOINT_COLORS[p.part];
    ctx.beginPath();
    ctx.arc(p.x, p.y, radius, 0, 2 * Math.PI);
    ctx.fill();
  }
}

let replayTimer: ReturnType<typeof setInterval> | undefined;

/** Replays the frames a landmark model read, keypoints drawn, over the video box (at about 8 frames a second). */
function replayOverVideo(result: PageResult): void {
  clearInterval(replayTimer);
  const ctx = overlay.getContext('2d')!;
  if (!result.landmarks) {
    overlay.hidden = true;
    return;
  }
  overlay.hidden = false;
  overlay.width = 320;
  overlay.height = Math.round((320 * result.frames.crop.height) / Math.max(1, result.frames.crop.width)) || 240;
  let i = 0;
  const step = () => {
    drawFrame(ctx, result, i);
    i = (i + 1) % result.frames.count;
  };
  step();
  replayTimer = setInterval(step, 125);
}

function showResult(result: PageResult): void {
  const body = $('results').querySelector('tbody')!;
  body.replaceChildren(
    ...result.recognition.top.map((g) => {
      const row = document.createElement('tr');
      row.dataset.gloss = g.gloss;
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = `${Math.max(1, Math.round(g.probability * 200))}px`;
      const cells = [g.gloss, `${(g.probability * 100).toFixed(1)}%`];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = 'p';
        row.append(td);
      });
      const barCell = document.createElement('td');
      barCell.append(bar);
      row.append(barCell);
      return row;
    }),
  );
  const t = result.timings;
  const f = result.frames;
  const lm = result.landmarks;
  $('timings').textContent =
    `${result.recognition.windows} ${lm ? 'view' : 'window'}(s) averaged · frames ${t.framesMs.toFixed(0)} ms, ${lm ? 'landmark models' : 'backbone'} ${t.backboneMs.toFixed(0)} ms, ` +
    `head ${t.headMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`;
  const hands = lm ? `; a hand in ${lm.framesWithHand} of ${f.count} frames (${lm.handsAtVisibleWrists} of ${lm.visibleWrists} visible wrists)` : '';
  const framing = result.framing?.applied ? `; signer found at ${result.framing.bbox.join(',')} (${(100 * result.framing.share).toFixed(0)}% of the picture), read cut to it` : '';
  $('frames-caption').textContent =
    `${f.count} frames, source frames ${f.selection.indices[0]}..${f.selection.indices[f.selection.indices.length - 1]}` +
    `${f.selection.padded ? `, last ${f.selection.padded} repeated (short clip)` : ''}; ${f.fps.toFixed(2)} fps (${f.timingSource}), ${f.frameCount} frames in the clip${hands}${framing}`;
  const strip = $('frames');
  strip.replaceChildren(
    ...f.selection.indices.map((index, i) => {
      const canvas = document.createElement('canvas');
      canvas.width = f.size;
      canvas.height = f.size;
      canvas.title = `source frame ${index}`;
      drawFrame(canvas.getContext('2d')!, result, i);
      return canvas;
    }),
  );
  replayOverVideo(result);
}

function setBusy(busy: boolean): void {
  fileInput.disabled = recordButton.disabled = retryButton.disabled = busy;
  dropZone.dataset.busy = busy ? 'true' : 'false';
}

/**
 * Opens a clip (`open`: a file, or a webcam recording) and recognises it; `frame`: a landmark model (trained on
 * clips cut to the signer) finds the signer in a first reading of the whole picture and reads the clip again cut
 * to the signer's square, as `predict` does (src/landmarks/framing.ts): a wide picture read whole squashes the
 * hands (a 16:9 signer's to 0.56 of their width).
 */
async function run(model: PageModel, source: string, open: () => Promise<ClipReading>, frame = false): Promise<void> {
  clearError();
  setBusy(true);
  const started = performance.now();
  let reading: ClipReading | undefined;
  try {
    setStatus('working', `Reading frames of ${source}…`);
    reading = await open();
    let frames = await reading.read();
    let framesMs = performance.now() - started;
    setStatus('working', `Recognising ${source} (${frames.count} frames)…`);
    let result: PageResult;
    if (model.kind === 'landmarks') {
      const read = (f: WindowFrames) => recognizeLandmarkClip(model.recognizer, f.frames, f.count, { size: f.size, crop: f.crop }, 5);
      let r = await read(frames);
      let backboneMs = r.timings.landmarksMs;
      let headMs = r.timings.headMs;
      // As predict: only a model trained on clips cut to their box (frames.cropToBbox) is read cut.
      const framing = frame && model.info.frames.cropToBbox ? frameSigner(r.frames, frames.width, frames.height, DEFAULT_LANDMARK_PARAMS.minBodyScore) : undefined;
      if (framing?.applied) {
        setStatus('working', `Reading ${source} again, cut to the signer…`);
        const t0 = performance.now();
        frames = await reading.read(signerCrop(framing.bbox, frames.width, frames.height));
        framesMs += performance.now() - t0;
        r = await read(frames);
        backboneMs += r.timings.landmarksMs;
        headMs += r.timings.headMs;
      }
      result = {
        source,
        recognition: { probabilities: r.probabilities, top: r.top, windows: r.windows },
        frames,
        landmarks: { frames: r.frames, framesWithHand: r.stats.framesWithHand, visibleWrists: r.stats.visibleWrists, handsAtVisibleWrists: r.stats.handsAtVisibleWrists },
        framing,
        timings: { framesMs, backboneMs, headMs, totalMs: performance.now() - started },
      };
    } else {
      const r = await recognizeFrames(model.recognizer, frames.frames, frames.count, 5);
      result = { source, recognition: r, frames, timings: { framesMs, ...r.timings, totalMs: performance.now() - started } };
    }
    page.result = result;
    showResult(result);
    setStatus('done', `${source}: ${result.recognition.top[0]!.gloss} (${(result.recognition.top[0]!.probability * 100).toFixed(1)}%)`);
  } catch (error) {
    showError(error);
    setStatus('ready', 'Ready: choose another video or record one.');
  } finally {
    reading?.close();
    setBusy(false);
  }
}

/** What the model reads of a clip, for a file or a recording. */
function framePlan(model: PageModel): FramePlan {
  return model.kind === 'landmarks' ? { kind: 'clip', maxFrames: model.info.frames.window.maxFrames } : { kind: 'window', window: model.info.frames.window };
}

function frameSize(model: PageModel): number {
  return model.kind === 'landmarks' ? DEFAULT_LANDMARK_PARAMS.size : model.info.frames.size;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Camera on, a countdown over the live picture, a recording, then the recogniser; the camera is off again after. */
async function recordClip(model: PageModel, options: { countdown: number; seconds: number; frame: boolean }): Promise<void> {
  let stream: MediaStream | undefined;
  clearError();
  clearInterval(replayTimer);
  overlay.hidden = true;
  setBusy(true);
  try {
    stream = await openCamera(video);
  } catch (error) {
    showError(error);
    setBusy(false);
    return;
  }
  const recordStatus = $('record-status');
  try {
    page.countdownShown = [];
    setStatus('working', 'Get ready to sign…');
    for (let n = options.countdown; n >= 1; n--) {
      page.countdownShown.push(n);
      countdownEl.textContent = String(n);
      countdownEl.hidden = false;
      await sleep(1000);
    }
    countdownEl.hidden = true;
    const plan = framePlan(model);
    // Recorded once; a landmark model reads it whole, then again cut to the signer (as a file).
    await run(
      model,
      'webcam clip',
      () =>
        recordCamera(video, plan, frameSize(model), options.seconds, (done) => {
          recordStatus.textContent = `recording ${Math.round(done * 100)}%`;
        }),
      options.frame,
    );
    retryButton.hidden = false;
  } finally {
    countdownEl.hidden = true;
    recordStatus.textContent = '';
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
    setBusy(false);
  }
}

function modelText(model: PageModel, note: string, loadMs: number): string {
  const info = model.info;
  const reads =
    model.kind === 'landmarks'
      ? `body and hand landmarks (MoveNet, MediaPipe hand landmarks) of up to ${info.frames.window.maxFrames} frames over the whole clip, ${info.sequence.sampleSize} read per view`
      : `frames ${info.frames.window.start}..${info.frames.window.end} at ${info.frames.size}px · windows of ${info.sequence.sampleSize} (stride ${info.sequence.stride}) · MobileNetV2 ${info.backbone.alpha ?? '?'} (${info.backbone.weightsId})`;
  return `${info.classes.length} glosses · ${reads} · ${note} · loaded in ${loadMs.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const started = performance.now();
  // ?countdown=0 and ?seconds=N are for tests and for signers who want more (or less) time.
  const countdown = Math.max(0, Math.min(10, Number(params.get('countdown') ?? 3) || 0));
  const seconds = Math.max(0.5, Math.min(10, Number(params.get('seconds') ?? 3) || 3));
  try {
    const { backend, note } = await pickBackend(params.get('backend'));
    page.backend = backend;
    setStatus('loading', `Loading the model (TensorFlow.js on ${backend})…`);
    const model = await loadPageModel(params.get('model') ?? 'model/');
    await warmUp(model);
    page.loadMs = performance.now() - started;
    page.modelKind = model.kind;
    $('model-info').textContent = modelText(model, note, page.loadMs);
    if (model.kind === 'landmarks') recordButton.textContent = `Record ${seconds} s from the webcam`;
    setBusy(false);
    setStatus('ready', 'Ready: choose or drop a video file, or record one from the webcam.');
    // ?frame=0 reads the whole picture, as `predict --no-auto-frame`.
    const frame = params.get('frame') !== '0';
    const runFile = (file: File) => void run(model, file.name, () => openVideoFile(file, framePlan(model), frameSize(model), video), frame);
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      if (file) runFile(file);
    });
    dropZone.addEventListener('dragover', (event) => {
      event.preventDefault();
      dropZone.dataset.over = 'true';
    });
    dropZone.addEventListener('dragleave', () => (dropZone.dataset.over = 'false'));
    dropZone.addEventListener('drop', (event) => {
      event.preventDefault();
      dropZone.dataset.over = 'false';
      const file = event.dataTransfer?.files[0];
      if (file && dropZone.dataset.busy !== 'true') runFile(file);
    });
    const record = () => void recordClip(model, { countdown, seconds, frame });
    recordButton.addEventListener('click', record);
    retryButton.addEventListener('click', record);
  } catch (error) {
    showError(error);
    setStatus('error', error instanceof PageError && error.kind === 'no-model' ? 'No model loaded.' : 'The page could not start.');
  }
}

void main();
