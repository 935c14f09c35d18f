import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { Config as HumanConfig, Human } from '@vladmandic/human';
import { CacheError, ConfigError } from '../errors';
import { initBackend } from '../runtime/backend';
import { BODY_MODEL, HAND_DETECTOR_MODEL, HAND_LANDMARK_MODEL } from './params';

/**
 * Loading @vladmandic/human (MIT) for landmarks: its MoveNet-lightning body model, its handtrack hand detector
 * and its handlandmark-lite model, all shipped inside the npm package, so nothing is downloaded.
 *
 * Three things its Node packaging gets wrong, worked around here:
 * - its `exports` map sends `require('@vladmandic/human')` to the tfjs-node build (tfjs-node does not install
 *   here) and does not export `./dist/human.node-wasm.js` (the key lacks "./"): the wasm build is required by
 *   file path, next to the file the package's main entry resolves to;
 * - models load from a `file://` modelBasePath, for which tfjs has no IO handler without tfjs-node: a load
 *   router for `file://` is registered below;
 * - the wasm backend needs `wasmPath` (the folder of tfjs-backend-wasm's .wasm files).
 * The wasm build requires @tensorflow/tfjs-core, -converter and -backend-wasm, which npm dedupes to the
 * project's 4.22.0: one engine, so its models and our tensors share one backend.
 */

/** The three models the landmark stage uses, as GraphModels of the project's tfjs. */
export interface LandmarkModels {
  /** Human itself, for its hand detector (the 'detector' strategy and the fallback); null in the browser page, which runs the wrist strategy only. */
  human: Human | null;
  /** MoveNet singlepose lightning: [1,192,192,3] int32 -> [1,1,17,3] (y, x, score), coordinates 0..1. */
  body: tf.GraphModel;
  /** MediaPipe handlandmark-lite: [1,224,224,3] float 0..1 -> 21 x (x, y, z) in crop pixels and a presence logit. */
  handLandmarks: tf.GraphModel;
  info: LandmarkModelInfo;
}

export interface LandmarkModelInfo {
  library: '@vladmandic/human';
  version: string;
  /** Model files by name with the sha256 of their .json and .bin: the cache key depends on exactly these bytes. */
  models: Record<string, { json: string; bin: string }>;
  backend: string;
}

export { BODY_MODEL, HAND_DETECTOR_MODEL, HAND_LANDMARK_MODEL };
const MODEL_NAMES = [BODY_MODEL, HAND_DETECTOR_MODEL, HAND_LANDMARK_MODEL];

/** The package folder, found from its main entry (its package.json is not exported either). */
export function humanPackageDir(): string {
  let dir = path.dirname(require.resolve('@vladmandic/human'));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function humanVersion(dir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The folder holding tfjs-backend-wasm's .wasm files, with a trailing separator as setWasmPaths wants. */
function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** What a model.json lists: topology, weights manifest and the fields GraphModel reads. */
interface ModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, {}>;
  modelInitializer?: unknown;
}

/** A tfjs IOHandler that reads a model.json and its weight files from disk. */
function fileHandler(jsonFile: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: ModelJson;
      try {
        json = JSON.parse(await fs.promises.readFile(jsonFile, 'utf8')) as ModelJson;
      } catch (error) {
        throw new CacheError(`cannot read model: ${(error as Error).message}`, { file: jsonFile });
      }
      const parts = await Promise.all(json.weightsManifest.flatMap((group) => group.paths.map((p) => fs.promises.readFile(path.join(path.dirname(jsonFile), p)))));
      const weights = Buffer.concat(parts);
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        signature: json.signature as tf.io.ModelArtifacts['signature'],
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
      };
    },
  };
}

let routerRegistered = false;

/** tfjs has no file:// loader without tfjs-node; this one is registered once per process. */
export function registerFileRouter(): void {
  if (routerRegistered) return;
  routerRegistered = true;
  // tfjs asks every router and keeps the non-null answers, though IORouter's type says it never returns null.
  tf.io.registerLoadRouter(((url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    return typeof u === 'string' && u.startsWith('file://') ? fileHandler(u.slice('file://'.length)) : null;
  }) as Parameters<typeof tf.io.registerLoadRouter>[0]);
}

/**
 * Human's settings for the landmark stage. cacheSensitivity 0: otherwise Human reuses results for up to
 * skipFrames (99) frames or skipTime (1 s of wall time) while the picture changes little, so a result would
 * depend on the machine's speed. Two hands (the default finds one). Face, objects, segmentation, gestures and
 * image filters off: not used, and each costs a model or a pass over the picture. The body model is run by
 * extract.ts itself (see there), so Human's body step is off.
 */
export function humanConfig(modelDir: string, backend: string): Partial<HumanConfig> {
  return {
    backend: backend as HumanConfig['backend'],
    wasmPath: wasmDir(),
    modelBasePath: `file://${modelDir}${path.sep}`,
    debug: false,
    cacheSensitivity: 0,
    cacheModels: false,
    warmup: 'none',
    filter: { enabled: false } as HumanConfig['filter'],
    face: { enabled: false } as HumanConfig['face'],
    object: { enabled: false } as HumanConfig['object'],
    segmentation: { enabled: false } as HumanConfig['segmentation'],
    gesture: { enabled: false },
    body: { enabled: true, modelPath: `${BODY_MODEL}.json`, maxDetected: 1 } as HumanConfig['body'],
    hand: {
      enabled: true,
      maxDetected: 2,
      landmarks: true,
      detector: { modelPath: `${HAND_DETECTOR_MODEL}.json` },
      skeleton: { modelPath: `${HAND_LANDMARK_MODEL}.json` },
    } as HumanConfig['hand'],
  };
}

/** Model versions for cache keys, without loading anything (sha256 of the model files, Human's version). */
export function landmarkModelFiles(): Omit<LandmarkModelInfo, 'backend'> {
  const dir = humanPackageDir();
  const models: LandmarkModelInfo['models'] = {};
  for (const name of MODEL_NAMES) {
    const json = path.join(dir, 'models', `${name}.json`);
    const bin = path.join(dir, 'models', `${name}.bin`);
    if (!fs.existsSync(json) || !fs.existsSync(bin)) throw new ConfigError(`@vladmandic/human ships no model ${name} (${json}): reinstall it with npm ci`);
    models[name] = { json: sha256(json), bin: sha256(bin) };
  }
  return { library: '@vladmandic/human', version: humanVersion(dir), models };
}

let loaded: Promise<LandmarkModels> | undefined;

/**
 * Loads Human's wasm build and its three models once per thread (each worker thread has its own). Human logs
 * a failed model load instead of throwing: every model is checked after loading. Thresholds are given per call.
 */
export function loadLandmarkModels(): Promise<LandmarkModels> {
  loaded ??= (async () => {
    const backend = (await initBackend()).tfBackend;
    registerFileRouter();
    const dir = humanPackageDir();
    const files = landmarkModelFiles();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require(path.join(dir, 'dist', 'human.node-wasm.js')) as { Human: new (config: Partial<HumanConfig>) => Human };
    const human = new lib.Human(humanConfig(path.join(dir, 'models'), backend));
    await human.load();
    const graph = (name: string): tf.GraphModel => {
      const model = human.models.models[name] as unknown as tf.GraphModel | null;
      // A GraphModel whose load failed has no executor; using it later gives empty results, not an error.
      if (!model || !(model as unknown as { executor?: unknown }).executor) throw new CacheError(`@vladmandic/human could not load model ${name}`, { file: path.join(dir, 'models', `${name}.json`) });
      return model;
    };
    graph('handtrack');
    return { human, body: graph('movenet'), handLandmarks: graph('handskeleton'), info: { ...files, backend } };
  })();
  return loaded;
}
