/**
 * Fuzz property of every public op of `@tessera/core`: random shapes (0-size, negative,
 * non-integer, 2^40), dtypes, NaN / Infinity / negative options (axis, stride, padding, kernel
 * size, epsilon, ...) and disposed tensors. Each call either works (its results read back) or
 * throws an `Error` whose message starts with the op's name (`opError`); afterwards every tensor
 * the case made is gone (`ts.memory()` back to its baseline) and a small matmul still gives the
 * right answer.
 *
 * The op list is the package's function exports: an export with an argument spec below is
 * fuzzed with it, one listed in NOT_OPS is infrastructure, and any other (a new op) is fuzzed
 * with generic arguments, so a new export is never silently left out.
 */
import fc from 'fast-check';
import * as ts from '@tessera/core';
import { expectCleanError, type Outcomes, seededBytes, tally, violation } from './harness.js';

/** A tensor of the case, made afresh inside the case's tidy scope. */
export interface TensorDesc {
  shape: number[];
  dtype: 'float32' | 'int32';
  /** 'special' mixes NaN, +-Infinity, -0 and 3e38 into the values. */
  values: 'normal' | 'special' | 'labels';
  requiresGrad: boolean;
  disposed: boolean;
}

/**
 * An argument: a tensor of the case (by index), a literal, something else where a tensor belongs
 * (`j`), an object or a list of arguments.
 */
export type Arg = { t: number } | { v: unknown } | { j: unknown } | { o: Record<string, Arg> } | { l: Arg[] };

export interface OpCase {
  op: string;
  tensors: TensorDesc[];
  args: Arg[];
}

// --- value generators: mostly plausible, sometimes wrong in every way the brief lists

const lit = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<Arg> => a.map((v) => ({ v }));
/** Plausible first, wrong now and then: `good` weighs `w` to 1 against `bad`. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>, w = 4): fc.Arbitrary<T> =>
  fc.oneof({ weight: w, arbitrary: good }, { weight: 1, arbitrary: bad });
const BAD_NUMBERS = [NaN, Infinity, -Infinity, 1.5, -0.5, 2 ** 31, 2 ** 40, -(2 ** 40), 2 ** 53, 1e300];
/** Sizes too large for any tensor; any product with them (but 0) is too. */
const HUGE = [2 ** 31, 2 ** 40, 2 ** 53, 1e300];
const badNumber = fc.constantFrom(...BAD_NUMBERS);

const num = mostly(fc.constantFrom(0, 1, -1, 2, 0.5, -0.5, 1e-5, 0.1, -0, 3), badNumber, 3);
/** For options with many numeric fields, each must usually be fine for the call to get through. */
const okNum = (...good: number[]) => mostly(fc.constantFrom(...good), fc.constantFrom(...BAD_NUMBERS, -1, 0), 10);
const int = mostly(fc.integer({ min: -3, max: 4 }), badNumber);
const posInt = mostly(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, -1, ...BAD_NUMBERS));
const dim = mostly(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, -2, 1.5, NaN, Infinity, ...HUGE), 8);
const shapeValue = mostly(fc.array(dim, { maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 9, maxLength: 10 }), 6); // or above MAX_RANK
const shape = lit(shapeValue);
const bool = lit(mostly(fc.boolean(), fc.constantFrom<unknown>(undefined, 1, 'yes')));
const dtype = lit(fc.constantFrom('float32', 'int32', 'float32', 'float64', 'int64', 'bool', ''));
const str = (...options: unknown[]) => lit(fc.constantFrom(...options));
/** A window size as a number or [h, w]; `good` are the plausible values. */
const pairOf = (good: fc.Arbitrary<number>) =>
  lit(mostly(fc.oneof(good, fc.tuple(good, good)), fc.oneof(fc.constantFrom<unknown>([1], [1, 1, 1], [], 0, -1), badNumber, fc.tuple(good, badNumber)), 6));

/** A tensor argument: usually the case tensor at its position, sometimes another, now and then not a tensor at all. */
const tensorAt = (i: number): fc.Arbitrary<Arg> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant({ t: i }) },
    { weight: 1, arbitrary: fc.nat(2).map((t) => ({ t })) },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, 3, 'x', [1, 2], {}).map((j) => ({ j })) },
  );
const T0 = tensorAt(0);
const T1 = tensorAt(1);
const T2 = tensorAt(2);
const T3 = tensorAt(3);
const operandAt = (i: number) => fc.oneof({ weight: 3, arbitrary: tensorAt(i) }, { weight: 1, arbitrary: lit(num) });
const opt = (a: fc.Arbitrary<Arg>): fc.Arbitrary<Arg | undefined> => fc.option(a, { nil: undefined, freq: 3 });
/** An options object from optional fields (an absent field is left out, not undefined). */
const options = (fields: Record<string, fc.Arbitrary<Arg>>): fc.Arbitrary<Arg> =>
  fc.record(fields, { requiredKeys: [] }).map((o) => ({ o: o as Record<string, Arg> }));
const args = (...list: fc.Arbitrary<Arg | undefined>[]): fc.Arbitrary<Arg[]> =>
  fc.tuple(...list).map((xs) => {
    const out = [...xs];
    while (out.length && out[out.length - 1] === undefined) out.pop(); // trailing absent args are omitted
    return out.map((a) => a ?? { v: undefined });
  });

/** An axis of a rank-r tensor (negative ones too), or a wrong one. */
const axisOf = (r: number) => lit(mostly(fc.integer({ min: -Math.max(r, 1), max: Math.max(r - 1, 0) }), fc.oneof(int, badNumber), 4));
const axesOf = (r: number) =>
  lit(
    fc.oneof(
      mostly(fc.integer({ min: -Math.max(r, 1), max: Math.max(r - 1, 0) }), badNumber),
      fc.array(mostly(fc.integer({ min: -Math.max(r, 1), max: Math.max(r - 1, 0) }), badNumber, 6), { maxLength: r }),
      fc.constant(undefined),
    ),
  );
/** One entry per dimension of `s` from `each(d)`, usually; sometimes the wrong length. */
const perDim = (s: readonly number[], each: (d: number) => fc.Arbitrary<unknown>) =>
  lit(mostly<unknown[]>(s.length ? fc.tuple(...s.map(each)) : fc.constant([]), fc.array(int, { maxLength: 4 }), 5));
/** Shapes a tensor of shape `s` reshapes to (same size, one -1), or any shape. */
const reshapeOf = (s: readonly number[]) => {
  const size = s.reduce((a, b) => a * b, 1);
  return lit(mostly(fc.constantFrom([size], [-1], [...s].reverse(), [1, ...s], [...s, 1], s.length ? [...s.slice(0, -1), -1] : [1], [size, 1]), shapeValue, 2));
};
/** Shapes `s` broadcasts to: size-1 dimensions widened, leading ones added. */
const broadcastOf = (s: readonly number[]) =>
  lit(
    mostly(
      fc
        .tuple(
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
          fc.tuple(...s.map((d) => (d === 1 ? fc.integer({ min: 0, max: 3 }) : fc.constant(d)))),
        )
        .map(([lead, rest]) => [...lead, ...rest]),
      shapeValue,
      2,
    ),
  );
const permOf = (r: number) => lit(mostly(fc.shuffledSubarray([...Array(r).keys()], { minLength: r, maxLength: r }), fc.array(int, { maxLength: 4 }), 4));

/** Tensors shaped for a convolution or pooling, so those ops get through to their kernels. */
const convShapes = fc
  .record({
    n: fc.integer({ min: 0, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 5 }),
    f: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ n, c, h, f, k }) => [[n, c, h, h + 1], [f, c, k, k], [f]]);
const matShapes = fc
  .record({ m: fc.integer({ min: 0, max: 3 }), k: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 1, max: 3 }), batch: fc.constantFrom([], [2], [1]) })
  .map(({ m, k, n, batch }) => [[...batch, m, k], [k, n], [n]]);
const anyShape = fc.array(mostly(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 4), 5), { maxLength: 4 });

const tensorDesc = (s: fc.Arbitrary<number[]>, float = 3): fc.Arbitrary<TensorDesc> =>
  fc.record({
    shape: s,
    dtype: mostly(fc.constant('float32' as const), fc.constant('int32' as const), float),
    values: fc.constantFrom('normal' as const, 'normal' as const, 'special' as const, 'labels' as const),
    requiresGrad: fc.boolean(),
    disposed: mostly(fc.constant(false), fc.constant(true), 15),
  });
const pool = (shapes: fc.Arbitrary<number[][]>): fc.Arbitrary<TensorDesc[]> =>
  shapes.chain(([a, b, c]) => fc.tuple(tensorDesc(fc.constant(a!), 8), tensorDesc(fc.constant(b!), 8), tensorDesc(fc.constant(c!), 8)));
const randomPool = fc.tuple(tensorDesc(anyShape), tensorDesc(anyShape), tensorDesc(anyShape));
/** Three tensors of one shape (assign, applyUpdate, elementwise ops that should broadcast). */
const samePool = anyShape.chain((s) => fc.tuple(tensorDesc(fc.constant(s), 8), tensorDesc(fc.constant(s), 8), tensorDesc(fc.constant(s), 8)));
/** Int32 class ids (values 0..3) first, for oneHot and checkLabels. */
const labelPool = fc.tuple(
  fc.record({
    shape: anyShape,
    dtype: mostly(fc.constant('int32' as const), fc.constant('float32' as const), 6),
    values: fc.constantFrom('labels' as const, 'labels' as const, 'normal' as const),
    requiresGrad: fc.constant(false),
    disposed: mostly(fc.constant(false), fc.constant(true), 15),
  }),
  tensorDesc(anyShape),
  tensorDesc(anyShape),
);

// --- the ops

interface OpSpec {
  /** The arguments, given the case's tensors (so that axes, permutations and slices can fit them). */
  args: (t: readonly TensorDesc[]) => fc.Arbitrary<Arg[]>;
  /** Shapes for the case's three tensors, when random ones would rarely fit. */
  tensors?: fc.Arbitrary<TensorDesc[]>;
  /** Other names an error may start with: the primitive or helper the op is built on. */
  also?: readonly string[];
  /** Calls the op, when it is not `ts[op](...args)`. */
  call?: (fn: (...a: unknown[]) => unknown, args: unknown[]) => unknown;
}

const rank0 = (t: readonly TensorDesc[]) => t[0]!.shape.length;
const shape0 = (t: readonly TensorDesc[]) => t[0]!.shape;
const fixed = (a: fc.Arbitrary<Arg[]>) => (): fc.Arbitrary<Arg[]> => a;
const unaryOp: OpSpec = { args: fixed(args(T0)) };
const binaryOp: OpSpec = { args: fixed(args(operandAt(0), operandAt(1))), tensors: fc.oneof(randomPool, samePool) };
const reduceOp: OpSpec = { args: (t) => args(T0, opt(axesOf(rank0(t))), opt(bool)) };
const creation = (): OpSpec => ({ args: fixed(args(shape, opt(options({ dtype, requiresGrad: bool })))), also: ['full', 'fill'] });
const randomOp: OpSpec = {
  args: fixed(args(shape, opt(options({ seed: lit(int), requiresGrad: bool, mean: lit(num), std: lit(num), low: lit(num), high: lit(num) })))),
  also: ['random'],
};
const convOpts = options({
  stride: pairOf(fc.integer({ min: 1, max: 2 })),
  padding: fc.oneof({ weight: 4, arbitrary: pairOf(fc.integer({ min: 0, max: 1 })) }, { weight: 1, arbitrary: str('same', 'valid', 'full') }),
  dilation: pairOf(fc.constantFrom(1, 1, 2)),
  groups: lit(mostly(fc.constantFrom(1, 1, 2), fc.constantFrom(0, -1, 3, ...BAD_NUMBERS))),
  activation: lit(mostly(fc.constantFrom('none', 'relu'), fc.constant('gelu'), 8)),
});
const poolOpts = lit(fc.constantFrom(null, undefined, 2, {})).chain((junk) =>
  mostly(
    options({ kernelSize: pairOf(fc.integer({ min: 1, max: 3 })), stride: pairOf(fc.integer({ min: 1, max: 2 })), padding: pairOf(fc.constantFrom(0, 0, 1)) }),
    fc.constant(junk),
    12,
  ),
);
/** valueAndGrad / grad take a function; these cover a scalar result, a non-scalar one, a non-tensor and a throw. */
const GRAD_FNS: Record<string, (...xs: ts.Tensor[]) => unknown> = {
  sum: (a) => a!.mul(a!).sum(),
  two: (a, b) => a!.add(b!).sum(),
  vector: (a) => a!.mul(2),
  number: () => 3,
  matmul: (a, b) => ts.matmul(a!, b!).sum(),
};
const HYPER = fc
  .record({
    lr: lit(okNum(0.1, 0.01, 1)),
    rest: options({
      beta1: lit(okNum(0.9, 0.5, 0)),
      beta2: lit(okNum(0.999, 0.9)),
      eps: lit(okNum(1e-8, 1e-3)),
      weightDecay: lit(okNum(0, 0.01)),
      momentum: lit(okNum(0, 0.9)),
      lrDecay: lit(okNum(0, 0.1)),
      step: lit(mostly(fc.integer({ min: 1, max: 5 }), fc.constantFrom(0, -1, 1.5, NaN, 2 ** 40), 10)),
    }),
  })
  .map(({ lr, rest }) => ({ o: { lr, ...(rest as { o: Record<string, Arg> }).o } }));
const RULES = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw', 'adagrad', 'adadelta', 'adamax', 'lion'];

export const OP_SPECS: Record<string, OpSpec> = {
  tensor: {
    args: fixed(
      args(
        lit(fc.constantFrom(1, NaN, [1, 2], [[1], [2]], [[1, 2], [3]], [], [[]], new Float32Array(4), new Int32Array(2), 'x', null, [1, 'a'])),
        opt(options({ shape, dtype, requiresGrad: bool })),
      ),
    ),
  },
  full: { args: fixed(args(shape, lit(num), opt(options({ dtype, requiresGrad: bool })))), also: ['fill'] },
  zeros: creation(),
  ones: creation(),
  zerosLike: { args: fixed(args(T0)), also: ['full', 'fill'] },
  onesLike: { args: fixed(args(T0)), also: ['full', 'fill'] },
  // Huge stops pair with steps that keep the count huge: a count of 2^30 is a real 4 GB tensor.
  arange: {
    args: fixed(
      args(
        lit(fc.constantFrom(0, 1, -2, 0.5, NaN, Infinity, 2 ** 40, 1e300)),
        opt(lit(fc.constantFrom(0, 3, 5, -1, 2.5, NaN, -Infinity, 2 ** 40, 2 ** 53, 1e300))),
        opt(lit(fc.constantFrom(1, 2, -1, 0.5, 0, NaN, Infinity, 1e-300))),
        opt(options({ dtype })),
      ),
    ),
  },
  randn: randomOp,
  rand: randomOp,
  add: binaryOp,
  sub: binaryOp,
  mul: binaryOp,
  div: binaryOp,
  pow: binaryOp,
  maximum: binaryOp,
  minimum: binaryOp,
  eq: binaryOp,
  ne: binaryOp,
  gt: binaryOp,
  ge: binaryOp,
  lt: binaryOp,
  le: binaryOp,
  neg: unaryOp,
  exp: unaryOp,
  log: unaryOp,
  sqrt: unaryOp,
  abs: unaryOp,
  sign: unaryOp,
  relu: unaryOp,
  sigmoid: unaryOp,
  tanh: unaryOp,
  square: unaryOp,
  reciprocal: unaryOp,
  leakyRelu: { args: fixed(args(T0, opt(lit(num)))) },
  elu: { args: fixed(args(T0, opt(lit(num)))) },
  cast: { args: fixed(args(T0, dtype)), also: ['mul'] },
  where: { args: fixed(args(T0, operandAt(1), operandAt(2))), tensors: fc.oneof(randomPool, samePool) },
  sum: reduceOp,
  max: reduceOp,
  min: reduceOp,
  mean: { ...reduceOp, also: ['sum', 'mul', 'cast'] },
  argmax: { args: (t) => args(T0, axisOf(rank0(t))) },
  argmin: { args: (t) => args(T0, axisOf(rank0(t))) },
  reshape: { args: (t) => args(T0, reshapeOf(shape0(t))) },
  transpose: { args: (t) => args(T0, opt(permOf(rank0(t)))), also: ['reshape'] },
  flatten: { args: (t) => args(T0, opt(axisOf(rank0(t)))), also: ['reshape'] },
  slice: {
    args: (t) =>
      args(
        T0,
        perDim(shape0(t), (d) => mostly(fc.integer({ min: -d, max: d }), badNumber)),
        opt(perDim(shape0(t), (d) => mostly(fc.integer({ min: -1, max: d }), badNumber))),
      ),
    also: ['reshape'],
  },
  pad: {
    args: (t) =>
      args(
        T0,
        perDim(shape0(t), () => mostly(fc.integer({ min: 0, max: 2 }), fc.constantFrom(-1, ...BAD_NUMBERS))),
        perDim(shape0(t), () => mostly(fc.integer({ min: 0, max: 2 }), fc.constantFrom(-1, ...BAD_NUMBERS))),
      ),
  },
  broadcastTo: { args: (t) => args(T0, broadcastOf(shape0(t))), also: ['reshape'] },
  concat: {
    args: (t) =>
      args(
        fc.oneof(
          { weight: 1, arbitrary: lit(fc.constantFrom([], null, 'x')) },
          { weight: 6, arbitrary: fc.array(T0, { minLength: 1, maxLength: 3 }).map((l) => ({ l })) },
        ),
        opt(axisOf(rank0(t))),
      ),
    tensors: fc.oneof(randomPool, samePool),
    also: ['reshape'],
  },
  expandDims: { args: (t) => args(T0, axisOf(rank0(t) + 1)), also: ['reshape'] },
  squeeze: { args: (t) => args(T0, opt(axesOf(rank0(t)))), also: ['reshape'] },
  oneHot: { args: fixed(args(T0, lit(posInt))), tensors: labelPool, also: ['reshape', 'eq', 'arange'] },
  matmul: { args: fixed(args(T0, T1)), tensors: fc.oneof(pool(matShapes), randomPool), also: ['reshape'] },
  matmulRaw: {
    args: fixed(args(T0, T1, options({ transA: bool, transB: bool }), opt(T2), opt(str('none', 'relu', 'tanh')))),
    tensors: fc.oneof(pool(matShapes), randomPool),
    also: ['matmul'],
  },
  linear: {
    args: fixed(args(T0, T1, opt(T2), opt(options({ activation: str('none', 'relu', 'sigmoid') })))),
    tensors: fc.oneof(pool(matShapes), randomPool),
    also: ['matmul'],
  },
  softmax: { args: (t) => args(T0, opt(axisOf(rank0(t)))) },
  logSoftmax: { args: (t) => args(T0, opt(axisOf(rank0(t)))) },
  crossEntropy: {
    args: fixed(args(T0, T1, opt(options({ reduction: str('mean', 'sum', 'none', 'max') })))),
    tensors: fc.oneof(
      fc
        .record({ n: fc.integer({ min: 0, max: 3 }), c: fc.integer({ min: 0, max: 4 }) })
        .chain(({ n, c }) => fc.tuple(tensorDesc(fc.constant([n, c]), 8), tensorDesc(fc.constantFrom([n], [n, c]), 1), tensorDesc(anyShape))),
      randomPool,
    ),
    also: ['softmaxCrossEntropy', 'sum', 'mul'],
  },
  checkLabels: {
    args: fixed(args(T0, lit(mostly(fc.constantFrom(4, 5, 10), fc.constantFrom(1, 2, 0, -1, 1.5, NaN, 2 ** 40))))),
    tensors: labelPool,
    also: ['data'],
  },
  conv2d: {
    args: fixed(args(T0, T1, opt(fc.oneof(T2, lit(fc.constant(null)))), opt(convOpts))),
    tensors: fc.oneof({ weight: 3, arbitrary: pool(convShapes) }, { weight: 1, arbitrary: randomPool }),
  },
  maxPool2d: { args: fixed(args(T0, poolOpts)), tensors: fc.oneof({ weight: 3, arbitrary: pool(convShapes) }, { weight: 1, arbitrary: randomPool }) },
  avgPool2d: { args: fixed(args(T0, poolOpts)), tensors: fc.oneof({ weight: 3, arbitrary: pool(convShapes) }, { weight: 1, arbitrary: randomPool }) },
  batchNorm: {
    args: (t) =>
      args(
        T0,
        mostly(
          fc
            .tuple(
              // training with or without running statistics, evaluation with them, or anything
              fc.constantFrom({ training: true, stats: false }, { training: true, stats: true }, { training: false, stats: true }, null),
              options({ gamma: T1, beta: T2, momentum: lit(okNum(0.1, 0, 1)), epsilon: lit(okNum(1e-5, 0, 1e-3)), axis: axisOf(rank0(t)) }),
              options({ runningMean: T1, runningVar: T2, training: bool }),
            )
            .map(([mode, common, rest]) => {
              const o = { ...(common as { o: Record<string, Arg> }).o };
              if (!mode) return { o: { ...o, ...(rest as { o: Record<string, Arg> }).o } };
              const stats: Record<string, Arg> = mode.stats ? { runningMean: { t: 1 }, runningVar: { t: 2 } } : {};
              return { o: { ...o, ...stats, training: { v: mode.training } } } as Arg;
            }),
          fc.constant({ v: undefined }),
          8,
        ),
      ),
    tensors: fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({ n: fc.integer({ min: 0, max: 3 }), c: fc.integer({ min: 1, max: 3 }) })
          .chain(({ n, c }) =>
            fc.tuple(tensorDesc(fc.constantFrom([n, c], [n, c, 2, 2]), 8), tensorDesc(fc.constant([c]), 8), tensorDesc(fc.constant([c]), 8)),
          ),
      },
      { weight: 1, arbitrary: randomPool },
    ),
    also: ['batchNormStats', 'batchNormRunning', 'assign'],
  },
  backwardFrom: { args: fixed(args(T0, opt(T1))), tensors: fc.oneof(randomPool, samePool), also: ['backward'] },
  detach: { args: fixed(args(T0)), also: ['reshape'] },
  valueAndGrad: {
    args: fixed(args(str(...Object.keys(GRAD_FNS)), T0, opt(T1))),
    tensors: fc.oneof(randomPool, samePool, pool(matShapes)),
    call: (fn, [name, ...xs]) => (fn(GRAD_FNS[name as string]) as (...a: unknown[]) => unknown)(...xs),
    // A disposed argument is reported by the leaf copy, a view: 'reshape: input ... was already disposed'.
    also: ['grad', 'backward', 'mul', 'add', 'sum', 'matmul', 'reshape'],
  },
  grad: {
    args: fixed(args(str(...Object.keys(GRAD_FNS)), T0, opt(T1))),
    tensors: fc.oneof(randomPool, samePool, pool(matShapes)),
    call: (fn, [name, ...xs]) => (fn(GRAD_FNS[name as string]) as (...a: unknown[]) => unknown)(...xs),
    also: ['valueAndGrad', 'backward', 'mul', 'add', 'sum', 'matmul', 'reshape'],
  },
  assign: { args: fixed(args(T0, T1)), tensors: fc.oneof(randomPool, samePool) },
  applyUpdate: {
    args: fixed(
      args(
        str(...RULES),
        T0,
        T1,
        fc
          .oneof(
            fc.constant<Arg[]>([]),
            fc.tuple(T2).map((l) => [...l]),
            fc.tuple(T2, T3).map((l) => [...l]),
            fc.tuple(T2, T2).map((l) => [...l]),
          )
          .map((l) => ({ l })),
        HYPER,
      ),
    ),
    tensors: fc.oneof(
      { weight: 3, arbitrary: anyShape.chain((s) => fc.array(tensorDesc(fc.constant(s), 12), { minLength: 4, maxLength: 4 })) },
      { weight: 1, arbitrary: randomPool },
    ),
  },
  optimStateCount: { args: fixed(args(str(...RULES), opt(options({ momentum: lit(num) })))), also: ['applyUpdate'] },
};

/** Exports that are not ops: runtime, memory and autograd plumbing, and helpers for backends. */
export const NOT_OPS: Readonly<Record<string, string>> = {
  Tensor: 'the class (its methods call the ops fuzzed here)',
  init: 'runtime setup',
  shutdown: 'runtime setup',
  backendInfo: 'runtime info',
  flush: 'runtime plumbing',
  emptyCache: 'runtime plumbing',
  stats: 'runtime info',
  registerBackend: 'backend registry',
  registeredBackends: 'backend registry',
  noGrad: 'autograd scope',
  isGradEnabled: 'autograd state',
  tidy: 'memory scope (every case runs in one)',
  keep: 'memory scope',
  dispose: 'memory scope',
  memory: 'memory info (checked after every case)',
  setAsyncContext: 'runtime plumbing',
  getAsyncContext: 'runtime plumbing',
  asyncLocalStorageContext: 'runtime plumbing (an AsyncLocalStorage adapter)',
  compile: 'compilation: takes a function to trace, not tensors',
  hostEffect: 'compilation: registers a host callback',
  checkAtNextRead: 'debugging',
  scalarTensor: '@internal',
  clearScalarCache: '@internal',
  fmtShape: 'error formatting',
  opError: 'error formatting',
  sizeOf: 'shape helper for backends',
  stridesOf: 'shape helper for backends',
  broadcastShapes: 'shape helper for backends',
  broadcastStrides: 'shape helper for backends',
  windowOutputSize: 'shape helper for backends',
  convGeometry: 'shape helper for backends',
  poolGeometry: 'shape helper for backends',
  softmaxRows: 'shape helper for backends',
  batchNormGeometry: 'shape helper for backends',
  matmulDims: 'shape helper for backends',
  reducedShape: 'shape helper for backends',
  evalFused: 'fusion: how backends run a fused kernel (compile/fuse.ts)',
};

/** Arguments for an export nobody wrote a spec for: a few tensors, numbers, shapes and options. */
const GENERIC: OpSpec = { args: fixed(fc.array(fc.oneof(T0, T1, lit(num), shape, lit(int), convOpts), { maxLength: 4 })) };

/** The ops to fuzz: every function export of @tessera/core that is not in NOT_OPS. */
export function fuzzedOps(): string[] {
  return Object.entries(ts)
    .filter(([name, v]) => typeof v === 'function' && !(name in NOT_OPS))
    .map(([name]) => name)
    .sort();
}

/** Exports fuzzed with GENERIC arguments for want of a spec (the test lists them). */
export const unspecifiedOps = (): string[] => fuzzedOps().filter((op) => !(op in OP_SPECS));

const specOf = (op: string): OpSpec => OP_SPECS[op] ?? GENERIC;

export function opCase(ops: readonly string[] = fuzzedOps()): fc.Arbitrary<OpCase> {
  return fc.constantFrom(...ops).chain((op) => {
    const spec = specOf(op);
    return (spec.tensors ?? randomPool).chain((tensors) => {
      const all = spec.args(tensors);
      return all.map((a) => ({ op, tensors, args: a }));
    });
  });
}

// --- running a case

function valuesFor(d: TensorDesc, seed: number): Float32Array | Int32Array {
  const n = d.shape.reduce((a, b) => a * b, 1);
  const bytes = seededBytes(seed, n);
  if (d.dtype === 'int32') return Int32Array.from(bytes, (b) => (d.values === 'labels' ? b % 4 : (b % 9) - 4));
  const special = [NaN, Infinity, -Infinity, -0, 3e38, 0];
  return Float32Array.from(bytes, (b, i) =>
    d.values === 'special' && i % 3 === 0 ? special[b % special.length]! : d.values === 'labels' ? b % 2 : (b - 128) / 64,
  );
}

function materialize(descs: readonly TensorDesc[]): ts.Tensor[] {
  const made = descs.map((d, i) => ts.tensor(valuesFor(d, i + 1), { shape: d.shape, dtype: d.dtype, requiresGrad: d.requiresGrad && d.dtype === 'float32' }));
  descs.forEach((d, i) => {
    if (d.disposed) made[i]!.dispose();
  });
  return made;
}

function resolve(a: Arg, tensors: readonly ts.Tensor[]): unknown {
  if ('t' in a) return tensors[a.t];
  if ('v' in a) return a.v;
  if ('j' in a) return a.j;
  if ('l' in a) return a.l.map((x) => resolve(x, tensors));
  return Object.fromEntries(Object.entries(a.o).map(([k, x]) => [k, resolve(x, tensors)]));
}

/** Every tensor in a result (a tensor, or arrays / objects of them). */
function tensorsIn(v: unknown, out: ts.Tensor[] = []): ts.Tensor[] {
  if (v instanceof ts.Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) tensorsIn(x, out);
  return out;
}

/** The runtime still computes: [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]. */
export async function checkRuntimeWorks(): Promise<void> {
  const got = await ts.tidy(async () =>
    Array.from(
      await ts
        .matmul(
          ts.tensor([
            [1, 2],
            [3, 4],
          ]),
          ts.tensor([
            [5, 6],
            [7, 8],
          ]),
        )
        .data(),
    ),
  );
  if (got.join() !== '19,22,43,50') violation(`the runtime is broken: a 2x2 matmul gave [${got}]`);
  if (!ts.isGradEnabled()) violation('gradient recording was left off');
}

/**
 * Runs one case in a tidy scope: the op works (its tensors read back, shapes are integers) or
 * throws a clean error naming it; then the memory is back to where it was.
 */
export async function checkOpCase(c: OpCase, outcomes?: Outcomes, opts: { checkRuntime?: boolean } = {}): Promise<void> {
  const spec = specOf(c.op);
  const fn = (ts as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op]!;
  const before = ts.memory();
  const t0 = performance.now();
  let failed: unknown = null;
  await ts.tidy(async () => {
    const tensors = materialize(c.tensors);
    const args = c.args.map((a) => resolve(a, tensors));
    let result: unknown;
    try {
      result = spec.call ? spec.call(fn, args) : fn(...args);
      if (result instanceof Promise) result = await result;
      for (const t of tensorsIn(result)) {
        if (t.disposed) continue;
        if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) violation(`${c.op} returned a tensor of shape [${t.shape}]`);
        const data = await t.data();
        if (data.length !== t.size) violation(`${c.op} returned ${data.length} values for shape [${t.shape}]`);
      }
    } catch (err) {
      failed = err;
    }
  });
  const took = performance.now() - t0;
  if (failed) {
    expectCleanError(failed, [c.op, ...(spec.also ?? [])], null, c.op);
    tally(outcomes, `${c.op}: error`);
  } else tally(outcomes, `${c.op}: ok`);
  if (took > 10_000) violation(`${c.op} took ${took.toFixed(0)} ms`);
  const after = ts.memory();
  if (after.tensors !== before.tensors || after.bytes !== before.bytes) {
    violation(
      `${c.op} leaked: ${after.tensors - before.tensors} tensors, ${after.bytes - before.bytes} bytes (${failed ? 'after an error' : 'after success'})`,
    );
  }
  if (opts.checkRuntime ?? true) await checkRuntimeWorks();
}
