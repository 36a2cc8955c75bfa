import { type AsyncContext, claim, overlapError, release, runIn, syncContext } from '../context.js';
import { currentState, engine } from '../engine.js';
import { closeScope, collectTensors, type Scope, TidyScope } from '../scope.js';
import type { Tensor } from '../tensor.js';

export type { Scope } from '../scope.js';

/** The async half of `tidy`: the scope closes when the promise settles. */
function settle<T>(ctx: AsyncContext, scope: TidyScope, promise: Promise<T>, withHandle: boolean): Promise<T> {
  // Without async propagation, an async function without a scope parameter keeps its scope
  // current until it settles (a claim), so the tensors it creates after each await are caught.
  if (ctx === syncContext && !withHandle && !claim(scope)) {
    const end = () => closeScope(scope, undefined);
    promise.then(end, end);
    return Promise.reject(overlapError('tidy'));
  }
  return promise.then(
    (v) => {
      release(scope);
      closeScope(scope, v);
      return v;
    },
    (e) => {
      release(scope);
      closeScope(scope, undefined);
      throw e;
    },
  );
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (also inside arrays
 * or plain objects); those go on to the enclosing tidy, if any. Unlike TensorFlow.js, `fn` may
 * be async: the scope closes when its promise settles, and in Node (where `@tessera/webgpu`
 * installs an AsyncLocalStorage, see `setAsyncContext`) async tidies and `noGrad`s may run
 * concurrently, each seeing only its own tensors. In a browser, where nothing follows an await,
 * an async `fn` without a parameter owns every tensor created until it settles, so a second one
 * started meanwhile is rejected with an "overlapped" error; for concurrent loops give each `fn`
 * the `scope` parameter and create tensors after an await inside `scope.run(...)` (see `Scope`).
 *
 * @example
 * const loss = ts.tidy(() => ts.crossEntropy(model(x), y));      // intermediates freed
 * const acc = await ts.tidy(async () => (await pred.argmax(1).eq(y).mean().item()));
 */
export function tidy<T>(fn: (scope: Scope) => T): T {
  const ctx = engine.context;
  const outer = currentState();
  const scope = new TidyScope(outer.scope, outer.gradEnabled);
  engine.scopes.push(scope);
  let result: T;
  try {
    result = runIn(ctx, scope, fn, scope);
  } catch (e) {
    closeScope(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) return settle(ctx, scope, result, fn.length > 0) as T;
  closeScope(scope, result);
  return result;
}

/**
 * Sets where the current tidy scope and grad mode are kept: a provider that follows async
 * functions (Node's AsyncLocalStorage, the TC39 `AsyncContext.Variable`), or `null` for the
 * synchronous default of browsers. In Node, `@tessera/webgpu` installs one when imported, so
 * call this only for another runtime, or in tests. Set it while no tidy or noGrad is pending.
 *
 * @example
 * const before = ts.getAsyncContext();
 * ts.setAsyncContext(null);     // browser rules, e.g. to test browser code in Node
 * ts.setAsyncContext(before);
 */
export function setAsyncContext(ctx: AsyncContext | null): void {
  engine.context = ctx ?? syncContext;
}

/** The provider set by `setAsyncContext`, or null for the synchronous default. @example ts.getAsyncContext() !== null   // true in Node */
export function getAsyncContext(): AsyncContext | null {
  return engine.context === syncContext ? null : engine.context;
}

/**
 * Exempts a tensor from every enclosing `tidy`, so it lives until disposed by hand.
 *
 * @example
 * const w = ts.tidy(() => ts.keep(ts.randn([10, 10])));
 */
export function keep<T extends Tensor>(t: T): T {
  return t._keep();
}

/** Disposes every tensor in `value` (a tensor, or arrays and objects of them). @example ts.dispose([a, b]) */
export function dispose(value: unknown): void {
  for (const t of collectTensors(value, new Set())) t.dispose();
}

/** Live tensor count and bytes, and the bytes waiting in the buffer pool. */
export interface MemoryInfo {
  tensors: number;
  /** Bytes held by live tensors (internal caches excluded, see `cachedBytes`). */
  bytes: number;
  pooledBytes: number;
  /** Bytes of cached scalar constants (4 per distinct number used in ops like `x.mul(0.5)`). */
  cachedBytes: number;
}

/**
 * How much GPU memory tensors hold now. Use it to check a training loop for leaks.
 *
 * @example
 * const before = ts.memory().tensors;  step();  console.assert(ts.memory().tensors === before);
 */
export function memory(): MemoryInfo {
  return {
    tensors: engine.liveTensors,
    bytes: engine.liveBytes - engine.cachedBytes,
    pooledBytes: engine.backend?.stats().pooledBytes ?? 0,
    cachedBytes: engine.cachedBytes,
  };
}
