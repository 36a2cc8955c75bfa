import { requireTensor } from '../checks.js';
import { fmtShape, opError } from '../errors.js';
import { batchNormGeometry } from '../ops/norm.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { assign } from './assign.js';

/** Options of `ts.batchNorm`. @example const opts: ts.BatchNormOptions = { training: true, momentum: 0.1 }; */
export interface BatchNormOptions {
  /** Per-channel scale [C], default none (1). */
  gamma?: Tensor | null;
  /** Per-channel shift [C], default none (0). */
  beta?: Tensor | null;
  /**
   * Running mean [C]: what evaluation normalizes with, and what training updates in place to
   * (1 - momentum) * runningMean + momentum * batch mean.
   */
  runningMean?: Tensor | null;
  /** Running variance [C], updated in training with the unbiased batch variance, as PyTorch. */
  runningVar?: Tensor | null;
  /**
   * True: normalize with the batch statistics and update the running ones. False (the default,
   * as `torch.nn.functional.batch_norm`): normalize with runningMean and runningVar.
   */
  training?: boolean;
  /** Weight of the batch statistic in the running average, default 0.1 (PyTorch's momentum, Lasagne's alpha). */
  momentum?: number;
  /** Added to the variance before the square root, default 1e-5. */
  epsilon?: number;
  /** The channel axis, default 1 (NCHW, or [N, C]); every other axis is normalized over. */
  axis?: number;
}

const OP = 'batchNorm';

function channelArg(name: string, t: unknown, C: number, x: Tensor, axis: number): Tensor | null {
  if (t === undefined || t === null) return null;
  const v = requireTensor(OP, t, name);
  if (v.dtype !== 'float32') throw opError(OP, `${name} ${fmtShape(v.shape)} is ${v.dtype}; expected float32`, 'Convert it with .cast("float32")');
  if (v.rank !== 1 || v.shape[0] !== C) {
    throw opError(
      OP,
      `${name} has shape ${fmtShape(v.shape)}, but input ${fmtShape(x.shape)} has ${C} channels on axis ${axis}`,
      `Expected ${name} of shape [${C}]`,
    );
  }
  return v;
}

/**
 * Batch normalization, as `torch.nn.functional.batch_norm`: every channel (axis 1 of [N, C] or
 * [N, C, H, W], or `axis`) is normalized over all other axes, `(x - mean) / sqrt(var + epsilon)
 * * gamma + beta`.
 *
 * - `training: true` uses the batch's mean and biased variance, and updates `runningMean` and
 *   `runningVar` (if given) in place on the device, with the unbiased variance, as PyTorch does.
 *   The update is not recorded by autograd. A batch of one value per channel is an error.
 * - otherwise it uses `runningMean` and `runningVar`.
 *
 * Fused: the statistics, the normalization, and in backward the two gradient sums and the input
 * gradient are one pass over the data each. Gradients flow to x, gamma and beta.
 *
 * @example
 * const x = ts.randn([8, 3, 4, 4]);
 * const gamma = ts.ones([3], { requiresGrad: true });
 * const beta = ts.zeros([3], { requiresGrad: true });
 * const runningMean = ts.zeros([3]);
 * const runningVar = ts.ones([3]);
 * const y = ts.batchNorm(x, { gamma, beta, runningMean, runningVar, training: true });   // updates the running statistics
 * const z = ts.batchNorm(x, { gamma, beta, runningMean, runningVar });   // evaluation: the running statistics
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions = {}): Tensor {
  requireTensor(OP, x, 'input');
  if (opts === null || typeof opts !== 'object') throw opError(OP, `options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  if (x.dtype !== 'float32') throw opError(OP, `input ${fmtShape(x.shape)} is ${x.dtype}; expected float32`, 'Convert it with .cast("float32")');
  if (x.rank < 2) throw opError(OP, `input ${fmtShape(x.shape)} has rank ${x.rank}; expected [N, C, ...] (rank 2 or more)`);
  const rawAxis = opts.axis ?? 1;
  if (typeof rawAxis !== 'number') throw opError(OP, `axis must be an integer, got ${JSON.stringify(rawAxis)}`);
  const axis = normalizeAxis(OP, rawAxis, x.rank, x.shape);
  const training = opts.training ?? false;
  if (typeof training !== 'boolean') throw opError(OP, `training must be true or false, got ${JSON.stringify(training)}`);
  const momentum = opts.momentum ?? 0.1;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw opError(OP, `momentum must be a number in [0, 1], got ${String(momentum)}`);
  const epsilon = opts.epsilon ?? 1e-5;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0)
    throw opError(OP, `epsilon must be a finite number >= 0, got ${String(epsilon)}`);

  const { C, count } = batchNormGeometry(x.shape, axis);
  const gamma = channelArg('gamma', opts.gamma, C, x, axis);
  const beta = channelArg('beta', opts.beta, C, x, axis);
  const runningMean = channelArg('runningMean', opts.runningMean, C, x, axis);
  const runningVar = channelArg('runningVar', opts.runningVar, C, x, axis);
  if (!runningMean !== !runningVar) {
    throw opError(
      OP,
      `got ${runningMean ? 'runningMean' : 'runningVar'} without ${runningMean ? 'runningVar' : 'runningMean'}`,
      'Pass both running statistics, or neither',
    );
  }
  const affine = [...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const params = { axis, epsilon, training, gamma: gamma !== null, beta: beta !== null };

  if (!training) {
    if (!runningMean || !runningVar) {
      throw opError(
        OP,
        'evaluation (training: false, the default) normalizes with runningMean and runningVar, and neither was given',
        'Pass them, or { training: true } to use the batch statistics',
      );
    }
    return Tensor._fromOp('batchNorm', [x, runningMean, runningVar, ...affine], params);
  }
  if (count <= 1) {
    throw opError(
      OP,
      `expected more than 1 value per channel when training, got input ${fmtShape(x.shape)} (${count} per channel)`,
      'Use a batch of at least 2, or evaluation mode',
    );
  }
  const stats = Tensor._fromOp('batchNormStats', [x], { axis });
  const y = Tensor._fromOp('batchNorm', [x, stats, stats, ...affine], params);
  if (runningMean && runningVar) {
    // Not recorded by autograd: batchNormRunning has no gradient rule. PyTorch's unbiased variance.
    const mean = Tensor._fromOp('batchNormRunning', [runningMean, stats], { momentum, row: 0, scale: 1 });
    const v = Tensor._fromOp('batchNormRunning', [runningVar, stats], { momentum, row: 1, scale: count / (count - 1) });
    assign(runningMean, mean);
    assign(runningVar, v);
    mean.dispose();
    v.dispose();
  }
  stats.dispose();
  return y;
}
