/**
 * The scope object of `tidy` (and of `backward()`): the set of tensors to dispose, the handle
 * passed to tidy's function, and the state an async context provider stores while it runs.
 */
import { runIn, type ScopeSet, type ScopeState } from './context.js';
import { engine, type Disposable, untrackFromScopes } from './engine.js';
import { opError } from './errors.js';
import { Tensor } from './tensor.js';

/** Every tensor reachable in a value: itself, or inside arrays and plain objects. */
export function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): Set<Tensor> {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 8 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 8 && value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  } else if (depth < 8 && value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
  return into;
}

/**
 * The handle a `tidy` passes to its function. In Node it is rarely needed (AsyncLocalStorage
 * follows every await); in a browser it is how async tidies run side by side: give the async
 * function this parameter, and create tensors after an `await` inside `scope.run(...)`.
 *
 * @example
 * const out = await ts.tidy(async (scope) => {
 *   const h = model(x);                          // before the first await: in the scope
 *   await new Promise((r) => setTimeout(r, 10));
 *   return scope.run(() => h.relu().sum());      // after it: scope.run puts it in the scope
 * });
 */
export interface Scope {
  /**
   * Runs the synchronous `fn` inside this scope, in the grad mode the tidy started in: the
   * tensors it creates are disposed when the tidy ends, unless the tidy returns them.
   */
  run<T>(fn: () => T): T;
  /** Moves the tensors in `value` (arrays and plain objects too) into this scope, and returns `value`. */
  track<V>(value: V): V;
}

/** @internal One open tidy (or backward pass). It is its own `ScopeState`, so entering one allocates nothing else. */
export class TidyScope extends Set<Disposable> implements ScopeSet, ScopeState, Scope {
  open = true;
  readonly scope = this;
  constructor(
    readonly parent: ScopeSet | null,
    readonly gradEnabled: boolean,
  ) {
    super();
  }

  run<T>(fn: () => T): T {
    this.check('run');
    return runIn(engine.context, this, fn, undefined);
  }

  track<V>(value: V): V {
    this.check('track');
    for (const t of collectTensors(value, new Set())) {
      if (t.disposed) continue;
      untrackFromScopes(t);
      this.add(t);
    }
    return value;
  }

  private check(method: string): void {
    if (!this.open) throw opError('tidy', `scope.${method}() was called after its tidy ended`, 'Use the scope only inside the function passed to tidy');
  }
}

/** @internal Ends a scope: disposes its tensors except those in `result`, which go to its parent. */
export function closeScope(scope: TidyScope, result: unknown): void {
  scope.open = false;
  const at = engine.scopes.lastIndexOf(scope);
  if (at >= 0) engine.scopes.splice(at, 1);
  if (scope.size === 0) return;
  const kept = collectTensors(result, new Set());
  // Results go to the scope the tidy was opened in (or, if that ended first, its nearest open
  // ancestor), not to whatever scope happens to be current when an async tidy settles.
  let parent = scope.parent;
  while (parent !== null && !parent.open) parent = parent.parent;
  for (const t of scope) {
    if (kept.has(t as Tensor)) parent?.add(t);
    else t.dispose();
  }
}
