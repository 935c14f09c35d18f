import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { DownloadError, WeightsError, describeError } from '../errors';
import { publishDirectory, tempDirFor, writeJsonAtomic } from '../runtime/atomic';
import { MODEL_JSON, fileChecksums, readModelJson, shardPaths } from './model_dir';

/**
 * TF.js models fetched over http(s) once into the weights cache, each file's sha256 recorded, so later runs
 * verify and reuse them offline.
 */

async function fetchBytes(url: string, timeoutMs: number): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new DownloadError(`cannot reach the server (${cause?.code ?? describeError(error)})`, { file: url, cause: error });
  }
  if (!response.ok) throw new DownloadError(`HTTP ${response.status} ${response.statusText}`, { file: url });
  return Buffer.from(await response.arrayBuffer());
}

interface DownloadRecord {
  url: string;
  downloadedAt: string;
  sha256: Record<string, string>;
}
export const DOWNLOAD_RECORD = 'download.json';

/** The cache folder for a URL: readable name plus a hash of the full URL. */
export function urlCacheDir(url: string, weightsCacheDir: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  const name = (parts.length > 1 && parts[parts.length - 1] === MODEL_JSON ? parts[parts.length - 2]! : parts[parts.length - 1] ?? 'model').replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(weightsCacheDir, `${name}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
}

/**
 * Downloads a TF.js layers model (model.json + shards) once into the cache; on later calls verifies the
 * recorded sha256 of every file and returns the folder without touching the network.
 */
export async function fetchModelToCache(url: string, weightsCacheDir: string, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<string> {
  const dir = urlCacheDir(url, weightsCacheDir);
  const recordFile = path.join(dir, DOWNLOAD_RECORD);
  if (fs.existsSync(recordFile)) {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as DownloadRecord;
    let actual: Record<string, string>;
    try {
      actual = fileChecksums(dir);
    } catch (error) {
      throw new WeightsError(`cached weights are incomplete (${describeError(error)}); delete the folder to download again`, { file: dir, cause: error });
    }
    for (const [name, sum] of Object.entries(record.sha256)) {
      if (actual[name] !== sum) {
        throw new WeightsError(`cached file ${name} does not match its recorded sha256 (damaged cache); delete the folder to download again`, { file: dir });
      }
    }
    return dir;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  (options.log ?? logToStderr)(`downloading backbone weights from ${url}`);
  const modelJsonBytes = await fetchBytes(url, timeoutMs);
  let json: Parameters<typeof shardPaths>[0];
  try {
    json = JSON.parse(modelJsonBytes.toString('utf8'));
  } catch (error) {
    throw new WeightsError(`not valid JSON (${describeError(error)})`, { file: url, cause: error });
  }
  const shards = shardPaths(json, url);
  const tmp = tempDirFor(dir);
  await fs.promises.mkdir(tmp, { recursive: true });
  try {
    await fs.promises.writeFile(path.join(tmp, MODEL_JSON), modelJsonBytes);
    for (const shard of shards) {
      await fs.promises.writeFile(path.join(tmp, shard), await fetchBytes(new URL(shard, url).toString(), timeoutMs));
    }
    readModelJson(tmp);
    const record: DownloadRecord = { url, downloadedAt: new Date().toISOString(), sha256: fileChecksums(tmp) };
    await writeJsonAtomic(path.join(tmp, DOWNLOAD_RECORD), record);
    await fs.promises.mkdir(path.dirname(dir), { recursive: true });
    await publishDirectory(tmp, dir);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/** Where download and fallback notices go unless the caller gives a log. */
export function logToStderr(line: string): void {
  process.stderr.write(line + '\n');
}
