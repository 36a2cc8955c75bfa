import { broadcastStrides, type DType, type KernelArgs, type KernelTensor, type ScalarFns } from '@tessera/core';
import { f32Of, finishFloats, floatsOf, floatsOut, i32Of } from '../buffer.js';
import { f32, f32ToI32, fract, offsetOf, wgslMax, wgslMin, wgslSign, type KernelGroup } from './util.js';

/**
 * Elementwise ops, with the semantics of kernels/unary.wgsl and kernels/elementwise.wgsl:
 *
 * - Unary ops (and cast) load their input as float32 (an int32 input through f32(i32)), apply
 *   the function, and store float32, or i32(y) (truncation, clamped: see f32ToI32) for an
 *   int32 output. So an int32 neg, abs, square, relu, sign or cast goes through float32, as on
 *   the GPU: exact only up to 2^24, and 2^31 - 1 comes back as 2147483520.
 * - Binary ops broadcast NumPy-style. With an int32 output (add, sub, mul, maximum, minimum of
 *   two int32 inputs) they compute in wrapping int32 arithmetic; otherwise in float, with int32
 *   operands converted to float32 first. Comparisons give 1 or 0 as float32.
 * - where(cond, a, b) takes a where cond != 0 (a NaN condition counts as true) and converts the
 *   chosen element to the output dtype.
 */

type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu' | 'elu' | 'square' | 'reciprocal' | 'cast';
type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** Each unary function of unary.wgsl, on one float32 input; `alpha` is params.alpha. */
const UNARY: Record<UnaryName, (x: number, alpha: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  abs: (x) => Math.abs(x),
  sign: (x) => wgslSign(x),
  // select(0, x, x > 0): a NaN becomes 0.
  relu: (x) => (x > 0 ? x : 0),
  // 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below, so exp never overflows.
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  // sign(x) (1 - e^-2|x|) / (1 + e^-2|x|), the overflow-free form the kernel uses.
  tanh: (x) => {
    const e = Math.exp(-2 * Math.abs(x));
    return (wgslSign(x) * (1 - e)) / (1 + e);
  },
  // select(alpha x, x, x > 0)
  leakyRelu: (x, alpha) => (x > 0 ? x : alpha * x),
  // select(alpha (exp(min(x, 0)) - 1), x, x > 0); WGSL's min(NaN, 0) is 0, so elu(NaN) = 0.
  elu: (x, alpha) => (x > 0 ? x : alpha * (Math.exp(wgslMin(x, 0)) - 1)),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  cast: (x) => x,
};

/**
 * PyTorch's pow as pow_signed in elementwise.wgsl: x^0 = 1 (even 0^0 and NaN^0); a negative base
 * needs an integral exponent (else NaN) and is negative for odd ones. An infinite exponent of a
 * negative base is NaN there (fract(inf) is NaN), and so here.
 */
function powSigned(x: number, y: number): number {
  if (y === 0) return 1;
  const r = Math.abs(x) ** y;
  if (x >= 0) return r;
  if (fract(y) !== 0) return NaN;
  return fract(y * 0.5) !== 0 ? -r : r;
}

/** The float version of each binary op (apply_f32 in elementwise.wgsl). */
const BINARY_FLOAT: Record<BinaryName, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: powSigned,
  // WGSL max/min: a NaN operand yields the other operand.
  maximum: wgslMax,
  minimum: wgslMin,
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
};

/**
 * The functions of fused kernels (ops/expr.ts in core), as this file's unfused kernels compute them.
 *
 * @example
 * const e = SCALAR_FNS.unary.exp(1);   // Math.E in float32, as the 'exp' kernel gives it; evalFused takes SCALAR_FNS
 */
export const SCALAR_FNS: ScalarFns = {
  unary: {
    neg: UNARY.neg,
    exp: UNARY.exp,
    log: UNARY.log,
    sqrt: UNARY.sqrt,
    abs: UNARY.abs,
    sign: UNARY.sign,
    sigmoid: UNARY.sigmoid,
    tanh: UNARY.tanh,
  } as ScalarFns['unary'],
  binary: { ...BINARY_FLOAT, max: BINARY_FLOAT.maximum, min: BINARY_FLOAT.minimum },
};

/** The int32 version (apply_i32): two's-complement wrapping; other ops never have int output. */
const BINARY_INT: Partial<Record<BinaryName, (x: number, y: number) => number>> = {
  add: (x, y) => (x + y) | 0,
  sub: (x, y) => (x - y) | 0,
  mul: (x, y) => Math.imul(x, y),
  maximum: (x, y) => Math.max(x, y),
  minimum: (x, y) => Math.min(x, y),
};

/** out[i] = f(x[i]) with float32 semantics; an int32 output stores i32(f32(y)). */
function unary(name: UnaryName) {
  return ({ inputs: [x], out, params }: KernelArgs<{ alpha?: number; dtype?: DType }>): void => {
    const fn = UNARY[name];
    const alpha = f32(params.alpha ?? 0);
    const xs = floatsOf(x!);
    if (out.dtype === 'int32') {
      const o = i32Of(out);
      for (let i = 0; i < out.size; i++) o[i] = f32ToI32(fn(xs[i]!, alpha));
    } else {
      // A float16 output (a cast, or a half op the shadow check replays) is rounded once.
      const o = floatsOut(out);
      for (let i = 0; i < out.size; i++) o[i] = fn(xs[i]!, alpha);
      finishFloats(out, o);
    }
  };
}

/** Strides that read `t` broadcast to the output's shape. */
const stridesFor = (t: KernelTensor, out: KernelTensor): number[] => broadcastStrides(t.shape, out.shape);

/** out[i] = f(a[i'], b[i'']) over NumPy-broadcast inputs. */
function binary(name: BinaryName) {
  return ({ inputs: [a, b], out }: KernelArgs<{}>): void => {
    const sa = stridesFor(a!, out);
    const sb = stridesFor(b!, out);
    const intFn = BINARY_INT[name];
    if (out.dtype === 'int32') {
      if (!intFn) throw new Error(`reference backend: '${name}' has no int32 output`);
      const [xa, xb, o] = [i32Of(a!), i32Of(b!), i32Of(out)];
      for (let i = 0; i < out.size; i++) o[i] = intFn(xa[offsetOf(i, out.shape, sa)]!, xb[offsetOf(i, out.shape, sb)]!);
      return;
    }
    const fn = BINARY_FLOAT[name];
    const [xa, xb, o] = [floatsOf(a!), floatsOf(b!), floatsOut(out)];
    for (let i = 0; i < out.size; i++) o[i] = fn(xa[offsetOf(i, out.shape, sa)]!, xb[offsetOf(i, out.shape, sb)]!);
    finishFloats(out, o);
  };
}

/** where(cond, a, b): out[i] = cond[i] != 0 ? a[i] : b[i], broadcast, in the output's dtype. */
function where({ inputs: [cond, a, b], out }: KernelArgs<{}>): void {
  const [sc, sa, sb] = [stridesFor(cond!, out), stridesFor(a!, out), stridesFor(b!, out)];
  const c = floatsOf(cond!);
  // An int32 output means both operands are int32: copy them as they are.
  const [xa, xb] = out.dtype === 'int32' ? [i32Of(a!), i32Of(b!)] : [floatsOf(a!), floatsOf(b!)];
  const o = out.dtype === 'int32' ? i32Of(out) : f32Of(out);
  for (let i = 0; i < out.size; i++) {
    const takeA = c[offsetOf(i, out.shape, sc)] !== 0;
    o[i] = takeA ? xa[offsetOf(i, out.shape, sa)]! : xb[offsetOf(i, out.shape, sb)]!;
  }
}

export const elementwiseKernels: KernelGroup<UnaryName | BinaryName | 'where'> = {
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
  cast: unary('cast'),
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  pow: binary('pow'),
  maximum: binary('maximum'),
  minimum: binary('minimum'),
  eq: binary('eq'),
  ne: binary('ne'),
  gt: binary('gt'),
  ge: binary('ge'),
  lt: binary('lt'),
  le: binary('le'),
  where,
};
