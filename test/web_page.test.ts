import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { normalizePixels } from '../src/backbone/preprocess';
import { loadRecognizerFromDirectory } from '../src/model/load_model_dir';
import { recognizeFrames, type Recognizer } from '../src/model/recognize';
import { initBackend } from '../src/runtime/backend';
import { ffmpegBinaries } from '../src/runtime/ffmpeg';
import { extractFrames } from '../src/video/extract';
import { predictVideo } from '../src/pipeline/predict';
import { ensureWebBuild, startWebServer, type WebServer } from '../scripts/serve_web';
import { makeTempDir, REPO_ROOT } from './helpers';
import { buildFixtureModel, fixtureVideos, nodeFramesConfig, type FixtureVideo } from './web_fixture';

/**
 * The browser page end to end in real headless Chromium (Debian's, installed by .ci/run; never downloaded):
 * the page built by Vite, served with a model directory by scripts/serve_web.ts, fed a sample video; its
 * prediction and its frames are compared with Node's on the same video and model.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'artifacts');
const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (the Debian package chromium, installed by .ci/run)`;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launch(tmp: string, name: string, extraArgs: string[] = []): Promise<BrowserContext> {
  const userDataDir = path.join(tmp, `chromium-${name}`);
  fs.mkdirSync(userDataDir);
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** The page's state object (window.wlasl), read with a string expression (tsx-compiled functions do not survive serialisation). */
async function pageState<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(`JSON.parse(JSON.stringify(${expression}))`)) as T;
}

async function waitFor(page: Page, expression: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(expression, null, { timeout, polling: 50 });
}

interface PageError {
  kind: string;
  message: string;
}

describe('browser page (headless Chromium)', { skip }, () => {
  let tmp: string;
  let videos: FixtureVideo[];
  let videoSource: string;
  let modelDir: string;
  let recognizer: Recognizer;
  let server: WebServer;
  let emptyServer: WebServer;
  let browser: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  let loadMs = 0;

  before(async () => {
    await initBackend();
    tmp = makeTempDir('wlasl-web-');
    ({ videos, source: videoSource } = fixtureVideos(tmp, 3));
    modelDir = (await buildFixtureModel(path.join(tmp, 'model'), videos)).modelDir;
    recognizer = await loadRecognizerFromDirectory(modelDir);
    await ensureWebBuild();
    server = await startWebServer({ modelDir, port: 0 });
    emptyServer = await startWebServer({ port: 0 });
    browser = await launch(tmp, 'main');
    page = await browser.newPage();
    page.on('request', (r) => requested.push(r.url()));
    const started = Date.now();
    await page.goto(server.url);
    await waitFor(page, "['ready', 'error'].includes(window.wlasl && window.wlasl.state)");
    loadMs = Date.now() - started;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await emptyServer?.close();
  });

  test('loads the model offline and predicts the gloss Node predicts, from the same frames', async (t) => {
    const state = await pageState<{ state: string; backend: string; error?: PageError }>(page, '{ state: window.wlasl.state, backend: window.wlasl.backend, error: window.wlasl.error }');
    assert.equal(state.state, 'ready', `page did not become ready: ${state.error?.message}`);
    const video = videos[0]!;
    const started = Date.now();
    await page.setInputFiles('#file', video.path);
    const name = JSON.stringify(path.basename(video.path));
    await waitFor(page, `(window.wlasl.state === 'done' && window.wlasl.result.source === ${name}) || !!window.wlasl.error`);
    const predictMs = Date.now() - started;
    const result = await pageState<{
      recognition: { top: { gloss: string; probability: number }[]; probabilities: number[] };
      frames: { count: number; fps: number; timingSource: string; frameMismatches: unknown[]; selection: { indices: number[] } };
      timings: Record<string, number>;
    }>(page, 'window.wlasl.error || window.wlasl.resultSummary()');
    assert.ok(result.recognition, `page reported an error: ${JSON.stringify(result)}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web_page.png'), fullPage: true });

    // Node: the same video through src/video extractFrames and the same shared recognizer code.
    const nodeFrames = await extractFrames({ videoId: path.basename(video.path), path: video.path, bbox: null }, nodeFramesConfig(recognizer.info));
    const node = await recognizeFrames(recognizer, nodeFrames.frames, nodeFrames.count);
    assert.equal(result.recognition.top[0]!.gloss, node.top[0]!.gloss, 'browser and Node disagree on the top gloss');
    // And Node's `predict` (the CLI's path: folded backbone, the model directory's own frame settings) agrees too.
    const predicted = await predictVideo(modelDir, video.path);
    assert.equal(result.recognition.top[0]!.gloss, predicted.top[0]!.gloss, 'browser and Node predict disagree on the top gloss');
    assert.equal(result.frames.count, nodeFrames.count);
    assert.deepEqual(result.frames.selection.indices, nodeFrames.sourceFrames);
    assert.deepEqual(result.frames.frameMismatches, [], 'the browser presented other frames than it asked for');

    // Preprocessing: the normalised [T, size, size, 3] input from both sides.
    const browserFrames = Buffer.from(await pageState<string>(page, 'window.wlasl.lastFramesBase64()'), 'base64');
    assert.equal(browserFrames.length, nodeFrames.frames.length);
    const a = normalizePixels(browserFrames, recognizer.info.normalization);
    const b = normalizePixels(nodeFrames.frames, recognizer.info.normalization);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    const meanAbs = sum / a.length;
    // x/127.5-1 spans 2 per 255 levels: 3/255 of the range is 6/255 in these units.
    assert.ok(meanAbs < 6 / 255, `browser and Node inputs differ by ${meanAbs.toFixed(4)} on average (> 3/255 of the range)`);
    // And they are the same frames, not neighbours: each browser frame is closer to Node's frame k than to k+1.
    const frameBytes = nodeFrames.size * nodeFrames.size * 3;
    const frameDiff = (i: number, j: number) => {
      let s = 0;
      for (let p = 0; p < frameBytes; p++) s += Math.abs(browserFrames[i * frameBytes + p]! - nodeFrames.frames[j * frameBytes + p]!);
      return s / frameBytes;
    };
    const moving = Array.from({ length: nodeFrames.count - 1 - nodeFrames.padded }, (_, k) => k);
    const same = moving.reduce((s, k) => s + frameDiff(k, k), 0);
    const shifted = moving.reduce((s, k) => s + frameDiff(k + 1, k), 0);
    assert.ok(same < shifted, `frames look shifted by one: diff to the same frame ${same.toFixed(1)}, to the next ${shifted.toFixed(1)}`);

    const headless = requested.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(headless, [], 'the page fetched something from outside the local server');
    const nodeTop = node.top[0]!;
    t.diagnostic(`video ${path.basename(video.path)} (${videoSource}, gloss ${video.gloss}); backend ${state.backend}`);
    t.diagnostic(`page load to model ready ${loadMs} ms; choose file to prediction ${predictMs} ms (frames ${result.timings.framesMs!.toFixed(0)} ms, backbone ${result.timings.backboneMs!.toFixed(0)} ms)`);
    t.diagnostic(`browser top ${result.recognition.top[0]!.gloss} ${result.recognition.top[0]!.probability.toFixed(3)}; Node ${nodeTop.gloss} ${nodeTop.probability.toFixed(3)}; predict ${predicted.top[0]!.gloss} ${predicted.top[0]!.probability.toFixed(3)}; mean |input diff| ${(meanAbs * 127.5).toFixed(2)} levels`);
  });

  test('clear messages for an unsupported file and a clip too short', async () => {
    const text = path.join(tmp, 'notes.txt');
    fs.writeFileSync(text, 'not a video\n');
    await page.setInputFiles('#file', text);
    await waitFor(page, "!!window.wlasl.error && window.wlasl.state === 'ready'");
    let error = await pageState<PageError>(page, 'window.wlasl.error');
    assert.equal(error.kind, 'unsupported-file');
    assert.match(await page.textContent('#message') ?? '', /Unsupported file: "notes\.txt"/);

    // A file named .mp4 that is not one: the browser's decoder refuses it.
    const fake = path.join(tmp, 'fake.mp4');
    fs.writeFileSync(fake, Buffer.alloc(4096, 7));
    await page.setInputFiles('#file', fake);
    await waitFor(page, "!!window.wlasl.error && window.wlasl.error.message.includes('decode')");
    error = await pageState<PageError>(page, 'window.wlasl.error');
    assert.equal(error.kind, 'unsupported-file');

    // Four frames: none of them in the window 5..35.
    const short = path.join(tmp, 'short.mp4');
    execFileSync(ffmpegBinaries().ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-frames:v', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', short]);
    await page.setInputFiles('#file', short);
    await waitFor(page, "!!window.wlasl.error && window.wlasl.error.kind === 'too-short'");
    assert.match(await page.textContent('#message') ?? '', /Clip too short: "short\.mp4" has 4 frames/);
  });

  test('no camera permission gives a clear message', async () => {
    // Headless Chromium without a fake device: getUserMedia is refused or finds no camera.
    await page.click('#record');
    await waitFor(page, "!!window.wlasl.error && window.wlasl.error.kind === 'no-camera'");
    assert.match(await page.textContent('#message') ?? '', /^No camera: /);
  });

  test('says "No model loaded" when the server has no model', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(emptyServer.url);
      await waitFor(other, "window.wlasl && window.wlasl.state === 'error'");
      const error = await pageState<PageError>(other, 'window.wlasl.error');
      assert.equal(error.kind, 'no-model');
      assert.match(await other.textContent('#message') ?? '', /No model loaded: .*--model/);
      assert.equal(await other.isDisabled('#file'), true);
    } finally {
      await other.close();
    }
  });

  test('records a clip from a (fake) webcam and recognises it', async () => {
    const camera = await launch(tmp, 'camera', ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    try {
      await camera.grantPermissions(['camera'], { origin: server.url.replace(/\/$/, '') });
      const cameraPage = await camera.newPage();
      await cameraPage.goto(server.url);
      await waitFor(cameraPage, "window.wlasl && window.wlasl.state === 'ready'");
      await cameraPage.click('#record');
      await waitFor(cameraPage, "(window.wlasl.state === 'done' && window.wlasl.result.source === 'webcam clip') || !!window.wlasl.error");
      const result = await pageState<{ frames: { count: number; frameCount: number }; recognition: { top: unknown[]; probabilities: number[] } } & Partial<PageError>>(
        cameraPage,
        'window.wlasl.error || window.wlasl.resultSummary()',
      );
      assert.ok(result.recognition, `recording failed: ${result.message}`);
      assert.equal(result.frames.count, recognizer.info.frames.window.end - recognizer.info.frames.window.start + 1);
      assert.equal(result.recognition.top.length, 5);
      const total = result.recognition.probabilities.reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(total - 1) < 1e-3, `probabilities sum to ${total}`);
    } finally {
      await camera.close();
    }
  });
});
