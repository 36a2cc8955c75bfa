import { requireTensor as checkTensor } from '../checks.js';
import { fmtShape, opError } from '../errors.js';
import { matmulRaw } from '../ops/gradutil.js';

export { matmulRaw };
import type { Tensor } from '../tensor.js';
import { tidy } from './memory.js';

/**
 * Matrix product, batched over leading dimensions with broadcasting (like `torch.matmul`).
 * A 1-D operand is treated as a row (left) or column (right) vector and that dimension dropped.
 *
 * @example
 * ts.matmul(ts.randn([8, 3, 4]), ts.randn([4, 5]));   // [8, 3, 5]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  if (a.rank === 0 || b.rank === 0) throw opError('matmul', `got a scalar operand: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`, 'Use mul for scalars');
  if (a.rank >= 2 && b.rank >= 2) return matmulRaw(a, b, { transA: false, transB: false });
  return tidy(() => {
    const a2 = a.rank === 1 ? a.reshape([1, a.shape[0]!]) : a;
    const b2 = b.rank === 1 ? b.reshape([b.shape[0]!, 1]) : b;
    const out = matmulRaw(a2, b2, { transA: false, transB: false });
    const shape = [...out.shape];
    if (b.rank === 1) shape.splice(-1, 1);
    if (a.rank === 1) shape.splice(-2 + (b.rank === 1 ? 1 : 0), 1);
    return out.reshape(shape);
  });
}

export interface LinearOptions {
  /** Applied inside the matmul kernel's epilogue, so dense + ReLU is one dispatch. */
  activation?: 'none' | 'relu';
}

/**
 * `x @ w + b` with `w` of shape [in, out] (Lasagne's layout), bias and activation fused.
 *
 * @example
 * const h = ts.linear(x, w, b, { activation: 'relu' });   // [N, out]
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: LinearOptions = {}): Tensor {
  checkTensor('linear', x, 'x');
  checkTensor('linear', w, 'w');
  if (w.rank !== 2) throw opError('linear', `weight must be [in, out], got ${fmtShape(w.shape)}`);
  if (x.rank < 2 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw opError('linear', `input ${fmtShape(x.shape)} does not fit weight ${fmtShape(w.shape)}`, `Expected an input of shape [..., ${w.shape[0]}]`);
  }
  if (b !== undefined && b !== null) checkTensor('linear', b, 'b');
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[1])) {
    throw opError('linear', `bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(w.shape)}`, `Expected a bias of shape [${w.shape[1]}]`);
  }
  return matmulRaw(x, w, { transA: false, transB: false }, b ?? undefined, opts.activation ?? 'none');
}
