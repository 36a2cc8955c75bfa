import type { DeviceBuffer, OptimRule, UpdateArgs } from '@tessera/core';
import { grid1d, kernelCall, type KernelCall } from '../spec.js';

/** WGSL `RULE` codes; they must match the switch in kernels/optim.wgsl. */
const RULE_CODE: Record<OptimRule, number> = {
  sgd: 0,
  momentum: 1,
  nesterov: 2,
  rmsprop: 3,
  adam: 4,
  adamw: 5,
  adagrad: 6,
  adadelta: 7,
  adamax: 8,
};

/**
 * Buffers the backend keeps for the update kernel: placeholders bound where a rule has fewer
 * than two states (WebGPU forbids binding one buffer to two writable slots of a dispatch, so
 * there are two), and a buffer holding 1.0 for an update without a gradient scale.
 */
export interface UpdateBuffers {
  readonly dummy1: DeviceBuffer;
  readonly dummy2: DeviceBuffer;
  readonly one: DeviceBuffer;
  /** Nine more placeholders for optimMulti's writable slots (parameter and states of three). */
  readonly spare: readonly DeviceBuffer[];
}

/** Parameters one optimMulti dispatch steps; it binds 4 storage buffers for each. */
export const UPDATES_PER_MULTI = 3;

/** The hyperparameter uniforms both optimizer kernels take (kernels/lib/optim.wgsl). */
function hyperUniforms(a: UpdateArgs) {
  return {
    lr: a.lr,
    beta1: a.beta1,
    beta2: a.beta2,
    eps: a.eps,
    weight_decay: a.weightDecay,
    momentum: a.momentum,
    bias_correction1: a.biasCorrection1,
    bias_correction2_sqrt: a.biasCorrection2Sqrt,
  };
}

/** One fused in-place optimizer step per parameter (kernels/optim.wgsl). */
export function updateCall(a: UpdateArgs, own: UpdateBuffers): KernelCall<'optim'> {
  return kernelCall({
    kernel: 'optim',
    constants: { RULE: RULE_CODE[a.rule] },
    uniforms: {
      size: a.param.size,
      ...hyperUniforms(a),
    },
    buffers: {
      param: a.param.buf,
      grad: a.grad.buf,
      s1: a.states[0]?.buf ?? own.dummy1,
      s2: a.states[1]?.buf ?? own.dummy2,
      scale: a.scale?.buf ?? own.one,
    },
    workgroups: grid1d(a.param.size),
  });
}

/**
 * Two or three parameters' steps in one dispatch (kernels/optim_multi.wgsl). They share the
 * rule and every hyperparameter, and have no gradient scale (the caller checks:
 * `canGroupUpdates`); an empty third slot binds placeholders and has size 0.
 *
 * @example
 * const [list, own] = [[], {}] as unknown as Parameters<typeof updateManyCall>;
 * updateManyCall(list, own);   // one dispatch over the parameters end to end
 */
export function updateManyCall(list: readonly UpdateArgs[], own: UpdateBuffers): KernelCall<'optimMulti'> {
  const a = list[0]!;
  if (list.length < 2 || list.length > UPDATES_PER_MULTI)
    throw new Error(`applyUpdate: optimMulti takes 2 to ${UPDATES_PER_MULTI} parameters, got ${list.length}`);
  const slot = (k: number) => {
    const u = list[k];
    const spare = (j: number) => own.spare[3 * k + j]!;
    return {
      size: u?.param.size ?? 0,
      param: u?.param.buf ?? spare(0),
      grad: u?.grad.buf ?? own.one,
      s1: u?.states[0]?.buf ?? spare(1),
      s2: u?.states[1]?.buf ?? spare(2),
    };
  };
  const [s0, s1, s2] = [slot(0), slot(1), slot(2)];
  return kernelCall({
    kernel: 'optimMulti',
    constants: { RULE: RULE_CODE[a.rule] },
    uniforms: {
      size0: s0.size,
      size1: s1.size,
      size2: s2.size,
      ...hyperUniforms(a),
    },
    buffers: {
      param0: s0.param,
      grad0: s0.grad,
      s10: s0.s1,
      s20: s0.s2,
      param1: s1.param,
      grad1: s1.grad,
      s11: s1.s1,
      s21: s1.s2,
      param2: s2.param,
      grad2: s2.grad,
      s12: s2.s1,
      s22: s2.s2,
    },
    workgroups: grid1d(s0.size + s1.size + s2.size),
  });
}
