import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { describeError } from '../errors';
import { ffmpegBinaries } from '../runtime/ffmpeg';
import { probeMp4Header } from './mp4_header';
import { VideoFailure, VideoInfo } from './types';

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number | string }[];
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string; format_long_name?: string; probe_score?: number };
}

/**
 * ffmpeg's AVPROBE_SCORE_RETRY: at or below it ffmpeg itself warns "misdetection possible". Noise named .mp4
 * reaches it about once in a hundred files, as a raw H.263 stream that decodes to garbage frames (seen in CI).
 * Every real WLASL clip and sample video probes at 100.
 */
const WEAK_PROBE_SCORE = 25;

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  if (den === undefined) return num;
  return den > 0 ? num / den : NaN;
}

function rotationOf(stream: ProbeStream): number {
  const fromSide = stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  const raw = Number(fromSide ?? stream.tags?.rotate ?? 0);
  if (!Number.isFinite(raw)) return 0;
  // Only whether it is a quarter turn matters here (it swaps width and height); the sign convention of the
  // display matrix differs between ffprobe versions, so the value is reported as ffprobe gives it.
  return ((Math.round(raw / 90) * 90) % 360 + 360) % 360;
}

/** Whether a file starts like an MP4/MOV (an 'ftyp' box): then a missing index means it was cut short. */
async function looksLikeMp4(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return bytesRead === 8 && head.toString('latin1', 4, 8) === 'ftyp';
  } finally {
    await handle.close();
  }
}

function runFfprobe(file: string): Promise<string> {
  const { ffprobe } = ffmpegBinaries();
  const args = ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path.resolve(file)];
  return new Promise((resolve, reject) => {
    execFile(ffprobe, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const lines = String(stderr).trim().split('\n').filter(Boolean);
        const detail = lines.pop() ?? error.message;
        const sign = lines.find((l) => /moov atom not found|partial file/i.test(l))?.replace(/^\[[^\]]*\]\s*/, '');
        // ffprobe picks the MP4 demuxer by extension, so any junk named .mp4 lacks a moov; only a file that
        // starts with a real MP4 header and lacks its index is a truncated download.
        looksLikeMp4(file).then(
          (mp4) => {
            const truncated = sign !== undefined && mp4;
            const text = truncated ? `truncated (${sign})` : `not a readable video: ${detail.replace(path.resolve(file) + ': ', '')}`;
            reject(new VideoFailure(truncated ? 'truncated' : 'not-a-video', text, { file, cause: error }));
          },
          (readError) => reject(new VideoFailure('missing', `cannot read: ${describeError(readError)}`, { file, cause: readError })),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}

/** How probeVideo answers: 'auto' reads MP4 headers in Node and falls back to ffprobe; 'ffprobe' always runs it. */
export type ProbeMethod = 'auto' | 'ffprobe';

/**
 * Probes a video once: displayed size, fps, frame count, codec, duration, rotation. A plain H.264 MP4/MOV is
 * read from its moov box in Node (mp4_header.ts), giving exactly what ffprobe gives; everything else, and
 * every damaged file, goes to ffprobe, so failures keep their kinds and messages.
 * WLASL_PROBE=ffprobe turns the header path off (to compare, or to rule it out).
 * Throws VideoFailure with kind missing / empty / not-a-video / no-video-stream / truncated.
 */
export async function probeVideo(file: string, method: ProbeMethod = defaultProbeMethod()): Promise<VideoInfo> {
  return (await probeVideoWithSource(file, method)).info;
}

function defaultProbeMethod(): ProbeMethod {
  return process.env.WLASL_PROBE === 'ffprobe' ? 'ffprobe' : 'auto';
}

/**
 * probeVideo, saying which path answered: `fromHeader` means the MP4 header held everything the H.264 decoder
 * needs (size, codec configuration), so ffmpeg may skip its own stream analysis (see planExtraction).
 */
export async function probeVideoWithSource(file: string, method: ProbeMethod = defaultProbeMethod()): Promise<{ info: VideoInfo; fromHeader: boolean }> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (error) {
    throw new VideoFailure('missing', 'video file not found', { file, cause: error });
  }
  if (!stat.isFile()) throw new VideoFailure('missing', 'not a regular file', { file });
  if (stat.size === 0) throw new VideoFailure('empty', 'empty file (0 bytes)', { file });

  if (method === 'auto') {
    const fromHeader = await probeMp4Header(file, stat.size);
    if (fromHeader) return { info: fromHeader, fromHeader: true };
  }
  return { info: await ffprobeVideo(file), fromHeader: false };
}

/** ffmpeg's demuxers for single pictures: image2 (a file or pattern of images) and the *_pipe image readers. */
const STILL_IMAGE_FORMATS = /^(image2|[a-z0-9]+_pipe)$/;

/** The ffprobe path of probeVideo (after its file checks); exported so tests can compare the two paths. */
export async function ffprobeVideo(file: string): Promise<VideoInfo> {
  const text = await runFfprobe(file);
  let parsed: ProbeOutput;
  try {
    parsed = JSON.parse(text) as ProbeOutput;
  } catch (error) {
    throw new VideoFailure('not-a-video', 'ffprobe output is not JSON', { file, cause: error });
  }
  const score = parsed.format?.probe_score;
  if (score !== undefined && score <= WEAK_PROBE_SCORE) {
    const format = parsed.format?.format_long_name ?? parsed.format?.format_name ?? 'unknown';
    throw new VideoFailure('not-a-video', `not a readable video: recognised only weakly, as ${format} (probe score ${score} of 100, a likely misdetection)`, { file });
  }
  // A still picture (a PNG or JPEG named .mp4) has a 'video' stream of one frame: it is not a video.
  const formatName = parsed.format?.format_name ?? '';
  if (STILL_IMAGE_FORMATS.test(formatName)) {
    throw new VideoFailure('not-a-video', `not a video: a still image (${formatName.replace(/_pipe$/, '')})`, { file });
  }
  const stream = parsed.streams?.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
  if (!stream) {
    const kinds = (parsed.streams ?? []).map((s) => s.codec_type ?? '?');
    throw new VideoFailure('no-video-stream', `no video stream (streams: ${kinds.length ? kinds.join(', ') : 'none'})`, { file });
  }
  const rotation = rotationOf(stream);
  const swap = rotation === 90 || rotation === 270;
  const storedW = stream.width as number;
  const storedH = stream.height as number;
  let fps = parseRate(stream.avg_frame_rate);
  if (!(fps > 0)) fps = parseRate(stream.r_frame_rate);
  if (!(fps > 0)) fps = 0;
  const durationS = Number(stream.duration ?? parsed.format?.duration ?? NaN);
  const containerFrames = Number.parseInt(stream.nb_frames ?? '', 10);
  const frameCountExact = Number.isFinite(containerFrames) && containerFrames > 0;
  const frameCount = frameCountExact ? containerFrames : Number.isFinite(durationS) && fps > 0 ? Math.round(durationS * fps) : 0;
  return {
    width: swap ? storedH : storedW,
    height: swap ? storedW : storedH,
    fps,
    frameCount,
    frameCountExact,
    codec: stream.codec_name ?? 'unknown',
    durationS: Number.isFinite(durationS) ? durationS : 0,
    rotation,
  };
}
