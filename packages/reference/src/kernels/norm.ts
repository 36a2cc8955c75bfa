import { batchNormGeometry, type KernelTensor } from '@tessera/core';
import { f32Of, floatsOf } from '../buffer.js';
import type { KernelGroup } from './util.js';

/**
 * Batch normalization, as kernels/batch_norm_stats.wgsl and kernels/batch_norm.wgsl compute it,
 * in float64. x is [rows, C, inner] around the channel axis; channel c's values are
 * x[(n * C + c) * inner + j]. Statistics come as mean [C] and var [C], or as one [2, C] tensor
 * (row 0 the mean, row 1 the variance) passed for both.
 */

/** Calls `fn(i)` with the flat index of every value of channel c. */
function eachOf(g: ReturnType<typeof batchNormGeometry>, c: number, fn: (i: number) => void): void {
  for (let n = 0; n < g.rows; n++) for (let j = 0; j < g.inner; j++) fn((n * g.C + c) * g.inner + j);
}

/** Channel c's mean and variance from the statistics inputs. */
function statsOf(mean: KernelTensor, v: KernelTensor, C: number) {
  const [M, V] = [floatsOf(mean), floatsOf(v)];
  const off = v.shape.length === 2 ? C : 0;
  return (c: number) => ({ mean: M[c]!, var: V[off + c]! });
}

export const normKernels: KernelGroup<'batchNormStats' | 'batchNorm' | 'batchNormGradSums' | 'batchNormBackward' | 'batchNormRunning'> = {
  /** out [2, C]: the mean and the biased variance, two passes in float64. */
  batchNormStats({ inputs: [x], out, params }) {
    const g = batchNormGeometry(x!.shape, params.axis);
    const X = floatsOf(x!);
    const o = f32Of(out);
    for (let c = 0; c < g.C; c++) {
      let sum = 0;
      eachOf(g, c, (i) => {
        sum += X[i]!;
      });
      const mean = sum / g.count;
      let m2 = 0;
      eachOf(g, c, (i) => {
        m2 += (X[i]! - mean) ** 2;
      });
      o[c] = mean;
      o[g.C + c] = m2 / g.count;
    }
  },

  /** y = (x - mean) / sqrt(var + eps) * gamma + beta. */
  batchNorm({ inputs, out, params: p }) {
    const [x, mean, v] = inputs as [KernelTensor, KernelTensor, KernelTensor];
    const g = batchNormGeometry(x.shape, p.axis);
    const stat = statsOf(mean, v, g.C);
    const gamma = p.gamma ? floatsOf(inputs[3]!) : null;
    const beta = p.beta ? floatsOf(inputs[3 + Number(p.gamma)]!) : null;
    const X = floatsOf(x);
    const o = f32Of(out);
    for (let c = 0; c < g.C; c++) {
      const s = stat(c);
      const a = (gamma ? gamma[c]! : 1) / Math.sqrt(s.var + p.epsilon);
      const shift = beta ? beta[c]! : 0;
      eachOf(g, c, (i) => {
        o[i] = (X[i]! - s.mean) * a + shift;
      });
    }
  },

  /** out [2, C]: sum(dy) and sum(dy * (x - mean)) / sqrt(var + eps). */
  batchNormGradSums({ inputs: [x, mean, v, dy], out, params }) {
    const g = batchNormGeometry(x!.shape, params.axis);
    const stat = statsOf(mean!, v!, g.C);
    const [X, DY] = [floatsOf(x!), floatsOf(dy!)];
    const o = f32Of(out);
    for (let c = 0; c < g.C; c++) {
      const s = stat(c);
      let sum = 0;
      let dot = 0;
      eachOf(g, c, (i) => {
        sum += DY[i]!;
        dot += DY[i]! * (X[i]! - s.mean);
      });
      o[c] = sum;
      o[g.C + c] = dot / Math.sqrt(s.var + params.epsilon);
    }
  },

  /**
   * With a = gamma / sqrt(var + eps): dx = a * dy in evaluation; in training, with the sums
   * [sum(dy), sum(dy * xhat)] over the channel's `count` values,
   * dx = a * (dy - sum(dy) / count - xhat * sum(dy * xhat) / count).
   */
  batchNormBackward({ inputs, out, params: p }) {
    const [x, mean, v] = inputs as [KernelTensor, KernelTensor, KernelTensor];
    const g = batchNormGeometry(x.shape, p.axis);
    const stat = statsOf(mean, v, g.C);
    const gamma = p.gamma ? floatsOf(inputs[3]!) : null;
    const DY = floatsOf(inputs[3 + Number(p.gamma)]!);
    const S = p.training ? floatsOf(inputs[4 + Number(p.gamma)]!) : null;
    const X = floatsOf(x);
    const o = f32Of(out);
    for (let c = 0; c < g.C; c++) {
      const s = stat(c);
      const inv = 1 / Math.sqrt(s.var + p.epsilon);
      const a = (gamma ? gamma[c]! : 1) * inv;
      const k1 = S ? S[c]! / g.count : 0;
      const k2 = S ? (S[g.C + c]! / g.count) * inv : 0;
      eachOf(g, c, (i) => {
        o[i] = S ? a * (DY[i]! - k1 - (X[i]! - s.mean) * k2) : a * DY[i]!;
      });
    }
  },

  /** out[c] = (1 - momentum) * running[c] + momentum * scale * stats[row, c]. */
  batchNormRunning({ inputs: [running, stats], out, params }) {
    const [Rn, S] = [floatsOf(running!), floatsOf(stats!)];
    const o = f32Of(out);
    const C = Rn.length;
    for (let c = 0; c < C; c++) o[c] = (1 - params.momentum) * Rn[c]! + params.momentum * (params.scale * S[params.row * C + c]!);
  },
};
