/**
 * @tessera/wasm: a backend on WebAssembly with 128-bit SIMD, for machines whose only WebGPU is a
 * CPU emulation (SwiftShader) or that have none. Importing it registers the backend under the
 * name 'wasm': `init({ backend: 'wasm' })` starts it, and `init()` ('auto') picks it over a
 * WebGPU adapter that is only a CPU emulation. Every primitive has a SIMD kernel; the cases one
 * declines (int32 operands) run the reference kernels on the same memory. The kernels run on
 * worker threads where the memory can be shared (Node; cross-origin isolated pages).
 *
 * @example
 * import * as ts from '@tessera/core';
 * import '@tessera/wasm';
 * const info = await ts.init({ backend: 'wasm' });
 * console.log(info.adapter);                      // 'WebAssembly SIMD (2 threads)'
 * const x = ts.tensor([[1, 2], [3, 4]]);
 * console.log(await x.matmul(x).data());          // Float32Array [7, 10, 15, 22]
 */
import { asyncLocalStorageContext, getAsyncContext, registerBackend, setAsyncContext, type BackendFactory } from '@tessera/core';
import { WasmBackend } from './backend.js';
import { WasmHeap } from './heap.js';
import { checkSimd, compileKernels, instantiate, kernelModuleBytes, readLayout, withMemory } from './module.js';
import { MAX_THREADS, ThreadPool, hardwareThreads, threadsUnavailable } from './threads.js';

export { WasmBackend } from './backend.js';
export { WasmBuffer } from './buffer.js';
export { WasmHeap, sizeClass } from './heap.js';
export type { ModuleCall, WasmKernel, WasmKernels, WasmRuntime } from './contract.js';
export { hardwareThreads } from './threads.js';

const PAGE = 65536;
/** The heap starts past the first 64 KiB, where the kernel module keeps its static data. */
const HEAP_BASE = PAGE;

/** Options of `createWasmBackend`. */
export interface WasmOptions {
  /**
   * Whether the memory is shared (a SharedArrayBuffer: views stay valid as it grows, and threads
   * could share it). Default: in Node and cross-origin isolated pages; elsewhere the memory is
   * not shared, and every buffer's views are made anew after it grows.
   */
  shared?: boolean;
  /** Bytes the memory starts with (default 16 MiB); it grows as buffers need. */
  initialBytes?: number;
  /** Bytes the memory may grow to (default 2 GiB); an allocation past it is an out-of-memory error. */
  maximumBytes?: number;
  /**
   * Threads the kernels split their work across, this one included (default: the CPU's, at most
   * 8, where the memory is shared and workers can start; else 1). Above 1 the backend starts
   * `threads - 1` worker threads; in Node `TESSERA_THREADS` sets the default.
   */
  threads?: number;
  /**
   * Multiply-adds (or element visits) a kernel must do per thread before it is split: below it,
   * handing work to a worker costs more than it saves. Default 262,144 (measured, see
   * bench/wasm-threads.mjs); tests set 0 to split every kernel that can be.
   */
  minWorkPerThread?: number;
}

/** The default thread count: TESSERA_THREADS in Node, else the CPU's threads, at most 8. */
function defaultThreads(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['TESSERA_THREADS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)
      throw new Error(`init: TESSERA_THREADS is '${env}'; expected a whole number from 1 to ${MAX_THREADS}`);
    return n;
  }
  return Math.max(1, Math.min(8, hardwareThreads()));
}

/**
 * Creates a WebAssembly backend: checks SIMD support, creates the memory, instantiates the
 * kernel module against it.
 *
 * @example
 * await ts.init({ backend: await createWasmBackend({ maximumBytes: 512 * 2 ** 20 }) });
 */
export async function createWasmBackend(opts: WasmOptions = {}): Promise<WasmBackend> {
  checkSimd();
  const bytes = kernelModuleBytes();
  const layout = readLayout(bytes);
  const want = layout.memory;
  if (!want) throw new Error("init: the wasm kernel module does not import its memory as 'env.memory'; rebuild it with `npm run wasm`");
  // Shared memory where the page allows it: views made at allocation then stay valid as the
  // memory grows. A browser page without cross-origin isolation has no SharedArrayBuffer.
  const isolated =
    typeof SharedArrayBuffer !== 'undefined' &&
    (typeof process !== 'undefined' || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
  const shared = opts.shared ?? isolated;
  if (shared && typeof SharedArrayBuffer === 'undefined') {
    throw new Error(
      "init: createWasmBackend({ shared: true }) needs SharedArrayBuffer, which this page lacks: serve it cross-origin isolated (COOP: same-origin, COEP: require-corp), or leave 'shared' out",
    );
  }
  const base = Math.max(HEAP_BASE, Math.ceil(layout.dataEnd / PAGE) * PAGE);
  const maxPages = Math.min(want.maximumPages ?? 65536, Math.floor((opts.maximumBytes ?? 2 ** 31) / PAGE));
  const initialPages = Math.min(maxPages, Math.max(want.initialPages, Math.ceil((base + Math.max(PAGE, opts.initialBytes ?? 16 * 2 ** 20)) / PAGE)));
  if (maxPages * PAGE <= base)
    throw new Error(
      `init: createWasmBackend({ maximumBytes: ${opts.maximumBytes} }) leaves no room for buffers; allow at least ${(base + PAGE) / 2 ** 20} MiB`,
    );
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > MAX_THREADS))
    throw new Error(`init: createWasmBackend({ threads: ${opts.threads} }): expected a whole number from 1 to ${MAX_THREADS}`);
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared });
  const module = await compileKernels(withMemory(bytes, layout, shared, maxPages));
  const exports = await instantiate(module, memory);
  // Threads where the memory is shared and workers can start; asked for explicitly elsewhere,
  // they are an error that says why, rather than a silent single thread.
  const noThreads = threadsUnavailable(memory);
  if (opts.threads !== undefined && opts.threads > 1 && noThreads)
    throw new Error(`init: createWasmBackend({ threads: ${opts.threads} }) cannot start worker threads: ${noThreads}. Leave 'threads' out to run on one`);
  const threads = opts.threads ?? (noThreads ? 1 : defaultThreads());
  const pool = threads > 1 ? await ThreadPool.start(module, memory, threads) : null;
  return new WasmBackend(new WasmHeap(memory, { base, maximumBytes: maxPages * PAGE }), exports, { pool, minWorkPerThread: opts.minWorkPerThread ?? 262144 });
}

/**
 * How `ts.init()` creates the backend. Below WebGPU (10) in priority, so that 'auto' takes WebGPU
 * on a real GPU; ahead of it where WebGPU's probe finds only a CPU emulation (core's autoOrder).
 * An application that wants 'wasm' only by name registers a copy with `auto: false`.
 *
 * @example
 * ts.registerBackend('wasm', { ...WASM_FACTORY, auto: false });   // only init({ backend: 'wasm' })
 */
export const WASM_FACTORY: BackendFactory = {
  priority: 5,
  auto: true,
  create: () => createWasmBackend(),
  probe: async () => {
    try {
      checkSimd();
      return { available: true, detail: 'WebAssembly SIMD runs on the CPU directly' };
    } catch (e) {
      return { available: false, detail: (e as Error).message };
    }
  },
};

registerBackend('wasm', WASM_FACTORY);

// As @tessera/webgpu does: in Node, concurrent async tidies keep apart through AsyncLocalStorage
// (see ts.setAsyncContext), installed at import, before the first tidy; an application's own
// provider is left alone.
if (typeof process !== 'undefined' && typeof process.getBuiltinModule === 'function' && getAsyncContext() === null) {
  const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks');
  setAsyncContext(asyncLocalStorageContext(new AsyncLocalStorage()));
}
