import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';

/**
 * Which ffmpeg/ffprobe binaries to use: WLASL_FFMPEG / WLASL_FFPROBE (or FFMPEG_PATH / FFPROBE_PATH) first,
 * else the static build shipped on npm (@ffmpeg-installer: installs offline and starts in a fraction of the
 * time of Debian's build), else whatever is on PATH.
 */
export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  source: 'env' | 'npm' | 'system';
}

function npmBinary(pkg: string): string | undefined {
  try {
    const p = (require(pkg) as { path: string }).path;
    return fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

let resolved: FfmpegBinaries | undefined;

export function ffmpegBinaries(): FfmpegBinaries {
  if (resolved) return resolved;
  const envFfmpeg = process.env.WLASL_FFMPEG ?? process.env.FFMPEG_PATH;
  const envFfprobe = process.env.WLASL_FFPROBE ?? process.env.FFPROBE_PATH;
  const npmFfmpeg = npmBinary('@ffmpeg-installer/ffmpeg');
  const npmFfprobe = npmBinary('@ffprobe-installer/ffprobe');
  const ffmpegPath = envFfmpeg ?? npmFfmpeg ?? 'ffmpeg';
  const ffprobePath = envFfprobe ?? npmFfprobe ?? 'ffprobe';
  const source = envFfmpeg ? 'env' : npmFfmpeg ? 'npm' : 'system';
  ffmpeg.setFfmpegPath(ffmpegPath);
  ffmpeg.setFfprobePath(ffprobePath);
  resolved = { ffmpeg: ffmpegPath, ffprobe: ffprobePath, source };
  return resolved;
}

/** First line of `ffmpeg -version`, e.g. "ffmpeg version 4.1 ...". */
export function ffmpegVersion(): string {
  const { ffmpeg: bin } = ffmpegBinaries();
  try {
    return execFileSync(bin, ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] ?? 'unknown';
  } catch (error) {
    return `unavailable (${bin}: ${(error as Error).message.split('\n')[0]})`;
  }
}

export { ffmpeg };
