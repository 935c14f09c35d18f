import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import pLimit from 'p-limit';
import { VideoError } from '../errors';
import { tempSibling, writeFileAtomic, writeJsonAtomic } from '../runtime/atomic';
import { ffmpegBinaries, ffmpegVersion } from '../runtime/ffmpeg';
import { createProgress } from '../runtime/progress';
import type { WlaslGlossJson, WlaslInstanceJson } from '../metadata/schema';
import { SAMPLE_CLASSES, forwardPoses, type SampleClass } from './design';
import { drawFigure, poseBounds, type FigurePose } from './figure';
import { drawStyle, hashSeed, renderBackground, rng, type StyleOptions } from './style';

export const SAMPLE_FPS = 25;
/** Bumped whenever the drawing changes, so stale videos are regenerated rather than mixed with new ones. */
export const SAMPLE_GENERATOR_VERSION = 'wlasl-sample/2';

export interface SampleOptions {
  /** Videos per class (default 24: 16 train, 4 val, 4 test). */
  videosPerClass?: number;
  /** Fractions for train and val; test gets the rest. */
  trainFraction?: number;
  valFraction?: number;
  seed?: number;
  /** Nuisance level: 0 none, 0.5 the default, 1 moderate. See data/sample/README.md. */
  nuisance?: number;
  minWidth?: number;
  maxWidth?: number;
  minSeconds?: number;
  maxSeconds?: number;
  /** x264 constant rate factor (lower = larger files, fewer artefacts). */
  crf?: number;
  /** Videos encoded at once; default the number of cores. */
  concurrency?: number;
  /** Only (re)generate these video ids (the JSON still lists all). */
  only?: string[];
  /** Regenerate videos that already exist. */
  overwrite?: boolean;
  /** Show progress (default true). */
  progress?: boolean;
}

type ResolvedOptions = Required<Omit<SampleOptions, 'only' | 'concurrency' | 'progress'>>;

export const DEFAULT_SAMPLE_OPTIONS: ResolvedOptions = {
  videosPerClass: 24,
  trainFraction: 2 / 3,
  valFraction: 1 / 6,
  seed: 2024,
  // Half the 'moderate' level: at 1, with 16 training videos per class, per-video appearance drowned the order
  // cue (data/sample/README.md, "Measured").
  nuisance: 0.5,
  minWidth: 320,
  maxWidth: 480,
  minSeconds: 2,
  maxSeconds: 3,
  crf: 26,
  overwrite: false,
};

export interface SampleVideoPlan {
  videoId: string;
  gloss: string;
  classIndex: number;
  instance: number;
  split: 'train' | 'val' | 'test';
  sampleClass: SampleClass;
  width: number;
  height: number;
  poses: FigurePose[];
  background: () => Uint8Array;
  colours: ReturnType<typeof drawStyle>['colours'];
  bbox: [number, number, number, number];
  signerId: number;
}

export interface SampleResult {
  outDir: string;
  metadataFile: string;
  videosDir: string;
  generated: string[];
  skipped: string[];
  seconds: number;
}

/** Video id of instance i of class c: 5 digits like WLASL's, in a range WLASL does not use (9xxxx). */
export function sampleVideoId(classIndex: number, instance: number): string {
  return String(90000 + classIndex * 100 + instance);
}

function splitOf(instance: number, o: ResolvedOptions): 'train' | 'val' | 'test' {
  const train = Math.round(o.videosPerClass * o.trainFraction);
  const val = Math.round(o.videosPerClass * o.valFraction);
  return instance < train ? 'train' : instance < train + val ? 'val' : 'test';
}

/**
 * Plans every video: nuisance and poses are drawn per (pair, instance), so the two classes of a pair share
 * them and the reversed class is exactly the forward one played backwards.
 */
export function planSample(options: SampleOptions = {}): SampleVideoPlan[] {
  const o: ResolvedOptions = { ...DEFAULT_SAMPLE_OPTIONS, ...stripUndefined(options) };
  const styleOptions: StyleOptions = { nuisance: o.nuisance, minWidth: o.minWidth, maxWidth: o.maxWidth, minSeconds: o.minSeconds, maxSeconds: o.maxSeconds, fps: SAMPLE_FPS };
  const plans: SampleVideoPlan[] = [];
  SAMPLE_CLASSES.forEach((sampleClass, classIndex) => {
    for (let instance = 0; instance < o.videosPerClass; instance++) {
      const rand = rng(hashSeed(`${o.seed}/${sampleClass.motion}/${instance}`));
      const style = drawStyle(rand, styleOptions);
      const jitterRand = rng(hashSeed(`${o.seed}/${sampleClass.motion}/${instance}/jitter`));
      const jitter = () => 0.8 * o.nuisance * (jitterRand() - 0.5);
      const forward = forwardPoses(sampleClass.motion, style, SAMPLE_FPS, jitter);
      const poses = sampleClass.reversed ? [...forward].reverse() : forward;
      plans.push({
        videoId: sampleVideoId(classIndex, instance),
        gloss: sampleClass.gloss,
        classIndex,
        instance,
        split: splitOf(instance, o),
        sampleClass,
        width: style.width,
        height: style.height,
        poses,
        background: () => renderBackground(style),
        colours: style.colours,
        bbox: clipBbox(poses, style.width, style.height),
        signerId: 1 + (hashSeed(`${o.seed}/signer/${sampleClass.motion}/${instance}`) % 40),
      });
    }
  });
  return plans;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** WLASL-style bbox of the whole clip (like the YOLO person box: covers every frame), with a margin. */
function clipBbox(poses: FigurePose[], width: number, height: number): [number, number, number, number] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of poses) {
    const b = poseBounds(p);
    x0 = Math.min(x0, b[0]);
    y0 = Math.min(y0, b[1]);
    x1 = Math.max(x1, b[2]);
    y1 = Math.max(y1, b[3]);
  }
  const margin = 0.06 * Math.max(x1 - x0, y1 - y0);
  return [
    Math.max(0, Math.floor(x0 - margin)),
    Math.max(0, Math.floor(y0 - margin)),
    Math.min(width, Math.ceil(x1 + margin)),
    Math.min(height, Math.ceil(y1 + margin)),
  ];
}

/** The WLASL_v0.3.json of the sample: glosses in class order, real WLASL field names and conventions. */
export function sampleMetadata(plans: SampleVideoPlan[]): WlaslGlossJson[] {
  return SAMPLE_CLASSES.map((c) => ({
    gloss: c.gloss,
    instances: plans
      .filter((p) => p.gloss === c.gloss)
      .map(
        (p): WlaslInstanceJson => ({
          bbox: p.bbox,
          fps: SAMPLE_FPS,
          frame_end: -1,
          frame_start: 1,
          instance_id: p.instance,
          signer_id: p.signerId,
          source: 'synthetic',
          split: p.split,
          url: `https://sample.wlasl.invalid/${encodeURIComponent(p.gloss)}/${p.videoId}.mp4`,
          variation_id: 0,
          video_id: p.videoId,
        }),
      ),
  }));
}

/** x264 single-threaded with bit-exact muxing: the same ffmpeg binary gives the same bytes every time. */
function encoderArgs(width: number, height: number, crf: number, out: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(SAMPLE_FPS), '-i', 'pipe:0',
    '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-threads', '1',
    '-g', String(2 * SAMPLE_FPS), '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact',
    '-movflags', '+faststart', '-f', 'mp4', '-y', out,
  ];
}

/** Renders one planned video and encodes it to `target` atomically (temporary file, then rename). */
export async function renderSampleVideo(plan: SampleVideoPlan, target: string, crf = DEFAULT_SAMPLE_OPTIONS.crf): Promise<void> {
  const { ffmpeg } = ffmpegBinaries();
  const tmp = tempSibling(target);
  const background = plan.background();
  const frame = new Uint8Array(background.length);
  const child = spawn(ffmpeg, encoderArgs(plan.width, plan.height, crf, tmp), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  // A failed write (ffmpeg died) surfaces through the exit code below.
  child.stdin.on('error', () => undefined);
  try {
    for (const pose of plan.poses) {
      frame.set(background);
      drawFigure(frame, plan.width, plan.height, pose, plan.colours);
      if (!child.stdin.write(Buffer.from(frame))) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
    }
    child.stdin.end();
    const code = await exited;
    if (code !== 0) throw new VideoError(`ffmpeg failed to encode the sample video (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`, { file: target });
    await fs.promises.rename(tmp, target);
  } catch (error) {
    child.kill('SIGKILL');
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface SampleManifest {
  generator: string;
  options: ResolvedOptions;
  ffmpeg: string;
  videos: Record<string, { sha256: string; bytes: number; frames: number; width: number; height: number }>;
}

/**
 * Generates the embedded sample in the Kaggle layout: outDir/WLASL_v0.3.json, outDir/videos/<id>.mp4 and
 * outDir/manifest.json (options, ffmpeg version and a sha256 per video). Resumable: finished videos are
 * kept unless the options or generator changed (or `overwrite`).
 */
export async function generateSample(outDir: string, options: SampleOptions = {}): Promise<SampleResult> {
  const started = Date.now();
  const o: ResolvedOptions = { ...DEFAULT_SAMPLE_OPTIONS, ...stripUndefined(options) };
  const videosDir = path.join(outDir, 'videos');
  await fs.promises.mkdir(videosDir, { recursive: true });
  const manifestFile = path.join(outDir, 'manifest.json');
  const { overwrite: _overwrite, ...fingerprintOptions } = o;
  let previous: SampleManifest | undefined;
  try {
    previous = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as SampleManifest;
  } catch {
    previous = undefined;
  }
  const { overwrite: _prevOverwrite, ...previousOptions } = previous?.options ?? ({} as ResolvedOptions);
  const sameRecipe = previous?.generator === SAMPLE_GENERATOR_VERSION && JSON.stringify(previousOptions) === JSON.stringify(fingerprintOptions);

  const plans = planSample(o);
  const metadataFile = path.join(outDir, 'WLASL_v0.3.json');
  // One line, like the real WLASL_v0.3.json.
  await writeFileAtomic(metadataFile, JSON.stringify(sampleMetadata(plans)) + '\n');

  const wanted = options.only ? new Set(options.only) : null;
  const todo = plans.filter((p) => {
    if (wanted && !wanted.has(p.videoId)) return false;
    const file = path.join(videosDir, `${p.videoId}.mp4`);
    return o.overwrite || !sameRecipe || !fs.existsSync(file);
  });
  const skipped = plans.filter((p) => (!wanted || wanted.has(p.videoId)) && !todo.includes(p)).map((p) => p.videoId);

  const progress = createProgress('sample videos', todo.length, { unit: 'videos', mode: options.progress === false ? 'none' : undefined });
  const limit = pLimit(Math.max(1, options.concurrency ?? os.cpus().length));
  await Promise.all(
    todo.map((p) =>
      limit(async () => {
        await renderSampleVideo(p, path.join(videosDir, `${p.videoId}.mp4`), o.crf);
        progress.tick(1, p.videoId);
      }),
    ),
  );

  const videos: SampleManifest['videos'] = {};
  for (const p of plans) {
    const file = path.join(videosDir, `${p.videoId}.mp4`);
    if (!fs.existsSync(file)) continue;
    const fresh = todo.includes(p);
    const old = previous?.videos?.[p.videoId];
    videos[p.videoId] = !fresh && sameRecipe && old ? old : { sha256: sha256(file), bytes: fs.statSync(file).size, frames: p.poses.length, width: p.width, height: p.height };
  }
  await writeJsonAtomic(manifestFile, { generator: SAMPLE_GENERATOR_VERSION, options: o, ffmpeg: ffmpegVersion(), videos } satisfies SampleManifest);
  const seconds = (Date.now() - started) / 1000;
  progress.stop(`sample: ${todo.length} video(s) generated, ${skipped.length} kept, in ${seconds.toFixed(1)} s -> ${outDir}`);
  return { outDir, metadataFile, videosDir, generated: todo.map((p) => p.videoId), skipped, seconds };
}
