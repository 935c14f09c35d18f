import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { WlaslError } from '../src/errors';
import { initBackend } from '../src/runtime/backend';
import { startWebServer, type WebServer } from '../scripts/serve_web';
import { makeTempDir, REPO_ROOT } from './helpers';
import { buildFixtureModel, fixtureVideos } from './web_fixture';

/**
 * scripts/serve_web.ts without a browser: what it serves from a real model directory and a page folder holding
 * links, FIFOs and folders, and how it refuses a damaged model directory at start (in-process and as a command).
 */
describe('web server', () => {
  let tmp: string;
  let modelDir: string;
  let distDir: string;
  let server: WebServer;

  before(async () => {
    await initBackend();
    tmp = makeTempDir('wlasl-web-server-');
    const { videos } = fixtureVideos(tmp, 2);
    modelDir = (await buildFixtureModel(path.join(tmp, 'model'), videos)).modelDir;
    distDir = path.join(tmp, 'dist');
    fs.mkdirSync(distDir);
    fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>page</title>\n');
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside the served folders\n');
    // Links a user (or an attacker who can write the model folder) might leave there.
    fs.symlinkSync('/', path.join(modelDir, 'leak'));
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(modelDir, 'secret.json'));
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(modelDir, 'backbone', 'secret.bin'));
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(distDir, 'secret.html'));
    fs.symlinkSync('wlasl-model.json', path.join(modelDir, 'alias.json')); // stays inside: served
    execFileSync('mkfifo', [path.join(modelDir, 'fifo.bin')]);
    server = await startWebServer({ modelDir, distDir, port: 0 });
  });

  after(async () => {
    await server?.close();
  });

  /** The error startWebServer refuses with; a server that starts anyway is closed (so a failing run still ends). */
  async function startError(options: Parameters<typeof startWebServer>[0]): Promise<unknown> {
    let started: WebServer;
    try {
      started = await startWebServer(options);
    } catch (error) {
      return error;
    }
    await started.close();
    return assert.fail(`the server started on ${options?.modelDir}`);
  }

  async function get(urlPath: string, method = 'GET'): Promise<{ status: number; body: Buffer }> {
    const res = await fetch(new URL(urlPath, server.url), { method, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  test('serves the page and the model files', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /<title>page<\/title>/);
    for (const name of ['model.json', 'wlasl-model.json', 'backbone/model.json']) {
      const r = await get(`/model/${name}`);
      assert.equal(r.status, 200, name);
      assert.ok(r.body.equals(fs.readFileSync(path.join(modelDir, name))), `${name} served byte for byte`);
    }
    const head = await get('/model/model.json', 'HEAD');
    assert.equal(head.status, 200);
    // A link whose target stays inside the model folder is an ordinary file of it.
    const alias = await get('/model/alias.json');
    assert.equal(alias.status, 200);
    assert.ok(alias.body.equals(fs.readFileSync(path.join(modelDir, 'wlasl-model.json'))));
  });

  test('never follows a link out of a served folder, nor serves folders, FIFOs or ../', async () => {
    const refused = [
      '/model/leak/etc/passwd',
      '/model/leak/etc/hostname',
      '/model/secret.json',
      '/model/backbone/secret.bin',
      '/secret.html',
      '/model/fifo.bin',
      '/model/backbone',
      '/model/leak',
      '/model/%2e%2e/secret.txt',
      '/%2e%2e/secret.txt',
      '/model/..%2f..%2fsecret.txt',
    ];
    for (const urlPath of refused) {
      for (const method of ['GET', 'HEAD']) {
        const r = await get(urlPath, method);
        assert.equal(r.status, 404, `${method} ${urlPath} gave ${r.status}`);
        assert.ok(!r.body.toString().includes('root:'), `${urlPath} leaked /etc/passwd`);
        assert.ok(!r.body.toString().includes('outside the served folders'), `${urlPath} leaked the secret`);
      }
    }
    // The server is still answering after all that (the FIFO did not hang it).
    assert.equal((await get('/model/model.json')).status, 200);
  });

  test('a backbone folder that is a link out of the model directory is refused unless given with --backbone', async () => {
    const dir = path.join(tmp, 'linked-backbone');
    fs.mkdirSync(dir);
    for (const f of ['model.json', 'weights.bin', 'wlasl-model.json']) fs.copyFileSync(path.join(modelDir, f), path.join(dir, f));
    fs.symlinkSync(path.join(modelDir, 'backbone'), path.join(dir, 'backbone'));
    const e = await startError({ modelDir: dir, distDir, port: 0 });
    assert.ok(e instanceof WlaslError, String(e));
    assert.ok(e.message.startsWith(`${path.join(dir, 'backbone')}: the backbone folder leads to ${fs.realpathSync(path.join(modelDir, 'backbone'))}, outside the model directory`), e.message);
    const explicit = await startWebServer({ modelDir: dir, backboneDir: path.join(modelDir, 'backbone'), distDir, port: 0 });
    try {
      const r = await fetch(new URL('/model/backbone/model.json', explicit.url));
      assert.equal(r.status, 200);
    } finally {
      await explicit.close();
    }
  });

  /** A copy of the good model directory with one file replaced. */
  function damaged(name: string, file: string, content: string | Buffer): string {
    const dir = path.join(tmp, name);
    fs.cpSync(modelDir, dir, { recursive: true, filter: (src) => !['leak', 'secret.json', 'secret.bin', 'fifo.bin'].includes(path.basename(src)) });
    fs.writeFileSync(path.join(dir, file), content);
    return dir;
  }

  test('a damaged model directory stops the server at start, with an error naming the file', async () => {
    const weights = fs.readFileSync(path.join(modelDir, 'weights.bin'));
    const headJson = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { modelTopology: unknown };
    const cases: Array<{ dir: string; file: string; expect: RegExp }> = [
      { dir: damaged('garbage-head', 'model.json', 'garbage {'), file: 'model.json', expect: /not valid JSON/ },
      { dir: damaged('no-topology', 'model.json', '{"format": "layers-model"}'), file: 'model.json', expect: /not a TF\.js layers model/ },
      {
        dir: damaged('bad-topology', 'model.json', JSON.stringify({ ...headJson, modelTopology: { class_name: 'NoSuchModel', config: {} } })),
        file: 'model.json',
        expect: /not a loadable TF\.js layers model/,
      },
      { dir: damaged('garbage-backbone', 'backbone/model.json', '\u0000\u0001 not json'), file: 'backbone/model.json', expect: /not valid JSON/ },
      { dir: damaged('truncated-weights', 'weights.bin', weights.subarray(0, weights.length - 8)), file: 'weights.bin', expect: /bytes/ },
      { dir: damaged('garbage-info', 'wlasl-model.json', '[1, 2'), file: 'wlasl-model.json', expect: /not valid JSON/ },
    ];
    for (const c of cases) {
      const e = await startError({ modelDir: c.dir, distDir, port: 0 });
      assert.ok(e instanceof WlaslError, `${c.dir}: ${String(e)}`);
      assert.ok(e.message.startsWith(`${path.join(c.dir, c.file)}: `), e.message);
      assert.match(e.message, c.expect);
    }
    // The command exits 1 with the same one line, before building or listening.
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'serve_web.ts'), '--model', cases[0]!.dir, '--no-build', '--port', '0'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`^serve_web: ${escapeRegExp(path.join(cases[0]!.dir, 'model.json'))}: not valid JSON`, 'm'));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
