import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';

/** Fixtures for the backbone/feature tests: small real videos made with ffmpeg, decoded to raw RGB frames. */
const run = promisify(execFile);

const PATTERNS = ['testsrc2', 'mandelbrot', 'rgbtestsrc', 'smptebars', 'cellauto', 'life'];

/** A short H.264 clip of a generated pattern (different `index` -> different content). */
export async function makeTestVideo(dir: string, name: string, index: number, frames = 12): Promise<string> {
  const file = path.join(dir, `${name}.mp4`);
  const pattern = PATTERNS[index % PATTERNS.length]!;
  const source = pattern === 'life' || pattern === 'cellauto' ? `${pattern}=s=160x120:r=25` : `${pattern}=s=160x120:r=25`;
  await run(ffmpegBinaries().ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-frames:v', String(frames), '-vf', `hue=h=${index * 47}`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', file]);
  return file;
}

/** All frames of a video as RGB uint8 [count, size, size, 3]. */
export async function rawFrames(file: string, size = 224): Promise<{ frames: Uint8Array; count: number; size: number }> {
  const { stdout } = await run(ffmpegBinaries().ffmpeg, ['-v', 'error', '-i', file, '-vsync', '0', '-vf', `scale=${size}:${size}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  const frames = new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
  return { frames, count: frames.length / (size * size * 3), size };
}
