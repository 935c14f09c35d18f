import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from '../errors';

/**
 * Picks the TensorFlow.js backend at run time: native TensorFlow (GPU, then CPU) when its package loads,
 * else WebAssembly, else the pure-JS cpu backend. `WLASL_BACKEND` forces one.
 *
 * Detection is by registered backend name, never by a require succeeding: danfojs-node's dependency on
 * @tensorflow/tfjs-node is aliased to plain tfjs in package.json, so that require returns tfjs itself.
 */
export type BackendChoice = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_ENV = 'WLASL_BACKEND';
const ORDER: BackendChoice[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendReport {
  /** The choice that is active (tensorflow-gpu and tensorflow both run as tfjs backend 'tensorflow'). */
  active: BackendChoice;
  /** tf.getBackend() after selection. */
  tfBackend: string;
  /** Whether WLASL_BACKEND (or the caller) forced the choice. */
  forced: boolean;
  /** For each choice not taken, why (one line). */
  skipped: Partial<Record<BackendChoice, string>>;
  /** One line for logs and notebooks. */
  summary: string;
}

let current: BackendReport | undefined;
let pending: Promise<BackendReport> | undefined;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? 'unknown error';
  return line.length > 160 ? line.slice(0, 157) + '...' : line;
}

function isMissingModule(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(name);
}

/** Loads a native tfjs package; returns null when it registered the 'tensorflow' backend, else the reason. */
function loadNative(pkg: string): string | null {
  if (tf.findBackend('tensorflow')) return null;
  try {
    require(pkg);
  } catch (error) {
    return isMissingModule(error, pkg) ? `not installed (optional dependency ${pkg})` : `failed to load: ${firstLine(error)}`;
  }
  if (tf.findBackend('tensorflow')) return null;
  // The danfojs-node override aliases @tensorflow/tfjs-node to plain tfjs, so "loads" can mean "absent".
  return `not installed (${pkg} resolves to plain tfjs, the danfojs-node override)`;
}

function nativeHasGpu(): boolean {
  // tfjs-node-gpu exposes the same backend name; TF reports devices through its binding.
  try {
    const backend = tf.findBackend('tensorflow') as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
    return Boolean(backend?.binding?.isUsingGpuDevice?.());
  } catch {
    return false;
  }
}

async function tryChoice(choice: BackendChoice): Promise<string | null> {
  switch (choice) {
    case 'tensorflow-gpu': {
      const reason = loadNative('@tensorflow/tfjs-node-gpu');
      if (reason) return reason;
      if (!nativeHasGpu()) return 'native TensorFlow loaded, but no GPU device is visible';
      return (await tf.setBackend('tensorflow')) ? null : "tf.setBackend('tensorflow') failed";
    }
    case 'tensorflow': {
      const reason = loadNative('@tensorflow/tfjs-node-gpu') === null ? null : loadNative('@tensorflow/tfjs-node');
      if (reason) return reason;
      return (await tf.setBackend('tensorflow')) ? null : "tf.setBackend('tensorflow') failed";
    }
    case 'wasm':
    case 'cpu':
      try {
        return (await tf.setBackend(choice)) ? null : `tf.setBackend('${choice}') returned false`;
      } catch (error) {
        return `failed to initialise: ${firstLine(error)}`;
      }
  }
}

function parseForced(value: string | undefined): BackendChoice | undefined {
  if (value === undefined || value.trim() === '' || value === 'auto') return undefined;
  const v = value.trim().toLowerCase();
  const alias: Record<string, BackendChoice> = { gpu: 'tensorflow-gpu', native: 'tensorflow', node: 'tensorflow', tensorflow: 'tensorflow' };
  const choice = (alias[v] ?? v) as BackendChoice;
  if (!ORDER.includes(choice)) {
    throw new ConfigError(`${BACKEND_ENV}=${value} is not one of auto, ${ORDER.join(', ')}`);
  }
  return choice;
}

/**
 * Selects and initialises the backend once per process (later calls return the same report).
 * `force` (or WLASL_BACKEND) makes it take exactly that backend or fail with the reason.
 */
export async function initBackend(options: { force?: BackendChoice | 'auto' } = {}): Promise<BackendReport> {
  if (current && options.force === undefined) return current;
  if (pending && options.force === undefined) return pending;
  const run = async (): Promise<BackendReport> => {
    const forced = parseForced(options.force ?? process.env[BACKEND_ENV]);
    const skipped: Partial<Record<BackendChoice, string>> = {};
    const candidates = forced ? [forced] : ORDER;
    for (const choice of candidates) {
      const reason = await tryChoice(choice);
      if (reason === null) {
        await tf.ready();
        const report: BackendReport = {
          active: choice,
          tfBackend: tf.getBackend(),
          forced: forced !== undefined,
          skipped,
          summary: summarise(choice, forced !== undefined, skipped),
        };
        current = report;
        return report;
      }
      skipped[choice] = reason;
    }
    const why = Object.entries(skipped).map(([k, v]) => `${k}: ${v}`).join('; ');
    throw new ConfigError(forced ? `backend ${forced} was forced by ${BACKEND_ENV} but is unavailable (${why})` : `no TensorFlow.js backend could start (${why})`);
  };
  pending = run();
  try {
    return await pending;
  } finally {
    pending = undefined;
  }
}

function summarise(active: BackendChoice, forced: boolean, skipped: Partial<Record<BackendChoice, string>>): string {
  const others = Object.entries(skipped).map(([k, v]) => `${k}: ${v}`);
  const head = `tfjs backend: ${active}${forced ? ` (forced by ${BACKEND_ENV})` : ''}`;
  return others.length ? `${head}; not taken: ${others.join('; ')}` : head;
}

/** The report of the backend chosen so far, if any. */
export function backendReport(): BackendReport | undefined {
  return current;
}
