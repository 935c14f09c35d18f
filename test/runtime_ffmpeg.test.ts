import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, makeTempDir } from './helpers';

// Binary resolution happens once per process, as in real use: each case runs in a fresh process.
function resolveIn(env: Record<string, string | undefined>, code: string): Record<string, unknown> {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['WLASL_FFMPEG', 'WLASL_FFPROBE', 'FFMPEG_PATH', 'FFPROBE_PATH']) delete clean[k];
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: REPO_ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const resolveOnly = `
const { ffmpegBinaries } = require('./src/runtime/ffmpeg');
console.log(JSON.stringify(ffmpegBinaries()));
`;

test('by default the static ffmpeg and ffprobe shipped on npm are used', () => {
  const bins = resolveIn({}, resolveOnly);
  assert.equal(bins.source, 'npm');
  const npmFfmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  const npmFfprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
  assert.equal(bins.ffmpeg, npmFfmpeg);
  assert.equal(bins.ffprobe, npmFfprobe);
  assert.ok(fs.existsSync(npmFfmpeg), `${npmFfmpeg} exists`);
});

test('WLASL_FFMPEG / WLASL_FFPROBE (or FFMPEG_PATH / FFPROBE_PATH) override the npm binaries, and the pipeline runs them', () => {
  const dir = makeTempDir('wlasl-ffmpeg-env-');
  const npmFfmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  const npmFfprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
  // Wrappers that log each call, then run the real binary: proves the override is what actually runs.
  const wrapper = (name: string, real: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\necho "$0" >> "${path.join(dir, 'calls.log')}"\nexec "${real}" "$@"\n`, { mode: 0o755 });
    return file;
  };
  const ffmpegWrapper = wrapper('my-ffmpeg', npmFfmpeg);
  const ffprobeWrapper = wrapper('my-ffprobe', npmFfprobe);
  const clip = path.join(dir, 'clip.mp4');
  execFileSync(npmFfmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=s=160x120:r=25:d=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);

  const extract = `
const { ffmpegBinaries } = require('./src/runtime/ffmpeg');
const { extractFrames } = require('./src/video/extract');
const { DEFAULT_CONFIG, mergeConfig } = require('./src/config');
extractFrames({ videoId: 'clip', path: ${JSON.stringify(clip)}, bbox: null }, mergeConfig(DEFAULT_CONFIG.frames, { size: 16 }))
  .then((out) => console.log(JSON.stringify({ ...ffmpegBinaries(), count: out.count })));
`;
  // WLASL_PROBE=ffprobe: H.264 MP4 headers are otherwise read in Node and ffprobe would not run at all.
  const bins = resolveIn({ WLASL_FFMPEG: ffmpegWrapper, WLASL_FFPROBE: ffprobeWrapper, WLASL_PROBE: 'ffprobe' }, extract);
  assert.equal(bins.source, 'env');
  assert.equal(bins.ffmpeg, ffmpegWrapper);
  assert.equal(bins.ffprobe, ffprobeWrapper);
  assert.equal(bins.count, 31);
  const calls = fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n');
  assert.ok(calls.includes(ffmpegWrapper), `ffmpeg wrapper ran: ${calls.join(', ')}`);
  assert.ok(calls.includes(ffprobeWrapper), `ffprobe wrapper ran: ${calls.join(', ')}`);

  const alias = resolveIn({ FFMPEG_PATH: ffmpegWrapper, FFPROBE_PATH: ffprobeWrapper }, resolveOnly);
  assert.deepEqual(alias, { ffmpeg: ffmpegWrapper, ffprobe: ffprobeWrapper, source: 'env' });
});

test("the system ffmpeg is taken by naming it, e.g. WLASL_FFMPEG=ffmpeg (looked up on PATH)", { skip: !fs.existsSync('/usr/bin/ffmpeg') && 'no system ffmpeg' }, () => {
  const code = `
const { ffmpegBinaries, ffmpegVersion } = require('./src/runtime/ffmpeg');
console.log(JSON.stringify({ ...ffmpegBinaries(), version: ffmpegVersion() }));
`;
  const bins = resolveIn({ WLASL_FFMPEG: 'ffmpeg', WLASL_FFPROBE: 'ffprobe', PATH: `/usr/bin:${process.env.PATH ?? ''}` }, code);
  assert.equal(bins.source, 'env');
  assert.equal(bins.ffmpeg, 'ffmpeg');
  const systemVersion = execFileSync('/usr/bin/ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0];
  assert.equal(bins.version, systemVersion);
});
