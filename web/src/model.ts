import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Served from the bundle itself (no CDN): the page works offline.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { MODEL_INFO_FILE, parseModelInfo, type WlaslModelInfo } from '../../src/model/model_info';
import { checkRecognizer, type Recognizer } from '../../src/model/recognize';
import { checkLandmarkRecognizer, recognizeLandmarkClip, type LandmarkRecognizer } from '../../src/pipeline/recognize_clip';
import { BODY_MODEL, DEFAULT_LANDMARK_PARAMS, HAND_LANDMARK_MODEL } from '../../src/landmarks/params';
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

/** What the page runs: CNN features of frame windows (the original's design), or landmarks over the whole clip. */
export type PageModel = { kind: 'windows'; recognizer: Recognizer; info: WlaslModelInfo } | { kind: 'landmarks'; recognizer: LandmarkRecognizer; info: WlaslModelInfo };

async function loadLayers(url: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(url);
  } catch (error) {
    throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
  }
}

/**
 * Loads wlasl-model.json from `baseUrl` (the served model directory), then what its stream needs: the head and
 * the backbone for a CNN model; the head and the landmark models (MoveNet, MediaPipe's hand landmarks, served by
 * scripts/serve_web.ts from @vladmandic/human at `landmarkModelsUrl`) for a landmark model. Checks they fit.
 */
export async function loadPageModel(baseUrl: string, landmarkModelsUrl = 'landmark-models/'): Promise<PageModel> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const infoUrl = new URL(MODEL_INFO_FILE, new URL(base, location.href)).href;
  const json = await fetchJson(infoUrl);
  let info: WlaslModelInfo;
  try {
    info = parseModelInfo(json, infoUrl);
  } catch (error) {
    throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
  }
  const headUrl = new URL('model.json', infoUrl).href;
  if (info.stream.features === 'landmarks' && info.stream.wholeClip) {
    const models = new URL(landmarkModelsUrl, location.href);
    const [head, body, handLandmarks] = await Promise.all([
      loadLayers(headUrl),
      tf.loadGraphModel(new URL(`${BODY_MODEL}.json`, models).href),
      tf.loadGraphModel(new URL(`${HAND_LANDMARK_MODEL}.json`, models).href),
    ]).catch((error: unknown) => {
      throw error instanceof PageError ? error : new PageError('no-model', `No model loaded: the landmark models could not be fetched (${(error as Error).message}).`);
    });
    const recognizer: LandmarkRecognizer = {
      head,
      info,
      // The wrist strategy needs no hand detector: Human itself is not loaded in the page.
      landmarks: { human: null, body, handLandmarks, info: { library: '@vladmandic/human', version: 'page', models: {}, backend: tf.getBackend() } },
    };
    try {
      checkLandmarkRecognizer(recognizer, baseUrl);
    } catch (error) {
      throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
    }
    return { kind: 'landmarks', recognizer, info };
  }
  if (info.stream.features !== 'cnn' || info.stream.wholeClip) {
    throw new PageError('no-model', `No model loaded: this model reads ${info.stream.features} over ${info.stream.wholeClip ? 'the whole clip' : 'windows'}; the page runs landmark and CNN-window models. Use \`npm run cli -- predict\` for it.`);
  }
  const backboneUrl = new URL(`${info.backbone.dir.replace(/\/$/, '')}/model.json`, infoUrl).href;
  const [head, backbone] = await Promise.all([loadLayers(headUrl), loadLayers(backboneUrl)]);
  const recognizer = { head, backbone, info };
  try {
    checkRecognizer(recognizer);
  } catch (error) {
    throw new PageError('no-model', `No model loaded: ${(error as Error).message}`);
  }
  return { kind: 'windows', recognizer, info };
}

/** One dummy input through the models, so shader compilation / wasm warm-up is not billed to the user's first clip. */
export async function warmUp(m: PageModel): Promise<void> {
  if (m.kind === 'landmarks') {
    const size = DEFAULT_LANDMARK_PARAMS.size;
    await recognizeLandmarkClip(m.recognizer, new Uint8Array(size * size * 3).fill(128), 1, { size, crop: { x: 0, y: 0, width: size, height: size } });
    return;
  }
  const r = m.recognizer;
  const size = r.info.frames.size;
  const dim = r.head.inputs[0]!.shape[2] as number;
  const outputs = tf.tidy(() => [r.backbone.predict(tf.zeros([1, size, size, 3])) as tf.Tensor, r.head.predict(tf.zeros([1, r.info.sequence.sampleSize, dim])) as tf.Tensor]);
  await Promise.all(outputs.map((t) => t.data()));
  tf.dispose(outputs);
}
