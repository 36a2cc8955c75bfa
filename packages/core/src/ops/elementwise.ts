import { promote, type DType } from '../dtype.js';
import { fmtShape, opError } from '../errors.js';
import { broadcastShapes, broadcastStrides } from '../shape.js';
import { grid1d, kernelCall } from '../kernels.js';
import type { Tensor } from '../tensor.js';
import type { GradRule, KernelArgs, OpDef, OpDefs, OpParams, TensorInfo } from './registry.js';
import { collapseDims, isInt, u32x8 } from './util.js';
import { unbroadcast } from './gradutil.js';
import { where as ts_where } from '../api/math.js';

/** Unary function codes; they must match the `OP` switch in kernels/unary.wgsl. */
const UNARY = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, relu: 6, sigmoid: 7, tanh: 8,
  leakyRelu: 9, elu: 10, square: 11, reciprocal: 12, cast: 13,
} as const;

/** N-ary function codes; they must match the `OP` switch in kernels/elementwise.wgsl. */
const NARY = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  eq: 7, ne: 8, gt: 9, ge: 10, lt: 11, le: 12, where: 13,
} as const;

type UnaryName = Exclude<keyof typeof UNARY, 'cast'>;
type Alpha = { alpha?: number; dtype?: DType };

function unary<P extends Alpha>(fn: keyof typeof UNARY, outDtype: (x: DType, p: P) => DType, grad: GradRule<P>): OpDef<P> {
  return {
    shape: ([x], p) => ({ shape: x!.shape, dtype: outDtype(x!.dtype, p) }),
    kernel: ({ inputs: [x], out, params }: KernelArgs<P>) =>
      kernelCall({
        kernel: 'unary',
        constants: { OP: UNARY[fn], X_INT: isInt(x!.dtype), OUT_INT: isInt(out.dtype) },
        uniforms: { size: out.size, alpha: params.alpha ?? 0 },
        buffers: { x: x!.buf, out: out.buf },
        workgroups: grid1d(out.size),
      }),
    grad,
  };
}

const keep = (d: DType): DType => d;
const toFloat = (): DType => 'float32';

/** Elementwise op over broadcast inputs (2 for binary ops, 3 for where). */
function nary<P>(fn: keyof typeof NARY, outDtype: (ins: readonly TensorInfo[]) => DType, grad: GradRule<P> | null): OpDef<P> {
  return {
    shape(ins) {
      let shape = ins[0]!.shape as number[];
      for (const t of ins.slice(1)) shape = broadcastShapes(fn, shape, t.shape);
      return { shape, dtype: outDtype(ins) };
    },
    kernel({ inputs, out }) {
      const [a, b, c = a] = inputs as [typeof inputs[0], typeof inputs[0], typeof inputs[0]];
      // `where` reads its condition as input `c` so that `a` and `b` stay the two operands.
      const [x, y, z] = fn === 'where' ? [b, c, a] : [a, b, c];
      const { shape, strides } = collapseDims(out.shape, [x!, y!, z!].map((t) => broadcastStrides(t.shape, out.shape)));
      return kernelCall({
        kernel: 'elementwise',
        constants: { OP: NARY[fn], A_INT: isInt(x!.dtype), B_INT: isInt(y!.dtype), C_INT: isInt(z!.dtype), OUT_INT: isInt(out.dtype) },
        uniforms: {
          size: out.size,
          rank: shape.length,
          shape: u32x8(shape),
          a_strides: u32x8(strides[0]!),
          b_strides: u32x8(strides[1]!),
          c_strides: u32x8(strides[2]!),
        },
        buffers: { a: x!.buf, b: y!.buf, c: z!.buf, out: out.buf },
        workgroups: grid1d(out.size),
      });
    },
    grad,
  };
}

const promoted = ([a, b]: readonly TensorInfo[]): DType => promote(a!.dtype, b!.dtype);
const floatOut = (): DType => 'float32';

/** Gradient of a binary op given the two partial derivatives, reduced back over broadcasting. */
function binaryGrad(da: (dy: Tensor, a: Tensor, b: Tensor, out: Tensor) => Tensor, db: (dy: Tensor, a: Tensor, b: Tensor, out: Tensor) => Tensor): GradRule<{}> {
  return (dy, { inputs: [a, b], out, needs }) => [
    needs[0] ? unbroadcast(da(dy, a!, b!, out), a!.shape) : null,
    needs[1] ? unbroadcast(db(dy, a!, b!, out), b!.shape) : null,
  ];
}

/** max/min send the gradient to the winner and split it evenly on ties, as PyTorch does. */
const pick = (dy: Tensor, self: Tensor, other: Tensor, wins: 'gt' | 'lt'): Tensor =>
  dy.mul(self[wins](other).add(self.eq(other).mul(0.5)));

export const elementwiseOps: OpDefs<
  UnaryName | 'cast' | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'where'
> = {
  neg: unary('neg', keep, (dy) => [dy.neg()]),
  exp: unary('exp', toFloat, (dy, { out }) => [dy.mul(out)]),
  log: unary('log', toFloat, (dy, { inputs: [x] }) => [dy.div(x!)]),
  sqrt: unary('sqrt', toFloat, (dy, { out }) => [dy.div(out.mul(2))]),
  abs: unary('abs', keep, (dy, { inputs: [x] }) => [dy.mul(x!.sign())]),
  sign: unary('sign', keep, (dy) => [dy.mul(0)]),
  relu: unary('relu', keep, (dy, { inputs: [x] }) => [dy.mul(x!.gt(0))]),
  sigmoid: unary('sigmoid', toFloat, (dy, { out }) => [dy.mul(out.mul(out.neg().add(1)))]),
  tanh: unary('tanh', toFloat, (dy, { out }) => [dy.mul(out.square().neg().add(1))]),
  leakyRelu: unary('leakyRelu', toFloat, (dy, { inputs: [x], params }) => [dy.mul(x!.gt(0).mul(1 - params.alpha).add(params.alpha))]),
  // elu'(x) = 1 for x > 0, else alpha * exp(x) = out + alpha.
  elu: unary('elu', toFloat, (dy, { inputs: [x], out, params }) => {
    const pos = x!.gt(0);
    return [dy.mul(pos.add(pos.neg().add(1).mul(out.add(params.alpha))))];
  }),
  square: unary('square', keep, (dy, { inputs: [x] }) => [dy.mul(x!.mul(2))]),
  reciprocal: unary('reciprocal', toFloat, (dy, { out }) => [dy.mul(out.square()).neg()]),
  cast: unary<OpParams['cast']>('cast', (_x, p) => p.dtype, (dy, { inputs: [x] }) => [x!.dtype === 'float32' ? dy.mul(1) : null]),

  add: nary('add', promoted, binaryGrad((dy) => dy, (dy) => dy)),
  sub: nary('sub', promoted, binaryGrad((dy) => dy, (dy) => dy.neg())),
  mul: nary('mul', promoted, binaryGrad((dy, _a, b) => dy.mul(b), (dy, a) => dy.mul(a))),
  div: nary('div', floatOut, binaryGrad((dy, _a, b) => dy.div(b), (dy, _a, b, out) => dy.mul(out).div(b).neg())),
  // d/db a^b = a^b ln a; PyTorch masks a == 0 to 0 there, and so do we.
  pow: nary('pow', floatOut, binaryGrad(
    (dy, a, b) => dy.mul(b).mul(a.pow(b.sub(1))),
    (dy, a, _b, out) => dy.mul(out).mul(ts_where(a.eq(0), 0, a.abs().log())),
  )),
  maximum: nary('maximum', promoted, binaryGrad((dy, a, b) => pick(dy, a, b, 'gt'), (dy, a, b) => pick(dy, b, a, 'gt'))),
  minimum: nary('minimum', promoted, binaryGrad((dy, a, b) => pick(dy, a, b, 'lt'), (dy, a, b) => pick(dy, b, a, 'lt'))),
  eq: nary('eq', floatOut, null),
  ne: nary('ne', floatOut, null),
  gt: nary('gt', floatOut, null),
  ge: nary('ge', floatOut, null),
  lt: nary('lt', floatOut, null),
  le: nary('le', floatOut, null),
  where: {
    ...nary<{}>('where', ([, a, b]) => promote(a!.dtype, b!.dtype), (dy, { inputs: [c, a, b], needs }) => [
      null,
      needs[1] ? unbroadcast(ts_where(c!, dy, 0), a!.shape) : null,
      needs[2] ? unbroadcast(ts_where(c!, 0, dy), b!.shape) : null,
    ]),
  },
};


/** Checks that an op that needs floats got one, naming the op and shape. */
export function requireFloat(op: string, t: TensorInfo, what = 'input'): void {
  if (t.dtype !== 'float32') throw opError(op, `${what} of shape ${fmtShape(t.shape)} is ${t.dtype}; expected float32`, 'Convert it with .cast("float32")');
}
