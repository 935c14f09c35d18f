import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { WeightsError } from '../errors';
import { writeDirectoryAtomic } from '../runtime/atomic';

/**
 * TF.js model folders (model.json + weight shards) on local disk. tfjs without tfjs-node has no file://
 * handler, so these small IOHandlers read and write the standard layout themselves.
 */
export const MODEL_JSON = 'model.json';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  [key: string]: unknown;
}

/** Reads and checks model.json; names the file in every error. */
export function readModelJson(dir: string): ModelJson {
  const file = path.join(dir, MODEL_JSON);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new WeightsError(`cannot read the model description (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file, cause: error });
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw new WeightsError(`not valid JSON: ${(error as Error).message}`, { file, cause: error });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new WeightsError('not a TF.js layers model (needs modelTopology and weightsManifest)', { file });
  }
  return json;
}

/** Shard paths listed by a model.json, checked to stay inside its folder. */
export function shardPaths(json: ModelJson, where: string): string[] {
  const paths = (json.weightsManifest ?? []).flatMap((group) => group.paths);
  for (const p of paths) {
    if (typeof p !== 'string' || p === '' || p.includes('..') || path.isAbsolute(p) || /[\\:]/.test(p)) {
      throw new WeightsError(`weight shard path '${p}' is not a plain file name`, { file: where });
    }
  }
  return paths;
}

/** An IOHandler loading a layers model from a local folder. */
export function directoryLoader(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readModelJson(dir);
      const buffers = shardPaths(json, path.join(dir, MODEL_JSON)).map((p) => {
        const file = path.join(dir, p);
        try {
          return fs.readFileSync(file);
        } catch (error) {
          throw new WeightsError(`weight shard missing or unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file, cause: error });
        }
      });
      const weightSpecs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
      const joined = Buffer.concat(buffers);
      const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPerValue(s.dtype), 0);
      if (joined.length !== expected) {
        // Named after the last shard, where a truncated write or download ends.
        const lastShard = path.join(dir, shardPaths(json, path.join(dir, MODEL_JSON)).at(-1) ?? MODEL_JSON);
        throw new WeightsError(`weight shards hold ${joined.length} bytes, the manifest needs ${expected} (truncated, or from another model)`, { file: lastShard });
      }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs,
        weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.length),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },
  };
}

function bytesPerValue(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool' || dtype === 'uint8') return 1;
  if (dtype === 'float16' || dtype === 'uint16' || dtype === 'int16') return 2;
  throw new WeightsError(`unsupported weight dtype '${dtype}' (quantised weights are not supported)`);
}

/** The one weights file of the folders written here. */
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Writes a model's model.json + weights.bin (the standard layout, readable by tf.loadLayersModel in a browser)
 * into `dir`, which must exist. The caller makes it atomic: see saveModelToDirectory and saveModelDir.
 */
export async function writeModelFiles(model: tf.LayersModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = weightBytes(artifacts.weightData);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...extra,
      };
      await fs.promises.writeFile(path.join(dir, WEIGHTS_BIN), data);
      await fs.promises.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.length } };
    }),
  );
}

/** Saves a model into `dir` (model.json + weights.bin), atomically. */
export async function saveModelToDirectory(model: tf.LayersModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await writeDirectoryAtomic(dir, (tmp) => writeModelFiles(model, tmp, extra));
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  if (Array.isArray(data)) return Buffer.concat(data.map((b) => new Uint8Array(b)));
  return new Uint8Array(data);
}

/**
 * Content hash of a model folder's weights: names, shapes and bytes of every weight, in manifest order.
 * Independent of JSON formatting, so the same weights from a folder, a URL or a cache share one id.
 */
export function hashModelDirectory(dir: string): string {
  const json = readModelJson(dir);
  const hash = createHash('sha256');
  for (const group of json.weightsManifest ?? []) {
    for (const w of group.weights) hash.update(`${w.name}:${w.shape.join('x')}:${w.dtype};`);
  }
  for (const p of shardPaths(json, path.join(dir, MODEL_JSON))) hash.update(fs.readFileSync(path.join(dir, p)));
  return hash.digest('hex');
}

/** sha256 of each file of a model folder (model.json and shards), for download checksums. */
export function fileChecksums(dir: string): Record<string, string> {
  const json = readModelJson(dir);
  const out: Record<string, string> = {};
  for (const name of [MODEL_JSON, ...shardPaths(json, path.join(dir, MODEL_JSON))]) {
    out[name] = createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex');
  }
  return out;
}
