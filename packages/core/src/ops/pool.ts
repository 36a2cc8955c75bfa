import { fmtShape, opError } from '../errors.js';
import { grid1d, kernelCall } from '../kernels.js';
import { Tensor } from '../tensor.js';
import type { OpDefs, Pool2dParams, TensorInfo } from './registry.js';

/**
 * Max and average pooling (NCHW, floor-mode output size, PyTorch semantics) and their gradient
 * primitives. Max pooling saves each window's argmax as an int32 aux output, so its backward pass
 * is a single gather over those indices rather than a second search of every window.
 */

interface PoolGeometry {
  planes: number; H: number; W: number; OH: number; OW: number;
}

/** Validates a pooling of `x` [N,C,H,W] and returns its geometry; errors name the op and shape. */
export function poolGeometry(op: string, x: readonly number[], p: Pool2dParams): PoolGeometry {
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  if (x.length !== 4) throw opError(op, `input ${fmtShape(x)} is not 4-D`, 'Expected [N, C, H, W]');
  const [N, C, H, W] = x as [number, number, number, number];
  if (2 * ph > kh || 2 * pw > kw) {
    throw opError(op, `padding [${ph},${pw}] is more than half the ${kh}x${kw} window for input ${fmtShape(x)}`, 'Expected padding <= kernelSize / 2 (as PyTorch)');
  }
  if (kh > H + 2 * ph || kw > W + 2 * pw) {
    throw opError(op, `the ${kh}x${kw} window is larger than the ${H + 2 * ph}x${W + 2 * pw} padded input ${fmtShape(x)}`, 'Expected a window no larger than the input plus padding');
  }
  return { planes: N * C, H, W, OH: Math.floor((H + 2 * ph - kh) / sh) + 1, OW: Math.floor((W + 2 * pw - kw) / sw) + 1 };
}

/** The uniform block both pooling kernel files share (kernels.ts POOL). */
function poolUniforms(g: PoolGeometry, p: Pool2dParams, total: number) {
  return {
    total, H: g.H, W: g.W, OH: g.OH, OW: g.OW,
    kh: p.kernelSize[0], kw: p.kernelSize[1], sh: p.stride[0], sw: p.stride[1], ph: p.padding[0], pw: p.padding[1],
  };
}

/** The unrolled 2x2 path needs every tap in bounds: no padding (floor mode does the rest). */
const k2 = (p: Pool2dParams): number => (p.kernelSize[0] === 2 && p.kernelSize[1] === 2 && p.padding[0] === 0 && p.padding[1] === 0 ? 1 : 0);
/** Windows that do not overlap let the gradient gather skip its loops. */
const nonOverlap = (p: Pool2dParams): number => (p.stride[0] >= p.kernelSize[0] && p.stride[1] >= p.kernelSize[1] ? 1 : 0);
/** Unpadded 2x2 windows at stride 2 over even planes cover every element exactly once. */
const tiles2 = (p: Pool2dParams, x: readonly number[]): boolean =>
  k2(p) === 1 && p.stride[0] === 2 && p.stride[1] === 2 && x[x.length - 2]! % 2 === 0 && x[x.length - 1]! % 2 === 0;

const requireF32 = (op: string, t: TensorInfo, what: string): void => {
  if (t.dtype !== 'float32') throw opError(op, `${what} of shape ${fmtShape(t.shape)} is ${t.dtype}; expected float32`, 'Convert it with .cast("float32")');
};

function outShape(op: string, x: TensorInfo, p: Pool2dParams): number[] {
  requireF32(op, x, 'input');
  const g = poolGeometry(op, x.shape, p);
  return [x.shape[0]!, x.shape[1]!, g.OH, g.OW];
}

/** Shape rule of a backward primitive: `dy` must be the forward output's shape. */
function backwardShape(op: string, dy: TensorInfo, p: Pool2dParams & { inputShape: number[] }): number[] {
  requireF32(op, dy, 'output gradient');
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
    kernel({ inputs: [x], out, aux: [arg], params }) {
      const g = poolGeometry('maxPool2d', x!.shape, params);
      return kernelCall({
        kernel: 'maxPool2d',
        constants: { K2: k2(params) },
        uniforms: poolUniforms(g, params, out.size),
        buffers: { x: x!.buf, out: out.buf, arg: arg!.buf },
        workgroups: grid1d(out.size),
      });
    },
    grad: (dy, { inputs: [x], aux: [arg], params }) => [
      Tensor._fromOp('maxPool2dBackward', [dy, arg!], { ...poolOnly(params), inputShape: [...x!.shape] }),
    ],
  },

  // Inputs: dy and the forward pass's argmax indices.
  maxPool2dBackward: {
    shape([dy, arg], p) {
      const shape = backwardShape('maxPool2dBackward', dy!, p);
      if (arg!.dtype !== 'int32' || arg!.shape.some((d, i) => d !== dy!.shape[i])) {
        throw opError('maxPool2dBackward', `argmax ${fmtShape(arg!.shape)} ${arg!.dtype} does not match output gradient ${fmtShape(dy!.shape)}`, 'Expected int32 indices of the same shape');
      }
      return { shape, dtype: 'float32' };
    },
    kernel({ inputs: [dy, arg], out, params }) {
      const g = poolGeometry('maxPool2dBackward', params.inputShape, params);
      const perWindow = tiles2(params, params.inputShape);
      const total = perWindow ? dy!.size : out.size;
      return kernelCall({
        kernel: 'maxPool2dBackward',
        constants: { NONOVERLAP: nonOverlap(params), TILE2: perWindow ? 1 : 0 },
        uniforms: poolUniforms(g, params, total),
        buffers: { dy: dy!.buf, dx: out.buf, arg: arg!.buf },
        workgroups: grid1d(total),
      });
    },
    // Its input-gradient would be a scatter by argmax; second derivatives of max pooling are
    // rarely needed, so this primitive is not differentiable.
    grad: null,
  },

  avgPool2d: {
    shape: ([x], p) => ({ shape: outShape('avgPool2d', x!, p), dtype: 'float32' }),
    kernel({ inputs: [x], out, params }) {
      const g = poolGeometry('avgPool2d', x!.shape, params);
      return kernelCall({
        kernel: 'avgPool2d',
        constants: { K2: k2(params) },
        uniforms: poolUniforms(g, params, out.size),
        buffers: { x: x!.buf, out: out.buf },
        workgroups: grid1d(out.size),
      });
    },
    grad: (dy, { inputs: [x], params }) => [
      Tensor._fromOp('avgPool2dBackward', [dy], { ...poolOnly(params), inputShape: [...x!.shape] }),
    ],
  },

  avgPool2dBackward: {
    shape: ([dy], p) => ({ shape: backwardShape('avgPool2dBackward', dy!, p), dtype: 'float32' }),
    kernel({ inputs: [dy], out, params }) {
      const g = poolGeometry('avgPool2dBackward', params.inputShape, params);
      return kernelCall({
        kernel: 'avgPool2dBackward',
        constants: { NONOVERLAP: nonOverlap(params) },
        uniforms: poolUniforms(g, params, out.size),
        buffers: { dy: dy!.buf, dx: out.buf },
        workgroups: grid1d(out.size),
      });
    },
    // The operator is linear and its adjoint is the forward average pooling.
    grad: (G, { params }) => [Tensor._fromOp('avgPool2d', [G], poolOnly(params))],
  },
};
