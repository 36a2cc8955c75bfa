import { isFloatDType, promote, type DType } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GradRule, OpDef, OpDefs, OpParams, TensorInfo } from './registry.js';
import { maskOrZero, reluBackward, unbroadcast } from './gradutil.js';
import { E, type BinaryFn, type Expr, type ExprRule, type UnaryFn } from './expr.js';

/** The unary elementwise primitives (each backend implements every one). */
type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu' | 'elu' | 'square' | 'reciprocal';
/** The broadcasting binary primitives, and the ternary `where`. */
type NaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'where';

type Alpha = { alpha?: number; dtype?: DType };

function unary<P extends Alpha>(outDtype: (x: DType, p: P) => DType, grad: GradRule<P>, expr: (x: Expr, p: P) => Expr): OpDef<P> {
  return {
    shape: ([x], p) => ({ shape: x!.shape, dtype: outDtype(x!.dtype, p) }),
    grad,
    expr: ([x], p) => expr(x!, p),
  };
}

/** The expression of a unary function the fused kernels know by name. */
const fn1 = (fn: UnaryFn) => (x: Expr) => E.un(fn, x);
/** The expression of a binary function, for `nary`. */
const fn2 =
  (fn: BinaryFn): ExprRule<{}> =>
  ([a, b]) =>
    E.bin(fn, a!, b!);
const zero = E.c(0);

const keep = (d: DType): DType => d;
const toFloat = (): DType => 'float32';

/** Elementwise op over broadcast inputs (2 for binary ops, 3 for where). */
function nary<P>(fn: NaryName, outDtype: (ins: readonly TensorInfo[]) => DType, grad: GradRule<P> | null, expr: ExprRule<P>): OpDef<P> {
  return {
    expr,
    shape(ins) {
      let shape = ins[0]!.shape as number[];
      for (const t of ins.slice(1)) shape = broadcastShapes(fn, shape, t.shape);
      return { shape, dtype: outDtype(ins) };
    },
    grad,
  };
}

const promoted = ([a, b]: readonly TensorInfo[]): DType => promote(a!.dtype, b!.dtype);
const floatOut = (): DType => 'float32';

/** Gradient of a binary op given the two partial derivatives, reduced back over broadcasting. */
function binaryGrad(
  da: (dy: Tensor, a: Tensor, b: Tensor, out: Tensor) => Tensor,
  db: (dy: Tensor, a: Tensor, b: Tensor, out: Tensor) => Tensor,
): GradRule<{}> {
  return (dy, { inputs: [a, b], out, needs }) => [
    needs[0] ? unbroadcast(da(dy, a!, b!, out), a!.shape) : null,
    needs[1] ? unbroadcast(db(dy, a!, b!, out), b!.shape) : null,
  ];
}

/** max/min send the gradient to the winner and split it evenly on ties, as PyTorch does. */
const pick = (dy: Tensor, self: Tensor, other: Tensor, wins: 'gt' | 'lt'): Tensor => dy.mul(self[wins](other).add(self.eq(other).mul(0.5)));

export const elementwiseOps: OpDefs<UnaryName | 'cast' | NaryName> = {
  neg: unary(keep, (dy) => [dy.neg()], fn1('neg')),
  exp: unary(toFloat, (dy, { out }) => [dy.mul(out)], fn1('exp')),
  log: unary(toFloat, (dy, { inputs: [x] }) => [dy.div(x!)], fn1('log')),
  sqrt: unary(toFloat, (dy, { out }) => [dy.div(out.mul(2))], fn1('sqrt')),
  abs: unary(keep, (dy, { inputs: [x] }) => [dy.mul(x!.sign())], fn1('abs')),
  sign: unary(keep, (dy) => [dy.mul(0)], fn1('sign')),
  // One fused pass (dy where the output is positive) instead of a mask and a product.
  relu: unary(
    keep,
    (dy, { out }) => [reluBackward(dy, out)],
    (x) => E.select(E.gt(x, zero), x, zero),
  ),
  sigmoid: unary(toFloat, (dy, { out }) => [dy.mul(out.mul(out.neg().add(1)))], fn1('sigmoid')),
  tanh: unary(toFloat, (dy, { out }) => [dy.mul(out.square().neg().add(1))], fn1('tanh')),
  leakyRelu: unary(
    toFloat,
    (dy, { inputs: [x], params }) => [
      dy.mul(
        x!
          .gt(0)
          .mul(1 - params.alpha)
          .add(params.alpha),
      ),
    ],
    (x, p) => E.select(E.gt(x, zero), x, E.mul(E.c(p.alpha), x)),
  ),
  // elu'(x) = 1 for x > 0, else alpha * exp(x) = out + alpha.
  elu: unary(
    toFloat,
    (dy, { inputs: [x], out, params }) => {
      const pos = x!.gt(0);
      return [dy.mul(pos.add(pos.neg().add(1).mul(out.add(params.alpha))))];
    },
    (x, p) => E.select(E.gt(x, zero), x, E.mul(E.c(p.alpha), E.bin('sub', E.un('exp', E.bin('min', x, zero)), E.c(1)))),
  ),
  square: unary(
    keep,
    (dy, { inputs: [x] }) => [dy.mul(x!.mul(2))],
    (x) => E.mul(x, x),
  ),
  reciprocal: unary(
    toFloat,
    (dy, { out }) => [dy.mul(out.square()).neg()],
    (x) => E.bin('div', E.c(1), x),
  ),
  cast: unary<OpParams['cast']>(
    (_x, p) => p.dtype,
    // The gradient goes back in the input's dtype (a float16 leaf gets a float16 gradient).
    (dy, { inputs: [x] }) => [!isFloatDType(x!.dtype) ? null : dy.dtype === x!.dtype ? dy.mul(1) : dy.cast(x!.dtype)],
    // Fused kernels compute in float32, so only casts to float32 are fused (the fuser checks dtypes).
    (x) => x,
  ),

  add: nary(
    'add',
    promoted,
    binaryGrad(
      (dy) => dy,
      (dy) => dy,
    ),
    fn2('add'),
  ),
  sub: nary(
    'sub',
    promoted,
    binaryGrad(
      (dy) => dy,
      (dy) => dy.neg(),
    ),
    fn2('sub'),
  ),
  mul: nary(
    'mul',
    promoted,
    binaryGrad(
      (dy, _a, b) => dy.mul(b),
      (dy, a) => dy.mul(a),
    ),
    fn2('mul'),
  ),
  div: nary(
    'div',
    floatOut,
    binaryGrad(
      (dy, _a, b) => dy.div(b),
      (dy, _a, b, out) => dy.mul(out).div(b).neg(),
    ),
    fn2('div'),
  ),
  // d/db a^b = a^b ln a; PyTorch masks a == 0 to 0 there, and so do we.
  pow: nary(
    'pow',
    floatOut,
    binaryGrad(
      (dy, a, b) => dy.mul(b).mul(a.pow(b.sub(1))),
      (dy, a, _b, out) => dy.mul(out).mul(maskOrZero(a.eq(0), a.abs().log(), false)),
    ),
    fn2('pow'),
  ),
  maximum: nary(
    'maximum',
    promoted,
    binaryGrad(
      (dy, a, b) => pick(dy, a, b, 'gt'),
      (dy, a, b) => pick(dy, b, a, 'gt'),
    ),
    fn2('max'),
  ),
  minimum: nary(
    'minimum',
    promoted,
    binaryGrad(
      (dy, a, b) => pick(dy, a, b, 'lt'),
      (dy, a, b) => pick(dy, b, a, 'lt'),
    ),
    fn2('min'),
  ),
  eq: nary('eq', floatOut, null, fn2('eq')),
  ne: nary('ne', floatOut, null, fn2('ne')),
  gt: nary('gt', floatOut, null, fn2('gt')),
  ge: nary('ge', floatOut, null, fn2('ge')),
  lt: nary('lt', floatOut, null, fn2('lt')),
  le: nary('le', floatOut, null, fn2('le')),
  where: {
    ...nary<{}>(
      'where',
      ([, a, b]) => promote(a!.dtype, b!.dtype),
      (dy, { inputs: [c, a, b], needs }) => [
        null,
        needs[1] ? unbroadcast(maskOrZero(c!, dy, true), a!.shape) : null,
        needs[2] ? unbroadcast(maskOrZero(c!, dy, false), b!.shape) : null,
      ],
      ([c, a, b]) => E.select(E.bin('ne', c!, zero), a!, b!),
    ),
  },
};
