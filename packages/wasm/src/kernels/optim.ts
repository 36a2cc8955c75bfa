import type { UpdateArgs } from '@tessera/core';
import type { WasmRuntime } from '../contract.js';
import { fn } from './util.js';

/**
 * The optimizer step (assembly/optim.ts) for sgd, momentum, nesterov, adam and adamw, equal
 * bit for bit to the reference's referenceUpdate; the other rules fall back to it.
 */

/** The module's rule codes. */
const RULE_CODES: Partial<Record<UpdateArgs['rule'], number>> = { sgd: 0, momentum: 1, nesterov: 2, adam: 3, adamw: 4 };

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
  const needs = code === 0 ? 0 : code <= 2 ? 1 : 2;
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
