import { summariseIndex, type VideoIndex } from '../metadata/video_index';
import { initBackend, type BackendReport } from '../runtime/backend';
import { loadIndex } from '../pipeline/run';
import { describeContext, notebookContext, type NotebookContext } from './context';

/**
 * The first cell of notebooks 01..07 in one call: the context (data switch, config, cache and run folders), the
 * TensorFlow.js backend and the video index, each printed in a line or so, so that an executed notebook records
 * what it ran on. Notebooks that go on to teach one of these steps still call the stage's own functions.
 */
export interface NotebookSetup {
  ctx: NotebookContext;
  backend: BackendReport;
  index: VideoIndex;
}

export interface NotebookSetupOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the description goes (console.log by default). */
  log?: (text: string) => void;
}

/**
 * `dataDir` is the notebook's switch (WLASL_DATA, else the embedded sample). With `requireData: false` (01,
 * before it has downloaded or extracted anything) the data may not exist yet, so no index is loaded.
 */
export async function setupNotebook(dataDir?: string, options?: NotebookSetupOptions & { requireData?: true }): Promise<NotebookSetup>;
export async function setupNotebook(dataDir: string | undefined, options: NotebookSetupOptions & { requireData: false }): Promise<Omit<NotebookSetup, 'index'>>;
export async function setupNotebook(dataDir?: string, options: NotebookSetupOptions & { requireData?: boolean } = {}): Promise<Omit<NotebookSetup, 'index'> & { index?: VideoIndex }> {
  const log = options.log ?? ((text: string) => console.log(text));
  const ctx = notebookContext(dataDir, options.env, { requireData: options.requireData });
  log(describeContext(ctx));
  const backend = await initBackend();
  log(backend.summary);
  if (options.requireData === false) return { ctx, backend };
  const index = loadIndex({ dataDir: ctx.dataDir, subset: ctx.subset });
  // 01 lists the warnings one by one; elsewhere their number is enough.
  log(`index: ${summariseIndex(index)}${index.warnings.length ? `; ${index.warnings.length} warning(s), listed in 01` : ''}`);
  return { ctx, backend, index };
}
