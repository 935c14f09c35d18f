import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { DEFAULT_CONFIG, FramesConfig, mergeConfig, DeepPartial } from '../src/config';
import type { VideoJob } from '../src/metadata/types';
import { finishedFramePaths, frameDir, paramsKey, readFinishedManifest, runFrameStage } from '../src/video/stage';
import { loadFrameDir } from '../src/video/read';
import { makeTempDir, REPO_ROOT } from './helpers';
import { makeAudioOnly, makeGradientVideo, makeMostlyUndecodableClip, makeNoisyClip, truncateCopy } from './video_fixtures';

const dir = makeTempDir('wlasl-video-stage-');

function config(override: DeepPartial<FramesConfig> = {}): FramesConfig {
  return mergeConfig(DEFAULT_CONFIG.frames, { size: 32, concurrency: 2, ...override });
}

/** Every file under `root` (relative path -> bytes), hidden temporaries included. */
function snapshot(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.set(path.relative(root, p), fs.readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** Resolves once the process is really paused (signals are delivered asynchronously); false if it exited. */
async function stopped(pid: number): Promise<boolean> {
  const statFile = `/proc/${pid}/stat`;
  if (!fs.existsSync('/proc/self/stat')) {
    await new Promise((r) => setTimeout(r, 20));
    return true;
  }
  for (;;) {
    let stat: string;
    try {
      stat = fs.readFileSync(statFile, 'utf8');
    } catch {
      return false;
    }
    // The state letter follows the command name in parentheses: "pid (comm) T ...".
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return true;
    if (state === 'Z' || state === 'X') return false;
    await new Promise((r) => setTimeout(r, 1));
  }
}

function videoFolders(outDir: string): { finished: string[]; hidden: string[] } {
  const names = fs.readdirSync(outDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  return { finished: names.filter((n) => !n.startsWith('.')), hidden: names.filter((n) => n.startsWith('.')) };
}

test('stage: good videos done, each bad kind reported, rerun skips, damage and parameter changes handled', async () => {
  const good = ['g1', 'g2'].map((id) => makeGradientVideo(path.join(dir, 'in', `${id}.mp4`)));
  const short = makeGradientVideo(path.join(dir, 'in', 'short.mp4'), { frames: 20 });
  const clip = makeNoisyClip(path.join(dir, 'in', 'clip.mp4'), { seconds: 1 });
  const empty = path.join(dir, 'in', 'empty.mp4');
  fs.writeFileSync(empty, '');
  const text = path.join(dir, 'in', 'text.mp4');
  fs.writeFileSync(text, 'not a video');
  const jobs: VideoJob[] = [
    { videoId: 'g1', path: good[0], bbox: [40, 30, 200, 150] },
    { videoId: 'g2', path: good[1], bbox: null },
    { videoId: 'short', path: short, bbox: [0, 0, 128, 96] },
    { videoId: 'missing', path: path.join(dir, 'in', 'nope.mp4'), bbox: null },
    { videoId: 'empty', path: empty, bbox: null },
    { videoId: 'text', path: text, bbox: null },
    { videoId: 'audio', path: makeAudioOnly(path.join(dir, 'in', 'audio.mp4')), bbox: null },
    { videoId: 'cut', path: truncateCopy(clip, path.join(dir, 'in', 'cut.mp4'), 0.5), bbox: null },
    { videoId: 'badbox', path: good[0], bbox: [300, 10, 400, 90] },
    { videoId: '../evil', path: good[0], bbox: null },
    { videoId: 'g1', path: good[1], bbox: null },
  ];
  // A space and a % in the output path: ffmpeg's image2 muxer would read '%' as part of its pattern.
  const outRoot = path.join(dir, 'out 100%');
  const cfg = config();
  const events: string[] = [];
  const first = await runFrameStage(jobs, cfg, outRoot, { progress: 'none', onProgress: (e) => events.push(`${e.videoId}:${e.status}`) });

  assert.equal(first.outDir, path.join(outRoot, paramsKey(cfg)));
  assert.equal(first.done, 3);
  assert.equal(first.padded, 1);
  assert.equal(first.skipped, 0);
  assert.equal(first.failed, 8);
  assert.equal(events.length, jobs.length);
  const kinds = Object.fromEntries(first.failures.map((f) => [f.videoId, f.kind]));
  assert.deepEqual(kinds, {
    missing: 'missing', empty: 'empty', text: 'not-a-video', audio: 'no-video-stream', cut: 'truncated',
    badbox: 'bad-bbox', '../evil': 'unsafe-id', g1: 'unsafe-id',
  });
  for (const f of first.failures) assert.ok(f.reason.length > 10 && f.file, JSON.stringify(f));
  const report = JSON.parse(fs.readFileSync(first.reportFile, 'utf8'));
  assert.equal(report.failed, 8);
  assert.deepEqual(report.failures, first.failures);
  assert.ok(fs.existsSync(path.join(first.outDir, 'params.json')));
  assert.ok(!fs.existsSync(path.join(dir, 'evil')), 'an unsafe id never becomes a path');

  const frames = await finishedFramePaths(outRoot, cfg, 'short');
  assert.ok(frames);
  assert.equal(frames.length, 31);
  assert.deepEqual(frames, [...frames].sort());
  const manifest = await readFinishedManifest(frameDir(outRoot, cfg, 'short'));
  assert.equal(manifest?.padded, 16);
  const loaded = await loadFrameDir(outRoot, cfg, 'g1');
  assert.equal(loaded.count, 31);
  assert.equal(loaded.frames.length, 31 * 32 * 32 * 3);
  assert.equal(await finishedFramePaths(outRoot, cfg, 'missing'), null);

  // Rerun: nothing redone, output byte-identical.
  const before = snapshot(path.join(first.outDir, 'g1'));
  const second = await runFrameStage(jobs, cfg, outRoot, { progress: 'none' });
  assert.equal(second.done, 0);
  assert.equal(second.skipped, 3);
  assert.equal(second.failed, 8);
  assert.deepEqual(snapshot(path.join(first.outDir, 'g1')), before);

  // A finished folder that lost a frame is no longer done: redone, identical to before.
  fs.rmSync(path.join(first.outDir, 'g1', '000020.jpg'));
  const third = await runFrameStage(jobs.slice(0, 3), cfg, outRoot, { progress: 'none' });
  assert.equal(third.done, 1);
  assert.equal(third.skipped, 2);
  assert.deepEqual(snapshot(path.join(first.outDir, 'g1')), before);

  // Other parameters go to another folder; the short video is skipped and reported under 'skip'.
  const skipCfg = config({ size: 48, window: { shortVideoPolicy: 'skip' } });
  const fourth = await runFrameStage(jobs.slice(0, 3), skipCfg, outRoot, { progress: 'none' });
  assert.notEqual(fourth.outDir, first.outDir);
  assert.equal(fourth.done, 2);
  assert.deepEqual(fourth.failures.map((f) => [f.videoId, f.kind]), [['short', 'short']]);
  assert.equal((await loadFrameDir(outRoot, skipCfg, 'g2')).size, 48);
  assert.deepEqual(snapshot(path.join(first.outDir, 'g1')), before);
});

test('stage: an impossible config is refused before any video is touched', async () => {
  const outRoot = path.join(dir, 'refused');
  for (const bad of [{ size: 0 }, { window: { start: 10, end: 5 } }, { jpegQuality: 0 }] as DeepPartial<FramesConfig>[]) {
    await assert.rejects(runFrameStage([], config(bad), outRoot, { progress: 'none' }), (e: Error) => e.name === 'ConfigError');
  }
  assert.ok(!fs.existsSync(outRoot));
});

test('stage: killed with SIGKILL mid-run, a rerun finishes with output identical to an uninterrupted run', async () => {
  const jobs: VideoJob[] = [];
  for (let i = 0; i < 10; i++) {
    const file = makeNoisyClip(path.join(dir, 'kill', `v${i}.mp4`), { seconds: 2 });
    jobs.push({ videoId: `v${i}`, path: file, bbox: [100 + i, 50, 500, 400] });
  }
  const cfg = config({ size: 224, concurrency: 1 });
  const jobsFile = path.join(dir, 'kill', 'jobs.json');
  const cfgFile = path.join(dir, 'kill', 'config.json');
  fs.writeFileSync(jobsFile, JSON.stringify(jobs));
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const killedRoot = path.join(dir, 'killed');
  const outDir = path.join(killedRoot, paramsKey(cfg));

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'video_stage_child.ts'), jobsFile, killedRoot, cfgFile], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let state = { finished: [] as string[], hidden: [] as string[] };
  // Kill once at least two videos are finished and another is half-written (frames in its temporary folder).
  // The child is paused while we look: it renames temporary folders, so looking at a running child races with it.
  while (child.exitCode === null) {
    if (fs.existsSync(outDir) && child.kill('SIGSTOP') && (await stopped(child.pid!))) {
      state = videoFolders(outDir);
      const halfWritten = state.hidden.some((h) => fs.readdirSync(path.join(outDir, h)).some((n) => n.endsWith('.jpg')));
      if (state.finished.length >= 2 && halfWritten) {
        child.kill('SIGKILL');
        break;
      }
      child.kill('SIGCONT');
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await exited;
  assert.equal(child.signalCode, 'SIGKILL', 'the child must be killed mid-run, not finish');
  state = videoFolders(outDir);
  assert.ok(state.hidden.length >= 1, 'a half-written video is left in a temporary folder');
  assert.ok(state.finished.length >= 2 && state.finished.length < jobs.length);
  for (const name of state.finished) {
    assert.ok(await readFinishedManifest(path.join(outDir, name), paramsKey(cfg)), `${name} is visible only when complete`);
  }

  const resumed = await runFrameStage(jobs, cfg, killedRoot, { progress: 'none' });
  assert.equal(resumed.skipped, state.finished.length);
  assert.equal(resumed.done, jobs.length - state.finished.length);
  assert.equal(resumed.failed, 0);
  assert.deepEqual(videoFolders(outDir).hidden, [], 'temporary folders of the killed run are removed');

  const cleanRoot = path.join(dir, 'clean');
  await runFrameStage(jobs, cfg, cleanRoot, { progress: 'none' });
  const strip = (m: Map<string, Buffer>) => new Map([...m].filter(([k]) => !k.endsWith('report.json')));
  const killedFiles = strip(snapshot(outDir));
  const cleanFiles = strip(snapshot(path.join(cleanRoot, paramsKey(cfg))));
  assert.equal(killedFiles.size, jobs.length * 32 + 1);
  assert.deepEqual([...killedFiles.keys()].sort(), [...cleanFiles.keys()].sort());
  for (const [name, bytes] of cleanFiles) assert.ok(bytes.equals(killedFiles.get(name)!), `${name} differs`);
});

test('stage: videos batched into one ffmpeg process give the frames and failures of one process each', async () => {
  const root = path.join(dir, 'batch');
  const made = (id: string, file: string) => ({ videoId: id, path: file, bbox: null });
  const clip = makeNoisyClip(path.join(root, 'in', 'clip.mp4'), { seconds: 1.6 });
  // Its index up front: the header reads fine, and ffmpeg itself finds the data cut off.
  const cutSource = makeNoisyClip(path.join(root, 'in', 'whole.mp4'), { seconds: 2, faststart: true });
  const text = path.join(root, 'in', 'text.mp4');
  fs.mkdirSync(path.dirname(text), { recursive: true });
  fs.writeFileSync(text, 'not a video');
  // Good clips with and without a bbox, a short one (padded), a truncated one, a non-video and a bbox outside
  // the frame, mixed so that bad ones share a batch with good ones.
  const jobs: VideoJob[] = [
    { ...made('a', makeGradientVideo(path.join(root, 'in', 'a.mp4'))), bbox: [40, 30, 200, 150] },
    made('cut', truncateCopy(cutSource, path.join(root, 'in', 'cut.mp4'), 0.5)),
    made('b', makeNoisyClip(path.join(root, 'in', 'b.mp4'), { seconds: 2 })),
    made('short', makeGradientVideo(path.join(root, 'in', 'short.mp4'), { frames: 20 })),
    made('text', text),
    { ...made('badbox', path.join(root, 'in', 'a.mp4')), bbox: [300, 10, 400, 90] },
    made('c', clip),
    made('mostly-bad', makeMostlyUndecodableClip(path.join(root, 'in', 'mostly-bad.mp4'))),
    made('d', makeGradientVideo(path.join(root, 'in', 'd.mp4'), { frames: 60 })),
  ];
  const cfg = config({ concurrency: 1 });
  const alone = await runFrameStage(jobs, cfg, path.join(root, 'alone'), { progress: 'none', batch: 1 });
  // All 9 in one batch (a batch of 8 would leave the last job to a process of its own).
  const together = await runFrameStage(jobs, cfg, path.join(root, 'together'), { progress: 'none', batch: 16 });
  assert.equal(alone.batched, 0);
  // One process for each video whose header was read, and a second for mostly-bad: its run without the stream
  // analysis failed, so it ran again with it.
  assert.equal(alone.processes, 8, 'one process for each video whose header was read, two for mostly-bad');
  assert.equal(together.done, alone.done);
  assert.equal(together.done, 5);
  assert.equal(together.padded, 1);
  assert.equal(alone.padded, 1);
  // (ffmpeg names its decoder by memory address, "[h264 @ 0x1fea9500]": the one part that differs by run.)
  const failures = (s: typeof alone) => s.failures.map((f) => ({ ...f, reason: f.reason.replace(/ @ 0x[0-9a-f]+\]/g, ']') }));
  assert.deepEqual(failures(together), failures(alone));
  assert.deepEqual(together.failures.map((f) => [f.videoId, f.kind]), [['badbox', 'bad-bbox'], ['cut', 'truncated'], ['mostly-bad', 'decode-failed'], ['text', 'not-a-video']]);
  // a, b, c and d came out of the shared process whole. mostly-bad came out whole too, but the good clips'
  // frames diluted its decode errors below ffmpeg's limit, which it fails alone: ffmpeg names its input in
  // those errors, so it was run alone. short came out short of its window while ffmpeg complained (about
  // mostly-bad, but its decoder's messages do not say which input), so it was judged alone as well. cut was
  // never in the batch: its header cannot be read without ffprobe.
  assert.equal(together.batched, 4);
  assert.equal(together.processes, 5, 'the batch, then short and cut alone, and mostly-bad alone twice (without, then with the stream analysis)');
  // Frames and manifests byte for byte (the run reports differ in their times and counts).
  const files = (out: string) => new Map([...snapshot(out)].filter(([name]) => name !== 'report.json'));
  const expected = files(alone.outDir);
  assert.deepEqual(new Set([...expected.keys()].map((name) => name.split(path.sep)[0]).filter((n) => !n.endsWith('.json'))), new Set(['a', 'b', 'short', 'c', 'd']));
  assert.deepEqual(files(together.outDir), expected);
  for (const batch of [0, 65]) {
    await assert.rejects(runFrameStage(jobs, cfg, path.join(root, 'never'), { progress: 'none', batch }), new RegExp(`batch \\(videos per ffmpeg process\\) must be a whole number from 1 to 64, got ${batch}`));
  }
  assert.ok(!fs.existsSync(path.join(root, 'never')), 'refused before anything is written');
});
