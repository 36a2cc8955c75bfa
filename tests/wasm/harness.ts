import type { DeviceBuffer, KernelArgs, KernelTensor, OpName } from '@tessera/core';
import { REFERENCE_KERNELS, RefBuffer } from '@tessera/reference';
import { expect } from 'vitest';
import { WASM_KERNELS } from '../../packages/wasm/src/kernels/index.js';
import { WASM_BYTES_BASE64 } from '../../packages/wasm/src/kernel-module.generated.js';
import type { WasmRuntime } from '../../packages/wasm/src/contract.js';

/**
 * A minimal WebAssembly runtime for kernel tests: one memory, a bump allocator for buffers and
 * a fixed scratch region, so each wrapper runs exactly as the backend would call it. Every
 * tensor is made twice, in this memory and as a reference buffer with the same values.
 */

class WasmBuf {
  constructor(readonly ptr: number) {}
}

export interface Pair {
  wasm: KernelTensor;
  ref: KernelTensor;
}

/** A test runtime over a fresh memory of `mib` MiB (half of it scratch). */
export async function testRuntime(mib = 64) {
  const memory = new WebAssembly.Memory({ initial: (mib * 1024 * 1024) / 65536 });
  const { instance } = await WebAssembly.instantiate(Buffer.from(WASM_BYTES_BASE64, 'base64'), { env: { memory } });
  const scratchBase = (mib * 1024 * 1024) / 2;
  // The module's static data (the exp table of AssemblyScript's Math.exp) starts at 1024 and
  // is a few KiB: the test heap starts above it, as the backend's heap starts at its dataEnd.
  const heapBase = 65536;
  let next = heapBase;
  let scratchNext = scratchBase;
  const exports = instance.exports as unknown as WasmRuntime['exports'];
  const rt: WasmRuntime = {
    exports,
    memory,
    ptr: (buf: DeviceBuffer) => (buf as WasmBuf).ptr,
    // A bump allocator over the scratch half that starts over when full: a kernel's pieces of
    // scratch do not overlap, as the backend's arena guarantees.
    scratch: (bytes: number) => {
      const need = Math.ceil(bytes / 16) * 16;
      if (scratchBase + need > memory.buffer.byteLength) throw new Error(`scratch of ${bytes} bytes is too large`);
      if (scratchNext + need > memory.buffer.byteLength) scratchNext = scratchBase;
      const at = scratchNext;
      scratchNext += need;
      return at;
    },
    threads: 1,
    parallel: (count, _work, body) => {
      if (count > 0) body(0, count, (name, ...args) => exports[name]!(...args));
    },
  };
  /** A tensor of `shape` in both memories, filled from `values` (or zeros). */
  const tensor = (shape: number[], dtype: 'float32' | 'int32' = 'float32', values?: ArrayLike<number>): Pair => {
    const size = shape.reduce((a, b) => a * b, 1);
    const ptr = next;
    next += Math.ceil((size * 4 + 64) / 16) * 16;
    if (next > scratchBase) throw new Error('test heap exhausted');
    const ref = new RefBuffer(size * 4);
    const view = dtype === 'int32' ? new Int32Array(memory.buffer, ptr, size) : new Float32Array(memory.buffer, ptr, size);
    // Fill the wasm copy with garbage first, so a kernel that forgets an element shows it.
    view.fill(dtype === 'int32' ? 12345 : Number.NaN);
    if (values) {
      view.set(values);
      (dtype === 'int32' ? ref.i32 : ref.f32).set(values);
    }
    return { wasm: { shape, dtype, size, buf: new WasmBuf(ptr) }, ref: { shape, dtype, size, buf: ref } };
  };
  /** The wasm copy's values. */
  const read = (t: KernelTensor): Float32Array | Int32Array =>
    t.dtype === 'int32'
      ? new Int32Array(memory.buffer, (t.buf as WasmBuf).ptr, t.size).slice()
      : new Float32Array(memory.buffer, (t.buf as WasmBuf).ptr, t.size).slice();
  const reset = (): void => {
    next = heapBase;
  };
  return { rt, tensor, read, reset };
}

/** Deterministic uniform values in [lo, hi). */
export function randoms(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/** The runtime `testRuntime` returns. */
export type TestRuntime = Awaited<ReturnType<typeof testRuntime>>;

/**
 * What the kernel tests share, on the runtime `h`: running an op's wasm kernel and its
 * reference kernel on the same values, comparing, making tensors, and a runtime whose
 * `parallel` cuts work into parts as threads would take it.
 */
export function kernelKit(h: TestRuntime) {
  const refView = (t: KernelTensor): Float32Array | Int32Array => {
    const b = t.buf as unknown as { f32: Float32Array; i32: Int32Array };
    return (t.dtype === 'int32' ? b.i32 : b.f32).subarray(0, t.size);
  };

  /** Runs op on both backends (the wasm kernel on `rt`); returns [wasm, reference] outputs (out then aux). */
  function both(op: OpName, inputs: Pair[], out: Pair, params: unknown, aux: Pair[] = [], rt: WasmRuntime = h.rt) {
    const mk = (side: 'wasm' | 'ref') =>
      ({ inputs: inputs.map((p) => p[side]), out: out[side], aux: aux.map((p) => p[side]), params }) as unknown as KernelArgs<never>;
    const ran = WASM_KERNELS[op]!(mk('wasm'), rt);
    expect(ran).toBe(true);
    (REFERENCE_KERNELS[op] as (a: KernelArgs<never>) => void)(mk('ref'));
    return [out, ...aux].map((p) => [h.read(p.wasm), refView(p.ref)] as const);
  }

  /** |wasm - ref| <= tol * (1 + |ref|) everywhere, NaN where NaN. */
  function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const [g, w] = [got[i]!, want[i]!];
      if (g === w) continue; // (also equal infinities)
      if (Number.isNaN(w)) {
        expect(Number.isNaN(g), `element ${i}: expected NaN, got ${g}`).toBe(true);
        continue;
      }
      const err = Math.abs(g - w) / (1 + Math.abs(w));
      if (!(err <= worst)) worst = err;
      if (!(err <= tol)) expect.fail(`element ${i}: ${g} vs reference ${w} (relative error ${err} > ${tol})`);
    }
  }

  const exact = (got: ArrayLike<number>, want: ArrayLike<number>): void => expect(Array.from(got)).toEqual(Array.from(want));

  const f = (shape: number[], seed: number): Pair =>
    h.tensor(
      shape,
      'float32',
      randoms(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
    );
  const empty = (shape: number[], dtype: 'float32' | 'int32' = 'float32'): Pair => h.tensor(shape, dtype);

  /** h.rt, but each kernel's work cut into `parts` parts run one after another (as threads would take them). */
  const splitRt = (parts: number): WasmRuntime => ({
    ...h.rt,
    parallel: (count, _work, body) => {
      for (let p = 0; p < parts; p++) {
        const [lo, hi] = [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)];
        if (hi > lo) body(lo, hi, (name, ...args) => h.rt.exports[name]!(...args));
      }
    },
  });

  /** n values in [lo, hi), with specials[k] at every index i where i % stride === k (stride > specials.length). */
  function sprinkled(n: number, seed: number, lo: number, hi: number, specials: number[], stride: number): Float32Array {
    const v = randoms(n, seed, lo, hi);
    for (let i = 0; i < n; i++) {
      const k = i % stride;
      if (k < specials.length) v[i] = specials[k]!;
    }
    return v;
  }
  return { refView, both, close, exact, f, empty, splitRt, sprinkled };
}

export type KernelKit = ReturnType<typeof kernelKit>;

/** [a, b, out] shapes of binary ops that broadcast: equal, a row, middle and leading 1s, a scalar, an outer product. */
export const BROADCAST_SHAPES: readonly [number[], number[], number[]][] = [
  [
    [5, 7],
    [5, 7],
    [5, 7],
  ],
  [[64, 120], [120], [64, 120]],
  [
    [3, 1, 5],
    [4, 1],
    [3, 4, 5],
  ],
  [[2, 3, 4, 5], [1], [2, 3, 4, 5]],
  [
    [6, 1],
    [1, 9],
    [6, 9],
  ],
];
