import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArchiveError, CacheError, MetadataError, ModelDirError, UnsafeNameError, WeightsError, WlaslError } from '../src/errors';
import { parseWlaslMetadata, readWlaslMetadata, buildVideoIndex } from '../src/metadata/index';
import { organiseSplits } from '../src/organise/index';
import { extractZip } from '../src/acquire/index';
import { evaluateModelDir } from '../src/pipeline/evaluate';
import { predictVideo } from '../src/pipeline/predict';
import { datasetFiles } from '../src/pipeline/run';
import { cacheLocation } from '../src/runtime/user_cache';
import { CacheSequenceSource } from '../src/dataset/cache_source';
import { saveModelDir } from '../src/model/model_dir';
import { LstmHead } from '../src/model/head';
import { initBackend } from '../src/runtime/backend';
import { SMALL_SETTINGS, linkSampleSubset } from '../scripts/kill_trials';
import { REPO_ROOT, makeTempDir, runCli, type CliResult } from './helpers';
import { BAD_VIDEOS, SAMPLE_DIR, UNSAFE_GLOSSES, badMetadataVariants, makeBadVideos, makeZip, sampleMetadata, snapshotTree, writtenOutside, type GlossJson } from './reliability_fixtures';

/**
 * Issue 8: the bad-input corpus (test/reliability_fixtures.ts) through every stage and the CLI. Each case ends
 * in a clear error naming the file and the problem, or a skip recorded in the run's report; the good items
 * are finished; nothing is written outside the output folder; finished outputs survive a rerun unchanged.
 * Cases covered well elsewhere are not repeated: see the table in README.md ("Reliability").
 */
/** Every folder of this file's runs; `out` is the only place they may write to. */
const ROOT = makeTempDir('wlasl-corpus-');
const DATA = path.join(ROOT, 'data');
const OUT = path.join(ROOT, 'out');

type Cli = CliResult;
// Caches land in --cache-dir (inside OUT); a command without one gets a per-user cache inside OUT too, never the real home.
const cli = (args: string[]): Promise<Cli> => runCli(args, { XDG_CACHE_HOME: path.join(OUT, 'xdg-cache') });

/** The one error line the CLI prints. */
function errorLine(r: Cli): string {
  return r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? `(no error line) stdout: ${r.stdout.slice(-500)} stderr: ${r.stderr.slice(-500)}`;
}

/** Relative path -> bytes of every file under root. */
function contents(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of snapshotTree(root)) {
    const p = path.join(root, rel);
    if (fs.lstatSync(p).isFile()) out.set(rel, fs.readFileSync(p).toString('base64'));
  }
  return out;
}

// Two glosses named as unsafely as WLASL would allow (the schema takes any non-empty gloss).
const GLOSS_A = `../../${UNSAFE_GLOSSES[3]}`; // '..', '/', NUL
const GLOSS_B = `${UNSAFE_GLOSSES[4]} \\ ${UNSAFE_GLOSSES[5]}`; // newline, backslash, non-ASCII
/** A good clip listed with a bbox entirely outside its 438x328 frame. */
const OUTSIDE_BBOX_ID = '80010';
/** A good clip listed without any bbox: the whole frame is used. */
const NO_BBOX_ID = '80011';

/** The mixed data folder: 6 good sample videos, the broken ones, two bbox cases, unsafe gloss names. */
function makeMixedData(): { good: string[]; bad: Record<string, string> } {
  const kept: GlossJson[] = linkSampleSubset(DATA, { train: 1, val: 1, test: 1 }, 2);
  kept[0]!.gloss = GLOSS_A;
  kept[1]!.gloss = GLOSS_B;
  const good = kept.flatMap((g) => g.instances.map((i) => i.video_id));
  makeBadVideos(path.join(DATA, 'videos'));
  const splits = ['train', 'train', 'test', 'train', 'val', 'train'];
  Object.values(BAD_VIDEOS).forEach((id, k) => kept[k % 2]!.instances.push({ video_id: id, split: splits[k]! }));
  fs.copyFileSync(path.join(SAMPLE_DIR, 'videos', '90001.mp4'), path.join(DATA, 'videos', `${OUTSIDE_BBOX_ID}.mp4`));
  kept[0]!.instances.push({ video_id: OUTSIDE_BBOX_ID, split: 'train', bbox: [5000, 5000, 6000, 6000] });
  fs.copyFileSync(path.join(SAMPLE_DIR, 'videos', '90002.mp4'), path.join(DATA, 'videos', `${NO_BBOX_ID}.mp4`));
  kept[1]!.instances.push({ video_id: NO_BBOX_ID, split: 'train' });
  fs.writeFileSync(path.join(DATA, 'WLASL_v0.3.json'), JSON.stringify(kept));
  return { good: [...good, BAD_VIDEOS.hugeDeclaredSize, BAD_VIDEOS.short, NO_BBOX_ID], bad: { ...BAD_VIDEOS } };
}

test('metadata variants: each refused with a MetadataError naming the file and the field; unsafe glosses kept but foldered safely', async () => {
  const dir = makeTempDir('wlasl-corpus-meta-');
  const variants = badMetadataVariants(sampleMetadata());
  assert.ok(variants.length >= 20);
  for (const [i, v] of variants.entries()) {
    const file = path.join(dir, `variant${i}.json`);
    fs.writeFileSync(file, v.text);
    assert.throws(() => readWlaslMetadata(file), (e: unknown) => {
      assert.ok(e instanceof MetadataError, `${v.name}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${file}: `), `${v.name}: ${e.message}`);
      assert.match(e.message, v.expect, v.name);
      return true;
    });
  }
  // Every unsafe gloss parses (names are data), is organised inside outDir, and one too long for any file
  // system is refused naming the metadata file.
  const glosses = [...UNSAFE_GLOSSES];
  const ids = glosses.map((_, i) => `9000${i}`);
  const text = JSON.stringify(glosses.map((gloss, i) => ({ gloss, instances: [{ video_id: ids[i], split: 'train' }] })));
  fs.mkdirSync(path.join(dir, 'videos'));
  for (const id of ids) fs.copyFileSync(path.join(SAMPLE_DIR, 'videos', `${id}.mp4`), path.join(dir, 'videos', `${id}.mp4`));
  const index = buildVideoIndex(parseWlaslMetadata(text, path.join(dir, 'unsafe.json')), { videosDir: path.join(dir, 'videos') });
  assert.deepEqual(index.classes, glosses);
  const before = snapshotTree(dir);
  const result = await organiseSplits(index, path.join(dir, 'organised'), { mode: 'symlink' });
  assert.equal(result.created, glosses.length);
  assert.deepEqual(writtenOutside(before, snapshotTree(dir), ['organised']), []);
  assert.equal(fs.readdirSync(path.join(dir, 'organised', 'train')).length, glosses.length);
  const long = JSON.stringify([{ gloss: '\u624b'.repeat(100), instances: [{ video_id: '90000', split: 'train' }] }]);
  const longIndex = buildVideoIndex(parseWlaslMetadata(long, path.join(dir, 'long.json')), { videosDir: path.join(dir, 'videos') });
  await assert.rejects(organiseSplits(longIndex, path.join(dir, 'organised-long')), (e: unknown) => e instanceof UnsafeNameError && e.message.startsWith(path.join(dir, 'long.json')) && /too long for a folder name/.test(e.message));
});

test('zip archives escaping their folder or holding symlinks: refused by extractZip and by the CLI, nothing written', async () => {
  // Outputs two levels down, so '../../escaped.mp4' would land inside `dir`, where the snapshot sees it.
  const dir = makeTempDir('wlasl-corpus-zip-');
  const absolute = `/${path.basename(dir)}-abs.mp4`;
  const zips = {
    slip: { entries: [{ name: 'videos/00001.mp4' }, { name: '../../escaped.mp4' }], expect: /zip-slip/ },
    absolute: { entries: [{ name: 'videos/00001.mp4' }, { name: absolute }], expect: /zip-slip/ },
    symlink: { entries: [{ name: 'videos/00001.mp4' }, { name: 'videos/link.mp4', symlinkTo: '/etc/passwd' }], expect: /is a symbolic link/ },
  };
  for (const name of Object.keys(zips)) await makeZip(path.join(dir, `${name}.zip`), zips[name as keyof typeof zips].entries);
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  const before = snapshotTree(dir);
  for (const [name, z] of Object.entries(zips)) {
    const file = path.join(dir, `${name}.zip`);
    const out = path.join(dir, 'a', 'b', `out-${name}`);
    await assert.rejects(extractZip(file, out), (e: unknown) => e instanceof ArchiveError && e.message.startsWith(`${file}: `) && z.expect.test(e.message));
  }
  // The CLI says the same in one line and exits 1.
  const r = await cli(['acquire', '--zip', path.join(dir, 'symlink.zip'), '--out', path.join(dir, 'a', 'b', 'out-cli')]);
  assert.equal(r.code, 1);
  assert.ok(errorLine(r).startsWith(`error: ${path.join(dir, 'symlink.zip')}: entry 'videos/link.mp4' is a symbolic link`), errorLine(r));
  assert.deepEqual(snapshotTree(dir), before, 'nothing extracted, nothing escaped');
  assert.ok(!fs.existsSync(absolute));
});

test('CLI on a data folder mixing good and broken videos: bad items reported, good items finished, nothing written outside, reruns keep outputs', { timeout: 300_000 }, async () => {
  const { good, bad } = makeMixedData();
  fs.mkdirSync(OUT);
  const before = snapshotTree(ROOT);
  const prepDir = path.join(OUT, 'prep');

  // prepare: organise (links) + JPEG frames. Exit 3: some videos failed, each in report.json with its reason.
  const prep = await cli(['prepare', '--data', DATA, '--out', prepDir, ...SMALL_SETTINGS]);
  assert.equal(prep.code, 3, `${prep.stdout}\n${prep.stderr}`);
  const [stageName] = fs.readdirSync(path.join(prepDir, 'frames'));
  const stage = path.join(prepDir, 'frames', stageName!);
  const report = JSON.parse(fs.readFileSync(path.join(stage, 'report.json'), 'utf8')) as { done: number; failures: Array<{ videoId: string; file: string; kind: string; reason: string }> };
  const kinds = Object.fromEntries(report.failures.map((f) => [f.videoId, f.kind]));
  assert.deepEqual(kinds, { [bad.zeroByte!]: 'empty', [bad.truncated!]: 'truncated', [bad.noise!]: 'not-a-video', [bad.audioOnly!]: 'no-video-stream', [OUTSIDE_BBOX_ID]: 'bad-bbox' });
  for (const f of report.failures) {
    assert.equal(f.file, path.join(DATA, 'videos', `${f.videoId}.mp4`));
    assert.ok(f.reason.length > 10, f.reason);
  }
  assert.match(report.failures.find((f) => f.videoId === OUTSIDE_BBOX_ID)!.reason, /outside the 438x328 frame/);
  assert.match(prep.stdout + prep.stderr, /5 failed \(1 empty, 1 truncated, 1 not-a-video, 1 no-video-stream, 1 bad-bbox; see .*report\.json\)/);
  // Good items (also the huge declared mdat size, the clip shorter than the window, the one without bbox) are done.
  assert.equal(report.done, good.length);
  for (const id of good) assert.ok(fs.existsSync(path.join(stage, id, 'manifest.json')), `${id} finished`);
  const short = JSON.parse(fs.readFileSync(path.join(stage, bad.short!, 'manifest.json'), 'utf8'));
  assert.ok(short.padded > 0, 'the short clip is padded to the window, and says so');
  for (const f of report.failures) assert.ok(!fs.existsSync(path.join(stage, f.videoId)), `no partial folder for ${f.videoId}`);
  assert.deepEqual(fs.readdirSync(stage).filter((n) => n.startsWith('.')), [], 'no temporaries left');
  // Unsafe glosses became encoded folder names inside prep/videos; the mapping file gives them back.
  const mapping = JSON.parse(fs.readFileSync(path.join(prepDir, 'videos', 'gloss_names.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.values(mapping).sort(), [GLOSS_A, GLOSS_B].sort());
  for (const folder of Object.keys(mapping)) assert.match(folder, /^[A-Za-z0-9_%-]+$/);

  // run: features, training, evaluation. Exit 3 (it finished, but left videos out); the skipped videos are listed
  // in the run folder with reasons, and the summary's last lines say so and why random weights mean little.
  const runDir = path.join(OUT, 'run');
  const cacheDir = path.join(OUT, 'cache');
  const run = await cli(['run', '--data', DATA, '--run-dir', runDir, '--cache-dir', cacheDir, ...SMALL_SETTINGS]);
  assert.equal(run.code, 3, `${run.stdout}\n${run.stderr}`);
  const skipped = JSON.parse(fs.readFileSync(path.join(runDir, 'data', 'skipped_videos.json'), 'utf8')).skipped as Array<{ videoId: string; reason: string }>;
  assert.deepEqual(skipped.map((s) => s.videoId).sort(), Object.keys(kinds).sort());
  for (const s of skipped) assert.ok(s.reason.startsWith(path.join(DATA, 'videos', `${s.videoId}.mp4`)), s.reason);
  const summary = fs.readFileSync(path.join(runDir, 'summary.txt'), 'utf8');
  assert.match(summary, /5 failed \(data\/skipped_videos\.json\)/);
  const [skippedLine, warningLine] = summary.trim().split('\n').slice(-2);
  assert.match(skippedLine!, /^5 of \d+ videos were skipped .*data\/skipped_videos\.json$/);
  assert.match(warningLine!, /^WARNING: this run used seeded random backbone weights\..*not what the recogniser can do/);
  assert.match(summary, /^test \(per video, \d+ videos\): .*\(chance with 2 classes: 50\.0%, 100\.0%, 100\.0%\)$/m);
  assert.ok(run.stdout.trimEnd().split('\n').slice(-4).join('\n').includes('videos were skipped'), 'the skipped count is among the last lines printed');
  const modelDir = path.join(runDir, 'model');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(modelDir, 'wlasl-model.json'), 'utf8')).classes, [GLOSS_A, GLOSS_B]);
  assert.ok(fs.existsSync(path.join(runDir, 'charts', 'confusion.svg')));

  // Reruns: nothing finished is redone or altered.
  const prepBefore = contents(prepDir);
  const cacheBefore = contents(cacheDir);
  const prep2 = await cli(['prepare', '--data', DATA, '--out', prepDir, ...SMALL_SETTINGS]);
  assert.equal(prep2.code, 3);
  assert.match(prep2.stdout + prep2.stderr, new RegExp(`0 done \\(0 padded\\), ${good.length} already done, 5 failed`));
  const prepAfter = contents(prepDir);
  for (const [rel, bytes] of prepBefore) if (!/report\.json$|params\.json$/.test(rel)) assert.equal(prepAfter.get(rel), bytes, `${rel} unchanged`);
  assert.deepEqual([...prepAfter.keys()], [...prepBefore.keys()]);

  // predict on a broken video: one error line naming the file and the problem, exit 1.
  const pz = await cli(['predict', path.join(DATA, 'videos', `${bad.zeroByte}.mp4`), '--model', modelDir]);
  assert.equal(pz.code, 1);
  assert.equal(errorLine(pz), `error: ${path.join(DATA, 'videos', `${bad.zeroByte}.mp4`)}: empty file (0 bytes)`);
  const pg = await cli(['predict', path.join(DATA, 'videos', `${good[0]}.mp4`), '--model', modelDir, '--json']);
  assert.equal(pg.code, 0, pg.stderr);
  assert.ok([GLOSS_A, GLOSS_B].includes(JSON.parse(pg.stdout).top[0].gloss), 'unsafe gloss names come back intact');

  // In-process, the same model on every broken video.
  await initBackend();
  for (const [kind, id] of Object.entries({ truncated: bad.truncated!, noise: bad.noise!, audioOnly: bad.audioOnly! })) {
    const file = path.join(DATA, 'videos', `${id}.mp4`);
    await assert.rejects(predictVideo(modelDir, file), (e: unknown) => e instanceof WlaslError && e.message.startsWith(`${file}: `) && e.message.length > file.length + 10, kind);
  }

  // Damaged model directories: evaluate and predict refuse them naming the file.
  const three = path.join(OUT, 'three-classes');
  await saveModelDir(three, LstmHead.create({ featureDim: 1280, numClasses: 3, hidden: 32, layers: 1, dropout: 0, preprocessing: { stats: null, velocity: false } }, 1), { classes: ['a', 'b', 'c'], sequence: { sampleSize: 5, stride: 5 } });
  const damaged = (name: string, change: (dir: string) => void) => {
    const dir = path.join(OUT, `model-${name}`);
    fs.cpSync(modelDir, dir, { recursive: true });
    change(dir);
    return dir;
  };
  const cases = [
    { dir: damaged('missing', (d) => fs.rmSync(path.join(d, 'weights.bin'))), evaluate: /weights\.bin: weight shard missing or unreadable \(ENOENT\)/, predict: /weights\.bin: weight shard missing or unreadable \(ENOENT\)/ },
    {
      dir: damaged('truncated', (d) => fs.truncateSync(path.join(d, 'weights.bin'), fs.statSync(path.join(d, 'weights.bin')).size - 100)),
      // One reader for both: the same message, naming the shard where the truncation is.
      evaluate: /weights\.bin: weight shards hold \d+ bytes, the manifest needs \d+ \(truncated, or from another model\)/,
      predict: /weights\.bin: weight shards hold \d+ bytes, the manifest needs \d+ \(truncated, or from another model\)/,
    },
    {
      dir: damaged('classes', (d) => ['model.json', 'weights.bin'].forEach((f) => fs.copyFileSync(path.join(three, f), path.join(d, f)))),
      evaluate: /wlasl-model\.json: lists 2 classes but the model has 3 outputs/,
      predict: /model\.json: head gives 3 classes, wlasl-model\.json lists 2/,
    },
  ];
  for (const c of cases) {
    const named = (re: RegExp) => (e: unknown) => e instanceof WlaslError && (e instanceof ModelDirError || e instanceof WeightsError) && e.message.startsWith(c.dir + path.sep) && re.test(e.message);
    await assert.rejects(evaluateModelDir(c.dir, { dataDir: DATA, cacheDir }), named(c.evaluate));
    await assert.rejects(predictVideo(c.dir, path.join(DATA, 'videos', `${good[0]}.mp4`)), named(c.predict));
  }
  const pc = await cli(['predict', path.join(DATA, 'videos', `${good[0]}.mp4`), '--model', cases[2]!.dir]);
  assert.equal(pc.code, 1);
  assert.equal(errorLine(pc), `error: ${cases[2]!.dir}/model.json: head gives 3 classes, wlasl-model.json lists 2`);

  // A feature file from another backbone's cache, and a cache folder described for another backbone.
  const { featuresDir } = cacheLocation(datasetFiles({ dataDir: DATA }), cacheDir);
  const [key] = fs.readdirSync(featuresDir);
  const features = path.join(featuresDir, key!);
  const foreign = path.join(OUT, 'foreign-cache');
  fs.cpSync(features, foreign, { recursive: true });
  const bin = path.join(foreign, `${good[0]}.bin`);
  const bytes = fs.readFileSync(bin);
  bytes.write('0123456789abcdef', 16, 'ascii');
  fs.writeFileSync(bin, bytes);
  assert.throws(() => new CacheSequenceSource(foreign, [{ videoId: good[0]!, label: 0 }], { sampleSize: 5, stride: 5 }, 2), (e: unknown) => e instanceof CacheError && e.message.startsWith(`${bin}: features were written for cache key 0123456789abcdef (another backbone or preprocessing)`));
  const meta = JSON.parse(fs.readFileSync(path.join(features, 'meta.json'), 'utf8'));
  meta.backbone.weightsHash = 'f'.repeat(64);
  fs.writeFileSync(path.join(features, 'meta.json'), JSON.stringify(meta));
  const cacheAlone = await cli(['features', '--data', DATA, '--cache-dir', cacheDir, ...SMALL_SETTINGS]);
  assert.equal(cacheAlone.code, 1);
  assert.match(errorLine(cacheAlone), new RegExp(`^error: ${path.join(features, 'meta.json')}: cache folder describes backbone .* expected`));
  const cacheAfter = contents(cacheDir);
  for (const [rel, b] of cacheBefore) if (rel.endsWith('.bin')) assert.equal(cacheAfter.get(rel), b, `${rel} kept`);

  // A metadata file that is not JSON, through the CLI: one line, the file and the line.
  fs.writeFileSync(path.join(DATA, 'WLASL_v0.3.json'), '[{"gloss": "book", "instances": [');
  const notJson = await cli(['prepare', '--data', DATA, '--out', path.join(OUT, 'prep-notjson'), ...SMALL_SETTINGS]);
  assert.equal(notJson.code, 1);
  assert.match(errorLine(notJson), new RegExp(`^error: ${path.join(DATA, 'WLASL_v0.3.json')}: not valid JSON at line 1`));

  // Nothing was written outside OUT (e.g. the data folder got no .wlasl-cache).
  const after = snapshotTree(ROOT);
  assert.deepEqual(writtenOutside(before, after, ['out']), []);
});
