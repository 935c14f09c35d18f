/**
 * The Adam update as a tiny WebAssembly SIMD kernel (4 floats per instruction, float32 arithmetic as
 * PyTorch's). The plain JS loop costs ~10-15 ms per step for the head's 1.6 M parameters (scalar float64
 * sqrt and division); this one a few ms including the copies in and out. The module is assembled here from
 * a readable instruction list, so there is no binary blob and no build tool:
 *
 *   adam(p, g, m, v, bytes, b1, b2, 1-b1, 1-b2, stepSize, 1/sqrt(1-b2^t), eps):
 *     for i in 0..bytes step 16:
 *       m[i] = b1 m[i] + (1-b1) g[i];  v[i] = b2 v[i] + (1-b2) g[i]^2
 *       p[i] = p[i] - stepSize m[i] / (sqrt(v[i]) / sqrt(1-b2^t) + eps)
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(Buffer.from(s, 'utf8'))];

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 0x00, 0x00];
const store = [...simd(0x0b), 0x00, 0x00];
const splat = simd(0x13);
const sqrt = simd(0xe3);
const add = simd(0xe4);
const sub = simd(0xe5);
const mul = simd(0xe6);
const div = simd(0xe7);
const i32add = [0x6a];

// Parameters 0-11, then locals: 12 = byte index, 13-19 = splatted scalars, 20 = g, 21 = m, 22 = v.
const [P, G, M, V, N] = [0, 1, 2, 3, 4];
const [I, VB1, VB2, VA1, VA2, VSS, VIC2, VEPS, GI, MI, VI] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
const at = (base: number) => [...get(base), ...get(I), ...i32add];

function adamModuleBytes(): Uint8Array {
  const body = [
    ...[5, 6, 7, 8, 9, 10, 11].flatMap((param, k) => [...get(param), ...splat, ...set(VB1 + k)]),
    0x41, 0x00, ...set(I),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(I), ...get(N), 0x4f, 0x0d, 0x01, // if i >= n: break
    ...at(G), ...load, ...set(GI),
    ...get(VB1), ...at(M), ...load, ...mul, ...get(VA1), ...get(GI), ...mul, ...add, ...set(MI),
    ...get(VB2), ...at(V), ...load, ...mul, ...get(VA2), ...get(GI), ...get(GI), ...mul, ...mul, ...add, ...set(VI),
    ...at(M), ...get(MI), ...store,
    ...at(V), ...get(VI), ...store,
    ...at(P),
    ...at(P), ...load,
    ...get(VSS), ...get(MI), ...mul,
    ...get(VI), ...sqrt, ...get(VIC2), ...mul, ...get(VEPS), ...add,
    ...div, ...sub, ...store,
    ...get(I), 0x41, 0x10, ...i32add, ...set(I),
    0x0c, 0x00, // continue
    0x0b, // end loop
    0x0b, // end block
    0x0b, // end function
  ];
  const locals = vec([
    [1, I32],
    [10, V128],
  ]);
  const code = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32].map((t) => [t])), ...vec([])]])),
    ...section(3, vec([[0x00]])),
    ...section(5, vec([[0x00, 0x01]])),
    ...section(7, vec([[...name('adam'), 0x00, 0x00], [...name('memory'), 0x02, 0x00]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

/**
 * The few WebAssembly APIs used here, typed locally: the notebooks' compiler (tslab: lib es2022, no DOM lib,
 * old @types/node) has no WebAssembly types, and a notebook that trains imports this file.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export interface AdamKernel {
  memory: WasmMemory;
  adam: (p: number, g: number, m: number, v: number, bytes: number, b1: number, b2: number, a1: number, a2: number, stepSize: number, invC2: number, eps: number) => void;
}

let compiled: object | null | undefined;

/**
 * A fresh instance of the kernel with its own memory, or null where WebAssembly SIMD is unavailable (then
 * Adam runs in plain JS).
 */
export function createAdamKernel(): AdamKernel | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(adamModuleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  if (!compiled || !wasmApi) return null;
  const exports = new wasmApi.Instance(compiled).exports as unknown as AdamKernel;
  return { memory: exports.memory, adam: exports.adam };
}
