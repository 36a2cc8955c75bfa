import { DTYPE_HINT, encodeHalf, isDType, isFloatDType, type DType } from '../dtype.js';
import { requireTensor } from '../checks.js';
import { allocStorage, engine, requireBackend } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { checkShape, sizeOf } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';

export interface TensorOptions {
  shape?: readonly number[];
  dtype?: DType;
  requiresGrad?: boolean;
}

function inferShape(data: NestedArray, path = 'data'): number[] {
  if (!Array.isArray(data)) return [];
  if (data.length === 0) return [0];
  const inner = inferShape(data[0]!, `${path}[0]`);
  data.forEach((d, i) => {
    const s = inferShape(d, `${path}[${i}]`);
    if (s.length !== inner.length || s.some((v, j) => v !== inner[j])) {
      throw opError(
        'tensor',
        `ragged nested array: ${path}[${i}] has shape ${fmtShape(s)} but ${path}[0] has ${fmtShape(inner)}`,
        'Every row must have the same length',
      );
    }
  });
  return [data.length, ...inner];
}

function checkOptions(op: string, opts: TensorOptions): DType {
  const dtype = opts.dtype ?? 'float32';
  if (!isDType(dtype)) throw opError(op, `unknown dtype ${JSON.stringify(dtype)}`, DTYPE_HINT);
  if (opts.requiresGrad && !isFloatDType(dtype))
    throw opError(op, `only float tensors can require grad, not ${dtype}`, "Make it with dtype 'float32' or 'float16'");
  return dtype;
}

/** Names a value in an error: its type, and what it most likely means. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof (v as { then?: unknown }).then === 'function') return 'a Promise (did you forget await?)';
  if (v instanceof Tensor) return 'a Tensor';
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v} (${JSON.stringify(v)})`;
}

/** The data `tensor()` takes: a number, a nested array of numbers, or a typed array. */
function checkData(data: unknown): void {
  if (typeof data === 'number' || Array.isArray(data) || ArrayBuffer.isView(data)) return;
  const hint =
    data instanceof Tensor
      ? 'It is already a tensor: use it as it is, or copy it with .mul(1) / ts.assign'
      : 'Expected a number, a nested array of numbers, or a typed array such as Float32Array';
  throw opError('tensor', `data is ${describe(data)}`, hint);
}

/**
 * Creates a tensor from a nested array, a number, or a typed array with a shape. Numbers are
 * float32 unless `dtype` says otherwise (class labels need `{ dtype: 'int32' }`).
 *
 * @example
 * const x = ts.tensor([[1, 2], [3, 4]]);                       // float32 [2,2]
 * const y = ts.tensor(new Float32Array(6), { shape: [2, 3] });
 * const labels = ts.tensor([3, 1, 4], { dtype: 'int32' });
 * const h = ts.tensor([0.1, 2], { dtype: 'float16' });        // stored as halves: 0.0999755859375, 2
 */
export function tensor(data: NestedArray | ArrayLike<number>, opts: TensorOptions = {}): Tensor {
  checkData(data);
  const isTyped = ArrayBuffer.isView(data);
  const dtype = checkOptions('tensor', { ...opts, dtype: opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32') });
  const inferred = isTyped ? [(data as ArrayLike<number>).length] : inferShape(data as NestedArray);
  const shape = opts.shape ? checkShape('tensor', [...opts.shape]) : inferred;
  const flat = isTyped ? (data as ArrayLike<number>) : typeof data === 'number' ? [data] : ((data as unknown[]).flat(Infinity as 1) as number[]);
  if (flat.length !== sizeOf(shape)) {
    throw opError(
      'tensor',
      `got ${flat.length} values for shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`,
      'Pass a shape whose element count matches the data',
    );
  }
  if (!isTyped) {
    const at = (flat as unknown[]).findIndex((v) => typeof v !== 'number');
    if (at >= 0) throw opError('tensor', `element ${at} of the data is ${describe((flat as unknown[])[at])}, not a number`, 'Pass numbers only');
  }
  const values =
    dtype === 'int32' ? Int32Array.from(flat) : dtype === 'float16' ? encodeHalf(flat) : data instanceof Float32Array ? data : Float32Array.from(flat);
  const storage = allocStorage('tensor', flat.length, dtype);
  if (flat.length) requireBackend('tensor').write(storage.buf, values);
  return new Tensor(storage, shape, dtype, opts.requiresGrad ?? false);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ts.full([2, 3], 7);        // [[7,7,7],[7,7,7]]
 */
export function full(shape: readonly number[], value: number, opts: Omit<TensorOptions, 'shape'> = {}): Tensor {
  const dtype = checkOptions('full', opts);
  if (typeof value !== 'number' || (Number.isNaN(value) && dtype === 'int32')) throw opError('full', `value must be a number, got ${String(value)}`);
  const t = Tensor._fromOp('fill', [], { shape: checkShape('full', [...shape]), dtype, value });
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

/** @example ts.zeros([2, 3]) */
export const zeros = (shape: readonly number[], opts: Omit<TensorOptions, 'shape'> = {}): Tensor => full(shape, 0, opts);
/** @example ts.ones([4]) */
export const ones = (shape: readonly number[], opts: Omit<TensorOptions, 'shape'> = {}): Tensor => full(shape, 1, opts);
/** A tensor of zeros with `t`'s shape and dtype. @example ts.zerosLike(x) */
export const zerosLike = (t: Tensor): Tensor => full(requireTensor('zerosLike', t, 'input').shape, 0, { dtype: t.dtype });
/** A tensor of ones with `t`'s shape and dtype. @example ts.onesLike(x) */
export const onesLike = (t: Tensor): Tensor => full(requireTensor('onesLike', t, 'input').shape, 1, { dtype: t.dtype });

/**
 * Evenly spaced values in [start, stop), like `numpy.arange`; int32 when all arguments are integers.
 *
 * @example
 * ts.arange(0, 5);        // int32 [0,1,2,3,4]
 * ts.arange(0, 1, 0.25);  // float32 [0,0.25,0.5,0.75]
 */
export function arange(start: number, stop?: number, step = 1, opts: { dtype?: DType } = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (![start, stop, step].every(Number.isFinite) || step === 0) {
    throw opError('arange', `start ${start}, stop ${stop} and step ${step} must be finite, with step != 0`);
  }
  const dtype = opts.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return Tensor._fromOp('arange', [], { start, step, count, dtype });
}

export interface RandomOptions {
  /** Same seed, same numbers, on every device (a counter-based generator). */
  seed?: number;
  requiresGrad?: boolean;
}

function random(op: string, shape: readonly number[], dist: 'uniform' | 'normal', a: number, b: number, opts: RandomOptions): Tensor {
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw opError(op, `seed must be an integer, got ${opts.seed}`);
  // Unseeded calls draw distinct streams from a process-wide counter, so they differ but a
  // program that seeds nothing still repeats itself from run to run.
  const seed = opts.seed ?? 0x7e55e7a;
  const stream = opts.seed === undefined ? ++engine.randomCounter : 0;
  const t = Tensor._fromOp('random', [], { shape: checkShape(op, [...shape]), seed, stream, dist, a, b });
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

/**
 * Normal samples (mean 0, std 1 unless given), seeded and counter-based.
 *
 * @example
 * const w = ts.randn([784, 10], { seed: 1 }).mul(0.01);
 */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return random('randn', shape, 'normal', opts.mean ?? 0, opts.std ?? 1, opts);
}

/**
 * Uniform samples in [low, high) (default [0, 1)), seeded and counter-based.
 *
 * @example
 * const mask = ts.rand([64, 100], { seed: 3 }).gt(0.5);
 */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return random('rand', shape, 'uniform', opts.low ?? 0, opts.high ?? 1, opts);
}

const scalarCache = new Map<string, Tensor>();

/**
 * @internal A cached, device-resident scalar, so `x.mul(2)` in a training loop costs one
 * dispatch and no allocation after the first call.
 */
export function scalarTensor(value: number, dtype: DType): Tensor {
  const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
  let t = scalarCache.get(key);
  if (!t || t.disposed) {
    if (scalarCache.size > 4096) clearScalarCache();
    const user = Tensor._fromOp('fill', [], { shape: [], dtype, value });
    t = user._internalView();
    user.dispose();
    t._use('scalar').constant = true;
    scalarCache.set(key, t);
    engine.cachedBytes += 4;
  }
  return t;
}

/** @internal Drops the cached scalars (on re-init, or when the cache grows large). */
export function clearScalarCache(): void {
  for (const t of scalarCache.values()) t.dispose();
  scalarCache.clear();
  engine.cachedBytes = 0;
}
