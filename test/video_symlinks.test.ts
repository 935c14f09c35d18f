import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, mergeConfig, type FramesConfig } from '../src/config';
import { buildVideoIndex, readWlaslMetadata } from '../src/metadata/index';
import { organiseSplits } from '../src/organise/index';
import { jobsOf } from '../src/pipeline/run';
import { runFrameStage } from '../src/video/stage';
import type { FrameFailure } from '../src/video/types';
import { makeTempDir, REPO_ROOT, runCli, type CliResult } from './helpers';

/**
 * The dataset-folder rule for videos (src/video/containment.ts) on a real dataset folder: a video that is a
 * symbolic link leading out of the dataset is refused when opened and reported (kind 'outside-dataset', the
 * file and its target named) unless links are followed on request; links inside the dataset, and a dataset or
 * videos/ folder that is itself a link, work as before.
 */
const SAMPLE = path.join(REPO_ROOT, 'data', 'sample');

/** Ids by role: real file, link inside the dataset, link to a real video elsewhere, link to /etc/passwd, dangling link. */
const REAL = '90000';
const INSIDE = '90001';
const OUTSIDE = '90002';
const PASSWD = '90003';
const DANGLING = '90004';

interface GlossJson {
  gloss: string;
  instances: Array<{ video_id: string; split: string; [k: string]: unknown }>;
}

/** A WLASL-layout dataset under `root/data` whose five videos are the five cases above; returns its folder. */
function makeDataset(root: string): string {
  const data = path.join(root, 'data');
  const videos = path.join(data, 'videos');
  fs.mkdirSync(videos, { recursive: true });
  fs.mkdirSync(path.join(data, 'extra'));
  fs.mkdirSync(path.join(root, 'elsewhere'));
  const sample = (id: string) => path.join(SAMPLE, 'videos', `${id}.mp4`);
  fs.copyFileSync(sample(REAL), path.join(videos, `${REAL}.mp4`));
  fs.copyFileSync(sample(INSIDE), path.join(data, 'extra', `${INSIDE}.mp4`));
  fs.symlinkSync(path.join('..', 'extra', `${INSIDE}.mp4`), path.join(videos, `${INSIDE}.mp4`));
  fs.copyFileSync(sample(OUTSIDE), path.join(root, 'elsewhere', `${OUTSIDE}.mp4`));
  fs.symlinkSync(path.join(root, 'elsewhere', `${OUTSIDE}.mp4`), path.join(videos, `${OUTSIDE}.mp4`));
  fs.symlinkSync('/etc/passwd', path.join(videos, `${PASSWD}.mp4`));
  fs.symlinkSync(path.join(root, 'gone.mp4'), path.join(videos, `${DANGLING}.mp4`));
  const ids = new Set([REAL, INSIDE, OUTSIDE, PASSWD, DANGLING]);
  const metadata = (JSON.parse(fs.readFileSync(path.join(SAMPLE, 'WLASL_v0.3.json'), 'utf8')) as GlossJson[])
    .map((g) => ({ ...g, instances: g.instances.filter((i) => ids.has(i.video_id)).map((i) => ({ ...i, split: 'train' })) }))
    .filter((g) => g.instances.length > 0);
  assert.equal(metadata.flatMap((g) => g.instances).length, ids.size, 'the sample lists all five ids');
  fs.writeFileSync(path.join(data, 'WLASL_v0.3.json'), JSON.stringify(metadata));
  return data;
}

function framesConfig(): FramesConfig & { output: 'jpeg' } {
  return { ...mergeConfig(DEFAULT_CONFIG.frames, { size: 32, concurrency: 2, window: { start: 0, end: 7 } }), output: 'jpeg' };
}

function failuresById(failures: FrameFailure[]): Map<string, FrameFailure> {
  return new Map(failures.map((f) => [f.videoId, f]));
}

test('a video linking out of the dataset folder is refused and reported, unless links are followed', async () => {
  const root = makeTempDir('wlasl-links-');
  const data = makeDataset(root);
  const metadata = readWlaslMetadata(path.join(data, 'WLASL_v0.3.json'));

  const index = buildVideoIndex(metadata, { videosDir: path.join(data, 'videos') });
  // A link to nothing is a missing video, said in the index's warnings; the others are listed.
  assert.deepEqual(index.missing.map((e) => e.videoId), [DANGLING]);
  assert.match(index.warnings.join('\n'), new RegExp(`symbolic links to nothing, counted as missing videos \\(e\\.g\\. ${DANGLING}\\.mp4\\)`));
  const strict = await runFrameStage(jobsOf(index.present), framesConfig(), path.join(root, 'frames-strict'), { progress: 'none' });
  assert.equal(strict.done, 2, 'the real file and the link inside the dataset are read');
  const failed = failuresById(strict.failures);
  assert.deepEqual([...failed.keys()].sort(), [OUTSIDE, PASSWD].sort());
  for (const [id, target] of [[OUTSIDE, path.join(fs.realpathSync(root), 'elsewhere', `${OUTSIDE}.mp4`)], [PASSWD, '/etc/passwd']] as const) {
    const f = failed.get(id)!;
    assert.equal(f.kind, 'outside-dataset', `${id}: ${f.reason}`);
    assert.equal(f.file, path.join(data, 'videos', `${id}.mp4`));
    assert.ok(f.reason.startsWith(`symbolic link to ${target}, outside the dataset folder ${data}`), f.reason);
    assert.match(f.reason, /--follow-symlinks/);
  }
  // The report on disk says the same (the stage's report.json lists kind and reason).
  const report = JSON.parse(fs.readFileSync(strict.reportFile, 'utf8')) as { failures: FrameFailure[] };
  assert.equal(failuresById(report.failures).get(PASSWD)!.kind, 'outside-dataset');

  // Followed on request: the outside video is read; /etc/passwd is then opened and refused as not a video.
  const followed = buildVideoIndex(metadata, { videosDir: path.join(data, 'videos'), followSymlinks: true });
  const loose = await runFrameStage(jobsOf(followed.present), framesConfig(), path.join(root, 'frames-followed'), { progress: 'none' });
  assert.equal(loose.done, 3);
  const looseFailed = failuresById(loose.failures);
  assert.deepEqual([...looseFailed.keys()].sort(), [PASSWD]);
  assert.equal(looseFailed.get(PASSWD)!.kind, 'not-a-video');
});

test('a dataset whose folder or videos/ folder is itself a link works as a plain one', async () => {
  const root = makeTempDir('wlasl-links-');
  const data = makeDataset(root);
  const metadata = readWlaslMetadata(path.join(data, 'WLASL_v0.3.json'));
  const ids = (summary: { failures: FrameFailure[] }) => summary.failures.map((f) => `${f.videoId}:${f.kind}`).sort();

  // The whole dataset reached through a link: the same answers as through its real path.
  fs.symlinkSync(data, path.join(root, 'data-link'));
  const viaLink = buildVideoIndex(metadata, { videosDir: path.join(root, 'data-link', 'videos') });
  const a = await runFrameStage(jobsOf(viaLink.present), framesConfig(), path.join(root, 'frames-a'), { progress: 'none' });
  assert.equal(a.done, 2, 'the real file and the link inside the dataset');
  assert.deepEqual(ids(a), [`${OUTSIDE}:outside-dataset`, `${PASSWD}:outside-dataset`].sort());

  // videos/ on "another disk": real files there are read; a link from there to /etc/passwd is still refused.
  const other = path.join(root, 'other');
  const disk = path.join(root, 'disk', 'videos');
  fs.mkdirSync(other);
  fs.mkdirSync(disk, { recursive: true });
  fs.copyFileSync(path.join(SAMPLE, 'videos', `${REAL}.mp4`), path.join(disk, `${REAL}.mp4`));
  fs.symlinkSync('/etc/passwd', path.join(disk, `${PASSWD}.mp4`));
  fs.symlinkSync(disk, path.join(other, 'videos'));
  fs.copyFileSync(path.join(data, 'WLASL_v0.3.json'), path.join(other, 'WLASL_v0.3.json'));
  const onDisk = buildVideoIndex(metadata, { videosDir: path.join(other, 'videos') });
  assert.deepEqual(onDisk.present.map((e) => e.videoId).sort(), [REAL, PASSWD].sort());
  const b = await runFrameStage(jobsOf(onDisk.present), framesConfig(), path.join(root, 'frames-b'), { progress: 'none' });
  assert.equal(b.done, 1);
  assert.deepEqual(ids(b), [`${PASSWD}:outside-dataset`]);
});

test('organise never copies or links a video that links out of the dataset; it lists it as refused', async () => {
  const root = makeTempDir('wlasl-links-');
  const data = makeDataset(root);
  const index = buildVideoIndex(readWlaslMetadata(path.join(data, 'WLASL_v0.3.json')), { videosDir: path.join(data, 'videos') });
  for (const mode of ['copy', 'symlink', 'hardlink'] as const) {
    const out = path.join(root, `organised-${mode}`);
    const result = await organiseSplits(index, out, { mode });
    assert.deepEqual(result.refused.map((r) => r.videoId).sort(), [OUTSIDE, PASSWD].sort(), mode);
    assert.ok(result.refused.every((r) => r.reason.includes('outside the dataset folder')), mode);
    const placed = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.mp4')).map((f) => path.basename(f, '.mp4')).sort();
    assert.deepEqual(placed, [REAL, INSIDE].sort(), `${mode}: only videos of the dataset are placed`);
  }
  const copied = (fs.readdirSync(path.join(root, 'organised-copy'), { recursive: true }) as string[]).find((f) => f.endsWith(`${REAL}.mp4`))!;
  assert.ok(fs.readFileSync(path.join(root, 'organised-copy', copied)).equals(fs.readFileSync(path.join(SAMPLE, 'videos', `${REAL}.mp4`))));
});

const cli = (args: string[], home: string): Promise<CliResult> => runCli(args, { XDG_CACHE_HOME: path.join(home, 'xdg-cache') });

test('prepare and features: refused links are reported and exit 3; --follow-symlinks reads them', async () => {
  const root = makeTempDir('wlasl-links-');
  const data = makeDataset(root);
  const settings = ['--frame-start', '0', '--frame-end', '7', '--sample-size', '4', '--stride', '4'];
  const strict = await cli(['prepare', '--data', data, '--out', path.join(root, 'prep'), ...settings], root);
  assert.equal(strict.code, 3, strict.stderr);
  assert.match(strict.stdout, /2 refused \(links out of the dataset folder\)/);
  const framesDir = path.join(root, 'prep', 'frames');
  const [params] = fs.readdirSync(framesDir);
  const report = JSON.parse(fs.readFileSync(path.join(framesDir, params!, 'report.json'), 'utf8')) as { failures: FrameFailure[] };
  const kinds = new Map(report.failures.map((f) => [f.videoId, f.kind]));
  assert.equal(kinds.get(OUTSIDE), 'outside-dataset');
  assert.equal(kinds.get(PASSWD), 'outside-dataset');
  assert.ok(!fs.existsSync(path.join(framesDir, params!, OUTSIDE)), 'no frames from the outside video');

  const followed = await cli(['prepare', '--data', data, '--out', path.join(root, 'prep-follow'), '--follow-symlinks', ...settings], root);
  assert.equal(followed.code, 3, followed.stderr); // /etc/passwd still fails (the dangling link is a missing video)
  const [p2] = fs.readdirSync(path.join(root, 'prep-follow', 'frames'));
  const report2 = JSON.parse(fs.readFileSync(path.join(root, 'prep-follow', 'frames', p2!, 'report.json'), 'utf8')) as { failures: FrameFailure[] };
  const kinds2 = new Map(report2.failures.map((f) => [f.videoId, f.kind]));
  assert.equal(kinds2.has(OUTSIDE), false, 'the outside video is read with --follow-symlinks');
  assert.equal(kinds2.get(PASSWD), 'not-a-video');
  assert.ok(fs.existsSync(path.join(root, 'prep-follow', 'frames', p2!, OUTSIDE, 'manifest.json')));

  // features (random weights: calibration draws on the same videos) skips them too and goes on.
  const cacheDir = path.join(root, 'cache');
  const features = await cli(['features', '--data', data, '--cache-dir', cacheDir, '--weights', 'random', '--alpha', '0.35', ...settings], root);
  assert.equal(features.code, 3, features.stderr);
  assert.match(features.stdout, /2 computed, 0 reused, 2 failed/);
  const failuresFile = (fs.readdirSync(cacheDir, { recursive: true }) as string[]).find((f) => path.basename(f) === 'failures.json');
  assert.ok(failuresFile, 'features wrote its failures');
  const { failed } = JSON.parse(fs.readFileSync(path.join(cacheDir, failuresFile), 'utf8')) as { failed: Array<{ videoId: string; reason: string }> };
  for (const id of [OUTSIDE, PASSWD]) {
    assert.match(failed.find((f) => f.videoId === id)?.reason ?? '', new RegExp(`${id}\\.mp4: symbolic link to .*, outside the dataset folder`), id);
  }
});
