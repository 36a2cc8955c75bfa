/**
 * Float32 elementwise ops. Binary ops (arithmetic, WGSL max/min, comparisons giving 1.0 or 0.0) read their operands through a 3-level loop nest with
 * per-level element strides (0 where an operand is broadcast), which the TypeScript wrapper
 * gets by collapsing the broadcast shapes; the innermost level runs 4 lanes at a time when
 * both operands are contiguous or one is a scalar along it. Every op is one correctly rounded
 * float32 operation, so the results equal the reference's (float64 then rounded) exactly.
 * pow (powBinary) is float64 like the reference's, with V8's pow (fdlibm.ts).
 */
import { fdPow } from './fdlibm-pow';

/** Binary op codes (the wrapper's BINARY_CODES). */
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAX = 4;
const MIN = 5;
const EQ = 6;
const NE = 7;
const GT = 8;
const GE = 9;
const LT = 10;
const LE = 11;

/** A comparison's lane mask as 1.0 / 0.0. */
// @ts-expect-error: decorator
@inline
function ones(mask: v128): v128 {
  return v128.and(mask, f32x4.splat(1));
}

// @ts-expect-error: decorator
@inline
function applyV(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == EQ) return ones(f32x4.eq(a, b));
  if (op == NE) return ones(f32x4.ne(a, b));
  if (op == GT) return ones(f32x4.gt(a, b));
  if (op == GE) return ones(f32x4.ge(a, b));
  if (op == LT) return ones(f32x4.lt(a, b));
  if (op == LE) return ones(f32x4.le(a, b));
  // WGSL max/min: a NaN operand yields the other. pmax/pmin already return a for a NaN b.
  const r = op == MAX ? f32x4.pmax(a, b) : f32x4.pmin(a, b);
  return v128.bitselect(b, r, f32x4.ne(a, a));
}

// @ts-expect-error: decorator
@inline
function applyS(op: i32, a: f32, b: f32): f32 {
  if (op == ADD) return a + b;
  if (op == SUB) return a - b;
  if (op == MUL) return a * b;
  if (op == DIV) return a / b;
  if (op == EQ) return a == b ? 1 : 0;
  if (op == NE) return a != b ? 1 : 0;
  if (op == GT) return a > b ? 1 : 0;
  if (op == GE) return a >= b ? 1 : 0;
  if (op == LT) return a < b ? 1 : 0;
  if (op == LE) return a <= b ? 1 : 0;
  if (a != a) return b;
  if (b != b) return a;
  if (op == MAX) return a < b ? b : a;
  return b < a ? b : a;
}

/** One innermost run of n outputs, specialised per op so the branch on op leaves the loop. */
// @ts-expect-error: decorator
@inline
function run(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, applyV(op, v128.load(a + off), v128.load(b + off)));
    }
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, applyV(op, v128.load(a + off), bv));
    }
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, applyV(op, av, v128.load(b + off)));
    }
  }
  for (; i < n; i++) {
    store<f32>(out + (<usize>i << 2), applyS(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

/**
 * out[i0, i1, i2] = a[i0*sa0 + i1*sa1 + i2*sa2] (op) b[...], out contiguous [n0, n1, n2].
 * Example (a [4, 3] + b [3]): binary(0, a, 4, 3, 0, 1, b, 0, 0, 1, out, 1, 4, 3) with n0 = 1.
 */
export function binary(
  op: i32,
  a: usize,
  sa0: i32,
  sa1: i32,
  sa2: i32,
  b: usize,
  sb0: i32,
  sb1: i32,
  sb2: i32,
  out: usize,
  n0: i32,
  n1: i32,
  n2: i32,
): void {
  let o = out;
  const row = <usize>n2 << 2;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      const pa = a + (<usize>(i0 * sa0 + i1 * sa1) << 2);
      const pb = b + (<usize>(i0 * sb0 + i1 * sb1) << 2);
      if (op == ADD) run(ADD, pa, sa2, pb, sb2, o, n2);
      else if (op == SUB) run(SUB, pa, sa2, pb, sb2, o, n2);
      else if (op == MUL) run(MUL, pa, sa2, pb, sb2, o, n2);
      else if (op == DIV) run(DIV, pa, sa2, pb, sb2, o, n2);
      else if (op == MAX) run(MAX, pa, sa2, pb, sb2, o, n2);
      else if (op == MIN) run(MIN, pa, sa2, pb, sb2, o, n2);
      else if (op == EQ) run(EQ, pa, sa2, pb, sb2, o, n2);
      else if (op == NE) run(NE, pa, sa2, pb, sb2, o, n2);
      else if (op == GT) run(GT, pa, sa2, pb, sb2, o, n2);
      else if (op == GE) run(GE, pa, sa2, pb, sb2, o, n2);
      else if (op == LT) run(LT, pa, sa2, pb, sb2, o, n2);
      else run(LE, pa, sa2, pb, sb2, o, n2);
      o += row;
    }
  }
}

/** Unary op codes (the wrapper's UNARY_CODES). */
const NEG = 0;
const ABS = 1;
const SQRT = 2;
const SQUARE = 3;
const RELU = 4;
const RECIPROCAL = 5;

// @ts-expect-error: decorator
@inline
function unaryV(op: i32, x: v128): v128 {
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == SQUARE) return f32x4.mul(x, x);
  // select(0, x, x > 0): pmax(0, x) keeps 0 for NaN and -0.
  if (op == RELU) return f32x4.pmax(f32x4.splat(0), x);
  return f32x4.div(f32x4.splat(1), x);
}

// @ts-expect-error: decorator
@inline
function unaryRun(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, unaryV(op, v128.load(x + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    v128.store32_lane(out + off, unaryV(op, v128.load32_splat(x + off)), 0);
  }
}

/** out[i] = f(x[i]) for n floats. Example: unary(4, x, out, n) is relu. */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  if (op == NEG) unaryRun(NEG, x, out, n);
  else if (op == ABS) unaryRun(ABS, x, out, n);
  else if (op == SQRT) unaryRun(SQRT, x, out, n);
  else if (op == SQUARE) unaryRun(SQUARE, x, out, n);
  else if (op == RELU) unaryRun(RELU, x, out, n);
  else unaryRun(RECIPROCAL, x, out, n);
}

/**
 * reluBackward: out[i] = y[i] > 0 ? dy[i] : 0 (a NaN dy where y <= 0 is dropped).
 * Example: reluBackward(dy, y, dx, n).
 */
export function reluBackward(dy: usize, y: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, v128.and(v128.load(dy + off), f32x4.gt(v128.load(y + off), zero)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(y + off) > 0 ? load<f32>(dy + off) : 0);
  }
}

/**
 * The reference's pow (PyTorch's, pow_signed in kernels/lib/math.wgsl) in float64: x^0 = 1
 * (even for a NaN x), else r = |x|^y (JavaScript's **, fdlibm's pow as V8 computes it); a
 * negative x needs an integral y (else NaN) and gives -r for an odd one.
 */
// @ts-expect-error: decorator
@inline
function powSigned(x: f64, y: f64): f64 {
  if (y == 0) return 1;
  // A negative (or NaN) x with a fractional y is NaN whatever |x|^y is: skip computing it.
  if (!(x >= 0) && y - Math.floor(y) != 0) return NaN;
  const r = fdPow(Math.abs(x), y);
  if (x >= 0) return r;
  const half = y * 0.5;
  return half - Math.floor(half) != 0 ? -r : r;
}

/**
 * One run of n outputs of pow with a scalar exponent y: 4 lanes at a time where one float32
 * operation gives the same result (y = 2: x * x; y = 0.5: sqrt(x + 0), so -0 gives +0 and a
 * negative x NaN; y = -1: 1 / (x + 0); y = 1: x + 0), else fdPow per element.
 */
function powScalarExponent(a: usize, sa: i32, y: f32, out: usize, n: i32): void {
  let i = 0;
  const fast = y == 2 || y == 0.5 || y == -1 || y == 1;
  if (fast && sa == 1) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const off = (<usize>i) << 2;
      const x = v128.load(a + off);
      let r: v128;
      if (y == 2) r = f32x4.mul(x, x);
      else if (y == 0.5) r = f32x4.sqrt(f32x4.add(x, zero));
      else if (y == -1) r = f32x4.div(f32x4.splat(1), f32x4.add(x, zero));
      else r = f32x4.add(x, zero);
      v128.store(out + off, r);
    }
  }
  const yd = <f64>y;
  for (; i < n; i++) store<f32>(out + ((<usize>i) << 2), <f32>powSigned(<f64>load<f32>(a + (<usize>(i * sa) << 2)), yd));
}

/**
 * pow over binary's 3-level loop nest, rows [r0, r1) of it (row r = (i0, i1) = (r / n1, r % n1),
 * its n2 outputs at out + r * n2): out[i0, i1, i2] = powSigned(a[...], b[...]).
 * Example (a [4, 3] ** b [3]): powBinary(a, 0, 3, 1, b, 0, 0, 1, out, 4, 3, 0, 4).
 */
export function powBinary(
  a: usize,
  sa0: i32,
  sa1: i32,
  sa2: i32,
  b: usize,
  sb0: i32,
  sb1: i32,
  sb2: i32,
  out: usize,
  n1: i32,
  n2: i32,
  r0: i32,
  r1: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const i0 = r / n1;
    const i1 = r % n1;
    const pa = a + (<usize>(i0 * sa0 + i1 * sa1) << 2);
    const pb = b + (<usize>(i0 * sb0 + i1 * sb1) << 2);
    const o = out + (<usize>(r * n2) << 2);
    if (sb2 == 0) {
      powScalarExponent(pa, sa2, load<f32>(pb), o, n2);
    } else {
      for (let i = 0; i < n2; i++) {
        const x = <f64>load<f32>(pa + (<usize>(i * sa2) << 2));
        const y = <f64>load<f32>(pb + (<usize>(i * sb2) << 2));
        store<f32>(o + ((<usize>i) << 2), <f32>powSigned(x, y));
      }
    }
  }
}
