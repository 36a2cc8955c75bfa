import { E } from './expr.js';
import { fmtShape, opError } from '../errors.js';
import { windowOutputSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { Conv2dParams, OpDefs, TensorInfo } from './registry.js';
import { checkActivation, reluBackward, requireFloat32 } from './gradutil.js';

/**
 * conv2d, its two gradient primitives and the fused-ReLU gradient: shape and gradient rules.
 * How each runs is the backend's (the WebGPU kernels are direct, register-tiled convolutions).
 */

/** Everything a conv kernel needs to know about the shapes, derived once per call. */
export interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  F: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  groups: number;
  cpg: number;
  fpg: number;
}

const desc = (x: readonly number[], w: readonly number[]): string => `input ${fmtShape(x)} and weight ${fmtShape(w)}`;

/**
 * Validates a convolution of `x` [N,C,H,W] with `w` [F,C/groups,KH,KW] and returns its geometry.
 * `op` names the public op in errors, which always print both shapes and what was expected.
 */
export function convGeometry(op: string, x: readonly number[], w: readonly number[], p: Conv2dParams): ConvGeometry {
  if (x.length !== 4 || w.length !== 4) {
    throw opError(op, `${desc(x, w)}: expected a 4-D input [N, C, H, W] and a 4-D weight [F, C/groups, KH, KW]`);
  }
  const [N, C, H, W] = x as [number, number, number, number];
  const [F, cpg, KH, KW] = w as [number, number, number, number];
  const { groups } = p;
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const [pt, pb, pl, pr] = p.padding;
  if (C % groups !== 0 || F % groups !== 0) {
    throw opError(op, `${desc(x, w)}: groups ${groups} must divide both the ${C} input channels and the ${F} filters`);
  }
  if (cpg * groups !== C) {
    throw opError(
      op,
      `${desc(x, w)}: the input has ${C} channels but the weight expects ${cpg * groups} (${cpg} per group x ${groups} groups)`,
      `Expected a weight of shape [${F}, ${C / groups}, ${KH}, ${KW}]`,
    );
  }
  if (F === 0 || cpg === 0 || KH === 0 || KW === 0) throw opError(op, `${desc(x, w)}: the weight has an empty dimension`);
  const ekh = dh * (KH - 1) + 1;
  const ekw = dw * (KW - 1) + 1;
  if (ekh > H + pt + pb || ekw > W + pl + pr) {
    throw opError(
      op,
      `${desc(x, w)}: the ${ekh}x${ekw} kernel (dilation ${dh},${dw}) is larger than the ${H + pt + pb}x${W + pl + pr} padded input`,
      'Expected a kernel no larger than the input plus padding',
    );
  }
  const OH = windowOutputSize(H, KH, sh, pt + pb, dh);
  const OW = windowOutputSize(W, KW, sw, pl + pr, dw);
  return { N, C, H, W, F, KH, KW, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr, groups, cpg, fpg: F / groups };
}

/** The geometry alone, without the extra params of the gradient primitives. */
const convOnly = (p: Conv2dParams): Conv2dParams => ({ stride: p.stride, dilation: p.dilation, padding: p.padding, groups: p.groups });

/** Grad rules run on tensors: these wrap the primitives for them. */
const convRaw = (x: Tensor, w: Tensor, p: Conv2dParams, b?: Tensor): Tensor =>
  Tensor._fromOp('conv2d', b ? [x, w, b] : [x, w], { ...convOnly(p), activation: 'none' });
const inputGrad = (dy: Tensor, w: Tensor, p: Conv2dParams, inputShape: readonly number[]): Tensor =>
  Tensor._fromOp('conv2dBackpropInput', [dy, w], { ...convOnly(p), inputShape: [...inputShape] });
function filterGrad(x: Tensor, dy: Tensor, p: Conv2dParams, filterShape: readonly number[], withBias = false): Tensor {
  return Tensor._fromOp('conv2dBackpropFilter', [x, dy], { ...convOnly(p), filterShape: [...filterShape], withBias });
}

/** Splits the [F, taps + 1] result of a filter gradient with bias into [weight, bias]. */
function splitBias(both: Tensor, filterShape: readonly number[]): [Tensor, Tensor] {
  const [F, taps] = [both.shape[0]!, both.shape[1]! - 1];
  return [both.slice([0, 0], [F, taps]).reshape(filterShape), both.slice([0, taps], [F, 1]).reshape([F])];
}

/** Checks that a gradient `dy` has the shape the convolution's output has. */
function checkDy(op: string, g: ConvGeometry, dy: readonly number[]): void {
  const want = [g.N, g.F, g.OH, g.OW];
  if (dy.length !== 4 || dy.some((d, i) => d !== want[i])) {
    throw opError(op, `output gradient ${fmtShape(dy)} does not match the convolution's output ${fmtShape(want)}`);
  }
}

export const convOps: OpDefs<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'reluBackward'> = {
  conv2d: {
    shape(ins, p) {
      const [x, w, b] = ins as [TensorInfo, TensorInfo, TensorInfo | undefined];
      requireFloat32('conv2d', ins);
      checkActivation('conv2d', p.activation);
      const g = convGeometry('conv2d', x.shape, w.shape, p);
      if (b && (b.shape.length !== 1 || b.shape[0] !== g.F)) {
        throw opError('conv2d', `bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(w.shape)}`, `Expected a bias of shape [${g.F}]`);
      }
      return { shape: [g.N, g.F, g.OH, g.OW], dtype: 'float32' };
    },
    grad(dy, { inputs: [x, w, b], out, params: p, needs }) {
      const g = p.activation === 'relu' ? reluBackward(dy, out) : dy;
      const dx = needs[0] ? inputGrad(g, w!, p, x!.shape) : null;
      if (!b) return [dx, needs[1] ? filterGrad(x!, g, p, w!.shape) : null];
      // The bias gradient sum(dy) over n, oh, ow rides along in the filter-gradient pass.
      const [dw, db] = needs[1] || needs[2] ? splitBias(filterGrad(x!, g, p, w!.shape, true), w!.shape) : [null, null];
      return [dx, needs[1] ? dw : null, needs[2] ? db : null];
    },
  },

  // dx = the transposed convolution of dy with w (a gather: one thread per dx element).
  conv2dBackpropInput: {
    shape(ins, p) {
      const [dy, w] = ins as [TensorInfo, TensorInfo];
      requireFloat32('conv2dBackpropInput', ins);
      checkDy('conv2dBackpropInput', convGeometry('conv2dBackpropInput', p.inputShape, w.shape, p), dy.shape);
      return { shape: [...p.inputShape], dtype: 'float32' };
    },
    // <G, convT(dy, w)> = <conv(G, w), dy>, and its w-derivative is a filter gradient.
    grad: (G, { inputs: [dy, w], params: p, needs }) => [needs[0] ? convRaw(G, w!, p) : null, needs[1] ? filterGrad(G, dy!, p, w!.shape) : null],
  },

  // dw = sum over the batch and output positions of x-window x dy.
  conv2dBackpropFilter: {
    shape(ins, p) {
      const [x, dy] = ins as [TensorInfo, TensorInfo];
      requireFloat32('conv2dBackpropFilter', ins);
      const g = convGeometry('conv2dBackpropFilter', x.shape, p.filterShape, p);
      checkDy('conv2dBackpropFilter', g, dy.shape);
      const c = p.chunks;
      if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > Math.max(1, g.N * g.OH))) {
        throw opError('conv2dBackpropFilter', `chunks ${c} must be an integer in [1, ${Math.max(1, g.N * g.OH)}] for input ${fmtShape(x.shape)}`);
      }
      const taps = g.cpg * g.KH * g.KW + (p.withBias ? 1 : 0);
      return { shape: p.withBias ? [g.F, taps] : [...p.filterShape], dtype: 'float32' };
    },
    // <G, dw(x, dy)> = <x, convT(dy, G)> = <conv(x, G), dy>; a bias column adds <Gb, sum(dy)>.
    grad(G, { inputs: [x, dy], params: p, needs }) {
      const [Gw, Gb] = p.withBias ? splitBias(G, p.filterShape) : [G, undefined];
      return [needs[0] ? inputGrad(dy!, Gw, p, x!.shape) : null, needs[1] ? convRaw(x!, Gw, p, Gb) : null];
    },
  },

  // Inputs: the output gradient and the ReLU's output.
  reluBackward: {
    shape(ins) {
      const [dy, y] = ins as [TensorInfo, TensorInfo];
      requireFloat32('reluBackward', ins);
      if (dy.shape.length !== y.shape.length || dy.shape.some((d, i) => d !== y.shape[i])) {
        throw opError('reluBackward', `gradient ${fmtShape(dy.shape)} does not match output ${fmtShape(y.shape)}`);
      }
      return { shape: dy.shape, dtype: 'float32' };
    },
    // Linear in dy with a mask that is constant almost everywhere.
    grad: (G, { inputs: [, y], needs }) => [needs[0] ? reluBackward(G, y!) : null, null],
    expr: ([dy, y]) => E.select(E.gt(y!, E.c(0)), dy!, E.c(0)),
  },
};
