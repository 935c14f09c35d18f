import * as tf from '@tensorflow/tfjs';

/**
 * A fast LSTM for training on cached features, with the exact maths of a standard (Keras / PyTorch) LSTM:
 *   z = x W + h U + b, gates in Keras order i, f, c, o;
 *   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_c), o = sigmoid(z_o);
 *   c' = f c + i g;  h' = o tanh(c').
 *
 * Why not tf.layers.lstm: profiling one Adam step on [32, 5, 1280] (tf.profile, wasm) showed 577 of ~650 ms in
 * BatchMatMul, because the autodiff gradients call matMul with transposeA / transposeB, which the wasm backend
 * runs on a slow non-XNNPACK path (15-20x slower than the plain product). The rest was ~870 tiny kernels.
 * So here: (1) the input projection of all time steps is one matmul; (2) every matmul is a plain A @ B (the
 * weights are kept transposed so the big one never needs a transpose); (3) backpropagation through time is
 * written out by hand, with the gate arithmetic in short JS loops over small [4H, B] blocks and the gate
 * activations as one backend sigmoid per step (tanh(x) = 2 sigmoid(2x) - 1), so a step runs ~30 kernels
 * instead of ~870. Layouts are "feature-major": an activation block is [features, B].
 * What remains is arithmetic: ~1.05 GFLOP per step, ~85% of it in the projection and its weight gradient
 * (~11 ms each on one core of wasm SIMD without FMA, ~39 GFLOP/s), 37 ms a step in all; hence the optional
 * helper thread for those two products (BigMatMul), which brings it to ~28 ms.
 */

/**
 * A [m, k] @ B [k, n] -> [m, n] for the two large products of a step (input projection and its weight
 * gradient); ./parallel_matmul.ts provides one that uses a second core.
 */
export type BigMatMul = (a: Float32Array, m: number, k: number, b: Float32Array, n: number) => Float32Array;

/** One LSTM layer's parameters. Transposed w.r.t. Keras: kernelT = kernel^T, recurrentT = recurrent_kernel^T. */
export interface LstmLayerParams {
  inputDim: number;
  units: number;
  /** [4H, D] row-major. */
  kernelT: Float32Array;
  /** [4H, H] row-major. */
  recurrentT: Float32Array;
  /** [4H]. */
  bias: Float32Array;
}

/** Activations kept from the forward pass for backpropagation. All blocks are [rows, B] per time step. */
export interface LstmLayerCache {
  steps: number;
  batch: number;
  /** Gate activations i, f, g, o per step: [T][4H][B]. */
  gates: Float32Array;
  /** Cell state per step: [T][H][B]. */
  cells: Float32Array;
  /** tanh(cell) per step: [T][H][B]. */
  cellTanh: Float32Array;
  /** Hidden state per step: [T][H][B]. */
  hidden: Float32Array;
}

export interface LstmLayerGrads {
  kernelT: Float32Array;
  recurrentT: Float32Array;
  bias: Float32Array;
  /** Gradient w.r.t. the layer input as [D, T*B] (time-major columns), when asked for. */
  inputT?: Float32Array;
}

/** Elementwise sigmoid on the backend (vectorised on wasm), copied out. */
function sigmoidData(x: Float32Array, shape: [number, number]): Float32Array {
  return readAndDispose(tf.tidy(() => tf.sigmoid(tf.tensor2d(x, shape))));
}

/** C = A @ B on the active backend, copied out as a Float32Array ([m, n] row-major); no tensor is left behind. */
export function mm(a: Float32Array | tf.Tensor2D, aShape: [number, number], b: Float32Array | tf.Tensor2D, bShape: [number, number]): Float32Array {
  return readAndDispose(
    tf.tidy(() => {
      const ta = a instanceof Float32Array ? tf.tensor2d(a, aShape) : a;
      const tb = b instanceof Float32Array ? tf.tensor2d(b, bShape) : b;
      return tf.matMul(ta, tb);
    }),
  );
}

export function readAndDispose(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

/**
 * Forward pass of one layer.
 * @param inputT the input as [D, T*B]: column t*B + b is time step t of sequence b (time-major columns).
 */
export function lstmLayerForward(p: LstmLayerParams, inputT: tf.Tensor2D, steps: number, batch: number, big?: BigMatMul): LstmLayerCache {
  const H = p.units;
  const G = 4 * H;
  const TB = steps * batch;
  // Input projection of all steps at once: [4H, D] @ [D, T*B]. The weight is the left operand so the wasm
  // backend does not repack it (it packs the right operand), which costs ~7 ms for a fresh 1280x1024 matrix.
  const proj = big ? big(p.kernelT, G, p.inputDim, inputT.dataSync() as Float32Array, TB) : mm(p.kernelT, [G, p.inputDim], inputT, [p.inputDim, TB]);
  const gates = new Float32Array(steps * G * batch);
  const cells = new Float32Array(steps * H * batch);
  const cellTanh = new Float32Array(steps * H * batch);
  const hidden = new Float32Array(steps * H * batch);
  const recurrent = tf.tensor2d(p.recurrentT, [G, H]);
  const z = new Float32Array(G * batch);
  const c2 = new Float32Array(H * batch);
  try {
    let rec: Float32Array | undefined;
    for (let t = 0; t < steps; t++) {
      if (t > 0) rec = mm(recurrent, [G, H], hidden.subarray((t - 1) * H * batch, t * H * batch), [H, batch]);
      // Pre-activations; the candidate rows are doubled so that one sigmoid serves all four gates:
      // tanh(x) = 2 sigmoid(2x) - 1, and the wasm backend's sigmoid is vectorised while its tanh is ~8x slower.
      for (let r = 0; r < G; r++) {
        const bias = p.bias[r]!;
        const src = r * TB + t * batch;
        const row = r * batch;
        const scale = r >= 2 * H && r < 3 * H ? 2 : 1;
        if (rec) for (let b = 0; b < batch; b++) z[row + b] = scale * (proj[src + b]! + bias + rec[row + b]!);
        else for (let b = 0; b < batch; b++) z[row + b] = scale * (proj[src + b]! + bias);
      }
      const gOff = t * G * batch;
      gates.set(sigmoidData(z, [G, batch]), gOff);
      for (let k = 2 * H * batch; k < 3 * H * batch; k++) gates[gOff + k] = 2 * gates[gOff + k]! - 1;
      const hOff = t * H * batch;
      const prevOff = (t - 1) * H * batch;
      for (let k = 0; k < H * batch; k++) {
        const cPrev = t > 0 ? cells[prevOff + k]! : 0;
        const c = gates[gOff + H * batch + k]! * cPrev + gates[gOff + k]! * gates[gOff + 2 * H * batch + k]!;
        cells[hOff + k] = c;
        c2[k] = 2 * c;
      }
      const sc = sigmoidData(c2, [H, batch]);
      for (let k = 0; k < H * batch; k++) {
        const tc = 2 * sc[k]! - 1;
        cellTanh[hOff + k] = tc;
        hidden[hOff + k] = gates[gOff + 3 * H * batch + k]! * tc;
      }
    }
  } finally {
    recurrent.dispose();
  }
  return { steps, batch, gates, cells, cellTanh, hidden };
}

/**
 * Backward pass of one layer (backpropagation through time).
 * @param dHidden gradient of the loss w.r.t. each step's hidden state from above, [T][H][B].
 * @param input the layer input as [T*B, D] (rows time-major), the right operand of the kernel gradient.
 * @param wantInputGrad compute the gradient w.r.t. the input (needed below a stacked layer, not for features).
 */
export function lstmLayerBackward(
  p: LstmLayerParams,
  cache: LstmLayerCache,
  dHidden: Float32Array,
  input: tf.Tensor2D,
  wantInputGrad: boolean,
  big?: BigMatMul,
): LstmLayerGrads {
  const H = p.units;
  const G = 4 * H;
  const { steps, batch } = cache;
  const TB = steps * batch;
  const { gates, cells, cellTanh, hidden } = cache;
  // dZ for all steps as [4H, T*B] (time-major columns): the left operand of the weight gradients.
  const dZ = new Float32Array(G * TB);
  const dzStep = new Float32Array(G * batch);
  const dc = new Float32Array(H * batch);
  const recurrentT = tf.tensor2d(p.recurrentT, [G, H]);
  const recurrent = tf.transpose(recurrentT) as tf.Tensor2D; // [H, 4H]
  try {
    let dhRec: Float32Array | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const gOff = t * G * batch;
      const hOff = t * H * batch;
      const prevOff = (t - 1) * H * batch;
      for (let j = 0; j < H; j++) {
        for (let b = 0; b < batch; b++) {
          const k = j * batch + b;
          const dh = dHidden[hOff + k]! + (dhRec ? dhRec[k]! : 0);
          const i = gates[gOff + k]!;
          const f = gates[gOff + H * batch + k]!;
          const g = gates[gOff + 2 * H * batch + k]!;
          const o = gates[gOff + 3 * H * batch + k]!;
          const tc = cellTanh[hOff + k]!;
          const dcT = dc[k]! + dh * o * (1 - tc * tc);
          const cPrev = t > 0 ? cells[prevOff + k]! : 0;
          dzStep[k] = dcT * g * i * (1 - i);
          dzStep[H * batch + k] = dcT * cPrev * f * (1 - f);
          dzStep[2 * H * batch + k] = dcT * i * (1 - g * g);
          dzStep[3 * H * batch + k] = dh * tc * o * (1 - o);
          dc[k] = dcT * f;
        }
      }
      for (let r = 0; r < G; r++) dZ.set(dzStep.subarray(r * batch, (r + 1) * batch), r * TB + t * batch);
      if (t > 0) dhRec = mm(recurrent, [H, G], dzStep, [G, batch]);
    }
  } finally {
    recurrentT.dispose();
    recurrent.dispose();
  }
  const bias = new Float32Array(G);
  for (let r = 0; r < G; r++) {
    let s = 0;
    for (let c = 0; c < TB; c++) s += dZ[r * TB + c]!;
    bias[r] = s;
  }
  const dZt = tf.tensor2d(dZ, [G, TB]);
  try {
    const kernelT = big ? big(dZ, G, TB, input.dataSync() as Float32Array, p.inputDim) : mm(dZt, [G, TB], input, [TB, p.inputDim]);
    // Recurrent gradient: sum over t >= 1 of dZ_t h_{t-1}^T, as one [4H, (T-1)B] @ [(T-1)B, H] product.
    let recurrentGrad = new Float32Array(G * H);
    if (steps > 1) {
      const prevHidden = new Float32Array((steps - 1) * batch * H);
      for (let t = 1; t < steps; t++) {
        const hOff = (t - 1) * H * batch;
        for (let j = 0; j < H; j++) {
          for (let b = 0; b < batch; b++) prevHidden[((t - 1) * batch + b) * H + j] = hidden[hOff + j * batch + b]!;
        }
      }
      recurrentGrad = readAndDispose(
        tf.tidy(() => tf.matMul(tf.slice(dZt, [0, batch], [G, (steps - 1) * batch]), tf.tensor2d(prevHidden, [(steps - 1) * batch, H]))),
      );
    }
    let inputT: Float32Array | undefined;
    if (wantInputGrad) {
      inputT = readAndDispose(tf.tidy(() => tf.matMul(tf.transpose(tf.tensor2d(p.kernelT, [G, p.inputDim])), dZt)));
    }
    return { kernelT, recurrentT: recurrentGrad, bias, inputT };
  } finally {
    dZt.dispose();
  }
}
