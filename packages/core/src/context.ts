/**
 * Where the innermost `tidy` scope and the grad mode live while code runs.
 *
 * Core runs in browsers and in Node, so it cannot import `node:async_hooks` itself. It reads
 * the state through an `AsyncContext` provider instead: by default a synchronous global (what a
 * browser offers today), and in Node an AsyncLocalStorage that `@tessera/webgpu` installs on
 * import (`asyncLocalStorageContext`), under which every async function sees the state it was
 * started in.
 */
import type { Disposable } from './engine.js';
import { opError } from './errors.js';

/** The tensors of one open `tidy`, with the scope that encloses it. */
export interface ScopeSet extends Set<Disposable> {
  readonly parent: ScopeSet | null;
  /** False once the tidy has ended; tensors then go to the nearest open ancestor. */
  open: boolean;
}

/**
 * What a provider stores: the innermost tidy's scope (null outside any) and whether ops are
 * recorded for autograd. Treat it as opaque; providers only store and return it.
 */
export interface ScopeState {
  readonly scope: ScopeSet | null;
  readonly gradEnabled: boolean;
}

/**
 * Keeps the current `ScopeState` per logical thread of execution, so that two async `tidy`s or
 * `noGrad`s running at once do not see each other. The shape is that of the TC39
 * `AsyncContext.Variable`; `asyncLocalStorageContext` adapts an AsyncLocalStorage to it.
 *
 * @example
 * import { AsyncLocalStorage } from 'node:async_hooks';
 * const als = new AsyncLocalStorage<ts.ScopeState>();
 * ts.setAsyncContext({ get: () => als.getStore(), run: (state, fn, arg) => als.run(state, fn, arg) });
 */
export interface AsyncContext {
  /** The state set by the innermost `run` around the caller, or undefined outside any. */
  get(): ScopeState | undefined;
  /** Calls `fn(arg)` with `state` current, also in the code that `fn` runs after an await. */
  run<T, A>(state: ScopeState, fn: (arg: A) => T, arg: A): T;
  /**
   * Optional (AsyncLocalStorage's `enterWith`): makes `state` current for the rest of the
   * synchronous execution and what it starts. When present, Tessera calls it before and after
   * `fn` instead of `run`, so that no provider frame sits between the runtime and the user's
   * code in a stack trace (the debugging tools name the first frame outside Tessera).
   */
  enter?(state: ScopeState | undefined): void;
}

/** Calls `fn(arg)` with `state` current in `ctx`, by `enter` where the provider has it. */
export function runIn<T, A>(ctx: AsyncContext, state: ScopeState, fn: (arg: A) => T, arg: A): T {
  if (ctx.enter === undefined) return ctx.run(state, fn, arg);
  const prev = ctx.get();
  ctx.enter(state);
  try {
    return fn(arg);
  } finally {
    ctx.enter(prev);
  }
}

/**
 * A provider from an AsyncLocalStorage (Node's, or Deno's and Bun's copies of it); core imports
 * no runtime module, so the caller makes the storage. `@tessera/webgpu` does this when imported
 * in Node; call it yourself only elsewhere (a worker runtime, a test).
 *
 * @example
 * import { AsyncLocalStorage } from 'node:async_hooks';
 * ts.setAsyncContext(ts.asyncLocalStorageContext(new AsyncLocalStorage()));
 */
export function asyncLocalStorageContext(als: { getStore(): unknown; enterWith(store: ScopeState | undefined): void }): AsyncContext {
  const ctx: AsyncContext = {
    get: () => als.getStore() as ScopeState | undefined,
    // enterWith, undone afterwards, is what AsyncLocalStorage.run does inside; done by runIn,
    // no frame of node:async_hooks sits between the runtime and the user's code in a stack.
    enter: (state) => als.enterWith(state),
    run: (state, fn, arg) => runIn(ctx, state, fn, arg),
  };
  return ctx;
}

/** Outside every tidy, with gradients on. */
export const ROOT_STATE: ScopeState = { scope: null, gradEnabled: true };

// The default provider: one global, as browsers allow. `run` sets it for a synchronous call only;
// an async tidy or noGrad "claims" it instead, so that its code after each await still sees its
// state. Code that runs meanwhile (another async function, an event handler) sees it too, which
// is why only one claim may be pending at a time (see `claim`).
let current: ScopeState = ROOT_STATE;
let depth = 0;
let claimed: ScopeState | null = null;

/** The default provider: no async propagation, only the synchronous call stack and claims. */
export const syncContext: AsyncContext = {
  get: () => current,
  run<T, A>(state: ScopeState, fn: (arg: A) => T, arg: A): T {
    const prev = current;
    current = state;
    depth++;
    try {
      return fn(arg);
    } finally {
      // Back at the bottom of the stack, code is "at rest" (after an await, in a callback): it
      // belongs to the pending claim, if any, even if that claim started inside this call.
      current = --depth === 0 ? (claimed ?? ROOT_STATE) : prev;
    }
  },
};

/**
 * Makes `state` current whenever no synchronous `run` is active, until `release(state)`.
 * Returns false when another claim is pending: without async propagation the two could not be
 * told apart after an await, so the caller reports an overlap instead of mixing them up.
 */
export function claim(state: ScopeState): boolean {
  if (claimed !== null) return false;
  claimed = state;
  if (depth === 0) current = state;
  return true;
}

/** Ends a claim made by `claim(state)`. */
export function release(state: ScopeState): void {
  if (claimed !== state) return;
  claimed = null;
  if (depth === 0) current = ROOT_STATE;
}

/** The error of an async tidy or noGrad that started while another one's claim was pending. */
export function overlapError(op: 'tidy' | 'noGrad'): Error {
  return opError(
    op,
    'two async scopes overlapped: this one started while another async tidy or noGrad was still pending, and without AsyncLocalStorage (as in a browser) what each does after an await cannot be told apart',
    'Await one before starting the other, or give each async function a scope parameter, ts.tidy(async (scope) => ...), and create tensors after an await inside scope.run(() => ...)',
  );
}
