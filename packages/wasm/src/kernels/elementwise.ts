import { broadcastStrides, stridesOf, type KernelArgs, type KernelTensor } from '@tessera/core';
import type { WasmKernel } from '../contract.js';
import { allF32, collapse, fn } from './util.js';

/**
 * Float32 elementwise wrappers (assembly/elementwise.ts). A binary op's broadcast is collapsed
 * to at most three loop levels (util.ts collapse); a case needing more, or any int32 tensor,
 * falls back to the reference kernel. Each op is one correctly rounded float32 operation, so the
 * results equal the reference's bit for bit; pow is float64 as the reference's.
 */

/** The module's binary op codes. */
export const BINARY_CODES = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, ne: 7, gt: 8, ge: 9, lt: 10, le: 11 } as const;

/** The module's unary op codes. */
const UNARY_CODES = { neg: 0, abs: 1, sqrt: 2, square: 3, relu: 4, reciprocal: 5 } as const;

/** The module's float64 unary op codes (assembly/math.ts). */
const MATH_CODES = { exp: 0, log: 1, sigmoid: 2, tanh: 3, sign: 4, leakyRelu: 5, elu: 6 } as const;

/** A broadcast of a and b to out as 3 loop levels [n0, n1, n2] with each operand's strides, or null. */
function levels3(a: KernelTensor, b: KernelTensor, out: KernelTensor): { shape: number[]; sa: number[]; sb: number[] } | null {
  const { shape, strides } = collapse(out.shape, [broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape), stridesOf(out.shape)]);
  if (shape.length > 3) return null;
  while (shape.length < 3) {
    shape.unshift(1);
    for (const s of strides) s.unshift(0);
  }
  return { shape, sa: strides[0]!, sb: strides[1]! };
}

function binaryKernel(code: number): WasmKernel {
  return (raw, rt) => {
    const { inputs, out } = raw as unknown as KernelArgs<{}>;
    const [a, b] = inputs;
    if (!a || !b || !allF32(a, b, out)) return false;
    if (out.size === 0) return true;
    const l = levels3(a, b, out);
    if (!l) return false;
    const { shape, sa, sb } = l;
    fn(rt, 'binary')(code, rt.ptr(a.buf), sa[0]!, sa[1]!, sa[2]!, rt.ptr(b.buf), sb[0]!, sb[1]!, sb[2]!, rt.ptr(out.buf), shape[0]!, shape[1]!, shape[2]!);
    return true;
  };
}

/** Element visits one general pow costs in the split across threads (fdlibm's pow: some 60 flops). */
const POW_WORK = 32;

/**
 * pow (broadcasting, float32): PyTorch's signed pow in float64, V8's pow inside, bit for bit
 * the reference's. Split across threads by rows of the collapsed loop nest, or by columns of a
 * single row.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof pow>;
 * pow(args, rt);   // out = a ** b, a negative base with an odd integral exponent negative
 */
export const pow: WasmKernel = (raw, rt) => {
  const { inputs, out } = raw as unknown as KernelArgs<{}>;
  const [a, b] = inputs;
  if (!a || !b || !allF32(a, b, out)) return false;
  if (out.size === 0) return true;
  const l = levels3(a, b, out);
  if (!l) return false;
  const [n0, n1, n2] = l.shape as [number, number, number];
  const { sa, sb } = l;
  const [pa, pb, po] = [rt.ptr(a.buf), rt.ptr(b.buf), rt.ptr(out.buf)];
  const rows = n0 * n1;
  if (rows === 1) {
    rt.parallel(n2, n2 * POW_WORK, (lo, hi, call) => {
      call('powBinary', pa + 4 * lo * sa[2]!, 0, 0, sa[2]!, pb + 4 * lo * sb[2]!, 0, 0, sb[2]!, po + 4 * lo, 1, hi - lo, 0, 1);
    });
  } else {
    rt.parallel(rows, rows * n2 * POW_WORK, (lo, hi, call) => {
      call('powBinary', pa, sa[0]!, sa[1]!, sa[2]!, pb, sb[0]!, sb[1]!, sb[2]!, po, n1, n2, lo, hi);
    });
  }
  return true;
};

function unaryKernel(code: number): WasmKernel {
  return (raw, rt) => {
    const { inputs, out } = raw as unknown as KernelArgs<{}>;
    const [x] = inputs;
    if (!x || !allF32(x, out)) return false;
    fn(rt, 'unary')(code, rt.ptr(x.buf), rt.ptr(out.buf), out.size);
    return true;
  };
}

function mathKernel(code: number): WasmKernel {
  return (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<{ alpha?: number }>;
    const [x] = inputs;
    if (!x || !allF32(x, out)) return false;
    fn(rt, 'unaryMath')(code, rt.ptr(x.buf), rt.ptr(out.buf), out.size, Math.fround(params.alpha ?? 0));
    return true;
  };
}

/**
 * The elementwise kernels by op name: add, sub, mul, div, maximum, minimum and the comparisons
 * eq, ne, gt, ge, lt, le (broadcasting; float32 operands); neg, abs, sqrt, square, relu,
 * reciprocal; exp, log, sigmoid, tanh, sign, leakyRelu, elu (float64 inside, as the
 * reference); cast between float32 and int32 (float16 casts decline, to the reference kernel).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof ELEMENTWISE_KERNELS.add>;
 * ELEMENTWISE_KERNELS.add(args, rt);
 */
export const ELEMENTWISE_KERNELS = {
  ...Object.fromEntries(Object.entries(BINARY_CODES).map(([name, code]) => [name, binaryKernel(code)])),
  ...Object.fromEntries(Object.entries(UNARY_CODES).map(([name, code]) => [name, unaryKernel(code)])),
  ...Object.fromEntries(Object.entries(MATH_CODES).map(([name, code]) => [name, mathKernel(code)])),
  cast: (raw, rt) => {
    const { inputs, out } = raw as unknown as KernelArgs<{}>;
    const [x] = inputs;
    // float16 casts are left to the reference kernel (on this heap): only casts touch halves.
    if (!x || x.dtype === 'float16' || out.dtype === 'float16') return false;
    fn(rt, 'cast')(rt.ptr(x.buf), x.dtype === 'int32' ? 1 : 0, rt.ptr(out.buf), out.dtype === 'int32' ? 1 : 0, out.size);
    return true;
  },
} as Record<keyof typeof BINARY_CODES | keyof typeof UNARY_CODES | keyof typeof MATH_CODES | 'cast', WasmKernel>;

/**
 * reluBackward: dx = dy where y > 0, else 0.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof reluBackward>;
 * reluBackward(args, rt);
 */
export const reluBackward: WasmKernel = (raw, rt) => {
  const { inputs, out } = raw as unknown as KernelArgs<{}>;
  const [dy, y] = inputs;
  if (!dy || !y || !allF32(dy, y, out) || dy.size !== out.size || y.size !== out.size) return false;
  fn(rt, 'reluBackward')(rt.ptr(dy.buf), rt.ptr(y.buf), rt.ptr(out.buf), out.size);
  return true;
};
