import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelDirError, WlaslError, describeError } from '../src/errors';
import { publishDirectory, tempDirFor } from '../src/runtime/atomic';
import { directoryLoader } from '../src/backbone/model_dir';
import { initBackend } from '../src/runtime/backend';
import { MODEL_INFO_FILE, modelInfoOf, parseModelMeta } from '../src/model/model_info';
import { checkRecognizer } from '../src/model/recognize';
import { checkLandmarkRecognizer } from '../src/pipeline/recognize_clip';
import { READY_MODEL_DIR } from '../src/model/model_dir';
import { BODY_MODEL, HAND_LANDMARK_MODEL, humanPackageDir } from '../src/landmarks/human';

/**
 * `npm run web -- --model DIR`: builds the browser page (web/, Vite) when its sources changed, then serves
 * web/dist at / and a trained model directory at /model/ on 127.0.0.1 with Node's http module. Everything the
 * page needs (tfjs, its .wasm files, the model) comes from this server: it works offline.
 */
export const REPO_ROOT = path.resolve(__dirname, '..');
export const WEB_DIR = path.join(REPO_ROOT, 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');
const BUILD_INPUTS = 'build-inputs.json';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** Why the built page is out of date, or null when web/dist matches its sources (build-inputs.json lists them). */
export function webBuildStaleReason(distDir = WEB_DIST): string | null {
  const index = path.join(distDir, 'index.html');
  const inputsFile = path.join(distDir, BUILD_INPUTS);
  if (!fs.existsSync(index) || !fs.existsSync(inputsFile)) return 'no build yet';
  const builtAt = fs.statSync(index).mtimeMs;
  let inputs: string[];
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8')) as string[];
  } catch {
    return `${BUILD_INPUTS} unreadable`;
  }
  // New files in web/src are not in the old list: include them too.
  const webSources = fs.readdirSync(path.join(WEB_DIR, 'src')).map((f) => path.join('web', 'src', f));
  for (const rel of new Set([...inputs, ...webSources])) {
    const file = path.join(REPO_ROOT, rel);
    if (!fs.existsSync(file)) return `${rel} was removed`;
    if (fs.statSync(file).mtimeMs > builtAt) return `${rel} changed`;
  }
  return null;
}

/** Runs `vite build` into a temporary folder and swaps it in, so a failed or interrupted build keeps the old page. */
export async function buildWeb(log: (line: string) => void = () => undefined): Promise<void> {
  const tmp = tempDirFor(WEB_DIST);
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', path.join(WEB_DIR, 'vite.config.ts'), '--outDir', tmp, '--emptyOutDir'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new ConfigError(`vite build failed (exit ${code}): ${output.trim().split('\n').slice(-8).join('\n')}`, { file: path.join(WEB_DIR, 'vite.config.ts') }));
    });
  }).catch(async (error) => {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  });
  await publishDirectory(tmp, WEB_DIST);
  log(`built web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Builds the page when its sources changed since the last build. Returns whether it built. */
export async function ensureWebBuild(log: (line: string) => void = () => undefined): Promise<boolean> {
  const reason = webBuildStaleReason();
  if (!reason) return false;
  log(`building the web page (${reason})...`);
  await buildWeb(log);
  return true;
}

export interface WebServerOptions {
  /** Trained model directory served at /model/; without one the page says "No model loaded". */
  modelDir?: string;
  /** Backbone folder served at /model/<backbone.dir>/ when the model directory holds none. */
  backboneDir?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  distDir?: string;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Resolves a URL path inside `root`, or null if it would leave it (../, encoded or not). */
function fileInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return file;
}

function isInside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

/**
 * Opens `file` for sending when it is a regular file whose real path is inside `realRoot`: a symlink in a
 * served folder that leads out of it (`ln -s / MODEL/leak`) gives 404, never the file it points to.
 */
async function openServable(file: string | null, realRoot: string): Promise<{ handle: fs.promises.FileHandle; size: number; real: string } | null> {
  if (!file) return null;
  let real: string;
  try {
    real = await fs.promises.realpath(file);
  } catch {
    return null;
  }
  if (!isInside(real, realRoot)) return null;
  let handle: fs.promises.FileHandle;
  try {
    // NOFOLLOW: a link swapped in after the check is refused; NONBLOCK: a FIFO cannot hang the open.
    handle = await fs.promises.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  const stat = await handle.stat().catch(() => null);
  if (!stat?.isFile()) {
    await handle.close();
    return null;
  }
  return { handle, size: stat.size, real };
}

export interface CheckedModelDirectory {
  modelDir: string;
  /** What the page runs: CNN features of frame windows, or landmarks over the whole clip. */
  kind: 'windows' | 'landmarks';
  /** The backbone folder and its URL folder; null for a landmark model (it has none). */
  backboneDir: string | null;
  backboneUrlDir: string | null;
  /** Real paths of the folders: only files inside them are served. */
  realModelDir: string;
  realBackboneDir: string | null;
}

/** The landmark models the page runs for a landmark model (the wrist strategy: no hand detector), from Human's package. */
export const PAGE_LANDMARK_MODELS = [`${BODY_MODEL}.json`, `${BODY_MODEL}.bin`, `${HAND_LANDMARK_MODEL}.json`, `${HAND_LANDMARK_MODEL}.bin`];

/** Loads a TF.js layers model from a folder; tfjs's own errors (garbage topology) become ModelDirErrors naming model.json. */
async function loadLayers(dir: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(directoryLoader(dir));
  } catch (error) {
    if (error instanceof WlaslError) throw error;
    throw new ModelDirError(`not a loadable TF.js layers model (${(error as Error).message})`, { file: path.join(dir, 'model.json'), cause: error });
  }
}

/**
 * Checks a model directory before serving it: wlasl-model.json valid, head and backbone present and loadable
 * (model.json parsed, weights complete, built by TF.js), and fitting each other, so the page never starts on a
 * model it cannot run. The backbone must lie inside the model directory unless given separately. Returns
 * absolute and real paths and the backbone's URL folder.
 */
export async function checkModelDirectory(modelDir: string, backboneDir?: string): Promise<CheckedModelDirectory> {
  await initBackend();
  const dir = path.resolve(modelDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelDirError('model directory not found', { file: dir });
  const infoFile = path.join(dir, MODEL_INFO_FILE);
  for (const file of [infoFile, path.join(dir, 'model.json')]) {
    if (!fs.existsSync(file)) throw new ModelDirError(`not a trained model directory: ${path.basename(file)} is missing (train one first, or pass the folder training wrote)`, { file: dir });
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
  } catch (error) {
    throw new ModelDirError(`not valid JSON (${(error as Error).message})`, { file: infoFile });
  }
  const meta = parseModelMeta(json, infoFile);
  const info = modelInfoOf(meta);
  const { stream } = meta;
  const realModelDir = fs.realpathSync(dir);
  if (stream.features === 'landmarks' && stream.wholeClip) {
    const head = await loadLayers(dir);
    try {
      checkLandmarkRecognizer({ head, info }, dir);
    } finally {
      head.dispose();
    }
    return { modelDir: dir, kind: 'landmarks', backboneDir: null, backboneUrlDir: null, realModelDir, realBackboneDir: null };
  }
  // The page runs CNN windows and landmark models; hand crops, fusion and whole-clip CNN models run in Node only.
  if (stream.features !== 'cnn' || stream.wholeClip) {
    throw new ModelDirError(
      `this model reads ${stream.features === 'cnn' ? 'CNN features' : stream.features} over ${stream.wholeClip ? 'the whole clip' : 'windows'}; the browser page runs landmark models and CNN-window models (--preset cnn-windows). Try this one with: npm run cli -- predict <clip.mp4> --model ${modelDir}`,
      { file: infoFile },
    );
  }
  const backbone = backboneDir ? path.resolve(backboneDir) : path.join(dir, info.backbone.dir);
  if (!fs.existsSync(path.join(backbone, 'model.json'))) {
    throw new ModelDirError(
      `no backbone: ${path.join(backbone, 'model.json')} is missing. Put the backbone's TF.js folder there, or pass --backbone <folder with model.json>`,
      { file: dir },
    );
  }
  const realBackboneDir = fs.realpathSync(backbone);
  // A backbone/ that is a link out of the model folder would publish whatever it points to: say so instead.
  if (!backboneDir && !isInside(realBackboneDir, realModelDir)) {
    throw new ModelDirError(`the backbone folder leads to ${realBackboneDir}, outside the model directory; pass --backbone ${realBackboneDir} to serve it anyway`, { file: backbone });
  }
  const head = await loadLayers(dir);
  try {
    const backboneModel = await loadLayers(backbone);
    try {
      checkRecognizer({ head, backbone: backboneModel, info }, dir);
    } finally {
      backboneModel.dispose();
    }
  } finally {
    head.dispose();
  }
  return { modelDir: dir, kind: 'windows', backboneDir: backbone, backboneUrlDir: info.backbone.dir.replace(/^\.\/|\/+$/g, ''), realModelDir, realBackboneDir };
}

export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const distDir = path.resolve(options.distDir ?? WEB_DIST);
  if (!fs.existsSync(path.join(distDir, 'index.html'))) throw new ConfigError('the page is not built (run `npm run web`, which builds it)', { file: distDir });
  const model = options.modelDir ? await checkModelDirectory(options.modelDir, options.backboneDir) : undefined;
  const realDist = fs.realpathSync(distDir);
  const landmarkModelsDir = fs.realpathSync(path.join(humanPackageDir(), 'models'));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Cross-origin isolation lets tfjs use its multi-threaded WebAssembly build (SharedArrayBuffer).
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let file: string | null;
    let root = realDist;
    if (url.pathname === '/model' || url.pathname.startsWith('/model/')) {
      const rest = url.pathname.slice('/model'.length);
      const backbonePrefix = model?.backboneUrlDir ? `/${model.backboneUrlDir}/` : null;
      if (!model) file = null;
      else if (backbonePrefix && model.backboneDir && model.realBackboneDir && rest.startsWith(backbonePrefix)) {
        file = fileInside(model.backboneDir, rest.slice(backbonePrefix.length - 1));
        root = model.realBackboneDir;
      } else {
        file = fileInside(model.modelDir, rest);
        root = model.realModelDir;
      }
      res.setHeader('Cache-Control', 'no-cache'); // a retrained model must not be shadowed by a cached one
    } else if (url.pathname.startsWith('/landmark-models/')) {
      // Only the few model files the page needs, from the installed @vladmandic/human (the same bytes Node uses).
      const name = url.pathname.slice('/landmark-models/'.length);
      file = model?.kind === 'landmarks' && PAGE_LANDMARK_MODELS.includes(name) ? path.join(landmarkModelsDir, name) : null;
      root = landmarkModelsDir;
      res.setHeader('Cache-Control', 'public, max-age=86400');
    } else {
      file = fileInside(distDir, url.pathname === '/' ? '/index.html' : url.pathname);
      res.setHeader('Cache-Control', url.pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    void openServable(file, root).then((opened) => {
      if (!opened) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(opened.real).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': opened.size });
      if (req.method === 'HEAD') {
        void opened.handle.close();
        res.end();
        return;
      }
      opened.handle
        .createReadStream()
        .on('error', () => res.destroy())
        .pipe(res);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('serve_web')
    .description('Build (if needed) and serve the browser recogniser with a trained model directory')
    .option('-m, --model <dir>', 'trained model directory (model.json, wlasl-model.json, and backbone/ for a CNN model); default: the ready WLASL100 model in models/wlasl100')
    .option('-b, --backbone <dir>', "backbone TF.js folder, when the model directory has no backbone/ of its own")
    .option('-p, --port <n>', 'port (0 = any free one)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--rebuild', 'build the page even if it looks up to date')
    .option('--no-build', 'serve web/dist as it is')
    .parse(argv);
  const opts = program.opts<{ model?: string; backbone?: string; port: string; host: string; rebuild?: boolean; build: boolean }>();
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be 0..65535, got '${opts.port}'`);
  // Without --model: the ready WLASL100 model shipped in models/wlasl100 (its MODEL_CARD.md says what it can do).
  const modelDir = opts.model ?? READY_MODEL_DIR;
  if (!opts.model) console.log(`no --model given: serving the ready WLASL100 model (${path.relative(process.cwd(), READY_MODEL_DIR) || READY_MODEL_DIR}; see its MODEL_CARD.md)`);
  await checkModelDirectory(modelDir, opts.backbone); // fail before a long build
  if (opts.rebuild) await buildWeb(console.log);
  else if (opts.build) await ensureWebBuild(console.log);
  const server = await startWebServer({ modelDir, backboneDir: opts.backbone, port, host: opts.host });
  console.log(`serving the page at ${server.url} with the model in ${path.resolve(modelDir)}`);
  console.log('press Ctrl+C to stop');
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv).catch((error) => {
    console.error(`serve_web: ${describeError(error)}`);
    process.exit(1);
  });
}
