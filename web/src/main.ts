import type { Recognition, Recognizer } from '../../src/model/recognize';
import { recognizeFrames } from '../../src/model/recognize';
import { framesFromCamera, framesFromFile, openCamera, PageError, type WindowFrames } from './frames';
import { loadRecognizer, pickBackend, warmUp } from './model';

/**
 * The page: load the served model directory, then recognise a sign from a chosen file or a webcam clip.
 * `window.wlasl` exposes the state to the end-to-end test (test/web_page.test.ts) and to curious users.
 */
interface PageResult {
  source: string;
  recognition: Recognition;
  frames: WindowFrames;
  /** Milliseconds: frame extraction, backbone, head, and from the user's action to the shown result. */
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
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $('status');
const messageEl = $('message');
const fileInput = $<HTMLInputElement>('file');
const recordButton = $<HTMLButtonElement>('record');
const video = $<HTMLVideoElement>('video');

const page: PageState = {
  state: 'loading',
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
    return { ...r, frames, recognition: { ...r.recognition, probabilities: Array.from(r.recognition.probabilities) } };
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
  $('timings').textContent =
    `${result.recognition.windows} window(s) averaged · frames ${t.framesMs.toFixed(0)} ms, backbone ${t.backboneMs.toFixed(0)} ms, ` +
    `head ${t.headMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`;
  $('frames-caption').textContent =
    `${f.count} frames, source frames ${f.selection.indices[0]}..${f.selection.indices[f.selection.indices.length - 1]}` +
    `${f.selection.padded ? `, last ${f.selection.padded} repeated (short clip)` : ''}; ${f.fps.toFixed(2)} fps (${f.timingSource}), ${f.frameCount} frames in the clip`;
  const strip = $('frames');
  const bytes = f.size * f.size * 3;
  strip.replaceChildren(
    ...f.selection.indices.map((index, i) => {
      const canvas = document.createElement('canvas');
      canvas.width = f.size;
      canvas.height = f.size;
      canvas.title = `source frame ${index}`;
      const image = new ImageData(f.size, f.size);
      const rgb = f.frames.subarray(i * bytes, (i + 1) * bytes);
      for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
        image.data[p] = rgb[q]!;
        image.data[p + 1] = rgb[q + 1]!;
        image.data[p + 2] = rgb[q + 2]!;
        image.data[p + 3] = 255;
      }
      canvas.getContext('2d')!.putImageData(image, 0, 0);
      return canvas;
    }),
  );
}

async function run(recognizer: Recognizer, source: string, getFrames: () => Promise<WindowFrames>): Promise<void> {
  clearError();
  fileInput.disabled = recordButton.disabled = true;
  const started = performance.now();
  try {
    setStatus('working', `Reading frames of ${source}…`);
    const frames = await getFrames();
    const framesMs = performance.now() - started;
    setStatus('working', `Recognising ${source} (${frames.count} frames)…`);
    const recognition = await recognizeFrames(recognizer, frames.frames, frames.count, 5);
    const result: PageResult = {
      source,
      recognition,
      frames,
      timings: { framesMs, ...recognition.timings, totalMs: performance.now() - started },
    };
    page.result = result;
    showResult(result);
    setStatus('done', `${source}: ${recognition.top[0]!.gloss} (${(recognition.top[0]!.probability * 100).toFixed(1)}%)`);
  } catch (error) {
    showError(error);
    setStatus('ready', 'Ready: choose another video or record one.');
  } finally {
    fileInput.disabled = recordButton.disabled = false;
  }
}

async function recordClip(recognizer: Recognizer): Promise<void> {
  const window = recognizer.info.frames.window;
  let stream: MediaStream | undefined;
  try {
    clearError();
    stream = await openCamera(video);
  } catch (error) {
    showError(error);
    return;
  }
  const recordStatus = $('record-status');
  try {
    await run(recognizer, 'webcam clip', () =>
      framesFromCamera(video, window, recognizer.info.frames.size, (n, total) => {
        recordStatus.textContent = `recording ${n}/${total}`;
      }),
    );
  } finally {
    recordStatus.textContent = '';
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const started = performance.now();
  try {
    const { backend, note } = await pickBackend(params.get('backend'));
    page.backend = backend;
    setStatus('loading', `Loading the model (TensorFlow.js on ${backend})…`);
    const recognizer = await loadRecognizer(params.get('model') ?? 'model/');
    await warmUp(recognizer);
    page.loadMs = performance.now() - started;
    const info = recognizer.info;
    $('model-info').textContent =
      `${info.classes.length} glosses · frames ${info.frames.window.start}..${info.frames.window.end} at ${info.frames.size}px · ` +
      `windows of ${info.sequence.sampleSize} (stride ${info.sequence.stride}) · MobileNetV2 ${info.backbone.alpha ?? '?'} (${info.backbone.weightsId}) · ${note} · loaded in ${page.loadMs.toFixed(0)} ms`;
    fileInput.disabled = recordButton.disabled = false;
    setStatus('ready', 'Ready: choose a video file or record one from the webcam.');
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      if (file) void run(recognizer, file.name, () => framesFromFile(file, info.frames.window, info.frames.size, video));
    });
    recordButton.addEventListener('click', () => void recordClip(recognizer));
  } catch (error) {
    showError(error);
    setStatus('error', error instanceof PageError && error.kind === 'no-model' ? 'No model loaded.' : 'The page could not start.');
  }
}

void main();
