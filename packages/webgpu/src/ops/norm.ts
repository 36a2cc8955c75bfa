import { batchNormGeometry, type DeviceBuffer, type KernelTensor } from '@tessera/core';
import { type DeviceCaps, grid1d, kernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';

/**
 * Batch normalization (kernels/batch_norm_stats.wgsl, kernels/batch_norm.wgsl). Every pass over
 * x runs a thread per (block of rows, position in a row), see kernels/lib/batch_norm.wgsl; the
 * block size sets the thread count. A CPU adapter wants a few thousand threads that each walk
 * many rows (less per-thread setup); a GPU wants tens of thousands and short walks.
 */

/** Threads to aim for: per-element passes and reductions, CPU adapter vs GPU. */
const TARGET = { pass: { cpu: 4096, gpu: 1 << 18 }, reduce: { cpu: 4096, gpu: 1 << 15 } };
/** On a CPU adapter, chunks per channel from which a workgroup per channel merges them. */
const ROWS_COMBINE_MIN = 16384;

function layout(x: KernelTensor, axis: number, caps: DeviceCaps, kind: 'pass' | 'reduce') {
  const { rows, C, inner } = batchNormGeometry(x.shape, axis);
  const R = C * inner;
  const target = TARGET[kind][caps.registerTiling ? 'cpu' : 'gpu'];
  const want = Math.min(Math.max(rows, 1), Math.max(1, Math.ceil(target / Math.max(R, 1))));
  const block = Math.max(1, Math.ceil(rows / want));
  const blocks = Math.ceil(rows / block);
  return { rows, C, inner, R, block, blocks, threads: R * blocks };
}

/** The uniform block; `var_off` is C when the variance is row 1 of a [2, C] statistics tensor. */
function uniforms(l: ReturnType<typeof layout>, v: KernelTensor | null, eps = 0, momentum = 0, scale = 0) {
  const { rows, C, inner, R, block, blocks } = l;
  return { rows, C, inner, R, block, blocks, var_off: v && v.shape.length === 2 ? C : 0, eps, momentum, scale };
}

/** The reduction of batchNormStats (GRAD 0) or batchNormGradSums (GRAD 1): partial, then combine. */
function reduce(
  x: KernelTensor,
  axis: number,
  caps: DeviceCaps,
  scratch: (bytes: number) => DeviceBuffer,
  out: KernelTensor,
  grad: { mean: KernelTensor; v: KernelTensor; dy: KernelTensor; eps: number } | null,
) {
  const l = layout(x, axis, caps, 'reduce');
  const part = scratch(Math.max(8, 8 * l.threads));
  const u = uniforms(l, grad?.v ?? null, grad?.eps ?? 0);
  const buffers = { x: x.buf, mean: (grad?.mean ?? x).buf, var: (grad?.v ?? x).buf, dy: (grad?.dy ?? x).buf, part, out: out.buf };
  const constants = { GRAD: grad ? 1 : 0 };
  return [
    kernelCall({ kernel: 'batchNormPartial', constants, uniforms: u, buffers, workgroups: grid1d(l.threads) }),
    // SwiftShader pays ~0.1 ms per workgroup that synchronises: a thread per channel unless its chunks are many.
    caps.registerTiling && l.inner * l.blocks < ROWS_COMBINE_MIN
      ? kernelCall({ kernel: 'batchNormCombine', constants, uniforms: u, buffers, workgroups: grid1d(l.C) })
      : kernelCall({ kernel: 'batchNormCombineRows', constants, uniforms: u, buffers, workgroups: grid1d(l.C, 1) }),
  ];
}

export const normKernels: KernelBuilders<'batchNormStats' | 'batchNorm' | 'batchNormGradSums' | 'batchNormBackward' | 'batchNormRunning'> = {
  batchNormStats: ({ inputs: [x], out, params }, { caps, scratch }) => reduce(x!, params.axis, caps, scratch, out, null),

  batchNormGradSums: ({ inputs: [x, mean, v, dy], out, params }, { caps, scratch }) =>
    reduce(x!, params.axis, caps, scratch, out, { mean: mean!, v: v!, dy: dy!, eps: params.epsilon }),

  batchNorm({ inputs, out, params: p }, { caps }) {
    const [x, mean, v] = inputs as [KernelTensor, KernelTensor, KernelTensor];
    const gamma = p.gamma ? inputs[3]! : x;
    const beta = p.beta ? inputs[3 + Number(p.gamma)]! : x;
    const l = layout(x, p.axis, caps, 'pass');
    return kernelCall({
      kernel: 'batchNorm',
      constants: { HAS_GAMMA: p.gamma ? 1 : 0, HAS_BETA: p.beta ? 1 : 0 },
      uniforms: uniforms(l, v, p.epsilon),
      buffers: { x: x.buf, mean: mean.buf, var: v.buf, gamma: gamma.buf, beta: beta.buf, dy: x.buf, sums: x.buf, out: out.buf },
      workgroups: grid1d(l.threads),
    });
  },

  batchNormBackward({ inputs, out, params: p }, { caps }) {
    const [x, mean, v] = inputs as [KernelTensor, KernelTensor, KernelTensor];
    const gamma = p.gamma ? inputs[3]! : x;
    const dy = inputs[3 + Number(p.gamma)]!;
    const sums = p.training ? inputs[4 + Number(p.gamma)]! : x;
    const l = layout(x, p.axis, caps, 'pass');
    return kernelCall({
      kernel: 'batchNormBackward',
      constants: { HAS_GAMMA: p.gamma ? 1 : 0, TRAINING: p.training ? 1 : 0 },
      uniforms: uniforms(l, v, p.epsilon),
      buffers: { x: x.buf, mean: mean.buf, var: v.buf, gamma: gamma.buf, beta: x.buf, dy: dy.buf, sums: sums.buf, out: out.buf },
      workgroups: grid1d(l.threads),
    });
  },

  batchNormRunning({ inputs: [running, stats], out, params }) {
    const C = running!.size;
    const b = running!.buf;
    return kernelCall({
      kernel: 'batchNormRunning',
      uniforms: { rows: 1, C, inner: 1, R: C, block: 1, blocks: 1, var_off: params.row * C, eps: 0, momentum: params.momentum, scale: params.scale },
      buffers: { x: b, mean: b, var: stats!.buf, gamma: b, beta: b, dy: b, sums: b, out: out.buf },
      workgroups: grid1d(C),
    });
  },
};
