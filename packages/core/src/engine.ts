import type { Backend, DeviceBuffer } from './backend.js';
import { type DType, storageBytes } from './dtype.js';
import { opError } from './errors.js';
import { type AsyncContext, type ScopeSet, type ScopeState, syncContext } from './context.js';

/** A device buffer shared by every Tensor handle that views it; freed when the last one goes. */
export class Storage {
  refs = 1;
  /** True for core's cached scalars: never written after they are made (compiled steps fold them). */
  constant = false;
  constructor(
    readonly buf: DeviceBuffer,
    readonly bytes: number,
  ) {
    engine.liveBytes += bytes;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    engine.liveBytes -= this.bytes;
    engine.backend?.free(this.buf);
  }
}

/** Anything a scope can dispose. Tensor implements it; kept minimal so this file needs no Tensor. */
export interface Disposable {
  dispose(): void;
}

/** Global runtime state. One device per process, as in TensorFlow.js and PyTorch's default device. */
export const engine = {
  backend: null as Backend | null,
  /** Live user-visible tensors (internal handles kept for autograd are not counted). */
  liveTensors: 0,
  liveBytes: 0,
  /** Bytes of internal caches (device-resident scalar constants), reported apart from tensors. */
  cachedBytes: 0,
  /**
   * Keeps the current scope and grad mode (see context.ts): the synchronous default, or one that
   * follows async functions (AsyncLocalStorage in Node), set with `ts.setAsyncContext`.
   */
  context: syncContext as AsyncContext,
  /**
   * Every open tidy scope, in every async context, oldest first: `untrackFromScopes` looks a
   * tensor up in all of them, and `shutdown()` forgets them.
   */
  scopes: [] as ScopeSet[],
  nextId: 1,
  /** Advances for every unseeded random op, so two unseeded calls differ but a run is repeatable. */
  randomCounter: 0,
};

export function requireBackend(op: string): Backend {
  const b = engine.backend;
  if (!b) throw opError(op, 'Tessera is not initialised', 'Call `await ts.init()` once before creating tensors');
  return b;
}

/** A buffer for `elements` elements of `dtype` (whole 32-bit words; see `storageBytes`). */
export function allocStorage(op: string, elements: number, dtype: DType = 'float32'): Storage {
  const bytes = storageBytes(dtype, elements);
  return new Storage(requireBackend(op).alloc(bytes), bytes);
}

/** The scope and grad mode of the code running now. */
export function currentState(): ScopeState {
  // A provider installed while a default-provider claim is pending falls back to that claim.
  return engine.context.get() ?? syncContext.get()!;
}

/** Whether ops are being recorded for autograd right now. */
export function gradEnabled(): boolean {
  return currentState().gradEnabled;
}

export function trackInScope(t: Disposable): void {
  let s = currentState().scope;
  // A scope ends before code it started may (an un-awaited async call): use an open ancestor.
  while (s !== null && !s.open) s = s.parent;
  s?.add(t);
}

export function untrackFromScopes(t: Disposable): void {
  for (const s of engine.scopes) s.delete(t);
}
