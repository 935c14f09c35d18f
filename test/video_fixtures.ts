import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { seededRandom } from '../src/runtime/random';

/**
 * Real videos made with ffmpeg for the video tests. In "gradient" videos every pixel says where and when it
 * is: red = x, green = y, blue = 4 x frame index (so 256x192 and up to 64 frames stay exact), encoded
 * losslessly (x264 qp 0, 4:4:4) so crop, scale and frame selection can be checked to the pixel.
 */
function run(args: string[]): void {
  execFileSync(ffmpegBinaries().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface GradientOptions {
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
  /** Put the index (moov) at the front, as streaming MP4s do. */
  faststart?: boolean;
}

export function makeGradientVideo(file: string, options: GradientOptions = {}): string {
  const { width = 256, height = 192, frames = 60, fps = 25, faststart = false } = options;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const source = `color=c=black:s=${width}x${height}:r=${fps},format=gbrp,geq=r='min(X,255)':g='min(Y,255)':b='4*N'`;
  const extra = faststart ? ['-movflags', '+faststart'] : [];
  run(['-f', 'lavfi', '-i', source, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv444p', ...extra, file]);
  return file;
}

/**
 * A 4:2:0 grey ramp (luma = 16 + 2x, so RGB = 2x * 255/219): cropping at an odd x is exact only if the crop
 * does not round offsets to the chroma grid, and a one-pixel shift moves the value by 2.3 levels.
 */
export function makeGreyRampVideo(file: string, frames = 40): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const source = `color=c=black:s=120x96:r=25,format=yuv420p,geq=lum='16+2*X':cb=128:cr=128`;
  run(['-f', 'lavfi', '-i', source, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', file]);
  return file;
}

/** A busy 640x480 clip like the benchmark's (test pattern plus noise, so it compresses like real video). */
export function makeNoisyClip(
  file: string,
  options: { width?: number; height?: number; seconds?: number; fps?: number; faststart?: boolean; codec?: 'libx264' | 'mpeg4'; noise?: number } = {},
): string {
  const { width = 640, height = 480, seconds = 2.4, fps = 25, faststart = false, codec = 'libx264', noise = 20 } = options;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const extra = faststart ? ['-movflags', '+faststart'] : [];
  const codecArgs = codec === 'libx264' ? ['-c:v', 'libx264', '-preset', 'veryfast'] : ['-c:v', 'mpeg4', '-q:v', '5'];
  run(['-f', 'lavfi', '-i', `testsrc=s=${width}x${height}:r=${fps}:d=${seconds}${noise > 0 ? `,noise=alls=${noise}:allf=t` : ''}`, ...codecArgs, '-pix_fmt', 'yuv420p', ...extra, file]);
  return file;
}

/** A copy of `source` with rotation metadata (players and ffmpeg show it turned a quarter). */
export function rotatedCopy(source: string, target: string): string {
  run(['-i', source, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', target]);
  return target;
}

/** An MP4 with only an audio stream. */
export function makeAudioOnly(file: string): string {
  run(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', file]);
  return file;
}

/**
 * 50 kB of noise holding one H.263 picture start code: what random bytes named .mp4 look like about once in a
 * hundred tries. ffprobe then reports a 704x576 H.263 video (probe score 25) and ffmpeg decodes garbage from it.
 * Deterministic (seeded; no zero bytes, so no other start code appears by chance).
 */
export function writeNoiseLikeH263(file: string): string {
  const random = seededRandom(12345);
  const bytes = Buffer.alloc(50_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 1 + Math.floor(random() * 255);
  // Taken from a /dev/urandom file that ffprobe read as H.263: start code 0x000082, then a QCIF/CIF-ish PTYPE.
  Buffer.from('00008252f27e', 'hex').copy(bytes, 1000);
  fs.writeFileSync(file, bytes);
  return file;
}

/**
 * An H.264 MP4 whose header is intact but whose frames mostly cannot be decoded: 200 key frames, and in 3 of
 * every 4 the first NAL unit's length field is overwritten (its decoder rejects the packet). Alone, ffmpeg
 * gives up on it at exit (more than 2/3 of its decode calls failed: -max_error_rate) though it wrote frames.
 */
export function makeMostlyUndecodableClip(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  run(['-f', 'lavfi', '-i', 'testsrc=s=64x48:r=25:d=8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
  const packets = execFileSync(ffmpegBinaries().ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos', '-of', 'csv=p=0', file], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(Number);
  const bytes = fs.readFileSync(file);
  packets.forEach((pos, i) => {
    if (i % 4 !== 0) bytes[pos] = 0xff;
  });
  fs.writeFileSync(file, bytes);
  return file;
}

/** The first `fraction` of a file's bytes, as an interrupted download leaves it. */
export function truncateCopy(source: string, target: string, fraction: number): string {
  const bytes = fs.readFileSync(source);
  fs.writeFileSync(target, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return target;
}

/** Mean of one channel (0 r, 1 g, 2 b) of frame t in a [T, size, size, 3] array. */
export function channelMean(frames: Uint8Array, size: number, t: number, channel: number): number {
  const base = t * size * size * 3;
  let sum = 0;
  for (let i = 0; i < size * size; i++) sum += frames[base + i * 3 + channel];
  return sum / (size * size);
}

/** Channel value at pixel (x, y) of frame t. */
export function pixel(frames: Uint8Array, size: number, t: number, x: number, y: number, channel: number): number {
  return frames[((t * size + y) * size + x) * 3 + channel];
}

export interface RealJob {
  videoId: string;
  path: string;
  bbox: [number, number, number, number] | null;
  frameStart: number;
  frameEnd: number;
}

/** Jobs for the real WLASL clips in `dir` (WLASL_v0.3.json + videos/), read with a few lines of JSON.parse. */
export function realJobs(dir: string): RealJob[] {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'WLASL_v0.3.json'), 'utf8')) as {
    instances: { video_id: string; bbox: [number, number, number, number] | null; frame_start: number; frame_end: number }[];
  }[];
  const jobs: RealJob[] = [];
  for (const gloss of meta) {
    for (const inst of gloss.instances) {
      const file = path.join(dir, 'videos', `${inst.video_id}.mp4`);
      if (fs.existsSync(file)) jobs.push({ videoId: inst.video_id, path: file, bbox: inst.bbox, frameStart: inst.frame_start, frameEnd: inst.frame_end });
    }
  }
  return jobs;
}
