import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Served from the bundle itself (no CDN): the page works offline.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { MODEL_INFO_FILE, parseModelInfo } from '../../src/model/model_info';
import { checkRecognizer, type Recognizer } from '../../src/model/recognize';
import { PageError } from './frames';

export type PageBackend = 'webgl' | 'wasm' | 'cpu';

/** WebGL backed by a software rasteriser (SwiftShader, llvmpipe) is slower than WebAssembly: treat it as absent. */
function hardwareWebgl(): { ok: boolean; renderer: string } {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return { ok: false, renderer: 'none' };
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  return { ok: !/swiftshader|llvmpipe|software/i.test(renderer), renderer };
}

/**
 * WebGL when there is a real GPU, else WebAssembly (SIMD, and threads when the page is cross-origin isolated,
 * which scripts/serve_web.ts arranges), else plain JS. `?backend=` in the URL forces one.
 */
export async function pickBackend(forced?: string | null): Promise<{ backend: string; note: string }> {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  });
  const gl = hardwareWebgl();
  const order: PageBackend[] = forced ? [forced as PageBackend] : gl.ok ? ['webgl', 'wasm', 'cpu'] : ['wasm', 'webgl', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        let threads = '';
        if (name === 'wasm') {
          const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
          const multi = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
          threads = ` (SIMD ${simd ? 'on' : 'off'}, threads ${multi ? 'on' : 'off'})`;
        }
        return { backend: name, note: `${name}${threads}; WebGL renderer: ${gl.renderer}` };
      }
    } catch {
      // try the next one
    }
  }
  throw new PageError('failed', 'No TensorFlow.js backend could start in this browser.');
}

async function fetchJson(url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (error) {
    throw new PageError('no-model', `No model loaded: cannot reach ${url} (${(error as Error).message}).`);
  }
  if (response.status === 404) {
    throw new PageError('no-model', 'No model loaded: the server has no model directory. Start it with `npm run web -- --model <trained model directory>`.');
  }
  if (!response.ok) throw new PageError('no-model', `No model loaded: ${url} answered HTTP ${response.status}.`);
  try {
    return await response.json();
  } catch {
    throw new PageError('no-model', `No model loaded: ${url} is not JSON.`);
  }
}

/** Loads wlasl-model.json, the head and the backbone from `baseUrl` (the served model directory) and checks they fit. */
export async function loadRecognizer(baseUrl: string): Promise<Recognizer> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const infoUrl = new URL(MODEL_INFO_FILE, new URL(base, location.href)).href;
  const json = await fetchJson(infoUrl);
  let info;
  try {
    info = parseModelInfo(json, infoUrl);
  } catch (error) {
    throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
  }
  const headUrl = new URL('model.json', infoUrl).href;
  const backboneUrl = new URL(`${info.backbone.dir.replace(/\/$/, '')}/model.json`, infoUrl).href;
  try {
    const [head, backbone] = await Promise.all([tf.loadLayersModel(headUrl), tf.loadLayersModel(backboneUrl)]);
    const recognizer = { head, backbone, info };
    checkRecognizer(recognizer);
    return recognizer;
  } catch (error) {
    throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
  }
}

/** One dummy frame through both models, so shader compilation / wasm warm-up is not billed to the user's first clip. */
export async function warmUp(r: Recognizer): Promise<void> {
  const size = r.info.frames.size;
  const dim = r.head.inputs[0]!.shape[2] as number;
  const outputs = tf.tidy(() => [r.backbone.predict(tf.zeros([1, size, size, 3])) as tf.Tensor, r.head.predict(tf.zeros([1, r.info.sequence.sampleSize, dim])) as tf.Tensor]);
  await Promise.all(outputs.map((t) => t.data()));
  tf.dispose(outputs);
}
