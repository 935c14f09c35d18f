import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadError } from '../errors';
import { createProgress } from '../runtime/progress';

/** Kaggle's public REST API; the dataset download answers with a redirect to a signed storage URL. */
export const KAGGLE_API = 'https://www.kaggle.com/api/v1';
export const WLASL_KAGGLE_DATASET = 'risangbaskoro/wlasl-processed';

export interface KaggleCredentials {
  username: string;
  key: string;
  /** Where they came from, for messages (never the key itself). */
  source: string;
}

/**
 * Credentials as the official kaggle client finds them: KAGGLE_USERNAME + KAGGLE_KEY, else kaggle.json in
 * KAGGLE_CONFIG_DIR or ~/.kaggle. Returns null when there are none.
 */
export function findKaggleCredentials(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): KaggleCredentials | null {
  if (env.KAGGLE_USERNAME && env.KAGGLE_KEY) return { username: env.KAGGLE_USERNAME, key: env.KAGGLE_KEY, source: 'KAGGLE_USERNAME/KAGGLE_KEY' };
  const file = path.join(env.KAGGLE_CONFIG_DIR ?? path.join(home, '.kaggle'), 'kaggle.json');
  if (!fs.existsSync(file)) return null;
  let parsed: { username?: unknown; key?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DownloadError(`kaggle.json is not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
  if (typeof parsed.username !== 'string' || typeof parsed.key !== 'string') throw new DownloadError('kaggle.json needs "username" and "key" strings', { file });
  return { username: parsed.username, key: parsed.key, source: file };
}

export interface DownloadProgress {
  bytes: number;
  total: number | null;
}

export interface KaggleDownloadOptions {
  /** owner/name; default risangbaskoro/wlasl-processed. */
  dataset?: string;
  /** Where the zip goes; a partial download lives beside it as <outFile>.part and is resumed. */
  outFile: string;
  credentials?: KaggleCredentials;
  /** API base (tests point it at 127.0.0.1). */
  baseUrl?: string;
  /** Attempts after a dropped connection or a server error (each resumes where the last stopped). */
  retries?: number;
  /** Socket inactivity timeout. */
  timeoutMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Show a progress bar / lines on stderr (default false; the CLI turns it on). */
  progress?: boolean;
}

export interface KaggleDownloadResult {
  file: string;
  bytes: number;
  /** Attempts it took (1 = no interruption). */
  attempts: number;
  /** Bytes already on disk from an earlier run when it started. */
  resumedFrom: number;
}

/** An error that another attempt (resuming) may fix. */
class RetryableError extends Error {}

const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

interface AttemptResult {
  complete: boolean;
  total: number | null;
}

function request(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Throws when `file` is a symbolic link: the download never writes (or renames) over what one points to. */
function refuseLink(file: string): void {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st?.isSymbolicLink()) {
    throw new DownloadError(`is a symbolic link (-> ${fs.readlinkSync(file)}) the download would write through; remove it or choose another --out`, { file });
  }
}

/** Size of the .part file (0 when absent), read without following a link. */
function partSize(partFile: string): number {
  return fs.lstatSync(partFile, { throwIfNoEntry: false })?.size ?? 0;
}

/** One request (following redirects) that appends to the .part file from its current size. */
async function attempt(startUrl: URL, auth: string, partFile: string, timeoutMs: number, onBytes: (bytes: number, total: number | null) => void): Promise<AttemptResult> {
  refuseLink(partFile);
  const have = partSize(partFile);
  let url = startUrl;
  for (let hop = 0; hop < 6; hop++) {
    const headers: Record<string, string> = { 'User-Agent': 'wlasl-cnn-lstm', Accept: '*/*' };
    // Credentials go only to Kaggle's own host, never to the storage host it redirects to.
    if (url.host === startUrl.host) headers.Authorization = auth;
    if (have > 0) headers.Range = `bytes=${have}-`;
    let res: http.IncomingMessage;
    try {
      res = await request(url, headers, timeoutMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (OFFLINE_CODES.has(code)) {
        throw new DownloadError(`cannot reach ${url.host} (${code}): are you offline? Download wlasl-processed.zip by hand and use extractZip, or use the embedded sample`, { file: url.origin, cause: error });
      }
      throw new RetryableError(`${code || (error as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status === 401 || status === 403) {
      res.resume();
      throw new DownloadError(`Kaggle refused the credentials (HTTP ${status}): check KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json, and accept the dataset's terms on kaggle.com`, { file: startUrl.href });
    }
    if (status === 404) {
      res.resume();
      throw new DownloadError(`dataset not found (HTTP 404)`, { file: startUrl.href });
    }
    if (status === 416) {
      res.resume();
      // Nothing left to send: complete when the server's total equals what we have.
      const total = Number(/\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1] ?? NaN);
      if (total === have) return { complete: true, total };
      fs.rmSync(partFile, { force: true });
      throw new RetryableError(`server rejected resuming at byte ${have}; starting over`);
    }
    if (status >= 500 || status === 429) {
      res.resume();
      throw new RetryableError(`HTTP ${status}`);
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new DownloadError(`unexpected HTTP ${status}`, { file: url.href });
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    let offset = 0;
    let total: number | null = null;
    if (status === 206) {
      const m = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== have) {
        res.resume();
        fs.rmSync(partFile, { force: true });
        throw new RetryableError(`server resumed at the wrong offset (${res.headers['content-range']}); starting over`);
      }
      offset = have;
      total = m[3] === '*' ? null : Number(m[3]);
    } else {
      total = Number.isFinite(length) ? length : null;
    }
    // 200 after a Range request means the server ignored it: start the file over.
    // O_NOFOLLOW: a link put there after the check above is refused by the kernel, not written through.
    const { O_WRONLY, O_CREAT, O_APPEND, O_TRUNC, O_NOFOLLOW } = fs.constants;
    let fd: number;
    try {
      fd = fs.openSync(partFile, O_WRONLY | O_CREAT | O_NOFOLLOW | (offset > 0 ? O_APPEND : O_TRUNC));
    } catch (error) {
      res.resume();
      const code = (error as NodeJS.ErrnoException).code;
      throw new DownloadError(code === 'ELOOP' ? 'is a symbolic link the download would write through; remove it or choose another --out' : `cannot write the download (${code ?? (error as Error).message})`, { file: partFile, cause: error });
    }
    const out = fs.createWriteStream(partFile, { fd });
    let received = 0;
    const done = await new Promise<boolean>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        onBytes(offset + received, total);
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('end', () => resolve(res.complete));
      res.on('aborted', () => resolve(false));
      res.on('error', () => resolve(false));
      out.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const expected = Number.isFinite(length) ? length : null;
    if (!done || (expected !== null && received < expected)) throw new RetryableError(`connection dropped after ${offset + received} bytes`);
    return { complete: true, total: total ?? offset + received };
  }
  throw new DownloadError('too many redirects', { file: startUrl.href });
}

/**
 * Downloads a Kaggle dataset archive (default wlasl-processed) with the user's credentials, streaming to
 * `<outFile>.part` and renaming when complete. A dropped connection or server error is retried, resuming with
 * an HTTP Range request; a rerun after a kill resumes too. Offline or unauthorised gives a DownloadError
 * saying so (and what to do).
 */
export async function downloadKaggleDataset(options: KaggleDownloadOptions): Promise<KaggleDownloadResult> {
  const dataset = options.dataset ?? WLASL_KAGGLE_DATASET;
  if (!/^[\w.-]+\/[\w.-]+$/.test(dataset)) throw new DownloadError(`dataset must be owner/name, got '${dataset}'`);
  const credentials = options.credentials ?? findKaggleCredentials();
  if (!credentials) {
    throw new DownloadError('no Kaggle credentials: set KAGGLE_USERNAME and KAGGLE_KEY, or save kaggle.json (kaggle.com > Settings > API > Create New Token) in ~/.kaggle/');
  }
  const base = (options.baseUrl ?? KAGGLE_API).replace(/\/+$/, '');
  const url = new URL(`${base}/datasets/download/${dataset}`);
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.key}`).toString('base64')}`;
  const outFile = path.resolve(options.outFile);
  const partFile = `${outFile}.part`;
  await fs.promises.mkdir(path.dirname(outFile), { recursive: true });
  refuseLink(outFile);
  refuseLink(partFile);
  const resumedFrom = partSize(partFile);
  const retries = options.retries ?? 5;
  const bar = createProgress(`download ${dataset}`, 1, { unit: 'MB', mode: options.progress ? undefined : 'none' });
  let lastMb = 0;
  const onBytes = (bytes: number, total: number | null) => {
    options.onProgress?.({ bytes, total });
    if (total) bar.setTotal(Math.max(1, Math.round(total / 1e6)));
    const mb = Math.floor(bytes / 1e6);
    if (mb > lastMb) {
      bar.tick(mb - lastMb);
      lastMb = mb;
    }
  };

  let lastError = '';
  for (let tries = 1; tries <= retries + 1; tries++) {
    try {
      const result = await attempt(url, auth, partFile, options.timeoutMs ?? 30_000, onBytes);
      if (result.complete) {
        await fs.promises.rename(partFile, outFile);
        const bytes = fs.statSync(outFile).size;
        bar.stop(`downloaded ${(bytes / 1e6).toFixed(1)} MB -> ${outFile}`);
        return { file: outFile, bytes, attempts: tries, resumedFrom };
      }
    } catch (error) {
      if (!(error instanceof RetryableError)) {
        bar.stop();
        throw error;
      }
      lastError = error.message;
      // Short, growing pause: dropped connections are usually transient.
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** (tries - 1))));
    }
  }
  bar.stop();
  const have = partSize(partFile);
  throw new DownloadError(`download failed after ${retries + 1} attempts (last: ${lastError}); ${have} bytes kept in ${partFile}, rerun to resume`, { file: url.href });
}
