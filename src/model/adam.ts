/**
 * Adam on plain Float32Arrays, as PyTorch's torch.optim.Adam (the original's optimizer: lr 1e-4, betas
 * (0.9, 0.999), eps 1e-8, bias-corrected). One fused loop per parameter instead of ~10 tensor ops keeps the
 * update of 1.6 M parameters at a few ms on wasm, and the state is plain arrays, easy to checkpoint exactly.
 */
export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface AdamState {
  step: number;
  /** First and second moments, one array per parameter, same order as the parameters. */
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  state: AdamState;

  constructor(sizes: number[], options: AdamOptions) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.state = { step: 0, m: sizes.map((n) => new Float32Array(n)), v: sizes.map((n) => new Float32Array(n)) };
  }

  /** Updates `params` in place from `grads` (same order and sizes as the constructor's `sizes`). */
  apply(params: Float32Array[], grads: Float32Array[]): void {
    const s = this.state;
    s.step += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = this.learningRate / (1 - Math.pow(b1, s.step));
    const correction2 = Math.sqrt(1 - Math.pow(b2, s.step));
    const eps = this.epsilon;
    for (let k = 0; k < params.length; k++) {
      const p = params[k]!;
      const g = grads[k]!;
      const m = s.m[k]!;
      const v = s.v[k]!;
      if (g.length !== p.length || m.length !== p.length) throw new RangeError(`Adam: parameter ${k} has ${p.length} values, gradient ${g.length}, state ${m.length}`);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) / correction2 + eps);
      }
    }
  }
}
