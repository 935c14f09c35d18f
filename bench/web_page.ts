import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { initBackend } from '../src/runtime/backend';
import { ensureWebBuild, startWebServer } from '../scripts/serve_web';
import { makeTempDir } from '../test/helpers';
import { buildFixtureModel, fixtureVideos } from '../test/web_fixture';

/**
 * Page load time and time to a prediction in headless Chromium on this machine, per TensorFlow.js backend.
 *   npx tsx bench/web_page.ts [runs=3] [backends=wasm,webgl]
 * Model: the real MobileNetV2-0.35 backbone when ../shared has it (else a tiny one) + a small LSTM head.
 * Each run is a fresh page (no warm caches except the browser's HTTP cache of the bundle).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is absent (apt-get install chromium)`);
  const runs = Number(process.argv[2] ?? 3);
  const backends = (process.argv[3] ?? 'wasm,webgl').split(',');
  await initBackend();
  const tmp = makeTempDir('wlasl-web-bench-');
  const { videos, source } = fixtureVideos(tmp, 3);
  const model = await buildFixtureModel(path.join(tmp, 'model'), videos);
  await ensureWebBuild(console.log);
  const server = await startWebServer({ modelDir: model.modelDir, port: 0 });
  const userDataDir = path.join(tmp, 'chromium');
  fs.mkdirSync(userDataDir);
  const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  console.log(`video ${path.basename(videos[0]!.path)} (${source}); backbone ${model.backbone}; ${runs} runs per backend; shared machine, numbers are noisy`);
  try {
    for (const backend of backends) {
      const rows: Record<string, number[]> = { loadMs: [], modelLoadInPageMs: [], predictMs: [], framesMs: [], backboneMs: [], headMs: [] };
      for (let run = 0; run < runs; run++) {
        const page = await browser.newPage();
        const t0 = Date.now();
        await page.goto(`${server.url}?backend=${backend}`);
        await page.waitForFunction("['ready','error'].includes(window.wlasl && window.wlasl.state)", null, { timeout: 300_000 });
        const loadMs = Date.now() - t0;
        const state = (await page.evaluate('({ state: window.wlasl.state, loadMs: window.wlasl.loadMs, error: window.wlasl.error })')) as { state: string; loadMs: number; error?: { message: string } };
        if (state.state !== 'ready') throw new Error(`page not ready on ${backend}: ${state.error?.message}`);
        const t1 = Date.now();
        await page.setInputFiles('#file', videos[0]!.path);
        await page.waitForFunction("window.wlasl.state === 'done' || !!window.wlasl.error", null, { timeout: 300_000 });
        const predictMs = Date.now() - t1;
        const result = (await page.evaluate('window.wlasl.error || window.wlasl.resultSummary()')) as { timings?: Record<string, number>; message?: string };
        if (!result.timings) throw new Error(`prediction failed on ${backend}: ${result.message}`);
        rows.loadMs!.push(loadMs);
        rows.modelLoadInPageMs!.push(state.loadMs);
        rows.predictMs!.push(predictMs);
        for (const k of ['framesMs', 'backboneMs', 'headMs']) rows[k]!.push(result.timings[k]!);
        await page.close();
      }
      console.log(
        `${backend.padEnd(6)} ` +
          Object.entries(rows)
            .map(([k, v]) => `${k} ${median(v).toFixed(0)} (min ${Math.min(...v).toFixed(0)})`)
            .join(', ') +
          `; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      );
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
