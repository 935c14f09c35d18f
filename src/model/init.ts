import { seededRandom } from '../runtime/random';

/**
 * Seeded weight initialisers in plain JS. tfjs-layers' orthogonal initialiser runs a QR on the backend and
 * takes ~4 s on wasm and >200 s on the cpu backend for LSTM(256); a modified Gram-Schmidt over the same kind
 * of seeded normal matrix takes ~0.1 s and gives the same distribution (a random orthonormal basis).
 */
export function seededNormal(seed: number): () => number {
  const rand = seededRandom(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // Box-Muller; 1 - u keeps the log finite.
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Glorot (Xavier) uniform, Keras' default kernel initialiser: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(size: number, fanIn: number, fanOut: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rand() - 1) * limit;
  return out;
}

/**
 * A [rows, cols] row-major matrix with orthonormal columns (rows >= cols), or orthonormal rows when
 * rows < cols, as Keras' orthogonal initialiser (gain 1).
 */
export function orthogonal(rows: number, cols: number, seed: number): Float32Array {
  const tall = rows >= cols;
  const n = tall ? rows : cols; // vector length
  const k = tall ? cols : rows; // number of vectors
  const normal = seededNormal(seed);
  const vectors: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = normal();
    // Modified Gram-Schmidt, twice for numerical orthogonality.
    for (let pass = 0; pass < 2; pass++) {
      for (const u of vectors) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i] -= dot * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] /= norm;
    vectors.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < k; j++) {
    const v = vectors[j]!;
    for (let i = 0; i < n; i++) {
      if (tall) out[i * cols + j] = v[i]!;
      else out[j * cols + i] = v[i]!;
    }
  }
  return out;
}

/** A [rows, cols] row-major matrix transposed. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
