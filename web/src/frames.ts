import { frameTime, selectClipFrames, selectWindowFrames, type FrameSelection } from '../../src/model/head_input';
import type { CropRect } from '../../src/video/types';
import { readTrackTiming, type TrackTiming } from './mp4_info';

/**
 * Frames of the model's window from a video file or the webcam, as RGB uint8 [count, size, size, 3]: the
 * browser twin of src/video/extract.ts extractFrames (the whole frame, or a crop of it, stretched to size x size,
 * no aspect preservation). Decoding is the browser's; frame k is the frame shown at time (k + 0.5) / fps.
 */
export class PageError extends Error {
  constructor(readonly kind: 'no-model' | 'unsupported-file' | 'too-short' | 'no-camera' | 'failed', message: string) {
    super(message);
    this.name = 'PageError';
  }
}

/** Which frames the model reads: a fixed window (CNN-window models), or up to maxFrames spread over the whole clip. */
export type FramePlan = { kind: 'window'; window: { start: number; end: number } } | { kind: 'clip'; maxFrames: number };

export interface WindowFrames {
  frames: Uint8Array;
  count: number;
  size: number;
  /** The source picture's size. */
  width: number;
  height: number;
  /** The source pixels the frames show, stretched to size x size: all of the picture, or the signer's crop. */
  crop: CropRect;
  selection: FrameSelection;
  fps: number;
  frameCount: number;
  /** How the frame rate was found. */
  timingSource: 'mp4' | 'measured' | 'camera';
  /** Presentation time of the first frame (an MP4 edit list or B-frame delay can start it after 0). */
  firstFrameTime: number;
  /** Frames whose presented timestamp (requestVideoFrameCallback) was not the one asked for: should be empty. */
  frameMismatches: Array<{ wanted: number; shown: number }>;
}

const VIDEO_TYPES = /^video\/|^application\/mp4$/;
const VIDEO_NAMES = /\.(mp4|m4v|mov|webm|mkv|ogv)$/i;

export function checkVideoFile(file: File): void {
  if (!VIDEO_TYPES.test(file.type) && !VIDEO_NAMES.test(file.name)) {
    throw new PageError('unsupported-file', `Unsupported file: "${file.name}" (${file.type || 'unknown type'}) is not a video. Choose an .mp4 (H.264) or .webm clip.`);
  }
}

function once(target: EventTarget, ok: string, fail: string, what: string, timeoutMs = 10000): Promise<Event> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(() => reject(new PageError('failed', `Timed out waiting for the video to ${what}.`))), timeoutMs);
    const onOk = (e: Event) => done(() => resolve(e));
    const onFail = () => done(() => reject(new PageError('unsupported-file', `The browser cannot decode this video (${what} failed).`)));
    function done(then: () => void) {
      clearTimeout(timer);
      target.removeEventListener(ok, onOk);
      target.removeEventListener(fail, onFail);
      then();
    }
    target.addEventListener(ok, onOk);
    target.addEventListener(fail, onFail);
  });
}

/** Resolves when the next video frame is presented, or after `timeoutMs` (paused seeks may not composite in a hidden tab). */
function nextFrame(video: HTMLVideoElement, timeoutMs: number): Promise<VideoFrameCallbackMetadata | null> {
  if (!('requestVideoFrameCallback' in video)) return new Promise((r) => setTimeout(() => r(null), 0));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    video.requestVideoFrameCallback((_now, meta) => {
      clearTimeout(timer);
      resolve(meta);
    });
  });
}

/** Frame rate measured while playing: the smallest positive step between presented frames (dropped frames only make steps longer). */
async function measureFps(video: HTMLVideoElement): Promise<number> {
  const times: number[] = [];
  video.muted = true;
  video.currentTime = 0;
  await video.play();
  for (let i = 0; i < 12; i++) {
    const meta = await nextFrame(video, 1000);
    if (!meta) break;
    times.push(meta.mediaTime);
  }
  video.pause();
  const steps = times.slice(1).map((t, i) => t - times[i]!).filter((d) => d > 1e-4);
  if (steps.length === 0) throw new PageError('unsupported-file', 'Could not find the frame rate of this video (not an MP4, and playback gave no frames).');
  return 1 / Math.min(...steps);
}

function rgbFromCanvas(ctx: CanvasRenderingContext2D, size: number, out: Uint8Array, offset: number): void {
  const rgba = ctx.getImageData(0, 0, size, size).data;
  for (let p = 0, q = offset; p < rgba.length; p += 4, q += 3) {
    out[q] = rgba[p]!;
    out[q + 1] = rgba[p + 1]!;
    out[q + 2] = rgba[p + 2]!;
  }
}

function canvas2d(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new PageError('failed', 'This browser gives no 2D canvas.');
  // Bilinear, as ffmpeg's scale=flags=bilinear in Node.
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'low';
  return ctx;
}

const squareCanvas = (size: number): CanvasRenderingContext2D => canvas2d(size, size);

/** The plan's source frames of a clip of `frameCount` frames, or a 'too-short' message naming the file. */
function selectFor(plan: FramePlan, frameCount: number, fps: number, name: string): FrameSelection {
  try {
    return plan.kind === 'window' ? selectWindowFrames(plan.window, frameCount, name) : selectClipFrames(frameCount, plan.maxFrames, name);
  } catch {
    const needs = plan.kind === 'window' ? `the model reads frames ${plan.window.start}..${plan.window.end}, so it needs at least ${plan.window.start + 1} (ideally ${plan.window.end + 1})` : 'the model needs at least one';
    throw new PageError('too-short', `Clip too short: "${name}" has ${frameCount} frames (${(frameCount / fps).toFixed(2)} s); ${needs}.`);
  }
}

/**
 * A clip opened for reading, from a file or a webcam recording: its frames read whole, then (a landmark model's
 * framing) again cut to the signer, the same frames both times.
 */
export interface ClipReading {
  /** The plan's frames, all of the picture or `crop` of it (source pixels, as ffmpeg's crop in Node). */
  read(crop?: CropRect): Promise<WindowFrames>;
  /** Frees what the reading holds. */
  close(): void;
}

/**
 * Opens a video file for reading the plan's frames with a <video> element and a canvas: its timing is found once
 * (the MP4 boxes, else measured while playing), so every reading takes the same frames.
 */
export async function openVideoFile(file: File, plan: FramePlan, size: number, video: HTMLVideoElement): Promise<ClipReading> {
  checkVideoFile(file);
  const timing: TrackTiming | null = readTrackTiming(await file.arrayBuffer());
  const url = URL.createObjectURL(file);
  try {
    video.muted = true;
    video.playsInline = true;
    video.preload = 'auto';
    video.src = url;
    await once(video, 'loadeddata', 'error', 'load');
    let fps: number;
    let frameCount: number;
    let timingSource: WindowFrames['timingSource'];
    if (timing) {
      ({ fps, frameCount } = timing);
      timingSource = 'mp4';
    } else {
      fps = await measureFps(video);
      if (!Number.isFinite(video.duration)) throw new PageError('unsupported-file', 'This video does not say how long it is; re-encode it as MP4 (H.264).');
      frameCount = Math.round(video.duration * fps);
      timingSource = 'measured';
    }
    const selection = selectFor(plan, frameCount, fps, file.name);
    // Timestamps keep the container's offset (first frame at 0.0667 s in some WLASL clips): frame k is
    // shown at first + (k + 0.5) / fps, and the frame each seek presents is checked against k.
    const shownFirst = nextFrame(video, 500);
    video.currentTime = 0;
    await once(video, 'seeked', 'error', 'seek');
    const firstFrameTime = (await shownFirst)?.mediaTime ?? 0;
    const ctx = squareCanvas(size);
    const bytes = size * size * 3;
    return {
      async read(crop?: CropRect): Promise<WindowFrames> {
        const frameMismatches: WindowFrames['frameMismatches'] = [];
        const shows = crop ?? { x: 0, y: 0, width: video.videoWidth, height: video.videoHeight };
        const frames = new Uint8Array(selection.indices.length * bytes);
        const decoded = new Map<number, number>(); // source index -> offset already filled (padding repeats)
        for (let i = 0; i < selection.indices.length; i++) {
          const index = selection.indices[i]!;
          const seen = decoded.get(index);
          if (seen !== undefined) {
            frames.copyWithin(i * bytes, seen, seen + bytes);
            continue;
          }
          // A frame callback can report the frame composited just before the seek: seek again (at most twice)
          // until the presented timestamp is frame `index`.
          let shown = -1;
          for (let attempt = 0; attempt < 3 && shown !== index; attempt++) {
            const presented = nextFrame(video, 250);
            video.currentTime = firstFrameTime + frameTime(index, fps);
            await once(video, 'seeked', 'error', 'seek');
            const meta = await presented;
            shown = meta ? Math.round((meta.mediaTime - firstFrameTime) * fps) : index;
          }
          if (shown !== index) frameMismatches.push({ wanted: index, shown });
          ctx.drawImage(video, shows.x, shows.y, shows.width, shows.height, 0, 0, size, size);
          rgbFromCanvas(ctx, size, frames, i * bytes);
          decoded.set(index, i * bytes);
        }
        return { frames, count: selection.indices.length, size, width: video.videoWidth, height: video.videoHeight, crop: shows, selection, fps, frameCount, timingSource, firstFrameTime, frameMismatches };
      },
      close() {
        URL.revokeObjectURL(url);
      },
    };
  } catch (error) {
    URL.revokeObjectURL(url);
    throw error;
  }
}

/** Opens the webcam; a refusal or a missing camera becomes a clear 'no-camera' message. */
export async function openCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new PageError('no-camera', 'No camera access: this page must be opened from http://127.0.0.1 or https for the browser to offer the webcam.');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } }, audio: false });
  } catch (error) {
    const name = (error as DOMException).name;
    const reason =
      name === 'NotAllowedError' || name === 'SecurityError'
        ? 'permission was denied. Allow the camera for this page (the icon in the address bar) and try again.'
        : name === 'NotFoundError' || name === 'OverconstrainedError'
          ? 'no camera was found.'
          : `the camera could not be started (${name}).`;
    throw new PageError('no-camera', `No camera: ${reason}`);
  }
  video.srcObject = stream;
  video.muted = true;
  await video.play();
  return stream;
}

/**
 * Records from the live camera: for a window model frames 0..window.end (so the window means the same as for a
 * file: frames 5..35 of a clip that starts when recording starts); for a whole-clip model `seconds` of video,
 * then up to maxFrames spread over it, as for a file. `onProgress` gets the share recorded, 0..1.
 *
 * A window model's frames are taken at the model's size, as they are read. A whole-clip model's are kept as the
 * camera gives them, scaled down only to fit 2 x the model's size (448 x 336 for a 640 x 480 camera), so a crop of
 * the signer keeps about the model's resolution and an uncut reading is drawn from the camera's own pixels. At
 * most 4 x maxFrames are kept (0.6 MB each for that camera: 77 MB for the default's 32): past that, every other
 * frame kept so far is let go and only every other one after is kept (then every fourth, ...). The frames read are
 * still those a file of the recording's length would give (selectClipFrames over every presented frame), each
 * taken from the kept frame nearest to it: at most half the keeping stride away, and exact while nothing was let go.
 */
export async function recordCamera(video: HTMLVideoElement, plan: FramePlan, size: number, seconds: number, onProgress?: (done: number) => void): Promise<ClipReading> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  const shrink = Math.min(1, (2 * size) / Math.max(1, width, height));
  const [captureWidth, captureHeight] = plan.kind === 'clip' ? [Math.round(width * shrink), Math.round(height * shrink)] : [size, size];
  const capture = canvas2d(captureWidth, captureHeight);
  const keepAtMost = plan.kind === 'clip' ? 4 * plan.maxFrames : Infinity;
  // A window model needs a fixed number of frames; a whole-clip model a duration (at most 60 frames a second of it).
  const limit = plan.kind === 'window' ? plan.window.end + 1 : Math.ceil(seconds * 60);
  let kept: Array<{ presented: number; time: number; pixels: ImageData }> = [];
  let stride = 1;
  let start: number | undefined;
  let presented = 0;
  let lastTime = 0;
  for (let n = 0; n < limit; n++) {
    const meta = await nextFrame(video, 1000);
    if (!meta && 'requestVideoFrameCallback' in video) throw new PageError('no-camera', 'The camera stopped sending frames.');
    const time = meta ? meta.mediaTime : performance.now() / 1000;
    start ??= time;
    if (plan.kind === 'clip' && time - start >= seconds) break;
    presented = n + 1;
    lastTime = time;
    onProgress?.(plan.kind === 'window' ? (n + 1) / limit : Math.min(1, (time - start) / seconds));
    if (n % stride !== 0) continue;
    capture.drawImage(video, 0, 0, captureWidth, captureHeight);
    kept.push({ presented: n, time, pixels: capture.getImageData(0, 0, captureWidth, captureHeight) });
    if (kept.length >= keepAtMost) {
      kept = kept.filter((_, i) => i % 2 === 0);
      stride *= 2;
    }
  }
  const span = presented > 1 ? lastTime - start! : 0;
  const fps = span > 0 ? (presented - 1) / span : 0;
  const selection = selectFor(plan, presented, fps || 25, 'webcam clip');
  // The kept frame nearest to each frame the selection reads (the same one while nothing was let go).
  let k = 0;
  const chosen = selection.indices.map((index) => {
    while (k + 1 < kept.length && Math.abs(kept[k + 1]!.presented - index) <= Math.abs(kept[k]!.presented - index)) k++;
    return kept[k]!;
  });
  const source = canvas2d(captureWidth, captureHeight);
  const ctx = squareCanvas(size);
  const bytes = size * size * 3;
  return {
    async read(crop?: CropRect): Promise<WindowFrames> {
      const shows = crop ?? { x: 0, y: 0, width, height };
      const [sx, sy] = [captureWidth / Math.max(1, width), captureHeight / Math.max(1, height)];
      const frames = new Uint8Array(chosen.length * bytes);
      chosen.forEach((frame, i) => {
        source.putImageData(frame.pixels, 0, 0);
        ctx.drawImage(source.canvas, shows.x * sx, shows.y * sy, shows.width * sx, shows.height * sy, 0, 0, size, size);
        rgbFromCanvas(ctx, size, frames, i * bytes);
      });
      return { frames, count: chosen.length, size, width, height, crop: shows, selection, fps, frameCount: presented, timingSource: 'camera', firstFrameTime: start ?? 0, frameMismatches: [] };
    },
    close() {
      kept = [];
      chosen.length = 0;
    },
  };
}
