import { engine, type Disposable } from '../engine.js';
import { Tensor } from '../tensor.js';

/** Every tensor reachable in a value: itself, or inside arrays and plain objects. */
function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): Set<Tensor> {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 8 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 8 && value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  } else if (depth < 8 && value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
  return into;
}

function closeScope(scope: Set<Disposable>, result: unknown): void {
  const at = engine.scopes.lastIndexOf(scope);
  if (at >= 0) engine.scopes.splice(at, 1);
  const kept = collectTensors(result, new Set());
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t as Tensor)) parent?.add(t);
    else t.dispose();
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (also inside arrays
 * or plain objects). Unlike TensorFlow.js, `fn` may be async: the scope closes when its promise
 * settles. Concurrent async tidies share one scope stack, so run them one after another.
 *
 * @example
 * const loss = ts.tidy(() => ts.crossEntropy(model(x), y));      // intermediates freed
 * const acc = await ts.tidy(async () => (await pred.argmax(1).eq(y).mean().item()));
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => (closeScope(scope, v), v),
      (e) => {
        closeScope(scope, undefined);
        throw e;
      },
    ) as T;
  }
  closeScope(scope, result);
  return result;
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
