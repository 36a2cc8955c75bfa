import { isFloatDType, type DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { OpName, OpParams } from './registry.js';

/**
 * float16 tensors store halves (2 bytes each) and compute in float32: an op with a float16
 * operand reads it through a `cast` to float32, runs its float32 kernel, and rounds the result
 * back to float16 with another `cast`. That is PyTorch's "opmath" for half on CPU (and for most
 * of its CUDA ops): each op rounds once, at its output, so results match `torch.half` to the
 * last bit wherever the float32 kernels match float32 PyTorch. Every backend then needs only
 * its `cast` kernel to know the float16 layout, and autograd sees the casts as ordinary ops, so
 * a float16 leaf gets a float16 gradient.
 */

/** Params of the ops that take a dtype (fill, arange): float16 ones run as float32. */
type WithDType = { dtype?: DType };

/** Whether `op` on these inputs has float16 in or out, and so runs through `runInFloat32`. */
export function touchesHalf(op: OpName, inputs: readonly Tensor[], params: unknown): boolean {
  if (op === 'cast') return false;
  return (params as WithDType).dtype === 'float16' || inputs.some((t) => t.dtype === 'float16');
}

/**
 * The float dtype PyTorch gives an op on these inputs: operands of rank 0 (and the JS numbers
 * core wraps as constant scalars) do not promote a tensor of higher rank, so `halfMatrix * 0.5`
 * and `halfMatrix + ts.scalar(1)` stay float16 while `half + float32Matrix` is float32.
 */
export function resultFloat(inputs: readonly Tensor[], params: unknown): DType {
  const asked = (params as WithDType).dtype;
  if (asked !== undefined) return asked;
  const floats = inputs.filter((t) => isFloatDType(t.dtype));
  const tensors = floats.filter((t) => !t._isConstant());
  const ranked = tensors.filter((t) => t.rank > 0);
  const counted = ranked.length ? ranked : tensors.length ? tensors : floats;
  return counted.some((t) => t.dtype === 'float32') ? 'float32' : 'float16';
}

/**
 * Runs `op` with its float16 operands cast to float32 (through `run`, so the casts are recorded
 * for autograd), and casts a float32 result back to float16 where PyTorch's promotion says the
 * result is half. Integer results (argmax) and float32 ones (half + float32) stay as they are.
 */
export function runInFloat32<K extends OpName>(
  op: K,
  inputs: readonly Tensor[],
  params: OpParams[K],
  run: <J extends OpName>(op: J, inputs: readonly Tensor[], params: OpParams[J]) => Tensor,
): Tensor {
  const wide = inputs.map((t) => (t.dtype === 'float16' ? run('cast', [t], { dtype: 'float32' }) : t));
  const p = (params as WithDType).dtype === 'float16' ? { ...params, dtype: 'float32' } : params;
  let y: Tensor;
  try {
    y = run(op, wide, p);
  } finally {
    for (const [i, t] of wide.entries()) if (t !== inputs[i]) t.dispose();
  }
  if (y.dtype !== 'float32' || resultFloat(inputs, params) !== 'float16') return y;
  const half = run('cast', [y], { dtype: 'float16' });
  y.dispose();
  return half;
}
