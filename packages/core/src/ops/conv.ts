import { engine } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { grid1d, kernelCall, type KernelCall } from '../kernels.js';
import { Tensor } from '../tensor.js';
import type { DeviceCaps } from '../backend.js';
import type { Conv2dParams, OpDefs, OpParams, TensorInfo } from './registry.js';
import { reluBackward } from './gradutil.js';

/**
 * conv2d, its two gradient primitives and the fused-ReLU gradient. The convolutions are direct
 * (no im2col buffer): each thread keeps a register tile (forward and input gradient: 4 channels
 * x 2 rows x 4 columns; filter gradient: a kernel row for up to 8 filters, or 8 filters x 4
 * taps, see `filterTile`) and needs no workgroup memory or barrier; see kernels/conv2d*.wgsl.
 * Two choices depend on the adapter (`caps.registerTiling`, true on CPU adapters): how far the
 * filter gradient's reduction is split (`filterChunks`), and whether the input gradient's
 * neighbouring threads take neighbouring images (BATCH_FASTEST: lockstep SIMD lanes on a CPU
 * then share their bounds; a GPU wants neighbouring columns, for coalesced loads).
 */

/** Everything a conv kernel needs to know about the shapes, derived once per call. */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  F: number; KH: number; KW: number; OH: number; OW: number;
  sh: number; sw: number; dh: number; dw: number;
  pt: number; pb: number; pl: number; pr: number;
  groups: number; cpg: number; fpg: number;
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
    throw opError(op, `${desc(x, w)}: the input has ${C} channels but the weight expects ${cpg * groups} (${cpg} per group x ${groups} groups)`, `Expected a weight of shape [${F}, ${C / groups}, ${KH}, ${KW}]`);
  }
  if (F === 0 || cpg === 0 || KH === 0 || KW === 0) throw opError(op, `${desc(x, w)}: the weight has an empty dimension`);
  const ekh = dh * (KH - 1) + 1;
  const ekw = dw * (KW - 1) + 1;
  if (ekh > H + pt + pb || ekw > W + pl + pr) {
    throw opError(op, `${desc(x, w)}: the ${ekh}x${ekw} kernel (dilation ${dh},${dw}) is larger than the ${H + pt + pb}x${W + pl + pr} padded input`, 'Expected a kernel no larger than the input plus padding');
  }
  const OH = Math.floor((H + pt + pb - ekh) / sh) + 1;
  const OW = Math.floor((W + pl + pr - ekw) / sw) + 1;
  return { N, C, H, W, F, KH, KW, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr, groups, cpg, fpg: F / groups };
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** The uniform fields the three conv kernels share (kernels.ts CONV). */
function convUniforms(g: ConvGeometry, total: number) {
  return {
    total, C: g.C, H: g.H, W: g.W, F: g.F, OH: g.OH, OW: g.OW, KH: g.KH, KW: g.KW,
    sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl, groups: g.groups, cpg: g.cpg, fpg: g.fpg,
  };
}

/**
 * Channels (or filters) per thread in a vec4 register tile over `n` of them: of 4, 3 and 2, the
 * one that leaves the fewest lanes idle (ties to the larger), e.g. 3 for LeNet's 6. The kernels
 * compile the idle lanes away, and the FMAs bound a CPU adapter.
 */
export function lanesPerThread(n: number): number {
  if (n < 4) return n;
  const idle = (c: number) => ceilDiv(n, c) * c - n;
  return [3, 2].reduce((best, c) => (idle(c) < idle(best) ? c : best), 4);
}

/** Stride 1 and dilation 1 along w let the kernels slide one register window across the taps. */
const slide = (g: ConvGeometry): number => (g.sw === 1 && g.dw === 1 ? 1 : 0);

/**
 * How many parallel partial sums the filter gradient splits its n*OH reduction into. A CPU
 * adapter has a few cores, each running 4-wide SIMD, so ~1k threads fill it and more only add
 * partial traffic; a GPU wants ~16k threads in flight. Each chunk keeps at least ~64 output
 * positions of work.
 */
export function filterChunks(g: ConvGeometry, caps: DeviceCaps): number {
  const tile = filterTile(g);
  const threadsPerChunk = g.groups * ceilDiv(g.fpg, tile.filters) * (tile.rows ? g.cpg * g.KH : ceilDiv(g.cpg * g.KH * g.KW + 1, 4));
  const target = caps.registerTiling ? (tile.rows ? 512 : 1024) : 16384;
  const rows = g.N * g.OH;
  if (rows === 0) return 1;
  const want = Math.min(ceilDiv(target, threadsPerChunk), ceilDiv(rows * g.OW, 64), rows);
  return Math.max(1, ceilDiv(rows, ceilDiv(rows, Math.max(1, want))));
}

/**
 * The filter gradient's register tile: with stride 1 and dilation 1 along w and a kernel at
 * most 8 wide, a whole kernel row of taps for up to 8 filters, split evenly (16 -> 8 + 8,
 * 6 -> 6) (kernels/conv2d_filter_rows.wgsl); otherwise 4 taps for 8 filters
 * (kernels/conv2d_filter.wgsl).
 */
export function filterTile(g: ConvGeometry): { rows: boolean; filters: number } {
  if (slide(g) && g.KW <= 8) return { rows: true, filters: ceilDiv(g.fpg, ceilDiv(g.fpg, 8)) };
  return { rows: false, filters: 8 };
}

/** The reduce kernel summing `chunks` partial filter gradients laid out [chunks, size]. */
function sumChunks(partial: KernelCall<'conv2dFilter'>['buffers']['out'], out: typeof partial, chunks: number, size: number): KernelCall<'reduce'> {
  return kernelCall({
    kernel: 'reduce',
    constants: { OP: 0, X_INT: 0, OUT_INT: 0 },
    uniforms: {
      out_size: size, red_size: chunks, out_rank: 1, red_rank: 1,
      out_shape: [size], out_strides: [1], red_shape: [chunks], red_strides: [size],
    },
    buffers: { x: partial, out },
    workgroups: grid1d(size),
  });
}

const requireF32 = (op: string, ins: readonly TensorInfo[]): void => {
  const i = ins.findIndex((t) => t.dtype !== 'float32');
  if (i >= 0) throw opError(op, `input ${i} of shape ${fmtShape(ins[i]!.shape)} is ${ins[i]!.dtype}; expected float32`, 'Convert it with .cast("float32")');
};

/** The geometry alone, without the extra params of the gradient primitives. */
const convOnly = (p: Conv2dParams): Conv2dParams => ({ stride: p.stride, dilation: p.dilation, padding: p.padding, groups: p.groups });

/** Grad rules run on tensors: these wrap the primitives for them. */
const convRaw = (x: Tensor, w: Tensor, p: Conv2dParams, b?: Tensor): Tensor =>
  Tensor._fromOp('conv2d', b ? [x, w, b] : [x, w], { ...convOnly(p), activation: 'none' });
const inputGrad = (dy: Tensor, w: Tensor, p: Conv2dParams, inputShape: readonly number[]): Tensor =>
  Tensor._fromOp('conv2dBackpropInput', [dy, w], { ...convOnly(p), inputShape: [...inputShape] });
function filterGrad(x: Tensor, dy: Tensor, p: Conv2dParams, filterShape: readonly number[], withBias = false): Tensor {
  const g = convGeometry('conv2dBackpropFilter', x.shape, filterShape, p);
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

/**
 * How the filter gradient's (n, oh) rows split into chunks: `chunks` may come out below the
 * count asked for, since every chunk but the last takes `rowsPerChunk` rows.
 */
function rowSplit(g: ConvGeometry, p: OpParams['conv2dBackpropFilter']) {
  const rows = g.N * g.OH;
  const asked = p.chunks ?? filterChunks(g, engine.backend!.caps);
  const rowsPerChunk = ceilDiv(rows, asked);
  return { rows, asked, rowsPerChunk, chunks: rows === 0 ? 1 : ceilDiv(rows, rowsPerChunk) };
}

export const convOps: OpDefs<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'reluBackward'> = {
  conv2d: {
    shape(ins, p) {
      const [x, w, b] = ins as [TensorInfo, TensorInfo, TensorInfo | undefined];
      requireF32('conv2d', ins);
      const g = convGeometry('conv2d', x.shape, w.shape, p);
      if (b && (b.shape.length !== 1 || b.shape[0] !== g.F)) {
        throw opError('conv2d', `bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(w.shape)}`, `Expected a bias of shape [${g.F}]`);
      }
      return { shape: [g.N, g.F, g.OH, g.OW], dtype: 'float32' };
    },
    kernel({ inputs: [x, w, b], out, params }) {
      const g = convGeometry('conv2d', x!.shape, w!.shape, params);
      const fpt = lanesPerThread(g.fpg);
      const fblocks = ceilDiv(g.fpg, fpt);
      const owblocks = ceilDiv(g.OW, 4);
      const total = g.N * g.groups * fblocks * ceilDiv(g.OH, 2) * owblocks;
      return kernelCall({
        kernel: 'conv2d',
        constants: { HAS_BIAS: b ? 1 : 0, ACT: params.activation === 'relu' ? 1 : 0, SLIDE: slide(g), FPT: fpt, KWC: g.KW, PAIR: slide(g) && g.cpg >= 2 ? 1 : 0 },
        uniforms: { ...convUniforms(g, total), fblocks, owblocks },
        buffers: { x: x!.buf, w: w!.buf, bias: (b ?? w!).buf, out: out.buf },
        workgroups: grid1d(total),
      });
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
      requireF32('conv2dBackpropInput', ins);
      checkDy('conv2dBackpropInput', convGeometry('conv2dBackpropInput', p.inputShape, w.shape, p), dy.shape);
      return { shape: [...p.inputShape], dtype: 'float32' };
    },
    kernel({ inputs: [dy, w], out, params }) {
      const g = convGeometry('conv2dBackpropInput', params.inputShape, w!.shape, params);
      const cpt = lanesPerThread(g.cpg);
      const cblocks = ceilDiv(g.cpg, cpt);
      const iwblocks = ceilDiv(g.W, 4);
      const total = g.N * g.groups * cblocks * ceilDiv(g.H, 2) * iwblocks;
      return kernelCall({
        kernel: 'conv2dInput',
        constants: { SLIDE: slide(g), BATCH_FASTEST: engine.backend!.caps.registerTiling && g.N >= 4 ? 1 : 0, CPT: cpt, UNIT_H: g.sh === 1 && g.dh === 1 ? 1 : 0, PAIR: slide(g) && g.fpg >= 2 ? 1 : 0 },
        uniforms: { ...convUniforms(g, total), cblocks, iwblocks },
        buffers: { dy: dy!.buf, w: w!.buf, dx: out.buf },
        workgroups: grid1d(total),
      });
    },
    // <G, convT(dy, w)> = <conv(G, w), dy>, and its w-derivative is a filter gradient.
    grad: (G, { inputs: [dy, w], params: p, needs }) => [
      needs[0] ? convRaw(G, w!, p) : null,
      needs[1] ? filterGrad(G, dy!, p, w!.shape) : null,
    ],
  },

  // dw = sum over the batch and output positions, split into `chunks` partial sums then reduced.
  conv2dBackpropFilter: {
    shape(ins, p) {
      const [x, dy] = ins as [TensorInfo, TensorInfo];
      requireF32('conv2dBackpropFilter', ins);
      const g = convGeometry('conv2dBackpropFilter', x.shape, p.filterShape, p);
      checkDy('conv2dBackpropFilter', g, dy.shape);
      const { asked, chunks } = rowSplit(g, p);
      if (!Number.isInteger(asked) || asked < 1 || asked > Math.max(1, g.N * g.OH)) {
        throw opError('conv2dBackpropFilter', `chunks ${asked} must be an integer in [1, ${g.N * g.OH}]`);
      }
      const taps = g.cpg * g.KH * g.KW + (p.withBias ? 1 : 0);
      const shape = p.withBias ? [g.F, taps] : [...p.filterShape];
      return { shape, dtype: 'float32', aux: chunks > 1 ? [{ shape: [chunks, g.F * taps], dtype: 'float32' }] : [] };
    },
    kernel({ inputs: [x, dy], out, aux, params }) {
      const g = convGeometry('conv2dBackpropFilter', x!.shape, params.filterShape, params);
      const { rows, rowsPerChunk, chunks } = rowSplit(g, params);
      const partial = chunks > 1 ? aux[0]!.buf : out.buf;
      const buffers = { x: x!.buf, dy: dy!.buf, out: partial };
      const split = { rows, rows_per_chunk: rowsPerChunk };
      const BIAS = params.withBias ? 1 : 0;
      const tile = filterTile(g);
      const fblocks = ceilDiv(g.fpg, tile.filters);
      let main: KernelCall<'conv2dFilterRows'> | KernelCall<'conv2dFilter'>;
      if (tile.rows) {
        const total = chunks * g.groups * fblocks * g.cpg * g.KH;
        main = kernelCall({
          kernel: 'conv2dFilterRows',
          constants: { BIAS, KWT: g.KW, NF: tile.filters },
          uniforms: { ...convUniforms(g, total), fblocks, ...split },
          buffers,
          workgroups: grid1d(total),
        });
      } else {
        const tblocks = ceilDiv(g.cpg * g.KH * g.KW + BIAS, 4);
        const total = chunks * g.groups * fblocks * tblocks;
        main = kernelCall({
          kernel: 'conv2dFilter',
          constants: { BIAS },
          uniforms: { ...convUniforms(g, total), fblocks, tblocks, ...split },
          buffers,
          workgroups: grid1d(total),
        });
      }
      return chunks > 1 ? [main, sumChunks(partial, out.buf, chunks, out.size)] : [main];
    },
    // <G, dw(x, dy)> = <x, convT(dy, G)> = <conv(x, G), dy>; a bias column adds <Gb, sum(dy)>.
    grad(G, { inputs: [x, dy], params: p, needs }) {
      const [Gw, Gb] = p.withBias ? splitBias(G, p.filterShape) : [G, undefined];
      return [
        needs[0] ? inputGrad(dy!, Gw, p, x!.shape) : null,
        needs[1] ? convRaw(x!, Gw, p, Gb) : null,
      ];
    },
  },

  // Inputs: the output gradient and the ReLU's output.
  reluBackward: {
    shape(ins) {
      const [dy, y] = ins as [TensorInfo, TensorInfo];
      requireF32('reluBackward', ins);
      if (dy.shape.length !== y.shape.length || dy.shape.some((d, i) => d !== y.shape[i])) {
        throw opError('reluBackward', `gradient ${fmtShape(dy.shape)} does not match output ${fmtShape(y.shape)}`);
      }
      return { shape: dy.shape, dtype: 'float32' };
    },
    kernel: ({ inputs: [dy, y], out }) =>
      kernelCall({
        kernel: 'reluBackward',
        uniforms: { size: out.size },
        buffers: { dy: dy!.buf, y: y!.buf, dx: out.buf },
        workgroups: grid1d(ceilDiv(out.size, 4)),
      }),
    // Linear in dy with a mask that is constant almost everywhere.
    grad: (G, { inputs: [, y], needs }) => [needs[0] ? reluBackward(G, y!) : null, null],
  },
};
