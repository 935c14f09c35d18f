import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { DownloadError } from '../src/errors';
import { downloadKaggleDataset, findKaggleCredentials } from '../src/acquire/kaggle';
import { extractZip } from '../src/acquire/extract';
import { makeKaggleLikeZip } from './acquire_zip';
import { makeTempDir } from './helpers';

const CREDENTIALS = { username: 'alice', key: 's3cret', source: 'test' };
const AUTH = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

interface ServerLog {
  requests: { path: string; range?: string; auth?: string }[];
}

/**
 * A stand-in for Kaggle on 127.0.0.1: the API path checks Basic auth and redirects to a storage path (as
 * Kaggle redirects to signed storage), which serves the zip with Range support. `dropFirstAt` cuts the
 * first full response after that many bytes (a dropped connection mid-file).
 */
async function startServer(zip: Buffer, options: { dropFirstAt?: number } = {}): Promise<{ base: string; log: ServerLog; close: () => Promise<void> }> {
  const log: ServerLog = { requests: [] };
  let dropped = false;
  const server = http.createServer((req, res) => {
    log.requests.push({ path: req.url ?? '', range: req.headers.range, auth: req.headers.authorization });
    if (req.url === '/api/v1/datasets/download/risangbaskoro/wlasl-processed') {
      if (req.headers.authorization !== AUTH) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"code":401,"message":"Unauthenticated"}');
        return;
      }
      res.writeHead(302, { Location: '/storage/wlasl-processed.zip?sig=abc' }).end();
      return;
    }
    if (req.url?.startsWith('/storage/wlasl-processed.zip')) {
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      if (start >= zip.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${zip.length}` }).end();
        return;
      }
      const body = zip.subarray(start);
      res.writeHead(m ? 206 : 200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes', ...(m ? { 'Content-Range': `bytes ${start}-${zip.length - 1}/${zip.length}` } : {}) });
      if (options.dropFirstAt !== undefined && !dropped) {
        dropped = true;
        res.write(body.subarray(0, options.dropFirstAt), () => res.socket?.destroy());
        return;
      }
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}/api/v1`, log, close: () => new Promise((r) => server.close(() => r())) };
}

async function realZip(): Promise<Buffer> {
  return makeKaggleLikeZip(path.join(makeTempDir(), 'src.zip'));
}

test('downloads through the redirect and resumes after a dropped connection', async () => {
  const zip = await realZip();
  const server = await startServer(zip, { dropFirstAt: Math.floor(zip.length / 3) });
  try {
    const dir = makeTempDir();
    const outFile = path.join(dir, 'wlasl-processed.zip');
    const progress: number[] = [];
    const result = await downloadKaggleDataset({ outFile, credentials: CREDENTIALS, baseUrl: server.base, onProgress: (p) => progress.push(p.bytes) });
    assert.ok(fs.readFileSync(outFile).equals(zip), 'downloaded bytes equal the served zip');
    assert.equal(result.attempts, 2);
    assert.equal(fs.existsSync(`${outFile}.part`), false);
    const storage = server.log.requests.filter((r) => r.path.startsWith('/storage'));
    assert.equal(storage.length, 2);
    assert.equal(storage[0]!.range, undefined);
    assert.equal(storage[1]!.range, `bytes=${Math.floor(zip.length / 3)}-`, 'the second request resumes where the first stopped');
    assert.equal(progress.at(-1), zip.length);
    // The downloaded archive is usable.
    const extracted = await extractZip(outFile, path.join(dir, 'x'));
    assert.equal(extracted.files, 6);
  } finally {
    await server.close();
  }
});

test('a rerun resumes a .part file left by a killed run', async () => {
  const zip = await realZip();
  const server = await startServer(zip);
  try {
    const outFile = path.join(makeTempDir(), 'w.zip');
    const kept = Math.floor(zip.length / 2);
    fs.writeFileSync(`${outFile}.part`, zip.subarray(0, kept));
    const result = await downloadKaggleDataset({ outFile, credentials: CREDENTIALS, baseUrl: server.base });
    assert.equal(result.resumedFrom, kept);
    assert.equal(result.attempts, 1);
    assert.ok(fs.readFileSync(outFile).equals(zip));
    assert.equal(server.log.requests.find((r) => r.path.startsWith('/storage'))!.range, `bytes=${kept}-`);
  } finally {
    await server.close();
  }
});

test('wrong credentials give a clear 401 error and no retries', async () => {
  const zip = await realZip();
  const server = await startServer(zip);
  try {
    const outFile = path.join(makeTempDir(), 'w.zip');
    await assert.rejects(
      downloadKaggleDataset({ outFile, credentials: { ...CREDENTIALS, key: 'wrong' }, baseUrl: server.base }),
      (e: unknown) => e instanceof DownloadError && /HTTP 401/.test(e.message) && /KAGGLE_USERNAME/.test(e.message) && !e.message.includes('wrong'),
    );
    assert.equal(server.log.requests.length, 1);
    assert.equal(fs.existsSync(outFile), false);
  } finally {
    await server.close();
  }
});

test('offline (nothing listening) gives a clear error', async () => {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  const outFile = path.join(makeTempDir(), 'w.zip');
  await assert.rejects(
    downloadKaggleDataset({ outFile, credentials: CREDENTIALS, baseUrl: `http://127.0.0.1:${port}/api/v1` }),
    (e: unknown) => e instanceof DownloadError && /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): are you offline/.test(e.message),
  );
});

test('credentials come from the environment or kaggle.json', async () => {
  const home = makeTempDir();
  assert.equal(findKaggleCredentials({}, home), null);
  assert.deepEqual(findKaggleCredentials({ KAGGLE_USERNAME: 'a', KAGGLE_KEY: 'b' }, home), { username: 'a', key: 'b', source: 'KAGGLE_USERNAME/KAGGLE_KEY' });
  fs.mkdirSync(path.join(home, '.kaggle'));
  fs.writeFileSync(path.join(home, '.kaggle', 'kaggle.json'), JSON.stringify({ username: 'c', key: 'd' }));
  assert.equal(findKaggleCredentials({}, home)!.username, 'c');
  fs.writeFileSync(path.join(home, '.kaggle', 'kaggle.json'), '{"username": 1}');
  assert.throws(() => findKaggleCredentials({}, home), (e: unknown) => e instanceof DownloadError && e.message.includes('kaggle.json'));
  const saved = { u: process.env.KAGGLE_USERNAME, k: process.env.KAGGLE_KEY, c: process.env.KAGGLE_CONFIG_DIR };
  process.env.KAGGLE_CONFIG_DIR = makeTempDir();
  delete process.env.KAGGLE_USERNAME;
  delete process.env.KAGGLE_KEY;
  try {
    await assert.rejects(downloadKaggleDataset({ outFile: path.join(home, 'x.zip'), baseUrl: 'http://127.0.0.1:9/api/v1' }), /no Kaggle credentials/);
  } finally {
    if (saved.u !== undefined) process.env.KAGGLE_USERNAME = saved.u;
    if (saved.k !== undefined) process.env.KAGGLE_KEY = saved.k;
    if (saved.c !== undefined) process.env.KAGGLE_CONFIG_DIR = saved.c;
    else delete process.env.KAGGLE_CONFIG_DIR;
  }
});

test('a symbolic link at the download or its .part file is refused naming it, its target untouched', async () => {
  const zip = await realZip();
  const server = await startServer(zip);
  try {
    const dir = makeTempDir();
    const victim = path.join(dir, 'precious.txt');
    fs.writeFileSync(victim, 'user data\n');
    for (const linkAt of ['wlasl-processed.zip.part', 'wlasl-processed.zip']) {
      const out = path.join(dir, linkAt.replace(/\./g, '-'));
      fs.mkdirSync(out);
      const outFile = path.join(out, 'wlasl-processed.zip');
      fs.symlinkSync(victim, path.join(out, linkAt));
      await assert.rejects(downloadKaggleDataset({ outFile, credentials: CREDENTIALS, baseUrl: server.base }), (e: unknown) => {
        assert.ok(e instanceof DownloadError, String(e));
        assert.ok(e.message.startsWith(`${path.join(out, linkAt)}: is a symbolic link (-> ${victim})`), e.message);
        return true;
      });
      assert.equal(fs.readFileSync(victim, 'utf8'), 'user data\n', `${linkAt}: the link's target is untouched`);
      assert.ok(fs.lstatSync(path.join(out, linkAt)).isSymbolicLink(), `${linkAt}: the link is left in place`);
    }
    assert.equal(server.log.requests.length, 0, 'refused before any request');
  } finally {
    await server.close();
  }
});
