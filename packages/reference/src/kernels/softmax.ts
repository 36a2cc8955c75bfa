import { softmaxRows, type KernelArgs } from '@tessera/core';
import { f32Of, floatsOf, i32Of } from '../buffer.js';
import type { KernelGroup } from './util.js';

/**
 * Softmax, log-softmax, their gradient and the fused softmax cross-entropy, as kernels/softmax.wgsl,
 * softmax_backward.wgsl, cross_entropy.wgsl and cross_entropy_backward.wgsl compute them, in
 * float64. A row is the D elements along the axis (see softmaxRows: element j of row r sits at
 * (r / inner) * D * inner + j * inner + r % inner).
 *
 * Every row is made stable the kernels' way: m = the row maximum (the first one; NaNs are
 * skipped, so a NaN reaches the result through the sum instead), and
 *   rest = sum over the other elements of exp(x - m)       (the maximum's own 1 left out)
 *   l    = log(sum exp(x - m)) = log1p(rest)
 * so that softmax = exp(x - m) / (1 + rest) and log-softmax = (x - m) - l.
 */

/** The element offsets of each row of a softmax over `axis` of `shape`. */
function rowsOf(shape: readonly number[], axis: number) {
  const { rows, D, inner } = softmaxRows(shape, axis);
  const at = (r: number, j: number): number => Math.floor(r / inner) * D * inner + j * inner + (r % inner);
  return { rows, D, at };
}

/** The row maximum m (first strict maximum, from -inf), rest and l = log1p(rest) of `D` values. */
function rowStats(values: (j: number) => number, D: number): { m: number; rest: number; l: number } {
  let m = -Infinity;
  let top = 0;
  for (let j = 0; j < D; j++) {
    if (values(j) > m) {
      m = values(j);
      top = j;
    }
  }
  let rest = 0;
  for (let j = 0; j < D; j++) if (j !== top) rest += Math.exp(values(j) - m);
  return { m, rest, l: Math.log1p(rest) };
}

function softmax(log: boolean) {
  return ({ inputs: [x], out, params }: KernelArgs<{ axis: number }>): void => {
    const { rows, D, at } = rowsOf(x!.shape, params.axis);
    const X = floatsOf(x!);
    const o = f32Of(out);
    for (let r = 0; r < rows; r++) {
      const { m, rest, l } = rowStats((j) => X[at(r, j)]!, D);
      for (let j = 0; j < D; j++) {
        const shifted = X[at(r, j)]! - m;
        o[at(r, j)] = log ? shifted - l : Math.exp(shifted) / (1 + rest);
      }
    }
  };
}

export const softmaxKernels: KernelGroup<'softmax' | 'logSoftmax' | 'softmaxBackward' | 'softmaxCrossEntropy' | 'softmaxCrossEntropyBackward'> = {
  softmax: softmax(false),
  logSoftmax: softmax(true),

  /**
   * Inputs [y, dy] (y the forward output), per row:
   *   softmax:      dx = y * (dy - sum(dy * y))
   *   log-softmax:  dx = dy - exp(y) * sum(dy)
   */
  softmaxBackward({ inputs: [y, dy], out, params }) {
    const { rows, D, at } = rowsOf(y!.shape, params.axis);
    const [Y, DY] = [floatsOf(y!), floatsOf(dy!)];
    const o = f32Of(out);
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += params.log ? DY[at(r, j)]! : DY[at(r, j)]! * Y[at(r, j)]!;
      for (let j = 0; j < D; j++) {
        const i = at(r, j);
        o[i] = params.log ? DY[i]! - Math.exp(Y[i]!) * dot : Y[i]! * (DY[i]! - dot);
      }
    }
  },

  /**
   * Inputs [logits [N, C], labels]; out [N] = each row's loss, with m, l as above:
   *   int32 class ids:     loss = (m - x[label]) + l, NaN for an id outside [0, C)
   *   float32 [N, C] rows: loss = sum_c t_c * ((m - x_c) + l), a zero t_c adding exactly 0
   * aux[0] [N, 3] = the row statistics (m, l, sum_c t_c); the target sum is 1 for class ids
   * (also for an invalid one). softmaxCrossEntropyBackward reads them back.
   */
  softmaxCrossEntropy({ inputs: [x, labels], out, aux: [stats] }) {
    const [N, C] = x!.shape as [number, number];
    const X = floatsOf(x!);
    const o = f32Of(out);
    const s = f32Of(stats!);
    for (let n = 0; n < N; n++) {
      const { m, l } = rowStats((c) => X[n * C + c]!, C);
      s[3 * n] = m;
      s[3 * n + 1] = l;
      if (labels!.dtype === 'int32') {
        const label = i32Of(labels!)[n]!;
        o[n] = label >= 0 && label < C ? m - X[n * C + label]! + l : NaN;
        s[3 * n + 2] = 1;
      } else {
        const T = f32Of(labels!);
        let loss = 0;
        let targetSum = 0;
        for (let c = 0; c < C; c++) {
          const t = T[n * C + c]!;
          if (t !== 0) loss += t * (m - X[n * C + c]! + l);
          targetSum += t;
        }
        o[n] = loss;
        s[3 * n + 2] = targetSum;
      }
    }
  },

  /**
   * Inputs [logits, labels, stats, dy [N]]:
   *   dx[n, c] = (exp((x[n, c] - m_n) - l_n) * targetSum_n - t[n, c]) * dy[n]
   * with t the one-hot row of a class id (or the given row); a row whose class id is outside
   * [0, C) gets NaN everywhere.
   */
  softmaxCrossEntropyBackward({ inputs: [x, labels, stats, dy], out }) {
    const [N, C] = x!.shape as [number, number];
    const [X, S, DY] = [floatsOf(x!), floatsOf(stats!), floatsOf(dy!)];
    const o = f32Of(out);
    const ids = labels!.dtype === 'int32' ? i32Of(labels!) : null;
    const T = ids ? null : f32Of(labels!);
    for (let n = 0; n < N; n++) {
      const [m, l, targetSum] = [S[3 * n]!, S[3 * n + 1]!, S[3 * n + 2]!];
      const valid = !ids || (ids[n]! >= 0 && ids[n]! < C);
      for (let c = 0; c < C; c++) {
        const i = n * C + c;
        const p = Math.exp(X[i]! - m - l) * targetSum;
        const t = ids ? (ids[n] === c ? 1 : 0) : T![i]!;
        o[i] = valid ? (p - t) * DY[n]! : NaN;
      }
    }
  },
};
