import { fmtShape, opError } from '../errors.js';
import { windowOutputSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { OpDefs, Pool2dParams, TensorInfo } from './registry.js';
import { requireFloat32 } from './gradutil.js';

/**
 * Max and average pooling (NCHW, floor-mode output size, PyTorch semantics) and their gradient
 * primitives. Max pooling saves each window's argmax as an int32 aux output, so its backward pass
 * is a single gather over those indices rather than a second search of every window.
 */

/** Pooling geometry: every plane (n, c) of [H, W] pools to [OH, OW]. */
export interface PoolGeometry {
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

/** Validates a pooling of `x` [N,C,H,W] and returns its geometry; errors name the op and shape. */
export function poolGeometry(op: string, x: readonly number[], p: Pool2dParams): PoolGeometry {
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  if (x.length !== 4) throw opError(op, `input ${fmtShape(x)} is not 4-D`, 'Expected [N, C, H, W]');
  const [N, C, H, W] = x as [number, number, number, number];
  if (2 * ph > kh || 2 * pw > kw) {
    throw opError(
      op,
      `padding [${ph},${pw}] is more than half the ${kh}x${kw} window for input ${fmtShape(x)}`,
      'Expected padding <= kernelSize / 2 (as PyTorch)',
    );
  }
  if (kh > H + 2 * ph || kw > W + 2 * pw) {
    throw opError(
      op,
      `the ${kh}x${kw} window is larger than the ${H + 2 * ph}x${W + 2 * pw} padded input ${fmtShape(x)}`,
      'Expected a window no larger than the input plus padding',
    );
  }
  return { planes: N * C, H, W, OH: windowOutputSize(H, kh, sh, 2 * ph), OW: windowOutputSize(W, kw, sw, 2 * pw) };
}

function outShape(op: string, x: TensorInfo, p: Pool2dParams): number[] {
  requireFloat32(op, x);
  const g = poolGeometry(op, x.shape, p);
  return [x.shape[0]!, x.shape[1]!, g.OH, g.OW];
}

/** Shape rule of a backward primitive: `dy` must be the forward output's shape. */
function backwardShape(op: string, dy: TensorInfo, p: Pool2dParams & { inputShape: number[] }): number[] {
  requireFloat32(op, dy, 'output gradient');
  const g = poolGeometry(op, p.inputShape, p);
  const want = [p.inputShape[0]!, p.inputShape[1]!, g.OH, g.OW];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw opError(op, `output gradient ${fmtShape(dy.shape)} does not match the pooled shape ${fmtShape(want)}`);
  }
  return [...p.inputShape];
}

const poolOnly = (p: Pool2dParams): Pool2dParams => ({ kernelSize: p.kernelSize, stride: p.stride, padding: p.padding });

export const poolOps: OpDefs<'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward'> = {
  maxPool2d: {
    shape([x], p) {
      const shape = outShape('maxPool2d', x!, p);
      return { shape, dtype: 'float32', aux: [{ shape, dtype: 'int32' }] };
    },
    grad: (dy, { inputs: [x], aux: [arg], params }) => [Tensor._fromOp('maxPool2dBackward', [dy, arg!], { ...poolOnly(params), inputShape: [...x!.shape] })],
  },

  // Inputs: dy and the forward pass's argmax indices.
  maxPool2dBackward: {
    shape([dy, arg], p) {
      const shape = backwardShape('maxPool2dBackward', dy!, p);
      if (arg!.dtype !== 'int32' || arg!.shape.some((d, i) => d !== dy!.shape[i])) {
        throw opError(
          'maxPool2dBackward',
          `argmax ${fmtShape(arg!.shape)} ${arg!.dtype} does not match output gradient ${fmtShape(dy!.shape)}`,
          'Expected int32 indices of the same shape',
        );
      }
      return { shape, dtype: 'float32' };
    },
    // Its input-gradient would be a scatter by argmax; second derivatives of max pooling are
    // rarely needed, so this primitive is not differentiable.
    grad: null,
  },

  avgPool2d: {
    shape: ([x], p) => ({ shape: outShape('avgPool2d', x!, p), dtype: 'float32' }),
    grad: (dy, { inputs: [x], params }) => [Tensor._fromOp('avgPool2dBackward', [dy], { ...poolOnly(params), inputShape: [...x!.shape] })],
  },

  avgPool2dBackward: {
    shape: ([dy], p) => ({ shape: backwardShape('avgPool2dBackward', dy!, p), dtype: 'float32' }),
    // The operator is linear and its adjoint is the forward average pooling.
    grad: (G, { params }) => [Tensor._fromOp('avgPool2d', [G], poolOnly(params))],
  },
};
