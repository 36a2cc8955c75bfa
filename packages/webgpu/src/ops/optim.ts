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
}

/** One fused in-place optimizer step per parameter (kernels/optim.wgsl). */
export function updateCall(a: UpdateArgs, own: UpdateBuffers): KernelCall<'optim'> {
  return kernelCall({
    kernel: 'optim',
    constants: { RULE: RULE_CODE[a.rule] },
    uniforms: {
      size: a.param.size,
      lr: a.lr,
      beta1: a.beta1,
      beta2: a.beta2,
      eps: a.eps,
      weight_decay: a.weightDecay,
      momentum: a.momentum,
      bias_correction1: a.biasCorrection1,
      bias_correction2_sqrt: a.biasCorrection2Sqrt,
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
