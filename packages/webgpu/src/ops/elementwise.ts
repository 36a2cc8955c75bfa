import { broadcastShapes, broadcastStrides, sizeOf, type KernelArgs, type OpName, type TensorInfo } from '@tessera/core';
import { grid1d, kernelCall } from '../spec.js';
import type { KernelBuilder, KernelBuilders } from './context.js';
import { collapseDims, halfFlags, isInt, u32x8 } from './util.js';

/** Unary function codes; they must match the `OP` switch in kernels/unary.wgsl. */
const UNARY = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  abs: 4,
  sign: 5,
  relu: 6,
  sigmoid: 7,
  tanh: 8,
  leakyRelu: 9,
  elu: 10,
  square: 11,
  reciprocal: 12,
  cast: 13,
} as const;

/** N-ary function codes; they must match the `OP` switch in kernels/elementwise.wgsl. */
const NARY = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  maximum: 5,
  minimum: 6,
  eq: 7,
  ne: 8,
  gt: 9,
  ge: 10,
  lt: 11,
  le: 12,
  where: 13,
} as const;

type UnaryOp = keyof typeof UNARY;
type NaryOp = keyof typeof NARY;

function unary<N extends UnaryOp & OpName>(fn: N): KernelBuilder<N> {
  return (({ inputs: [x], out, params }: KernelArgs<{ alpha?: number }>) => {
    if ((out.dtype === 'float16') !== (x!.dtype === 'float16')) throw new Error(`webgpu: ${fn} reads halves only into halves (takesHalf)`);
    return kernelCall({
      kernel: 'unary',
      constants: { OP: UNARY[fn], X_INT: isInt(x!.dtype), OUT_INT: isInt(out.dtype), ...halfFlags({ X_HALF: x!.dtype, OUT_HALF: out.dtype }) },
      uniforms: { size: out.size, alpha: params.alpha ?? 0 },
      buffers: { x: x!.buf, out: out.buf },
      workgroups: grid1d(Math.ceil(out.size / 4)), // 4 elements per thread
    });
  }) as KernelBuilder<N>;
}

/**
 * cast: float16 in or out takes the cast_half kernels (one thread per packed word); the rest
 * is the unary kernel's identity with int32 / float32 loads and stores.
 */
const cast: KernelBuilder<'cast'> = (args, ctx) => {
  const {
    inputs: [x],
    out,
  } = args;
  if (x!.dtype !== 'float16' && out.dtype !== 'float16') return unary('cast')(args, ctx);
  const toHalf = out.dtype === 'float16';
  return kernelCall({
    kernel: toHalf ? 'castToHalf' : 'castFromHalf',
    // float16 -> float16 never reaches a kernel (core copies same-dtype casts with mul(1)).
    constants: toHalf ? { X_INT: isInt(x!.dtype) } : { OUT_INT: isInt(out.dtype) },
    uniforms: { size: out.size },
    buffers: { x: x!.buf, out: out.buf },
    workgroups: grid1d(Math.ceil(out.size / 2)),
  });
};

/**
 * Whether the elementwise kernels take these float16 operands and write the float16 result
 * themselves (one dispatch, halves read and written in place) rather than through casts: every
 * unary op, and the binary ops whose operands have the output's shape or size 1 (the FLAT form,
 * whose threads own whole words of a half output). Backend.takesHalf.
 */
export function elementwiseTakesHalf(op: OpName, inputs: readonly TensorInfo[]): boolean {
  if (op === 'cast' || op === 'where') return false;
  if (op in UNARY) return true;
  if (!(op in NARY)) return false;
  const out = inputs.reduce<readonly number[]>((s, t) => broadcastShapes(op, s, t.shape), []);
  const n = sizeOf(out);
  return inputs.every((t) => sizeOf(t.shape) === n || sizeOf(t.shape) === 1);
}

/** Elementwise op over broadcast inputs (2 for binary ops, 3 for where). */
function nary<N extends NaryOp & OpName>(fn: N): KernelBuilder<N> {
  return ({ inputs, out }) => {
    const [a, b, c = a] = inputs as [(typeof inputs)[0], (typeof inputs)[0], (typeof inputs)[0]];
    // `where` reads its condition as input `c` so that `a` and `b` stay the two operands.
    const [x, y, z] = fn === 'where' ? [b, c, a] : [a, b, c];
    const { shape, strides } = collapseDims(
      out.shape,
      [x!, y!, z!].map((t) => broadcastStrides(t.shape, out.shape)),
    );
    // One dimension left (same shapes, or scalars): 4 elements per thread, no index math.
    const flat = shape.length <= 1 ? 1 : 0;
    if (out.dtype === 'float16' && (!flat || fn === 'where')) {
      throw new Error(`webgpu: ${fn} writes float16 only with operands of the output's shape or size 1 (takesHalf)`);
    }
    return kernelCall({
      kernel: 'elementwise',
      constants: {
        OP: NARY[fn],
        A_INT: isInt(x!.dtype),
        B_INT: isInt(y!.dtype),
        C_INT: isInt(z!.dtype),
        OUT_INT: isInt(out.dtype),
        FLAT: flat,
        ...halfFlags({ A_HALF: x!.dtype, B_HALF: y!.dtype, OUT_HALF: out.dtype }),
      },
      uniforms: {
        size: out.size,
        rank: shape.length,
        shape: u32x8(shape),
        a_strides: u32x8(strides[0]!),
        b_strides: u32x8(strides[1]!),
        c_strides: u32x8(strides[2]!),
      },
      buffers: { a: x!.buf, b: y!.buf, c: z!.buf, out: out.buf },
      workgroups: grid1d(flat ? Math.ceil(out.size / 4) : out.size),
    });
  };
}

export const elementwiseKernels: KernelBuilders<UnaryOp | NaryOp> = {
  neg: unary('neg'),
  exp: unary('exp'),
  log: unary('log'),
  sqrt: unary('sqrt'),
  abs: unary('abs'),
  sign: unary('sign'),
  relu: unary('relu'),
  sigmoid: unary('sigmoid'),
  tanh: unary('tanh'),
  leakyRelu: unary('leakyRelu'),
  elu: unary('elu'),
  square: unary('square'),
  reciprocal: unary('reciprocal'),
  cast,
  add: nary('add'),
  sub: nary('sub'),
  mul: nary('mul'),
  div: nary('div'),
  pow: nary('pow'),
  maximum: nary('maximum'),
  minimum: nary('minimum'),
  eq: nary('eq'),
  ne: nary('ne'),
  gt: nary('gt'),
  ge: nary('ge'),
  lt: nary('lt'),
  le: nary('le'),
  where: nary('where'),
};
