/**
 * @tessera/webgpu: the WebGPU backend of Tessera. Importing it registers the backend under the
 * name 'webgpu', so that `ts.init()` finds it; use its exports directly only to wrap a GPUDevice
 * you already have, or to force kernel variants.
 *
 * @example
 * import * as ts from '@tessera/core';
 * import '@tessera/webgpu';
 * await ts.init();                     // WebGPU: navigator.gpu, or Dawn in Node
 */
import {
  asyncLocalStorageContext,
  getAsyncContext,
  registerBackend,
  setAsyncContext,
  type Backend,
  type BackendCreateOptions,
  type BackendProbe,
} from '@tessera/core';
import { WebGPUBackend, adapterIdentity, describeAdapter, type WarmPipelines } from './backend.js';
import type { DeviceCaps } from './spec.js';
import { checkForced, type TuneSite } from './tune/sites.js';
import type { AutotuneMode } from './tune/tuner.js';
import type { TuneStore } from './tune/store.js';

export { WebGPUBackend, type WarmPipelines } from './backend.js';
export { WARM_SET, type PipelineVariant } from './pipelines.js';
export { WGSL } from './kernels.generated.js';
export { Tuner, kernelHash, type AutotuneMode } from './tune/tuner.js';
export { memoryStore, fileStore, indexedDbStore, defaultStore, cacheDir, type TuneStore, type StoredTuning, type TunedEntry } from './tune/store.js';
export { TUNE_SITES, bucketOf, bucketKey, type TuneSite, type VariantOf, type ForcedVariants } from './tune/sites.js';
export { sizeClass } from './pool.js';
export { uniformLayout } from './uniforms.js';
export { KERNELS, grid1d, WG_1D, type KernelName, type KernelCall, type AnyKernelCall, type KernelSpec, type UniformType, type DeviceCaps } from './spec.js';
export { WEBGPU_KERNELS, type KernelBuilder, type KernelContext } from './ops/index.js';

/** Where a GPU comes from: the browser's `navigator.gpu`, or Dawn through `@tessera/node`. */
async function findGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process !== 'undefined' && process.versions?.node) {
    const spec = '@tessera/node';
    const mod = (await import(/* @vite-ignore */ spec)) as { nodeGPU(): Promise<GPU> };
    return mod.nodeGPU();
  }
  throw new Error('init: this browser has no WebGPU (navigator.gpu is missing). Use a current Chrome, Edge or Safari 26+, or Firefox 141+ on Windows');
}

/**
 * Wraps an adapter and device you created yourself, with the options of `createBackend` that
 * do not choose the adapter (`caps`, `variants`, `warmPipelines`).
 *
 * @example
 * await ts.init({ backend: await backendFromDevice(adapter, device) });
 */
export async function backendFromDevice(adapter: GPUAdapter, device: GPUDevice, opts: Omit<WebGPUOptions, 'powerPreference'> = {}): Promise<Backend> {
  const variants = checkForced(opts.variants ?? {});
  const b = new WebGPUBackend(device, describeAdapter(adapter, device), opts.caps, {
    variants,
    quickPipelines: opts.quickPipelines ?? quickFromEnv(),
    autotune: opts.autotune ?? autotuneFromEnv(),
    tuneStore: opts.tuneStore,
  });
  await b.warmup(opts.warmPipelines ?? defaultWarm(b.info.isCPU));
  mark('tessera:init:compiled');
  return b;
}

/**
 * SwiftShader compiles one pipeline at a time per process (creating LeNet-5's 24 variants
 * asynchronously all at once took as long as creating them one by one, 2.1 against 1.9 s),
 * so on CPU adapters warming only moves the work: in the background it made a first tiny op
 * wait 2.4 s behind the warm set, and awaited it made init 2 s longer. There, pipelines are
 * made on first use. GPU drivers compile in parallel, off the thread that dispatches.
 */
function defaultWarm(isCPU: boolean): WarmPipelines {
  return isCPU ? 'none' : 'background';
}

/** A performance mark (seen in DevTools' timeline and `performance.getEntriesByType('mark')`). */
function mark(name: string): void {
  globalThis.performance?.mark?.(name);
}

/** Options of `createBackend`. */
export interface WebGPUOptions {
  powerPreference?: GPUPowerPreference;
  /** Overrides the kernel choices the adapter implies, e.g. `{ registerTiling: false }` for GPU variants. */
  caps?: Partial<DeviceCaps>;
  /**
   * Whether init starts creating the pipelines a typical CNN step uses (`WARM_SET`):
   * 'background' (the default on GPUs), 'await', or 'none' (the default on CPU adapters).
   */
  warmPipelines?: WarmPipelines;
  /**
   * Forces a kernel variant per op wherever the arguments allow it (tune/sites.ts lists them),
   * e.g. `{ matmul: 'tiled128' }`: for tests and for comparing variants by hand.
   */
  variants?: Readonly<Partial<Record<TuneSite, string>>>;
  /**
   * A kernel variant that takes long to compile first runs as a quick stand-in computing the
   * same values (channel pairs off in the convolutions) until the read after the next, when the
   * variant itself is made and takes over (docs/autotune.md). On SwiftShader this halves the
   * time to a first LeNet-5 training step. The stand-in's sums may differ from the variant's in
   * the last bits. Default: true on CPU adapters (where pipelines compile one at a time on the
   * cores that dispatch), false on GPUs; TESSERA_QUICK_PIPELINES=0 or 1 sets it when this
   * option is absent.
   */
  quickPipelines?: boolean;
  /**
   * Autotune (tune/tuner.ts): 'background' (the default on GPUs) times the variants of each op
   * and shape bucket at first use, in the background, and keeps the fastest; 'cached' (the
   * default on CPU adapters such as SwiftShader, where timing runs would take the cores from the
   * work) uses winners stored by earlier runs, `ts.tune` or `tessera tune`, but measures nothing
   * by itself; 'off' runs every op's heuristic choice. The environment variable
   * TESSERA_AUTOTUNE sets it when this option is absent.
   */
  autotune?: AutotuneMode;
  /**
   * Where winners persist: by default a file under the user's cache folder in Node
   * (TESSERA_CACHE_DIR moves it), IndexedDB in a browser.
   */
  tuneStore?: TuneStore;
}

/** TESSERA_QUICK_PIPELINES, checked; undefined when unset. */
function quickFromEnv(): boolean | undefined {
  const v = typeof process !== 'undefined' ? process.env?.TESSERA_QUICK_PIPELINES : undefined;
  if (!v) return undefined;
  if (v === '0' || v === '1') return v === '1';
  throw new Error(`init: TESSERA_QUICK_PIPELINES must be 0 or 1, got '${v}'`);
}

/** TESSERA_AUTOTUNE, checked; undefined when unset. */
function autotuneFromEnv(): AutotuneMode | undefined {
  const v = typeof process !== 'undefined' ? process.env?.TESSERA_AUTOTUNE : undefined;
  if (!v) return undefined;
  if (v === 'off' || v === 'cached' || v === 'background') return v;
  throw new Error(`init: TESSERA_AUTOTUNE must be off, cached or background, got '${v}'`);
}

/**
 * Creates the backend on the best adapter, asking for the adapter's full buffer and workgroup
 * limits (the defaults are far lower than most devices allow).
 *
 * @example
 * const backend = await createBackend({ powerPreference: 'high-performance' });
 * await ts.init({ backend });
 */
export async function createBackend(opts: WebGPUOptions = {}): Promise<Backend> {
  mark('tessera:init:start');
  const gpu = await findGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('init: no WebGPU adapter is available. In Node, run `bash scripts/ensure-webgpu`; in a browser, check that WebGPU is enabled');
  const want = [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxStorageBuffersPerShaderStage',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  mark('tessera:init:adapter');
  // Optional features the kernels use where present: subgroup operations (matmul variants),
  // timestamp queries (autotune's timings) and f16.
  const requiredFeatures = (['subgroups', 'timestamp-query', 'shader-f16'] as const).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  mark('tessera:init:device');
  return backendFromDevice(adapter, device, opts);
}

/**
 * For `ts.init()`'s 'auto' choice among several backends: the adapter WebGPU would get and
 * whether it is only a CPU emulation, without creating a device (which, on SwiftShader, would
 * cost the start-up 'auto' may not want).
 *
 * @example
 * const p = await probeWebGPU();   // { available: true, emulated: true, detail: 'its adapter SwiftShader Device (Subzero) is a CPU emulation' }
 */
export async function probeWebGPU(opts: BackendCreateOptions = {}): Promise<BackendProbe> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await (await findGPU()).requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (e) {
    return { available: false, detail: (e as Error).message };
  }
  if (!adapter) return { available: false, detail: 'no WebGPU adapter' };
  const { name, isCPU } = adapterIdentity(adapter);
  return { available: true, emulated: isCPU, detail: isCPU ? `its adapter ${name} is a CPU emulation` : `adapter ${name} is a GPU` };
}

registerBackend('webgpu', { priority: 10, auto: true, create: (opts) => createBackend(opts), probe: probeWebGPU });

// Node (like Deno and Bun) has AsyncLocalStorage, with which concurrent async tidies and noGrads
// keep apart (see ts.setAsyncContext). Every Node program imports this package, so it installs
// it here, synchronously at import so that it is in place before the first tidy whatever the
// backend; getBuiltinModule reaches it without an import that a browser bundle would see. A
// provider the application set itself is left alone.
if (typeof process !== 'undefined' && typeof process.getBuiltinModule === 'function' && getAsyncContext() === null) {
  const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks');
  setAsyncContext(asyncLocalStorageContext(new AsyncLocalStorage()));
}
