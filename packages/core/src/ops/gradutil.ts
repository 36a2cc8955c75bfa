import { sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

export { checkActivation, requireFloat, requireFloat32 } from '../checks.js';

/**
 * Helpers that gradient rules share. Rules build their tensors from primitives (Tensor methods
 * or `Tensor._fromOp`), never from the public API layer above the op table.
 */

/**
 * Sums a gradient of a broadcast result back to the shape of the operand that was broadcast:
 * over the leading dimensions it lacked and over its size-1 dimensions.
 */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? g.sum(axes, true) : g;
  return s.reshape(shape);
}

/**
 * The gradient through a fused ReLU epilogue, dy * (y > 0), as one primitive: on SwiftShader it
 * is ~20x cheaper than the broadcasting `gt` + `mul` pair. Shared by conv2d and matmul.
 */
export const reluBackward = (dy: Tensor, y: Tensor): Tensor => Tensor._fromOp('reluBackward', [dy, y], {});

/** The matmul primitive with transpose flags (and an optional bias and fused activation). */
export function matmulRaw(a: Tensor, b: Tensor, flags: { transA: boolean; transB: boolean }, bias?: Tensor, activation: 'none' | 'relu' = 'none'): Tensor {
  return Tensor._fromOp('matmul', bias ? [a, b, bias] : [a, b], { ...flags, activation });
}

/** `where(cond, x, 0)` and `where(cond, 0, x)`: `x` where the mask holds (or not), else zero. */
export function maskOrZero(cond: Tensor, x: Tensor, keepWhere: boolean): Tensor {
  const zero = Tensor._fromOp('fill', [], { shape: [], dtype: x.dtype, value: 0 });
  return Tensor._fromOp('where', keepWhere ? [cond, x, zero] : [cond, zero, x], {});
}
