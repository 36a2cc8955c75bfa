import { promote, type DType } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GradRule, OpDef, OpDefs, OpParams, TensorInfo } from './registry.js';
import { maskOrZero, reluBackward, unbroadcast } from './gradutil.js';

/** The unary elementwise primitives (each backend implements every one). */
type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu' | 'elu' | 'square' | 'reciprocal';
/** The broadcasting binary primitives, and the ternary `where`. */
type NaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'where';

type Alpha = { alpha?: number; dtype?: DType };

function unary<P extends Alpha>(outDtype: (x: DType, p: P) => DType, grad: GradRule<P>): OpDef<P> {
  return {
    shape: ([x], p) => ({ shape: x!.shape, dtype: outDtype(x!.dtype, p) }),
    grad,
  };
}

const keep = (d: DType): DType => d;
const toFloat = (): DType => 'float32';

/** Elementwise op over broadcast inputs (2 for binary ops, 3 for where). */
function nary<P>(fn: NaryName, outDtype: (ins: readonly TensorInfo[]) => DType, grad: GradRule<P> | null): OpDef<P> {
  return {
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
  neg: unary(keep, (dy) => [dy.neg()]),
  exp: unary(toFloat, (dy, { out }) => [dy.mul(out)]),
  log: unary(toFloat, (dy, { inputs: [x] }) => [dy.div(x!)]),
  sqrt: unary(toFloat, (dy, { out }) => [dy.div(out.mul(2))]),
  abs: unary(keep, (dy, { inputs: [x] }) => [dy.mul(x!.sign())]),
  sign: unary(keep, (dy) => [dy.mul(0)]),
  // One fused pass (dy where the output is positive) instead of a mask and a product.
  relu: unary(keep, (dy, { out }) => [reluBackward(dy, out)]),
  sigmoid: unary(toFloat, (dy, { out }) => [dy.mul(out.mul(out.neg().add(1)))]),
  tanh: unary(toFloat, (dy, { out }) => [dy.mul(out.square().neg().add(1))]),
  leakyRelu: unary(toFloat, (dy, { inputs: [x], params }) => [
    dy.mul(
      x!
        .gt(0)
        .mul(1 - params.alpha)
        .add(params.alpha),
    ),
  ]),
  // elu'(x) = 1 for x > 0, else alpha * exp(x) = out + alpha.
  elu: unary(toFloat, (dy, { inputs: [x], out, params }) => {
    const pos = x!.gt(0);
    return [dy.mul(pos.add(pos.neg().add(1).mul(out.add(params.alpha))))];
  }),
  square: unary(keep, (dy, { inputs: [x] }) => [dy.mul(x!.mul(2))]),
  reciprocal: unary(toFloat, (dy, { out }) => [dy.mul(out.square()).neg()]),
  cast: unary<OpParams['cast']>(
    (_x, p) => p.dtype,
    (dy, { inputs: [x] }) => [x!.dtype === 'float32' ? dy.mul(1) : null],
  ),

  add: nary(
    'add',
    promoted,
    binaryGrad(
      (dy) => dy,
      (dy) => dy,
    ),
  ),
  sub: nary(
    'sub',
    promoted,
    binaryGrad(
      (dy) => dy,
      (dy) => dy.neg(),
    ),
  ),
  mul: nary(
    'mul',
    promoted,
    binaryGrad(
      (dy, _a, b) => dy.mul(b),
      (dy, a) => dy.mul(a),
    ),
  ),
  div: nary(
    'div',
    floatOut,
    binaryGrad(
      (dy, _a, b) => dy.div(b),
      (dy, _a, b, out) => dy.mul(out).div(b).neg(),
    ),
  ),
  // d/db a^b = a^b ln a; PyTorch masks a == 0 to 0 there, and so do we.
  pow: nary(
    'pow',
    floatOut,
    binaryGrad(
      (dy, a, b) => dy.mul(b).mul(a.pow(b.sub(1))),
      (dy, a, _b, out) => dy.mul(out).mul(maskOrZero(a.eq(0), a.abs().log(), false)),
    ),
  ),
  maximum: nary(
    'maximum',
    promoted,
    binaryGrad(
      (dy, a, b) => pick(dy, a, b, 'gt'),
      (dy, a, b) => pick(dy, b, a, 'gt'),
    ),
  ),
  minimum: nary(
    'minimum',
    promoted,
    binaryGrad(
      (dy, a, b) => pick(dy, a, b, 'lt'),
      (dy, a, b) => pick(dy, b, a, 'lt'),
    ),
  ),
  eq: nary('eq', floatOut, null),
  ne: nary('ne', floatOut, null),
  gt: nary('gt', floatOut, null),
  ge: nary('ge', floatOut, null),
  lt: nary('lt', floatOut, null),
  le: nary('le', floatOut, null),
  where: {
    ...nary<{}>(
      'where',
      ([, a, b]) => promote(a!.dtype, b!.dtype),
      (dy, { inputs: [c, a, b], needs }) => [
        null,
        needs[1] ? unbroadcast(maskOrZero(c!, dy, true), a!.shape) : null,
        needs[2] ? unbroadcast(maskOrZero(c!, dy, false), b!.shape) : null,
      ],
    ),
  },
};
