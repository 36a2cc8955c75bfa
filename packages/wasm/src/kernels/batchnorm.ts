import { batchNormGeometry, type KernelArgs, type KernelTensor, type OpParams } from '@tessera/core';
import type { ModuleCall, WasmKernel, WasmRuntime } from '../contract.js';
import { allF32, fn } from './util.js';

/**
 * Batch normalization's five primitives (assembly/batchnorm.ts), float64 inside like the
 * reference: x is [rows, C, inner] around the channel axis (core's batchNormGeometry), and the
 * statistics, gradient sums and per-element passes are split across threads by channels. The
 * per-element passes equal the reference bit for bit; the sums differ from its sequential
 * float64 sums only in their order. Cases with an int32 tensor fall back.
 */

type Geometry = ReturnType<typeof batchNormGeometry>;

/**
 * Runs `body` over the channels, split across threads when `work` (element visits) pays,
 * with each part's own scratch for the short-inner walk.
 */
function byChannel(rt: WasmRuntime, g: Geometry, work: number, body: (c0: number, c1: number, scratch: number, call: ModuleCall) => void): void {
  rt.parallel(g.C, work, (lo, hi, call) => {
    const bytes = fn(rt, 'colScratchBytes')(hi - lo, g.inner) as number;
    body(lo, hi, bytes > 0 ? rt.scratch(bytes) : 0, call);
  });
}

/** The byte offsets of mean [C] and var [C]: a [2, C] statistics tensor's var is its row 1. */
function statsPtrs(rt: WasmRuntime, mean: KernelTensor, v: KernelTensor, C: number): [number, number] {
  return [rt.ptr(mean.buf), rt.ptr(v.buf) + (v.shape.length === 2 ? 4 * C : 0)];
}

/**
 * batchNormStats: out [2, C] = the per-channel mean and biased variance.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof batchNormStats>;
 * batchNormStats(args, rt);
 */
export const batchNormStats: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['batchNormStats']>;
  const [x] = inputs;
  if (!x || !allF32(x, out)) return false;
  const g = batchNormGeometry(x.shape, params.axis);
  const [px, po] = [rt.ptr(x.buf), rt.ptr(out.buf)];
  byChannel(rt, g, 2 * x.size, (c0, c1, scratch, call) => {
    call('batchNormStats', px, po, g.rows, g.C, g.inner, c0, c1, scratch);
  });
  return true;
};

/**
 * batchNorm: [x, mean, var, gamma?, beta?] -> y = (x - mean) / sqrt(var + eps) * gamma + beta.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof batchNorm>;
 * batchNorm(args, rt);
 */
export const batchNorm: WasmKernel = (raw, rt) => {
  const { inputs, out, params: p } = raw as unknown as KernelArgs<OpParams['batchNorm']>;
  const [x, mean, v] = inputs;
  const gamma = p.gamma ? inputs[3] : undefined;
  const beta = p.beta ? inputs[3 + Number(p.gamma)] : undefined;
  if (!x || !mean || !v || !allF32(x, mean, v, gamma, beta, out)) return false;
  const g = batchNormGeometry(x.shape, p.axis);
  const [pm, pv] = statsPtrs(rt, mean, v, g.C);
  const [px, py] = [rt.ptr(x.buf), rt.ptr(out.buf)];
  const [pg, pb] = [gamma ? rt.ptr(gamma.buf) : 0, beta ? rt.ptr(beta.buf) : 0];
  byChannel(rt, g, x.size, (c0, c1, scratch, call) => {
    call('batchNormForward', px, pm, pv, pg, pb, py, g.rows, g.C, g.inner, p.epsilon, c0, c1, scratch);
  });
  return true;
};

/**
 * batchNormGradSums: [x, mean, var, dy] -> [2, C] = sum(dy), sum(dy * (x - mean)) / sqrt(var + eps).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof batchNormGradSums>;
 * batchNormGradSums(args, rt);
 */
export const batchNormGradSums: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['batchNormGradSums']>;
  const [x, mean, v, dy] = inputs;
  if (!x || !mean || !v || !dy || !allF32(x, mean, v, dy, out)) return false;
  const g = batchNormGeometry(x.shape, params.axis);
  const [pm, pv] = statsPtrs(rt, mean, v, g.C);
  const [px, pdy, po] = [rt.ptr(x.buf), rt.ptr(dy.buf), rt.ptr(out.buf)];
  byChannel(rt, g, 2 * x.size, (c0, c1, scratch, call) => {
    call('batchNormGradSums', px, pm, pv, pdy, po, g.rows, g.C, g.inner, params.epsilon, c0, c1, scratch);
  });
  return true;
};

/**
 * batchNormBackward: [x, mean, var, gamma?, dy, sums?] -> dx (sums, from batchNormGradSums, in
 * training only).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof batchNormBackward>;
 * batchNormBackward(args, rt);
 */
export const batchNormBackward: WasmKernel = (raw, rt) => {
  const { inputs, out, params: p } = raw as unknown as KernelArgs<OpParams['batchNormBackward']>;
  const [x, mean, v] = inputs;
  const gamma = p.gamma ? inputs[3] : undefined;
  const dy = inputs[3 + Number(p.gamma)];
  const sums = p.training ? inputs[4 + Number(p.gamma)] : undefined;
  if (!x || !mean || !v || !dy || (p.training && !sums) || !allF32(x, mean, v, gamma, dy, sums, out)) return false;
  const g = batchNormGeometry(x.shape, p.axis);
  const [pm, pv] = statsPtrs(rt, mean, v, g.C);
  const [px, pdy, pdx] = [rt.ptr(x.buf), rt.ptr(dy.buf), rt.ptr(out.buf)];
  const [pg, ps] = [gamma ? rt.ptr(gamma.buf) : 0, sums ? rt.ptr(sums.buf) : 0];
  byChannel(rt, g, x.size, (c0, c1, scratch, call) => {
    call('batchNormBackward', px, pm, pv, pg, pdy, ps, pdx, g.rows, g.C, g.inner, p.epsilon, c0, c1, scratch);
  });
  return true;
};

/**
 * batchNormRunning: [running [C], stats [2, C]] -> (1 - momentum) * running + momentum * scale * stats[row].
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof batchNormRunning>;
 * batchNormRunning(args, rt);
 */
export const batchNormRunning: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['batchNormRunning']>;
  const [running, stats] = inputs;
  if (!running || !stats || !allF32(running, stats, out)) return false;
  const C = running.size;
  fn(rt, 'batchNormRunning')(rt.ptr(running.buf), rt.ptr(stats.buf) + 4 * params.row * C, rt.ptr(out.buf), C, params.momentum, params.scale);
  return true;
};
