import type { DType } from './dtype.js';
import { fmtShape, opError } from './errors.js';
import type { TensorInfo } from './ops/registry.js';
import { Tensor } from './tensor.js';

/**
 * The argument checks every op shares, written once so their messages stay alike:
 * `<op>: <name> must be a Tensor, got string`, `<op>: input 1 of shape [2,3] is int32; ...`.
 */

/** Throws unless `v` is a Tensor, naming the op and the argument. */
export function requireTensor(op: string, v: unknown, name: string): Tensor {
  if (!(v instanceof Tensor)) {
    const got = v === null ? 'null' : v instanceof Promise ? 'a Promise (did you forget await?)' : typeof v;
    throw opError(op, `${name} must be a Tensor, got ${got}`);
  }
  return v;
}

/**
 * Throws unless every tensor is float32, naming the first that is not: `what` labels a single
 * tensor ('input', 'output gradient'); in a list they are 'input 0', 'input 1', ...
 */
export function requireFloat32(op: string, ts: TensorInfo | readonly TensorInfo[], what = 'input'): void {
  requireDTypes(op, ts, what, ['float32']);
}

/** As `requireFloat32`, but float16 passes too (for ops whose kernels may take halves). */
export function requireFloat(op: string, ts: TensorInfo | readonly TensorInfo[], what = 'input'): void {
  requireDTypes(op, ts, what, ['float32', 'float16']);
}

function requireDTypes(op: string, ts: TensorInfo | readonly TensorInfo[], what: string, allowed: readonly DType[]): void {
  const list = Array.isArray(ts) ? (ts as readonly TensorInfo[]) : [ts as TensorInfo];
  const i = list.findIndex((t) => !allowed.includes(t.dtype));
  if (i < 0) return;
  const label = Array.isArray(ts) && list.length > 1 ? `${what} ${i}` : what;
  throw opError(op, `${label} of shape ${fmtShape(list[i]!.shape)} is ${list[i]!.dtype}; expected ${allowed.join(' or ')}`, 'Convert it with .cast("float32")');
}

/** Throws unless `activation` is one of the fused epilogues the kernels have ('none', 'relu'). */
export function checkActivation(op: string, activation: unknown): void {
  if (activation !== 'none' && activation !== 'relu')
    throw opError(op, `activation must be 'none' or 'relu', got ${JSON.stringify(activation) ?? String(activation)}`);
}
