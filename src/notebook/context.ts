import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkConfig, resolveConfig, type DeepPartial, type PipelineConfig } from '../config';
import { ConfigError } from '../errors';
import { cacheRoot, homeRelative, weightsCacheDir } from '../runtime/user_cache';
import { resolveBackboneConfig } from '../backbone/source';

/**
 * What every notebook needs to agree on: which data folder, which config, where the shared feature cache and
 * the notebooks' run folder are. One switch (the data folder, from WLASL_DATA or the notebook's first cell)
 * moves all notebooks from the embedded sample to a real WLASL folder; nothing else needs editing.
 */
export const SAMPLE_DATA_DIR = 'data/sample';

export interface NotebookContext {
  dataDir: string;
  /** When the switch names a zip (Kaggle's wlasl-processed.zip): the zip; dataDir is where it is extracted. */
  zipFile?: string;
  usingSample: boolean;
  /** Preset names applied ('sample' for the embedded sample, then WLASL_PRESET), or 'defaults' when none. */
  preset: string;
  /** Overrides applied on top of the preset (for the record). */
  overrides: DeepPartial<PipelineConfig>;
  config: PipelineConfig;
  /** Which weights 'default' stood for and why (config.backbone holds the resolved weights). */
  weightsChoice?: string;
  /** WLASL100/300/... when WLASL_SUBSET is set. */
  subset?: string;
  /** The cache root, per user (runtime/user_cache.ts): the one `npm start` uses, so features computed by either serve both. */
  cacheDir: string;
  /** Where the notebooks keep their trained model, history and charts (ignored by git). */
  runDir: string;
  modelDir: string;
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got '${raw}'`);
  return n;
}

/**
 * Resolves the notebooks' shared settings. `dataDir` is the notebook's switch; WLASL_PRESET, WLASL_WEIGHTS (a
 * folder, URL, 'imagenet' or 'random'), WLASL_ALPHA and WLASL_SUBSET refine it without editing a notebook.
 */
export function notebookContext(dataDir: string = process.env.WLASL_DATA ?? SAMPLE_DATA_DIR, env: NodeJS.ProcessEnv = process.env, options: { requireData?: boolean } = {}): NotebookContext {
  const zipFile = /\.zip$/i.test(dataDir) ? path.resolve(dataDir) : undefined;
  // A zip is extracted beside itself (01_data_acquisition does it): data/wlasl-processed.zip -> data/wlasl-processed/.
  const resolvedData = zipFile ? zipFile.replace(/\.zip$/i, '') : path.resolve(dataDir);
  if (options.requireData !== false && !fs.existsSync(path.join(resolvedData, 'WLASL_v0.3.json'))) {
    const hint = zipFile ? 'run 01_data_acquisition first: it extracts the zip here' : 'point WLASL_DATA (or DATA_DIR in the first cell) at a folder with WLASL_v0.3.json and videos/';
    throw new ConfigError(`no WLASL_v0.3.json here: ${hint}`, { file: resolvedData });
  }
  const usingSample = resolvedData === path.resolve(SAMPLE_DATA_DIR);
  // The embedded sample gets the sample preset (src/config.ts) under any other, as `npm start` does.
  const preset = env.WLASL_PRESET || undefined;
  const alpha = envNumber(env, 'WLASL_ALPHA') as PipelineConfig['backbone']['alpha'] | undefined;
  const overrides: DeepPartial<PipelineConfig> = {
    backbone: { ...(alpha !== undefined ? { alpha } : {}), ...(env.WLASL_WEIGHTS ? { weights: env.WLASL_WEIGHTS } : {}) },
  };
  const given = resolveConfig({ preset, overrides, sample: usingSample });
  checkConfig(given, (field) => (field === 'backbone.alpha' ? 'WLASL_ALPHA' : field === 'backbone.weights' ? 'WLASL_WEIGHTS' : field));
  // Resolved as `npm start` does, so every notebook names the weights it really uses.
  const resolved = resolveBackboneConfig(given.backbone, weightsCacheDir(cacheRoot(undefined, env)), alpha !== undefined ? true : undefined);
  const config: PipelineConfig = { ...given, backbone: resolved.backbone };
  const runName = usingSample ? 'notebooks' : `notebooks-${path.basename(resolvedData)}`;
  const runDir = path.resolve('runs', runName);
  return {
    dataDir: resolvedData,
    zipFile,
    usingSample,
    preset: [usingSample ? 'sample' : undefined, preset].filter(Boolean).join(' + ') || 'defaults',
    overrides,
    config,
    ...(resolved.reason ? { weightsChoice: resolved.reason } : {}),
    subset: env.WLASL_SUBSET || undefined,
    cacheDir: cacheRoot(undefined, env),
    runDir,
    modelDir: path.join(runDir, 'model'),
  };
}

/** Two lines for the top of a notebook: the data and the recipe in use. */
export function describeContext(ctx: NotebookContext): string {
  const b = ctx.config.backbone;
  // Relative to the repository root (the kernel's working directory), so outputs do not carry this machine's paths.
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  return [
    `data: ${rel(ctx.dataDir)}${ctx.usingSample ? ' (the embedded sample)' : ''}${ctx.subset ? `, subset ${ctx.subset}` : ''}`,
    `config: preset ${ctx.preset}; backbone MobileNetV2 alpha ${b.alpha}, weights ${b.weights}${b.allowRandomFallback ? ' (random fallback allowed)' : ''}; overrides ${JSON.stringify(ctx.overrides)}`,
    ...(ctx.weightsChoice ? [ctx.weightsChoice] : []),
    `cache: ${homeRelative(ctx.cacheDir)}; notebook run folder: ${rel(ctx.runDir)}`,
  ].join('\n');
}
