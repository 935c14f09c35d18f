import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../runtime/random';
import { glorotUniform, orthogonal, transpose } from './init';
import { type BigMatMul, LstmLayerCache, LstmLayerParams, lstmLayerBackward, lstmLayerForward, mm } from './lstm';
import { FeaturePreprocessing, prepareFeatures, preparedDim } from './preprocess';

/**
 * The CNN-LSTM head over cached backbone features, as the original's CNN_LSTM minus the CNN:
 * [B, T, D] -> (standardise, velocity) -> LSTM x layers (or one bidirectional layer) -> last step or mean over
 * time -> dropout -> dense -> softmax. Parameters live in plain Float32Arrays (the fast training path in
 * ./lstm.ts); `toLayersModel` exports them into a standard tf.sequential (tf.layers.lstm or bidirectional, global
 * average pooling for the mean, tf.layers.dense) that plain TF.js loads anywhere.
 */
export interface HeadConfig {
  /** Raw feature width (1280 for MobileNetV2 1.0). */
  featureDim: number;
  numClasses: number;
  hidden: number;
  layers: number;
  dropout: number;
  preprocessing: FeaturePreprocessing;
  /** What the classifier reads: the top layer's last hidden state (the original), or its mean over time. */
  pooling?: 'last' | 'mean';
  /**
   * A second LSTM reads the sequence backwards (one layer only), and the classifier reads both directions'
   * pooled states side by side: as Keras' Bidirectional(LSTM, merge 'concat').
   */
  bidirectional?: boolean;
}

/** Width of what the classifier reads: the hidden size, twice for a bidirectional head. */
export function pooledWidth(config: Pick<HeadConfig, 'hidden' | 'bidirectional'>): number {
  return config.hidden * (config.bidirectional ? 2 : 1);
}

/** One named parameter, in the head's internal (transposed) layout. */
export interface NamedParam {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface LossAndGrads {
  loss: number;
  grads: Float32Array[];
}

/** Mixup's targets for a batch: sample b's target is weights[b] of its own label and 1 - weights[b] of partners[b]. */
export interface MixedTargets {
  partners: Int32Array;
  weights: Float32Array;
}

export class LstmHead {
  readonly config: HeadConfig;
  readonly lstm: LstmLayerParams[];
  /** The backward LSTM of a bidirectional head (it reads the first layer's input in reverse), else null. */
  readonly backward: LstmLayerParams | null;
  /** Dense kernel transposed, [C, pooledWidth]. */
  denseT: Float32Array;
  denseBias: Float32Array;
  /** Optional two-thread product for the large matmuls (see ./parallel_matmul.ts); results are the same. */
  bigMatMul: BigMatMul | undefined;

  get numClasses(): number {
    return this.config.numClasses;
  }

  private constructor(config: HeadConfig, lstm: LstmLayerParams[], backward: LstmLayerParams | null, denseT: Float32Array, denseBias: Float32Array) {
    if (config.bidirectional && config.layers !== 1) throw new RangeError(`a bidirectional head has one LSTM layer, got ${config.layers}`);
    this.config = config;
    this.lstm = lstm;
    this.backward = backward;
    this.denseT = denseT;
    this.denseBias = denseBias;
  }

  /**
   * Seeded initialisation as Keras' LSTM defaults: glorot-uniform kernel, orthogonal recurrent kernel, zero
   * bias with the forget gate's set to 1 (unit forget bias); glorot-uniform dense kernel, zero bias.
   */
  static create(config: HeadConfig, seed: number): LstmHead {
    return LstmHead.build(config, seed);
  }

  /** A head with all-zero parameters (to be filled by setParams or fromLayersModel). */
  static empty(config: HeadConfig): LstmHead {
    return LstmHead.build(config, null);
  }

  /** The head's layers, initialised from `seed` (create) or all zeros (seed null: empty). */
  private static build(config: HeadConfig, seed: number | null): LstmHead {
    const H = config.hidden;
    const C = config.numClasses;
    const inputDim = preparedDim(config.featureDim, config.preprocessing);
    const seeds = (kernel: number, recurrent: number): [number, number] | null => (seed === null ? null : [seed * 7919 + kernel, seed * 7919 + recurrent]);
    const lstm = Array.from({ length: config.layers }, (_, l) => layerParams(l === 0 ? inputDim : H, H, seeds(l * 31 + 1, l * 31 + 2)));
    const backward = config.bidirectional ? layerParams(inputDim, H, seeds(501, 502)) : null;
    const W = pooledWidth(config);
    const denseT = seed === null ? new Float32Array(C * W) : glorotUniform(C * W, W, C, seed * 7919 + 997);
    return new LstmHead(config, lstm, backward, denseT, new Float32Array(C));
  }

  /** The parameters in a fixed order (optimizer state and checkpoints follow it). */
  params(): NamedParam[] {
    const out: NamedParam[] = [];
    this.lstm.forEach((p, l) => {
      out.push({ name: `lstm${l}/kernelT`, shape: [4 * p.units, p.inputDim], data: p.kernelT });
      out.push({ name: `lstm${l}/recurrentT`, shape: [4 * p.units, p.units], data: p.recurrentT });
      out.push({ name: `lstm${l}/bias`, shape: [4 * p.units], data: p.bias });
    });
    const b = this.backward;
    if (b) {
      out.push({ name: 'lstm0b/kernelT', shape: [4 * b.units, b.inputDim], data: b.kernelT });
      out.push({ name: 'lstm0b/recurrentT', shape: [4 * b.units, b.units], data: b.recurrentT });
      out.push({ name: 'lstm0b/bias', shape: [4 * b.units], data: b.bias });
    }
    out.push({ name: 'dense/kernelT', shape: [this.config.numClasses, pooledWidth(this.config)], data: this.denseT });
    out.push({ name: 'dense/bias', shape: [this.config.numClasses], data: this.denseBias });
    return out;
  }

  /** Copies values into the parameters (same order and sizes as `params()`). */
  setParams(values: Float32Array[]): void {
    const params = this.params();
    if (values.length !== params.length) throw new RangeError(`expected ${params.length} parameter arrays, got ${values.length}`);
    params.forEach((p, k) => {
      if (values[k]!.length !== p.data.length) throw new RangeError(`${p.name}: expected ${p.data.length} values, got ${values[k]!.length}`);
      p.data.set(values[k]!);
    });
  }

  /** Deep copy of the parameter values. */
  snapshot(): Float32Array[] {
    return this.params().map((p) => p.data.slice());
  }

  parameterCount(): number {
    return this.params().reduce((n, p) => n + p.data.length, 0);
  }

  /** Forward through all LSTM layers; returns the caches and the layer-0 input in both layouts. */
  private forwardLayers(x: tf.Tensor3D): { caches: LstmLayerCache[]; inputs: tf.Tensor2D[]; steps: number; batch: number; backward?: { cache: LstmLayerCache; inputRows: tf.Tensor2D } } {
    const [batch, steps] = x.shape;
    const prepared = prepareFeatures(x, this.config.preprocessing);
    const d = prepared.shape[2];
    // [B, T, D] -> [D, T*B] (time-major columns) for the projection, [T*B, D] for the kernel gradient.
    const inputT = tf.tidy(() => tf.reshape(tf.transpose(prepared, [2, 1, 0]), [d, steps * batch])) as tf.Tensor2D;
    const inputRows = tf.tidy(() => tf.reshape(tf.transpose(prepared, [1, 0, 2]), [steps * batch, d])) as tf.Tensor2D;
    let backward: { cache: LstmLayerCache; inputRows: tf.Tensor2D } | undefined;
    if (this.backward) {
      // The backward LSTM runs forwards over the time-reversed input; its states stay in its own (reversed) time.
      const reversed = tf.reverse(prepared, 1);
      const reversedT = tf.tidy(() => tf.reshape(tf.transpose(reversed, [2, 1, 0]), [d, steps * batch])) as tf.Tensor2D;
      const reversedRows = tf.tidy(() => tf.reshape(tf.transpose(reversed, [1, 0, 2]), [steps * batch, d])) as tf.Tensor2D;
      reversed.dispose();
      try {
        backward = { cache: lstmLayerForward(this.backward, reversedT, steps, batch, this.bigMatMul), inputRows: reversedRows };
      } catch (error) {
        tf.dispose([reversedRows, prepared, inputT, inputRows]);
        throw error;
      } finally {
        reversedT.dispose();
      }
    }
    prepared.dispose();
    const caches: LstmLayerCache[] = [];
    const inputs: tf.Tensor2D[] = [inputRows];
    // Disposed with the others (a bidirectional head has one layer, so inputs[0] stays the forward layer's).
    if (backward) inputs.push(backward.inputRows);
    let currentT = inputT;
    try {
      for (let l = 0; l < this.lstm.length; l++) {
        const cache = lstmLayerForward(this.lstm[l]!, currentT, steps, batch, this.bigMatMul);
        caches.push(cache);
        currentT.dispose();
        if (l + 1 < this.lstm.length) {
          const { colsT, rows } = hiddenAsInput(cache, this.lstm[l]!.units);
          currentT = tf.tensor2d(colsT, [this.lstm[l]!.units, steps * batch]);
          inputs.push(tf.tensor2d(rows, [steps * batch, this.lstm[l]!.units]));
        }
      }
    } catch (error) {
      inputs.forEach((t) => t.dispose());
      throw error;
    }
    return { caches, inputs, steps, batch, backward };
  }

  /** Logits as [C, B] (feature-major) from what the classifier reads, [W, B] (classifierInput). */
  private logitsT(lastHidden: Float32Array, batch: number): Float32Array {
    const C = this.config.numClasses;
    const W = pooledWidth(this.config);
    const logits = mm(this.denseT, [C, W], lastHidden, [W, batch]);
    for (let c = 0; c < C; c++) for (let b = 0; b < batch; b++) logits[c * batch + b] += this.denseBias[c]!;
    return logits;
  }

  /** What the classifier reads, [W, B]: each direction's pooled states, the forward one first. */
  private classifierInput(top: LstmLayerCache, batch: number, backward?: LstmLayerCache): Float32Array {
    const forward = this.pooled(top, batch);
    if (!backward) return forward;
    const out = new Float32Array(2 * forward.length);
    out.set(forward);
    out.set(this.pooled(backward, batch), forward.length);
    return out;
  }

  /** One direction's [H, B]: the last hidden state or the mean of all of them (config.pooling). */
  private pooled(top: LstmLayerCache, batch: number): Float32Array {
    const H = this.config.hidden;
    const block = H * batch;
    if (this.config.pooling !== 'mean') return top.hidden.slice((top.steps - 1) * block, top.steps * block);
    const out = new Float32Array(block);
    for (let t = 0; t < top.steps; t++) for (let k = 0; k < block; k++) out[k] += top.hidden[t * block + k]!;
    for (let k = 0; k < block; k++) out[k] /= top.steps;
    return out;
  }

  /** Class probabilities, [B, C] row-major (inference: no dropout). */
  predictProbs(x: tf.Tensor3D): Float32Array {
    const { caches, inputs, batch, backward } = this.forwardLayers(x);
    inputs.forEach((t) => t.dispose());
    const last = this.classifierInput(caches[caches.length - 1]!, batch, backward?.cache);
    const logits = this.logitsT(last, batch);
    return softmaxColumns(logits, this.config.numClasses, batch).probsRows;
  }

  /**
   * Mean cross-entropy over the batch and its gradient w.r.t. every parameter (order of `params()`).
   * `dropoutSeed` draws the dropout mask (training); undefined = no dropout (evaluation). `mix`: each sample's
   * target is `weights[b]` of its label's and the rest of `partners[b]`'s (mixup; x holds the mixed inputs).
   */
  lossAndGrads(x: tf.Tensor3D, labels: Int32Array, dropoutSeed?: number, labelSmoothing = 0, mix?: MixedTargets): LossAndGrads {
    const C = this.config.numClasses;
    const H = this.config.hidden;
    const W = pooledWidth(this.config);
    const { caches, inputs, steps, batch, backward } = this.forwardLayers(x);
    try {
      const last = this.classifierInput(caches[caches.length - 1]!, batch, backward?.cache);
      // Inverted dropout on what the classifier reads: keep with 1 - p, scale by 1 / (1 - p).
      let mask: Float32Array | undefined;
      const p = this.config.dropout;
      if (dropoutSeed !== undefined && p > 0) {
        const rand = seededRandom(dropoutSeed);
        mask = new Float32Array(W * batch);
        for (let k = 0; k < mask.length; k++) mask[k] = rand() >= p ? 1 / (1 - p) : 0;
        for (let k = 0; k < last.length; k++) last[k] *= mask[k]!;
      }
      const logits = this.logitsT(last, batch);
      const { probsRows, logSumExp } = softmaxColumns(logits, C, batch);
      let loss = 0;
      const dLogitsT = new Float32Array(C * batch);
      // Label smoothing (as PyTorch's): the target is 1 - e on the label plus e / C on every class.
      const spread = labelSmoothing / C;
      for (let b = 0; b < batch; b++) {
        const y = labels[b]!;
        if (y < 0 || y >= C) throw new RangeError(`label ${y} out of range [0, ${C})`);
        // Without mixup the label takes all of 1 - e; with it, `own` of it and its partner the rest.
        const own = mix ? mix.weights[b]! : 1;
        const partner = mix ? mix.partners[b]! : y;
        if (partner < 0 || partner >= C) throw new RangeError(`label ${partner} out of range [0, ${C})`);
        let target = (1 - labelSmoothing) * (mix ? own * logits[y * batch + b]! + (1 - own) * logits[partner * batch + b]! : logits[y * batch + b]!);
        if (spread > 0) for (let c = 0; c < C; c++) target += spread * logits[c * batch + b]!;
        loss += logSumExp[b]! - target;
        for (let c = 0; c < C; c++) {
          const onLabel = mix ? (c === y ? own : 0) + (c === partner ? 1 - own : 0) : c === y ? 1 : 0;
          dLogitsT[c * batch + b] = (probsRows[b * C + c]! - (onLabel ? (1 - labelSmoothing) * onLabel : 0) - spread) / batch;
        }
      }
      loss /= batch;
      // Dense gradients: dW^T = dLogits^T [C, B] @ last^T [B, W]; d(last) = W [W, C] @ dLogits^T.
      const denseGrad = mm(dLogitsT, [C, batch], transpose(last, W, batch), [batch, W]);
      const denseBiasGrad = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let b = 0; b < batch; b++) s += dLogitsT[c * batch + b]!;
        denseBiasGrad[c] = s;
      }
      const dLastAll = mm(transpose(this.denseT, C, W), [W, C], dLogitsT, [C, batch]);
      if (mask) for (let k = 0; k < dLastAll.length; k++) dLastAll[k] *= mask[k]!;
      // Each direction's pooled block [H, B] spreads its gradient over the states it pooled.
      const statesGrad = (dLast: Float32Array): Float32Array => {
        const out = new Float32Array(steps * H * batch);
        if (this.config.pooling === 'mean') {
          const share = dLast.map((v) => v / steps);
          for (let t = 0; t < steps; t++) out.set(share, t * H * batch);
        } else {
          out.set(dLast, (steps - 1) * H * batch);
        }
        return out;
      };
      let dHidden = statesGrad(dLastAll.subarray(0, H * batch));
      let backwardGrads: Float32Array[] = [];
      if (this.backward && backward) {
        const g = lstmLayerBackward(this.backward, backward.cache, statesGrad(dLastAll.subarray(H * batch)), backward.inputRows, false, this.bigMatMul);
        backwardGrads = [g.kernelT, g.recurrentT, g.bias];
      }
      const layerGrads: Float32Array[][] = [];
      for (let l = this.lstm.length - 1; l >= 0; l--) {
        const g = lstmLayerBackward(this.lstm[l]!, caches[l]!, dHidden, inputs[l]!, l > 0, this.bigMatMul);
        layerGrads[l] = [g.kernelT, g.recurrentT, g.bias];
        if (l > 0) dHidden = inputGradAsHidden(g.inputT!, this.lstm[l - 1]!.units, steps, batch);
      }
      return { loss, grads: [...layerGrads.flat(), ...backwardGrads, denseGrad, denseBiasGrad] };
    } finally {
      inputs.forEach((t) => t.dispose());
    }
  }

  /**
   * A standard tf.sequential (tf.layers.lstm ... + tf.layers.dense softmax) with these weights, input
   * [batch, T (any), preparedDim] of *raw* features (plus raw velocity when enabled): the standardisation is
   * folded into the first kernel and bias, so no custom layer or extra step is needed to load and run it.
   */
  toLayersModel(): tf.Sequential {
    const model = tf.sequential();
    this.addLayersTo(model, [null, preparedDim(this.config.featureDim, this.config.preprocessing)]);
    return model;
  }

  /**
   * Appends this head's layers (with weights) to `model`; `inputShape` is given when they are its first
   * layers. Used by `toLayersModel` and by the end-to-end model (after a TimeDistributed backbone).
   */
  addLayersTo(model: tf.Sequential, inputShape?: (number | null)[]): void {
    const { numClasses } = this.config;
    const width = pooledWidth(this.config);
    const added: { layer: tf.layers.Layer; weights: tf.Tensor[] }[] = [];
    const kerasWeights = (p: LstmLayerParams, first: boolean): tf.Tensor[] => {
      const { kernelT, bias } = first ? foldStandardisation(p, this.config) : p;
      return [
        tf.tensor2d(transpose(kernelT, 4 * p.units, p.inputDim), [p.inputDim, 4 * p.units]),
        tf.tensor2d(transpose(p.recurrentT, 4 * p.units, p.units), [p.units, 4 * p.units]),
        tf.tensor1d(bias),
      ];
    };
    this.lstm.forEach((p, l) => {
      const lstmArgs = {
        units: p.units,
        returnSequences: l + 1 < this.lstm.length || this.config.pooling === 'mean',
        activation: 'tanh',
        recurrentActivation: 'sigmoid',
        // Zeros: the weights are set below; the default orthogonal initialiser alone takes seconds on wasm.
        kernelInitializer: 'zeros',
        recurrentInitializer: 'zeros',
        biasInitializer: 'zeros',
        unitForgetBias: false,
      } as const;
      const shape = l === 0 && inputShape ? { inputShape } : {};
      if (this.backward) {
        // Keras' Bidirectional holds the forward layer's weights, then the backward one's.
        const layer = tf.layers.bidirectional({ layer: tf.layers.lstm({ ...lstmArgs, name: `lstm${l}` }) as tf.RNN, mergeMode: 'concat', name: `bidirectional_lstm${l}`, ...shape });
        added.push({ layer, weights: [...kerasWeights(p, l === 0), ...kerasWeights(this.backward, true)] });
      } else {
        added.push({ layer: tf.layers.lstm({ ...lstmArgs, name: `lstm${l}`, ...shape }), weights: kerasWeights(p, l === 0) });
      }
    });
    if (this.config.pooling === 'mean') added.push({ layer: tf.layers.globalAveragePooling1d({ name: 'mean_over_time' }), weights: [] });
    const dense = tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: 'zeros', name: 'classifier' });
    added.push({ layer: dense, weights: [tf.tensor2d(transpose(this.denseT, numClasses, width), [width, numClasses]), tf.tensor1d(this.denseBias)] });
    for (const { layer, weights } of added) {
      model.add(layer);
      layer.setWeights(weights);
      tf.dispose(weights);
    }
  }

  /**
   * Rebuilds a head from a model made by `toLayersModel` (standardisation un-folded with the same stats).
   */
  static fromLayersModel(model: tf.LayersModel, config: HeadConfig): LstmHead {
    const head = LstmHead.empty(config);
    const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
    const lstmLayers = [...head.lstm, ...(head.backward ? [head.backward] : [])];
    const expected = 3 * lstmLayers.length + 2;
    if (weights.length !== expected) throw new RangeError(`model has ${weights.length} weight arrays, a ${config.layers}-layer${config.bidirectional ? ' bidirectional' : ''} head has ${expected}`);
    lstmLayers.forEach((p, l) => {
      const kernel = weights[3 * l]!;
      const recurrent = weights[3 * l + 1]!;
      const bias = weights[3 * l + 2]!;
      if (kernel.length !== p.kernelT.length || recurrent.length !== p.recurrentT.length || bias.length !== p.bias.length) {
        throw new RangeError(`${p === head.backward ? 'lstm0b' : `lstm${l}`}: weight sizes ${kernel.length}/${recurrent.length}/${bias.length} do not match the config`);
      }
      p.kernelT.set(transpose(kernel, p.inputDim, 4 * p.units));
      p.recurrentT.set(transpose(recurrent, p.units, 4 * p.units));
      p.bias.set(bias);
      // The first layer of each direction reads the raw input: its standardisation was folded in.
      if (l === 0 || p === head.backward) {
        const unfolded = unfoldStandardisation(p, config);
        p.kernelT.set(unfolded.kernelT);
        p.bias.set(unfolded.bias);
      }
    });
    const dense = weights[3 * lstmLayers.length]!;
    if (dense.length !== head.denseT.length) throw new RangeError(`classifier has ${dense.length} weights, expected ${head.denseT.length}`);
    head.denseT.set(transpose(dense, pooledWidth(config), config.numClasses));
    head.denseBias.set(weights[3 * lstmLayers.length + 1]!);
    return head;
  }
}

/**
 * One LSTM layer's parameters: Keras' initialisation from a kernel and a recurrent seed (glorot-uniform kernel,
 * orthogonal recurrent kernel, zero bias but the forget gate's at 1), or all zeros when `seeds` is null.
 */
function layerParams(inputDim: number, units: number, seeds: [number, number] | null): LstmLayerParams {
  if (!seeds) return { inputDim, units, kernelT: new Float32Array(4 * units * inputDim), recurrentT: new Float32Array(4 * units * units), bias: new Float32Array(4 * units) };
  const bias = new Float32Array(4 * units);
  bias.fill(1, units, 2 * units);
  return {
    inputDim,
    units,
    kernelT: glorotUniform(4 * units * inputDim, inputDim, 4 * units, seeds[0]),
    // Keras' recurrent kernel [H, 4H] has orthonormal rows; ours is its transpose [4H, H].
    recurrentT: orthogonal(4 * units, units, seeds[1]),
    bias,
  };
}

/** Per prepared-input dimension: the scale 1/std and the shift mean/std (velocity halves: no shift). */
function standardisationAffine(config: HeadConfig): { scale: Float32Array; shift: Float32Array } | undefined {
  const stats = config.preprocessing.stats;
  if (!stats) return undefined;
  const d = config.featureDim;
  const n = preparedDim(d, config.preprocessing);
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const s = stats.std[k % d]!;
    scale[k] = 1 / s;
    shift[k] = k < d ? stats.mean[k]! / s : 0;
  }
  return { scale, shift };
}

/** (x - mu) / s @ W + b  ==  x @ (W / s) + (b - (mu / s) @ W): the same model on raw features. */
function foldStandardisation(p: LstmLayerParams, config: HeadConfig): { kernelT: Float32Array; bias: Float32Array } {
  const affine = standardisationAffine(config);
  if (!affine) return { kernelT: p.kernelT, bias: p.bias };
  const D = p.inputDim;
  const kernelT = new Float32Array(p.kernelT.length);
  const bias = new Float32Array(p.bias.length);
  for (let r = 0; r < 4 * p.units; r++) {
    let shift = 0;
    for (let k = 0; k < D; k++) {
      const w = p.kernelT[r * D + k]!;
      kernelT[r * D + k] = w * affine.scale[k]!;
      shift += affine.shift[k]! * w;
    }
    bias[r] = p.bias[r]! - shift;
  }
  return { kernelT, bias };
}

function unfoldStandardisation(p: LstmLayerParams, config: HeadConfig): { kernelT: Float32Array; bias: Float32Array } {
  const affine = standardisationAffine(config);
  if (!affine) return { kernelT: p.kernelT, bias: p.bias };
  const D = p.inputDim;
  const kernelT = new Float32Array(p.kernelT.length);
  const bias = new Float32Array(p.bias.length);
  for (let r = 0; r < 4 * p.units; r++) {
    let shift = 0;
    for (let k = 0; k < D; k++) {
      const w = p.kernelT[r * D + k]! / affine.scale[k]!;
      kernelT[r * D + k] = w;
      shift += affine.shift[k]! * w;
    }
    bias[r] = p.bias[r]! + shift;
  }
  return { kernelT, bias };
}

/** Softmax of each column of a [C, B] block: probabilities as [B, C] rows and each column's log-sum-exp. */
function softmaxColumns(logitsT: Float32Array, classes: number, batch: number): { probsRows: Float32Array; logSumExp: Float64Array } {
  const probsRows = new Float32Array(batch * classes);
  const logSumExp = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logitsT[c * batch + b]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logitsT[c * batch + b]! - max);
    for (let c = 0; c < classes; c++) probsRows[b * classes + c] = Math.exp(logitsT[c * batch + b]! - max) / sum;
    logSumExp[b] = max + Math.log(sum);
  }
  return { probsRows, logSumExp };
}

/** A layer's hidden states [T][H][B] as the next layer's input: [H, T*B] columns and [T*B, H] rows. */
function hiddenAsInput(cache: LstmLayerCache, units: number): { colsT: Float32Array; rows: Float32Array } {
  const { steps, batch, hidden } = cache;
  const TB = steps * batch;
  const colsT = new Float32Array(units * TB);
  const rows = new Float32Array(units * TB);
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < units; j++) {
      for (let b = 0; b < batch; b++) {
        const v = hidden[(t * units + j) * batch + b]!;
        colsT[j * TB + t * batch + b] = v;
        rows[(t * batch + b) * units + j] = v;
      }
    }
  }
  return { colsT, rows };
}

/** Input gradient [H, T*B] of an upper layer as the lower layer's hidden-state gradient [T][H][B]. */
function inputGradAsHidden(inputT: Float32Array, units: number, steps: number, batch: number): Float32Array {
  const TB = steps * batch;
  const out = new Float32Array(steps * units * batch);
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < units; j++) {
      for (let b = 0; b < batch; b++) out[(t * units + j) * batch + b] = inputT[j * TB + t * batch + b]!;
    }
  }
  return out;
}
