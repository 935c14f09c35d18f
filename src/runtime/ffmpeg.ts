import * as fs from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
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

/** An ffmpeg run that ended with a non-zero exit code, a signal, or no process at all (spawn error). */
export class FfmpegRunError extends Error {
  constructor(
    message: string,
    /** What ffmpeg wrote to stderr; past 192 KiB, its first 64 KiB and at least its last 64 KiB. */
    readonly stderr: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FfmpegRunError';
  }
}

export interface FfmpegRunResult {
  /** stdout chunks as they came (empty unless stdout was collected). */
  stdout: Buffer[];
  stdoutBytes: number;
  stderr: string;
}

/** stderr kept from each end: with -loglevel error a damaged file can still log one line per bad frame. */
const STDERR_KEEP = 64 * 1024;
/** Marks where the middle of a longer stderr was dropped. */
export const STDERR_GAP = '\n[...]\n';

/**
 * Runs ffmpeg with `args` (no shell), stdin closed, stdout collected or ignored. Success is exit code 0,
 * decided on the child's 'close' event, which Node emits only once the process has exited AND every stdio
 * stream has closed, in whatever order those came.
 *
 * Why not fluent-ffmpeg for a piped output: when the output stream closes, its run() waits 20 ms and, if
 * the process exit and stderr close have not been seen by then, reports "Output stream closed" and kills
 * ffmpeg (fluent-ffmpeg 2.1.3, lib/processor.js:481-491). Node sees ffmpeg's stdout close and its exit as
 * separate events, and a starved CPU or a busy event loop can put more than 20 ms between them: complete,
 * valid clips were dropped that way (issue 15). File outputs are not affected: there fluent waits for the
 * exit and both pipes.
 */
export function runFfmpeg(args: readonly string[], options: { stdout?: 'collect' | 'ignore' } = {}): Promise<FfmpegRunResult> {
  const { ffmpeg: bin } = ffmpegBinaries();
  const collect = options.stdout === 'collect';
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let head = '';
    let tail = '';
    let dropped = false;
    const stderrText = (): string => (dropped ? `${head}${STDERR_GAP}${tail}` : head + tail);
    let streamError: Error | undefined;
    let settled = false;
    const fail = (message: string, code: number | null, signal: NodeJS.Signals | null, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      reject(new FfmpegRunError(message, stderrText(), code, signal, { cause }));
    };

    const child = spawn(bin, args, { stdio: ['ignore', collect ? 'pipe' : 'ignore', 'pipe'], windowsHide: true });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (head.length < STDERR_KEEP) {
        const take = text.slice(0, STDERR_KEEP - head.length);
        head += take;
        text = text.slice(take.length);
      }
      tail += text;
      if (tail.length > 2 * STDERR_KEEP) {
        tail = tail.slice(-STDERR_KEEP);
        dropped = true;
      }
    });
    // A read error destroys the stream, so 'close' still comes; without a listener it would crash the process.
    for (const stream of [child.stdout, child.stderr]) stream?.on('error', (error: Error) => (streamError ??= error));
    // Spawn failures (ENOENT, EACCES) come here; Node may still emit 'close' afterwards, hence `settled`.
    child.on('error', (error: Error) => fail(`cannot run ${bin}: ${error.message}`, null, null, error));
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (signal) return fail(`ffmpeg was killed with signal ${signal}`, code, signal);
      if (code !== 0) return fail(`ffmpeg exited with code ${code}`, code, signal);
      // Exit 0 with a broken pipe read means the output may be incomplete: not a success.
      if (streamError) return fail(`reading ffmpeg's output failed: ${streamError.message}`, code, signal, streamError);
      if (settled) return;
      settled = true;
      resolve({ stdout, stdoutBytes, stderr: stderrText() });
    });
  });
}

export { ffmpeg };
