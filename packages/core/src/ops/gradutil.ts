import { sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

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
