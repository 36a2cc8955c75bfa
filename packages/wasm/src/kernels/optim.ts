import type { UpdateArgs } from '@tessera/core';
import type { WasmRuntime } from '../contract.js';
import { fn } from './util.js';

/**
 * The optimizer step (assembly/optim.ts) for sgd, momentum, nesterov, adam, adamw, rmsprop,
 * adagrad, adadelta and adamax, equal bit for bit to the reference's referenceUpdate; any other
 * rule falls back to it.
 */

/** The module's rule codes. */
const RULE_CODES: Partial<Record<UpdateArgs['rule'], number>> = {
  sgd: 0,
  momentum: 1,
  nesterov: 2,
  adam: 3,
  adamw: 4,
  rmsprop: 5,
  adagrad: 6,
  adadelta: 7,
  adamax: 8,
};

/**
 * The states a rule reads: momentum and nesterov their buffer, Adam(W) and adamax two moments,
 * rmsprop its square average (and a momentum buffer when momentum > 0, as a float32 value, as
 * the reference compares it), adagrad its sum, adadelta two averages.
 */
function statesNeeded(rule: UpdateArgs['rule'], momentum: number): number {
  if (rule === 'sgd') return 0;
  if (rule === 'momentum' || rule === 'nesterov' || rule === 'adagrad') return 1;
  if (rule === 'rmsprop') return Math.fround(momentum) > 0 ? 2 : 1;
  return 2;
}

/**
 * One in-place optimizer step on the WebAssembly memory; false when the rule or a dtype is not
 * handled here (the backend then runs the reference's).
 *
 * @example
 * import { referenceUpdate } from '@tessera/reference';
 * const [args, rt] = [{}, {}] as Parameters<typeof WASM_UPDATE>;
 * if (!WASM_UPDATE(args, rt)) referenceUpdate(args);   // (the backend passes views of the same memory)
 */
export function WASM_UPDATE(args: UpdateArgs, rt: WasmRuntime): boolean {
  const code = RULE_CODES[args.rule];
  if (code === undefined) return false;
  const tensors = [args.param, args.grad, ...args.states, ...(args.scale ? [args.scale] : [])];
  if (tensors.some((t) => t.dtype !== 'float32')) return false;
  const needs = statesNeeded(args.rule, args.momentum);
  if (args.states.length < needs) return false;
  const scale = args.scale ? new Float32Array(rt.memory.buffer, rt.ptr(args.scale.buf), 1)[0]! : 1;
  const state = (i: number): number => (i < needs ? rt.ptr(args.states[i]!.buf) : 0);
  const f = Math.fround;
  fn(rt, 'update')(
    code,
    rt.ptr(args.param.buf),
    rt.ptr(args.grad.buf),
    state(0),
    state(1),
    args.param.size,
    scale,
    f(args.lr),
    f(args.beta1),
    f(args.beta2),
    f(args.eps),
    f(args.weightDecay),
    f(args.momentum),
    f(args.biasCorrection1),
    f(args.biasCorrection2Sqrt),
  );
  return true;
}
