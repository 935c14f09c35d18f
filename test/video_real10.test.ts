import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DEFAULT_CONFIG } from '../src/config';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { extractFrames } from '../src/video/extract';
import { loadFrameDir } from '../src/video/read';
import { frameDir, readFinishedManifest, runFrameStage } from '../src/video/stage';
import { makeTempDir, REAL10_DIR } from './helpers';
import { realJobs } from './video_fixtures';

/** Frames ffmpeg can decode from a file, counted independently of the stage (tiny grey frames). */
function decodableFrames(file: string): number {
  const out = execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-i', file, '-vsync', '0', '-vf', 'scale=4:4', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { maxBuffer: 1 << 24 });
  return out.length / 16;
}

test('real WLASL clips: every one of them is extracted, cropped to its bbox, short ones padded', { skip: REAL10_DIR ? false : 'no ../shared/data/wlasl-real10' }, async () => {
  const jobs = realJobs(REAL10_DIR!);
  assert.equal(jobs.length, 110);
  // The original's fixed window (frames 5..35), not the default's WLASL range: the counts below follow it.
  const cfg = { ...DEFAULT_CONFIG.frames, window: { ...DEFAULT_CONFIG.frames.window, useMetadataRange: false } };
  const outRoot = makeTempDir('wlasl-video-real10-');
  const summary = await runFrameStage(jobs, cfg, outRoot, { progress: 'none' });
  assert.deepEqual(summary.failures, []);
  assert.equal(summary.done, 110);

  const names = Array.from({ length: 31 }, (_, i) => `${String(5 + i).padStart(6, '0')}.jpg`);
  const codecs = new Set<string>();
  let padded = 0;
  for (const job of jobs) {
    const dir = frameDir(outRoot, cfg, job.videoId);
    const manifest = await readFinishedManifest(dir);
    assert.ok(manifest, job.videoId);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort(), names);
    // No real10 bbox leaves its frame, so the crop is the bbox itself.
    const [x0, y0, x1, y1] = job.bbox!;
    assert.deepEqual(manifest.crop, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, job.videoId);
    codecs.add(manifest.probe.codec);
    if (manifest.probe.frameCount < 40) {
      const available = decodableFrames(job.path) - 5;
      assert.equal(manifest.padded, Math.max(0, 31 - available), `${job.videoId}: ${available} frames after frame 5`);
    } else {
      assert.equal(manifest.padded, 0);
    }
    if (manifest.padded) padded++;
  }
  assert.equal(summary.padded, padded);
  assert.ok(padded >= 10, `the sample has short clips (${padded} padded)`);
  // Batched 8 to an ffmpeg process by default; clips ffmpeg must analyse itself, and ones that came out short
  // while ffmpeg complained about some input, ran alone. The same frames and manifests either way, byte for byte.
  assert.ok(summary.batched >= 80 && summary.processes < 40, `${summary.batched} batched, ${summary.processes} processes`);
  const firstJobs = jobs.slice(0, 24);
  const alone = await runFrameStage(firstJobs, cfg, makeTempDir('wlasl-video-real10-alone-'), { progress: 'none', batch: 1 });
  assert.equal(alone.processes, 24);
  for (const job of firstJobs) {
    const dirs = [frameDir(outRoot, cfg, job.videoId), path.join(alone.outDir, job.videoId)];
    const [a, b] = dirs.map((d) => fs.readdirSync(d).sort().map((name) => [name, fs.readFileSync(path.join(d, name))] as const));
    assert.deepEqual(b, a, job.videoId);
  }
  assert.deepEqual([...codecs].sort(), ['h264', 'mpeg4']);

  // Raw frames (no JPEG round trip) agree with the JPEG frames up to JPEG loss, on an h264, the mpeg4 and a short clip.
  const mpeg4 = jobs.find((j) => fs.readFileSync(path.join(frameDir(outRoot, cfg, j.videoId), 'manifest.json'), 'utf8').includes('"codec": "mpeg4"'))!;
  for (const job of [jobs[0], mpeg4, jobs.find((j) => j.videoId === '51068')!]) {
    const raw = await extractFrames(job, cfg);
    const jpeg = await loadFrameDir(outRoot, cfg, job.videoId);
    assert.equal(raw.count, 31);
    assert.deepEqual(raw.sourceFrames, jpeg.sourceFrames);
    let diff = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < raw.frames.length; i++) {
      diff += Math.abs(raw.frames[i] - jpeg.frames[i]);
      sum += raw.frames[i];
      sumSq += raw.frames[i] * raw.frames[i];
    }
    const n = raw.frames.length;
    const std = Math.sqrt(sumSq / n - (sum / n) ** 2);
    assert.ok(diff / n < 3, `${job.videoId}: mean |raw - jpeg| ${(diff / n).toFixed(2)}`);
    assert.ok(std > 20, `${job.videoId}: frames have content (std ${std.toFixed(1)})`);
  }
});
