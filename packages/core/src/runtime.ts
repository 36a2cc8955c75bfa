import type { Backend, BackendInfo } from './backend.js';
import { engine } from './engine.js';
import { clearScalarCache } from './api/creation.js';

type BackendModule = { createBackend(opts?: InitOptions): Promise<Backend> };
let loader: (() => Promise<BackendModule>) | null = null;

/** @internal Registers how `init()` finds the WebGPU backend (the package entry does this). */
export function setBackendLoader(load: () => Promise<BackendModule>): void {
  loader = load;
}

export interface InitOptions {
  /** Use this backend instead of creating one (tests, or a device you manage yourself). */
  backend?: Backend;
  /** Passed to `requestAdapter`. */
  powerPreference?: 'low-power' | 'high-performance';
}

/**
 * Starts Tessera on the best available device: `navigator.gpu` in a browser, Dawn (through
 * `@tessera/node`) in Node, with SwiftShader as the fallback on machines without a GPU.
 * Calling it again returns the device already running.
 *
 * @example
 * import * as ts from '@tessera/core';
 * await ts.init();
 * console.log(ts.backendInfo().adapter);
 */
export async function init(opts: InitOptions = {}): Promise<BackendInfo> {
  if (opts.backend) return setBackend(opts.backend);
  if (engine.backend) return engine.backend.info;
  if (!loader) {
    throw new Error("init: no WebGPU backend is registered. Import '@tessera/core' through its package entry, or pass { backend } to init()");
  }
  const mod = await loader();
  return setBackend(await mod.createBackend(opts));
}

function setBackend(b: Backend): BackendInfo {
  if (engine.backend && engine.backend !== b) shutdown();
  engine.backend = b;
  return b.info;
}

/**
 * Releases the device. Tensors created before are unusable afterwards; `init()` starts anew.
 *
 * @example
 * ts.shutdown();   // lets a Node process exit while Dawn would keep it alive
 */
export function shutdown(): void {
  clearScalarCache();
  engine.backend?.destroy();
  engine.backend = null;
  engine.liveTensors = 0;
  engine.liveBytes = 0;
  engine.scopes.length = 0;
}

/**
 * The adapter in use: name, vendor, architecture and features.
 *
 * @example
 * ts.backendInfo().adapter;   // e.g. 'SwiftShader Device (Subzero)'
 */
export function backendInfo(): BackendInfo {
  if (!engine.backend) throw new Error('backendInfo: Tessera is not initialised. Call `await ts.init()` first');
  return engine.backend.info;
}

/** Submits all queued GPU work now (normally a readback or a size threshold does this). @example ts.flush() */
export function flush(): void {
  engine.backend?.flush();
}

/**
 * Gives the GPU memory of freed tensors, which Tessera keeps pooled for reuse, back to the device,
 * like `torch.cuda.empty_cache()`; returns the bytes released. Live tensors are untouched, and
 * later ops allocate afresh (slower until the pool refills).
 *
 * @example
 * ts.emptyCache();             // e.g. before measuring a model's own footprint
 * ts.memory().pooledBytes;     // 0
 */
export function emptyCache(): number {
  if (!engine.backend) throw new Error('emptyCache: Tessera is not initialised. Call `await ts.init()` first');
  return engine.backend.emptyCache();
}

/** Submit, dispatch and buffer counters of the backend, for benchmarks. @example ts.stats().submits */
export function stats() {
  if (!engine.backend) throw new Error('stats: Tessera is not initialised. Call `await ts.init()` first');
  return engine.backend.stats();
}
