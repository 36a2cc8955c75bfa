/**
 * `ts.compile(fn)`: record what one call of `fn` asks of the backend, then replay it for later
 * calls with inputs of the same shapes, skipping shape rules, the autograd tape and the Tensor
 * objects of intermediates. See docs/compile.md for what stays live between calls.
 */
import { storageWords } from './dtype.js';
import { allocStorage, engine, gradEnabled, requireBackend } from './engine.js';
import { fmtShape, opError } from './errors.js';
import { Tensor } from './tensor.js';
import { tidy } from './api/memory.js';
import { collectTensors } from './scope.js';
import { capture } from './compile/state.js';
import { record, type Recording } from './compile/recorder.js';

export { hostEffect } from './compile/state.js';

/** What a compiled function may return: a tensor, an array or a record of tensors, or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a function that returns nothing is typed void
export type CompileResult = Tensor | readonly Tensor[] | { readonly [key: string]: Tensor } | void | undefined;

/** Options of `ts.compile`. @example const opts: ts.CompileOptions = { cacheSize: 2 }; */
export interface CompileOptions {
  /** How many input signatures (shapes and dtypes) keep a recording; the least recently used goes first. Default 4. */
  cacheSize?: number;
  /**
   * Whether chains of elementwise ops run as one generated kernel (on backends that build
   * them). Default true; false keeps every op's own kernel, for debugging.
   */
  fuse?: boolean;
}

/** Counters of a compiled function, for tests and benchmarks. @example const i: ts.CompileInfo = ts.compile((x: ts.Tensor) => x.mul(2)).info; */
export interface CompileInfo {
  /** Recordings held now (at most `cacheSize`). */
  recordings: number;
  /** Calls that ran `fn` eagerly while recording (a new signature, or after an invalidation). */
  captures: number;
  /** Calls answered by replaying a recording. */
  replays: number;
  /** Bytes of intermediate buffers the recordings hold. */
  ownedBytes: number;
  /** Backend calls (kernels, updates, copies, writes) each recording replays, newest first. */
  calls: number[];
  /** Generated kernels in the recordings, and how many op kernels they stand for (see `fuse`). */
  fusedKernels: number;
  fusedOps: number;
}

/**
 * A function from `ts.compile`: call it like `fn`; `dispose()` frees its recordings.
 *
 * @example
 * const double: ts.CompiledFunction<[ts.Tensor], ts.Tensor> = ts.compile((x: ts.Tensor) => x.mul(2));
 * double.dispose();
 */
export interface CompiledFunction<A extends Tensor[], R extends CompileResult> {
  (...args: A): R;
  /** Drops every recording, so the next call records afresh (after changing what `fn` reads). */
  invalidate(): void;
  /** Frees the recordings; calling the function afterwards is an error. */
  dispose(): void;
  /**
   * Settles when the generated kernels of the recordings made so far are built. Calls made
   * before run their ops one by one (same results), so awaiting this is never required;
   * benchmarks and tests await it to measure or check the fused form.
   */
  ready(): Promise<void>;
  readonly info: CompileInfo;
}

type Template = { kind: 'none' } | { kind: 'tensor' } | { kind: 'array'; n: number } | { kind: 'record'; keys: string[] };

interface CacheEntry {
  recording: Recording | null;
  template: Template;
  /** Consecutive captures that could not be kept (see recorder.ts). */
  escapes: number;
}

/** Attempts at recording a signature before `compile` gives up and says why. */
const MAX_ESCAPES = 3;

const describe = (v: unknown): string =>
  v === null || v === undefined ? String(v) : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`;

/** The returned tensors in a fixed order, and how to put replayed ones back in that shape. */
function templateOf(value: unknown): { template: Template; leaves: Tensor[] } {
  const bad = (what: string) =>
    opError('compile', `the function returned ${what}`, 'Return a Tensor, an array or a record of Tensors, or nothing (read values after the call)');
  if (value === undefined) return { template: { kind: 'none' }, leaves: [] };
  if (value instanceof Tensor) return { template: { kind: 'tensor' }, leaves: [value] };
  if (value instanceof Promise) throw opError('compile', 'the function returned a Promise', 'Compile synchronous functions only: no await inside');
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (!(v instanceof Tensor)) throw bad(`an array whose element ${i} is ${describe(v)}`);
    });
    return { template: { kind: 'array', n: value.length }, leaves: [...value] };
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value);
    for (const k of keys)
      if (!((value as Record<string, unknown>)[k] instanceof Tensor)) throw bad(`a record whose '${k}' is ${describe((value as Record<string, unknown>)[k])}`);
    return { template: { kind: 'record', keys }, leaves: keys.map((k) => (value as Record<string, Tensor>)[k]!) };
  }
  throw bad(describe(value));
}

function build(t: Template, outs: Tensor[]): CompileResult {
  switch (t.kind) {
    case 'none':
      return undefined;
    case 'tensor':
      return outs[0]!;
    case 'array':
      return outs;
    case 'record':
      return Object.fromEntries(t.keys.map((k, i) => [k, outs[i]!]));
  }
}

/**
 * Compiles a training or inference step: the first call with given input shapes runs `fn`
 * eagerly while recording every kernel it queues; later calls with the same shapes replay
 * the recording with the new inputs, without shape rules, autograd tape or per-op tensors.
 * `fn` must be synchronous, take tensors and return a tensor, an array or a record of tensors,
 * or nothing; it may update tensors in place (optimizers, `ts.assign`). Returned tensors are
 * new at every call and belong to the caller.
 *
 * Replays repeat the recorded kernels, so numbers `fn` reads from JavaScript are frozen at the
 * recording, except: optimizer hyper-parameters given as a getter to `ts.applyUpdate` (what
 * `@tessera/nn` optimizers do, so learning-rate changes and Adam's step count stay live),
 * unseeded random ops (`ts.rand` without `seed` draws new numbers at every call), and
 * callbacks registered with `ts.hostEffect`. Tensors `fn` creates and does not return are
 * disposed at the end of the call. See docs/compile.md.
 *
 * @example
 * const w = ts.keep(ts.randn([4, 2], { seed: 1, requiresGrad: true }));
 * const predict = ts.compile((x: ts.Tensor) => x.matmul(w).relu());
 * const y1 = predict(ts.ones([3, 4]));   // records
 * const y2 = predict(ts.ones([3, 4]));   // replays
 * predict.dispose();
 */
export function compile<A extends Tensor[], R extends CompileResult>(fn: (...args: A) => R, opts: CompileOptions = {}): CompiledFunction<A, R> {
  if (typeof fn !== 'function') throw opError('compile', `expected a function, got ${describe(fn)}`);
  const cacheSize = opts.cacheSize ?? 4;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw opError('compile', `cacheSize must be an integer >= 1, got ${String(cacheSize)}`);
  const cache = new Map<string, CacheEntry>();
  let disposed = false;
  let backend = engine.backend;
  const counts = { captures: 0, replays: 0 };

  const drop = (key: string) => {
    cache.get(key)?.recording?.dispose();
    cache.delete(key);
  };
  const invalidate = () => {
    for (const key of [...cache.keys()]) drop(key);
  };

  const compiled = ((...args: A): R => {
    if (disposed) throw opError('compile', 'this compiled function was disposed', 'Call ts.compile(fn) again for a new one');
    args.forEach((a: unknown, i) => {
      if (!(a instanceof Tensor)) {
        throw opError(
          'compile',
          `argument ${i} is ${describe(a)}, not a Tensor`,
          'Pass tensors only; put other values in the function (they are fixed when it is recorded) or pass them as tensors',
        );
      }
      a._use('compile', `argument ${i}`);
    });
    // Inside another recording the outer one sees every kernel: run fn as it is.
    if (capture.active) return fn(...args);
    requireBackend('compile');
    if (engine.backend !== backend) {
      // After shutdown / init the recordings' buffers are gone with their device.
      for (const e of cache.values()) e.recording?.dispose();
      cache.clear();
      backend = engine.backend;
    }
    const key = signature(args);
    const entry = cache.get(key);
    let freedShape: readonly number[] | null = null;
    if (entry?.recording) {
      freedShape = entry.recording.freedExternal();
      if (!freedShape) {
        cache.delete(key); // to the end: least recently used first
        cache.set(key, entry);
        counts.replays++;
        return build(entry.template, entry.recording.replay(args)) as R;
      }
      drop(key);
    }
    counts.captures++;
    const firstId = engine.nextId;
    let template: Template = { kind: 'none' };
    let r: ReturnType<typeof record<R>>;
    try {
      r = record(
        args,
        () => tidy(() => fn(...args)),
        (value) => {
          try {
            const t = templateOf(value);
            template = t.template;
            return t.leaves;
          } catch (e) {
            for (const t of collectTensors(value, new Set())) t.dispose();
            throw e;
          }
        },
        { fuse: opts.fuse ?? true },
      );
    } catch (e) {
      if (!freedShape) throw e;
      throw opError(
        'compile',
        `a tensor of shape ${fmtShape(freedShape)} that the function used when it was recorded has been disposed, and running it again failed (${(e as Error).message})`,
        'Keep parameters and optimizer state alive while the compiled function is in use, or compile the function again for the new ones',
      );
    }
    // As replays will, return a copy of a tensor made before the call (an argument, say).
    // A view made in the call (a reshape of a parameter) is replaced by its copy.
    const made = new Map<Tensor, Tensor>();
    const copied = (t: Tensor): Tensor => {
      let c = made.get(t);
      if (c) return c._view(c.shape);
      c = copyOf(t);
      made.set(t, c);
      if (t.id >= firstId) t.dispose();
      return c;
    };
    const result = (
      r.copies.some((c) => c)
        ? build(
            template,
            templateOf(r.result).leaves.map((t, i) => (r.copies[i] ? copied(t) : t)),
          )
        : r.result
    ) as R;
    if (r.recording) {
      cache.set(key, { recording: r.recording, template, escapes: 0 });
      while (cache.size > cacheSize) drop(cache.keys().next().value!);
      return result;
    }
    const escapes = (entry?.escapes ?? 0) + 1;
    cache.set(key, { recording: null, template, escapes });
    if (escapes >= MAX_ESCAPES) {
      cache.delete(key);
      for (const t of templateOf(result).leaves) t.dispose();
      throw opError(
        'compile',
        `the function cannot be replayed: ${r.escape}`,
        'Return every tensor it creates (or let it be disposed), clear gradients inside (an optimizer step does), and do not dispose tensors made before the call inside it',
      );
    }
    return result;
  }) as CompiledFunction<A, R>;

  compiled.invalidate = invalidate;
  compiled.ready = async () => {
    await Promise.all([...cache.values()].map((e) => e.recording?.ready));
  };
  compiled.dispose = () => {
    invalidate();
    disposed = true;
  };
  Object.defineProperty(compiled, 'info', {
    get: (): CompileInfo => {
      const recs = [...cache.values()].flatMap((e) => (e.recording ? [e.recording] : []));
      return {
        recordings: recs.length,
        ...counts,
        ownedBytes: recs.reduce((s, r) => s + r.ownedBytes, 0),
        calls: [...recs].reverse().map((r) => r.entries.length),
        fusedKernels: recs.reduce((s, r) => s + r.fused.kernels, 0),
        fusedOps: recs.reduce((s, r) => s + r.fused.ops, 0),
      };
    },
  });
  return compiled;
}

/** Shapes, dtypes, requiresGrad and aliasing of the arguments, plus the grad mode. */
function signature(args: readonly Tensor[]): string {
  const first = new Map<object, number>();
  let key = gradEnabled() ? 'g' : 'n';
  args.forEach((t, i) => {
    const buf = t._use('compile').buf;
    const alias = first.get(buf);
    if (alias === undefined) first.set(buf, i);
    key += `|${t.shape.join('x')}:${t.dtype}${t.requiresGrad ? ':rg' : ''}${alias === undefined ? '' : `=${alias}`}`;
  });
  return key;
}

/** A new tensor with `t`'s values, outside autograd. */
function copyOf(t: Tensor): Tensor {
  const out = new Tensor(allocStorage('compile', t.size, t.dtype), t.shape, t.dtype);
  if (t.size) requireBackend('compile').copy(t._use('compile').buf, out._use('compile').buf, storageWords(t.dtype, t.size));
  return out;
}
