import type { Backend, BackendCreateOptions, BackendFactory, BackendInfo, BackendProbe } from './backend.js';
import { engine } from './engine.js';
import { clearScalarCache } from './api/creation.js';
import { resetDebug } from './debug/hooks.js';
import { guardInit } from './compile/state.js';

const registry = new Map<string, BackendFactory>();

/**
 * Makes a backend available to `init()` under `name`. Backend packages call it when imported
 * (`import '@tessera/webgpu'`), as TensorFlow.js backends do; core itself knows none of them.
 *
 * @example
 * import { ReferenceBackend } from '@tessera/reference';
 * class MyBackend extends ReferenceBackend {}   // or any class that implements ts.Backend
 * registerBackend('mine', { priority: 1, auto: false, create: async () => new MyBackend() });
 */
export function registerBackend(name: string, factory: BackendFactory): void {
  registry.set(name, factory);
}

/** The registered backend names, best first. @example ts.registeredBackends()   // ['webgpu', 'reference'] */
export function registeredBackends(): string[] {
  return [...registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** @internal Creates a fresh backend by name without making it current (the shadow check's twin). */
export async function createRegisteredBackend(name: string, opts: BackendCreateOptions = {}): Promise<Backend> {
  const f = registry.get(name);
  if (!f) throw new Error(`init: no backend named '${name}' is registered (registered: ${registeredBackends().join(', ') || 'none'}). ${importHint(name)}`);
  return f.create(opts);
}

const importHint = (name: string): string =>
  name === 'webgpu' || name === 'reference' || name === 'wasm' || name === 'auto'
    ? `Import its package once, before init(): import '@tessera/${name === 'auto' ? 'webgpu' : name}'`
    : `Import the package that registers '${name}' before init()`;

export interface InitOptions {
  /**
   * Which backend: 'auto' (the default: the best registered one that starts: WebGPU where it is
   * imported, except that with '@tessera/wasm' imported too, a WebGPU adapter that is only a CPU
   * emulation such as SwiftShader, or none, gives 'wasm'), a registered name such as 'webgpu',
   * 'wasm' or 'reference', or a Backend you made yourself. The result's `reason` says which and why.
   */
  backend?: 'auto' | 'webgpu' | 'wasm' | 'reference' | (string & {}) | Backend;
  /** Passed to `requestAdapter`. */
  powerPreference?: 'low-power' | 'high-performance';
}

/**
 * Starts Tessera on a backend: by default the best registered one (WebGPU through
 * `navigator.gpu` in a browser, Dawn in Node, with SwiftShader as the fallback on machines
 * without a GPU), or the one named. Backends register when their package is imported. Calling
 * it again returns the backend already running, unless another one is named.
 *
 * @example
 * import * as ts from '@tessera/core';
 * import '@tessera/webgpu';
 * const info = await ts.init();                // or ts.init({ backend: 'wasm' | 'reference' })
 * console.log(info.adapter, info.reason);      // the reason says which backend 'auto' chose and why
 */
export function init(opts: InitOptions = {}): Promise<BackendInfo> {
  // Synchronous, so that a call inside a function being compiled throws at the call.
  guardInit();
  return start(opts);
}

async function start(opts: InitOptions): Promise<BackendInfo> {
  const want = opts.backend ?? 'auto';
  if (typeof want === 'object') return setBackend(want, 'a Backend object passed to init()');
  if (engine.backend && (want === 'auto' || engine.backend.info.backend === want)) return backendInfo();
  const create = { powerPreference: opts.powerPreference };
  if (want !== 'auto') return setBackend(await createRegisteredBackend(want, create), `named: init({ backend: '${want}' })`);
  const candidates = await autoOrder(create);
  if (!candidates.length) {
    throw new Error(
      `init: no backend is registered (registered: ${registeredBackends().join(', ') || 'none'}). ${importHint('auto')}, or '@tessera/reference' for the plain TypeScript one`,
    );
  }
  const failures: string[] = [];
  for (const c of candidates) {
    try {
      const b = await c.factory.create(create);
      return setBackend(b, autoReason(c, candidates, failures));
    } catch (e) {
      failures.push(`${c.name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`init: no backend could start.\n${failures.join('\n')}`);
}

/** An automatic backend in the order 'auto' tries them, with what its probe found. */
interface Candidate {
  name: string;
  factory: BackendFactory;
  probe?: BackendProbe;
}

/**
 * The automatic backends in the order 'auto' tries them: by priority, except that one whose
 * probe finds only a CPU emulation of its device (WebGPU on SwiftShader) goes after those that
 * are not, and one that finds no device at all goes last. Probes run only when there is a
 * choice, so a lone WebGPU backend starts exactly as before.
 */
async function autoOrder(opts: BackendCreateOptions): Promise<Candidate[]> {
  const list: Candidate[] = [...registry.entries()]
    .filter(([, f]) => f.auto)
    .sort((a, b) => b[1].priority - a[1].priority)
    .map(([name, factory]) => ({ name, factory }));
  if (list.length < 2) return list;
  for (const c of list) {
    if (!c.factory.probe) continue;
    try {
      c.probe = await c.factory.probe(opts);
    } catch (e) {
      c.probe = { available: false, detail: (e as Error).message };
    }
  }
  const rank = (c: Candidate) => (c.probe?.available === false ? 2 : c.probe?.emulated ? 1 : 0);
  return list.sort((a, b) => rank(a) - rank(b)); // stable: priority order within a rank
}

/** init()'s reason for the candidate that started: what came before it and why it lost. */
function autoReason(chosen: Candidate, all: readonly Candidate[], failures: readonly string[]): string {
  const passed = all.filter((c) => c !== chosen && c.factory.priority > chosen.factory.priority && c.probe);
  const why = [
    ...passed.map((c) => (c.probe!.available ? `${c.name}: ${c.probe!.detail}` : `${c.name} is unavailable (${c.probe!.detail})`)),
    ...failures.map((f) => `failed to start ${f}`),
  ];
  if (why.length) return `auto: ${chosen.name}, because ${why.join('; ')}`;
  const others = registeredBackends().filter((n) => n !== chosen.name);
  const byName = others.filter((n) => !registry.get(n)!.auto);
  const detail = chosen.probe ? ` (${chosen.probe.detail})` : '';
  return `auto: ${chosen.name}${detail}, the first automatic backend${byName.length ? `; ${byName.join(', ')} ${byName.length === 1 ? 'starts' : 'start'} only by name` : ''}`;
}

/** Why the current backend was chosen (see BackendInfo.reason). */
let reason: string | undefined;

function setBackend(b: Backend, why: string): BackendInfo {
  if (engine.backend && engine.backend !== b) shutdown();
  engine.backend = b;
  reason = why;
  return backendInfo();
}

/**
 * Releases the device. Tensors created before are unusable afterwards; `init()` starts anew.
 *
 * @example
 * ts.shutdown();   // lets a Node process exit while Dawn would keep it alive
 */
export function shutdown(): void {
  clearScalarCache();
  resetDebug();
  engine.backend?.destroy();
  engine.backend = null;
  engine.liveTensors = 0;
  engine.liveBytes = 0;
  engine.scopes.length = 0;
}

/**
 * The backend and adapter in use: name, vendor, architecture and features.
 *
 * @example
 * ts.backendInfo().backend;   // 'webgpu'
 * ts.backendInfo().adapter;   // e.g. 'SwiftShader Device (Subzero)'
 * ts.backendInfo().reason;    // why init() chose it, e.g. "named: init({ backend: 'webgpu' })"
 */
export function backendInfo(): BackendInfo {
  if (!engine.backend) throw new Error('backendInfo: Tessera is not initialised. Call `await ts.init()` first');
  return { ...engine.backend.info, reason };
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
