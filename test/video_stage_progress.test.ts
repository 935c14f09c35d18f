import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_CONFIG, mergeConfig } from '../src/config';
import { createProgress, formatSeconds } from '../src/runtime/progress';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { makeTempDir, REPO_ROOT } from './helpers';
import { makeGradientVideo } from './video_fixtures';

const dir = makeTempDir('wlasl-video-progress-');
const clips = Array.from({ length: 6 }, (_, i) => makeGradientVideo(path.join(dir, 'in', `v${i}.mp4`), { width: 64, height: 48, frames: 40 }));

/**
 * Runs the frame stage in a child process with the given env (progress goes to the real stderr, and the
 * ffmpeg binary can be a logging wrapper). Returns its stderr and the summary it prints.
 */
function runStage(env: Record<string, string>, concurrency: number, extraJobs: { videoId: string; path: string }[] = [], batch?: number) {
  const out = fs.mkdtempSync(path.join(dir, 'out-'));
  const jobs = [...clips.map((file) => ({ videoId: path.basename(file, '.mp4'), path: file, bbox: null })), ...extraJobs.map((j) => ({ ...j, bbox: null }))];
  const config = mergeConfig(DEFAULT_CONFIG.frames, { size: 16, concurrency });
  const code = `
const { runFrameStage } = require('./src/video/stage');
runFrameStage(${JSON.stringify(jobs)}, ${JSON.stringify(config)}, ${JSON.stringify(out)}, ${JSON.stringify(batch === undefined ? {} : { batch })})
  .then((s) => console.log(JSON.stringify({ done: s.done, skipped: s.skipped, failed: s.failed, processes: s.processes })));
`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return { stderr: result.stderr, summary: JSON.parse(result.stdout.trim().split('\n').pop()!) as { done: number; skipped: number; failed: number; processes: number } };
}

test('stage progress: lines with count, rate and ETA; a final summary with done, already done, failed and time', () => {
  const { stderr, summary } = runStage({ WLASL_PROGRESS: 'lines' }, 2, [{ videoId: 'gone', path: path.join(dir, 'in', 'gone.mp4') }]);
  assert.deepEqual(summary, { done: 6, skipped: 0, failed: 1, processes: 2 });
  const lines = stderr.trim().split('\n');
  const progressLines = lines.filter((l) => l.startsWith('frames: ') && / videos \(\d+%\)/.test(l));
  assert.ok(progressLines.length >= 2, stderr);
  for (const l of progressLines) assert.match(l, /^frames: \d+\/7 videos \(\d+%\) \d+\.\d\/s ETA (\d+s|\d+m\d\ds|\?)/);
  assert.match(progressLines.at(-1)!, /^frames: 7\/7 videos \(100%\) .* ETA 0s/);
  assert.match(lines.at(-1)!, /^frames: 6 done \(0 padded\), 0 already done, 1 failed \(1 missing; see .*report\.json\) in \d+\.\ds, \d+ ffmpeg processes -> /);
});

test('the terminal bar shows count, rate and ETA', async () => {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 30, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const bar = createProgress('frames', 4, { mode: 'bar', stream: stream as unknown as NodeJS.WriteStream, unit: 'videos' });
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 30));
    bar.tick(1, `v${i}`);
  }
  bar.stop('frames: 4 done');
  assert.match(text, /frames \|[^|]+\| 4\/4 videos \| \d+\.\d\/s \| ETA \d+s \| v3/);
  assert.match(text, /frames: 4 done\n$/);
});

test('stage: ffmpeg calls as batched (one per video with batch 1), ffprobe at most once (none when the MP4 header answers), never more ffmpeg processes at once than the concurrency', () => {
  // A wrapper that logs when each frame-extraction ffmpeg starts and ends (capability queries are not logged).
  const log = path.join(dir, 'ffmpeg-calls.log');
  const wrapper = path.join(dir, 'ffmpeg-wrapper');
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\ncase "$*" in *-vf*) echo "start $$" >> "${log}"; "${ffmpegBinaries().ffmpeg}" "$@"; rc=$?; echo "end $$" >> "${log}"; exit $rc;; esac\nexec "${ffmpegBinaries().ffmpeg}" "$@"\n`,
    { mode: 0o755 },
  );
  const probeWrapper = path.join(dir, 'ffprobe-wrapper');
  fs.writeFileSync(probeWrapper, `#!/bin/sh\necho "probe $*" >> "${log}.probe"\nexec "${ffmpegBinaries().ffprobe}" "$@"\n`, { mode: 0o755 });
  // With the MP4 header probe (the default: these H.264 clips need no ffprobe) the 6 clips go one to a process
  // with batch 1, all in one with one worker, and in shrinking batches (3, 2, 1) with two. With
  // WLASL_PROBE=ffprobe (exactly one ffprobe per video) a video's stream is not known from its header, so each
  // runs alone.
  const cases = [
    { concurrency: 1, probe: 'header', batch: 1, processes: 6 },
    { concurrency: 1, probe: 'header', batch: 8, processes: 1 },
    { concurrency: 2, probe: 'header', batch: 8, processes: 3 },
    { concurrency: 2, probe: 'ffprobe', batch: 8, processes: 6 },
  ] as const;
  for (const { concurrency, probe, batch, processes } of cases) {
    fs.rmSync(log, { force: true });
    fs.rmSync(`${log}.probe`, { force: true });
    const env = { WLASL_PROGRESS: 'none', WLASL_FFMPEG: wrapper, WLASL_FFPROBE: probeWrapper, ...(probe === 'ffprobe' ? { WLASL_PROBE: 'ffprobe' } : {}) };
    const { summary } = runStage(env, concurrency, [], batch);
    const probes = fs.existsSync(`${log}.probe`) ? fs.readFileSync(`${log}.probe`, 'utf8').trim().split('\n') : [];
    assert.equal(probes.length, probe === 'ffprobe' ? 6 : 0, `${probe}: ffprobe calls`);
    if (probe === 'ffprobe') for (const clip of clips) assert.equal(probes.filter((p) => p.endsWith(clip)).length, 1, clip);
    assert.deepEqual(summary, { done: 6, skipped: 0, failed: 0, processes });
    let running = 0;
    let peak = 0;
    const events = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(events.filter((e) => e.startsWith('start')).length, processes, `concurrency ${concurrency}, batch ${batch}: ffmpeg calls`);
    for (const e of events) {
      running += e.startsWith('start') ? 1 : -1;
      peak = Math.max(peak, running);
    }
    assert.equal(running, 0);
    assert.ok(peak <= concurrency, `concurrency ${concurrency}: ${peak} ffmpeg processes at once`);
  }
});

test('stage: an ffmpeg that fails every batch leaves each video to a run of its own, and none is lost', () => {
  // Fails any extraction with more than one input, the way a batch fails when one of its files cannot be opened.
  const wrapper = path.join(dir, 'ffmpeg-no-batches');
  fs.writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *" -i "*" -i "*) echo "refused" >&2; exit 1;; esac\nexec "${ffmpegBinaries().ffmpeg}" "$@"\n`, { mode: 0o755 });
  const { summary } = runStage({ WLASL_PROGRESS: 'none', WLASL_FFMPEG: wrapper }, 1, [], 8);
  assert.deepEqual(summary, { done: 6, skipped: 0, failed: 0, processes: 7 }, 'the failed batch, then 6 alone');
});

test('ETA formatting rounds before splitting minutes and seconds', () => {
  assert.equal(formatSeconds(42.4), '42s');
  assert.equal(formatSeconds(59.6), '1m00s');
  assert.equal(formatSeconds(539.6), '9m00s');
  assert.equal(formatSeconds(545), '9m05s');
  assert.equal(formatSeconds(3 * 3600 + 7 * 60 + 59.7), '3h08m');
  assert.equal(formatSeconds(Infinity), '?');
});
