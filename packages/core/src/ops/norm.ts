import { fmtShape, opError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { requireFloat32 } from './gradutil.js';
import type { OpDefs, TensorInfo } from './registry.js';

/**
 * Batch normalization as five primitives. Composed from elementwise ops and reductions it takes
 * 11 dispatches forward and 21 backward, most of them full passes over x (and its reductions
 * over all but one axis run a thread per channel); fused it is two full passes each way, 7
 * dispatches forward in training (with the running update) and 5 backward, and on SwiftShader a
 * [64,16,28,28] forward + backward is ~50x faster (bench/batchnorm.mjs):
 *
 * - `batchNormStats`: per-channel mean and biased variance, [2, C], numerically stable (each
 *   chunk is shifted by the channel's first value and summed twice, then the chunks are merged);
 * - `batchNorm`: (x - mean) / sqrt(var + eps) * gamma + beta, with the batch statistics
 *   (training) or given ones (evaluation);
 * - `batchNormGradSums`: per-channel sum(dy) and sum(dy * xhat), [2, C]: the gradients of beta
 *   and gamma, and what the input gradient needs in training;
 * - `batchNormBackward`: the input gradient;
 * - `batchNormRunning`: one running statistic's new value, (1 - momentum) * running + momentum *
 *   scale * batch (the caller writes it back in place with `assign`).
 *
 * The kernels see x as [rows, C, inner] around the channel axis (`batchNormGeometry`).
 */

/**
 * How the batch-norm kernels see a tensor: `rows` blocks (the axes before `axis`) of C channels
 * of `inner` values each; `count` = rows * inner values are normalized together per channel.
 */
export function batchNormGeometry(shape: readonly number[], axis: number) {
  const C = shape[axis]!;
  const rows = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  return { rows, C, inner, count: rows * inner };
}

function checkInput(op: string, x: TensorInfo, axis: number): number {
  requireFloat32(op, x);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw opError(op, `axis ${axis} is out of range for input ${fmtShape(x.shape)}`);
  }
  return x.shape[axis]!;
}

/** A per-channel vector: [C], or with `stats` also a [2, C] statistics tensor. */
function checkChannels(op: string, what: string, t: TensorInfo, C: number, x: TensorInfo, stats = false): void {
  requireFloat32(op, t, what);
  const s = t.shape;
  const ok = (s.length === 1 && s[0] === C) || (stats && s.length === 2 && s[0] === 2 && s[1] === C);
  if (!ok) {
    throw opError(
      op,
      `${what} ${fmtShape(s)} does not match the ${C} channels of input ${fmtShape(x.shape)}`,
      `Expected [${C}]${stats ? ` or [2, ${C}]` : ''}`,
    );
  }
}

function checkSame(op: string, what: string, t: TensorInfo, x: TensorInfo): void {
  requireFloat32(op, t, what);
  if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
    throw opError(op, `${what} ${fmtShape(t.shape)} does not match input ${fmtShape(x.shape)}`);
  }
}

function checkCount(op: string, inputs: readonly TensorInfo[], expected: number): void {
  if (inputs.length !== expected) throw opError(op, `expected ${expected} inputs, got ${inputs.length}`);
}

export const normOps: OpDefs<'batchNormStats' | 'batchNorm' | 'batchNormGradSums' | 'batchNormBackward' | 'batchNormRunning'> = {
  // [x] -> [2, C]: row 0 the mean, row 1 the biased variance, over all axes but `axis`.
  batchNormStats: {
    shape([x], { axis }) {
      const C = checkInput('batchNormStats', x!, axis);
      return { shape: [2, C], dtype: 'float32' };
    },
    grad: null,
  },

  // [x, mean, var, gamma?, beta?] -> y, shaped like x.
  batchNorm: {
    shape(inputs, p) {
      const [x, mean, v] = inputs;
      checkCount('batchNorm', inputs, 3 + Number(p.gamma) + Number(p.beta));
      const C = checkInput('batchNorm', x!, p.axis);
      checkChannels('batchNorm', 'mean', mean!, C, x!, true);
      checkChannels('batchNorm', 'var', v!, C, x!, true);
      if (p.gamma) checkChannels('batchNorm', 'gamma', inputs[3]!, C, x!);
      if (p.beta) checkChannels('batchNorm', 'beta', inputs[3 + Number(p.gamma)]!, C, x!);
      return { shape: x!.shape, dtype: 'float32' };
    },
    grad(dy, { inputs, params: p, needs }) {
      const [x, mean, v] = inputs as [Tensor, Tensor, Tensor];
      const gi = 3;
      const bi = 3 + Number(p.gamma);
      const gamma = p.gamma ? inputs[gi]! : null;
      const needX = needs[0]!;
      const needGamma = p.gamma && needs[gi]!;
      const needBeta = p.beta && needs[bi]!;
      const { C } = batchNormGeometry(x.shape, p.axis);
      // sum(dy) and sum(dy * xhat): the beta and gamma gradients, and the training input gradient's.
      const sums =
        needGamma || needBeta || (needX && p.training) ? Tensor._fromOp('batchNormGradSums', [x, mean, v, dy], { axis: p.axis, epsilon: p.epsilon }) : null;
      const dx = needX
        ? Tensor._fromOp('batchNormBackward', [x, mean, v, ...(gamma ? [gamma] : []), dy, ...(p.training ? [sums!] : [])], {
            axis: p.axis,
            epsilon: p.epsilon,
            training: p.training,
            gamma: p.gamma,
          })
        : null;
      const row = (r: number): Tensor => sums!.slice([r, 0], [1, C]).reshape([C]);
      const grads: (Tensor | null)[] = [dx, null, null];
      if (p.gamma) grads.push(needGamma ? row(1) : null);
      if (p.beta) grads.push(needBeta ? row(0) : null);
      return grads;
    },
  },

  // [x, mean, var, dy] -> [2, C]: row 0 sum(dy), row 1 sum(dy * (x - mean) / sqrt(var + eps)).
  batchNormGradSums: {
    shape(inputs, { axis }) {
      checkCount('batchNormGradSums', inputs, 4);
      const [x, mean, v, dy] = inputs;
      const C = checkInput('batchNormGradSums', x!, axis);
      checkChannels('batchNormGradSums', 'mean', mean!, C, x!, true);
      checkChannels('batchNormGradSums', 'var', v!, C, x!, true);
      checkSame('batchNormGradSums', 'output gradient', dy!, x!);
      return { shape: [2, C], dtype: 'float32' };
    },
    grad: null,
  },

  // [x, mean, var, gamma?, dy, sums?] -> dx; sums (batchNormGradSums) in training only.
  batchNormBackward: {
    shape(inputs, p) {
      checkCount('batchNormBackward', inputs, 4 + Number(p.gamma) + Number(p.training));
      const [x, mean, v] = inputs;
      const C = checkInput('batchNormBackward', x!, p.axis);
      checkChannels('batchNormBackward', 'mean', mean!, C, x!, true);
      checkChannels('batchNormBackward', 'var', v!, C, x!, true);
      if (p.gamma) checkChannels('batchNormBackward', 'gamma', inputs[3]!, C, x!);
      checkSame('batchNormBackward', 'output gradient', inputs[3 + Number(p.gamma)]!, x!);
      if (p.training) {
        const sums = inputs[4 + Number(p.gamma)]!;
        if (sums.shape.length !== 2 || sums.shape[0] !== 2 || sums.shape[1] !== C) {
          throw opError('batchNormBackward', `gradient sums ${fmtShape(sums.shape)} do not match input ${fmtShape(x!.shape)}`, `Expected [2, ${C}]`);
        }
      }
      return { shape: x!.shape, dtype: 'float32' };
    },
    grad: null,
  },

  // [running [C], stats [2, C]] -> (1 - momentum) * running + momentum * scale * stats[row].
  batchNormRunning: {
    shape([running, stats], { row }) {
      requireFloat32('batchNormRunning', [running!, stats!]);
      const C = running!.shape[0]!;
      if (running!.shape.length !== 1 || stats!.shape.length !== 2 || stats!.shape[0] !== 2 || stats!.shape[1] !== C || (row !== 0 && row !== 1)) {
        throw opError(
          'batchNormRunning',
          `running statistic ${fmtShape(running!.shape)} does not match statistics ${fmtShape(stats!.shape)}`,
          `Expected [C] and [2, C]`,
        );
      }
      return { shape: [C], dtype: 'float32' };
    },
    grad: null,
  },
};
