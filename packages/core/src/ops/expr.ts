/**
 * The expression form of elementwise ops: each elementwise primitive of the op table says once,
 * in this small language, what it computes for one element. `ts.compile` joins the expressions
 * of a chain of such ops into one fused kernel (compile/fuse.ts), and each backend renders that
 * kernel its own way (WGSL for WebGPU, a JavaScript closure for the reference backend), as
 * tinygrad and jax-js render kernels from their ALU ops. Values are float32; an int32 input is
 * converted when it is loaded, as the unfused kernels do.
 */

/** One-argument functions a fused kernel knows; the backends render each the way their unfused kernels compute it. */
export type UnaryFn = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'sigmoid' | 'tanh';
/** Two-argument functions; comparisons give 1 or 0, and `pow` is PyTorch's (negative bases with integral exponents). */
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/**
 * How a fused kernel reads a value for its element `i`: the flat index `i` of an iteration
 * shape `shape` is unravelled and dotted with `strides` (0 on broadcast dimensions, permuted
 * for a transpose), plus `offset`. null means the same flat index (same size, no broadcasting).
 */
export interface IndexMap {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** Added to the index (a slice's start). */
  readonly offset: number;
}

/** An expression tree; a leaf is a load, another node's value or a constant. */
export type Expr =
  /** Input buffer `input` of the fused kernel, read at `index` of the element being computed. */
  | { readonly k: 'load'; readonly input: number; readonly index: IndexMap | null }
  /** The value of the kernel's node `node`, computed at `index` of the element being computed. */
  | { readonly k: 'node'; readonly node: number; readonly index: IndexMap | null }
  | { readonly k: 'const'; readonly value: number }
  /** The value the producing kernel computed for this element (a kernel with a `producer` only). */
  | { readonly k: 'acc' }
  | { readonly k: 'unary'; readonly fn: UnaryFn; readonly x: Expr }
  | { readonly k: 'binary'; readonly fn: BinaryFn; readonly a: Expr; readonly b: Expr }
  /** `cond != 0 ? a : b`. */
  | { readonly k: 'select'; readonly cond: Expr; readonly a: Expr; readonly b: Expr };

/** The expression of an elementwise op, given the expressions of its inputs (at the same element) and its params. */
export type ExprRule<P> = (inputs: readonly Expr[], params: P) => Expr;

/**
 * A kernel the fuser built from a chain of elementwise ops, in backend-neutral form. Node `n`'s
 * expression computes its value at a flat index of its own output (`nodes[n].size` elements);
 * the kernel runs `size` elements (the largest stored node's) and stores node `outputs[j]`'s
 * elements into output buffer `j`.
 */
export interface FusedKernel {
  readonly size: number;
  /** The dtype each input buffer holds ('int32' loads are converted to float32). */
  readonly inputs: readonly ('float32' | 'int32')[];
  readonly nodes: readonly { readonly expr: Expr; readonly size: number }[];
  readonly outputs: readonly number[];
  /**
   * Set when the chain follows a kernel that is not elementwise (a matmul, a pooling gradient):
   * the kernel is that op's kernel with the chain applied to each value before it is stored
   * (an epilogue). Its nodes read that value as `acc`, element for element; it stores exactly
   * one node, of the producer's size, in place of the producer's output.
   */
  readonly producer?: string;
}

/**
 * Builders for the expressions in the op table.
 *
 * @example
 * const x = E.c(-2);
 * const relu = E.select(E.gt(x, E.c(0)), x, E.c(0)); // what relu computes for one element
 */
export const E = {
  c: (value: number): Expr => ({ k: 'const', value }),
  un: (fn: UnaryFn, x: Expr): Expr => ({ k: 'unary', fn, x }),
  bin: (fn: BinaryFn, a: Expr, b: Expr): Expr => ({ k: 'binary', fn, a, b }),
  gt: (a: Expr, b: Expr): Expr => ({ k: 'binary', fn: 'gt', a, b }),
  mul: (a: Expr, b: Expr): Expr => ({ k: 'binary', fn: 'mul', a, b }),
  select: (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', cond, a, b }),
};

/** The flat index `i` of a map's shape, read through its strides. */
export function mapIndex(m: IndexMap | null, i: number): number {
  if (!m) return i;
  let rem = i;
  let at = m.offset;
  for (let d = m.shape.length - 1; d >= 0; d--) {
    const n = m.shape[d]!;
    at += (rem % n) * m.strides[d]!;
    rem = Math.floor(rem / n);
  }
  return at;
}

/**
 * What each unary and binary function computes on one float value: a backend that interprets
 * fused kernels supplies the same functions its unfused kernels use, so the two agree.
 */
export interface ScalarFns {
  readonly unary: Readonly<Record<UnaryFn, (x: number) => number>>;
  readonly binary: Readonly<Record<BinaryFn, (a: number, b: number) => number>>;
}

/**
 * Runs a fused kernel in plain JavaScript over `inputs` (already converted to numbers), writing
 * `outputs`, with `fns` for the functions; `acc` holds the producer's values when the kernel has
 * one. The reference backend runs fused kernels with it, and so defines what every backend's
 * rendering must compute.
 */
export function evalFused(
  k: FusedKernel,
  fns: ScalarFns,
  inputs: readonly ArrayLike<number>[],
  outputs: readonly { [i: number]: number }[],
  acc: ArrayLike<number> = [],
): void {
  const at = (e: Expr, i: number): number => {
    switch (e.k) {
      case 'acc':
        return acc[i]!;
      case 'load':
        return inputs[e.input]![mapIndex(e.index, i)]!;
      case 'node':
        // Each op's value is a float32, as the unfused kernels store it.
        return Math.fround(at(k.nodes[e.node]!.expr, mapIndex(e.index, i)));
      case 'const':
        return e.value;
      case 'unary':
        return fns.unary[e.fn](at(e.x, i));
      case 'binary':
        return fns.binary[e.fn](at(e.a, i), at(e.b, i));
      case 'select':
        return at(e.cond, i) !== 0 ? at(e.a, i) : at(e.b, i);
    }
  };
  for (const [j, n] of k.outputs.entries()) {
    const node = k.nodes[n]!;
    for (let i = 0; i < node.size; i++) outputs[j]![i] = at(node.expr, i);
  }
}
