import { record } from '../autograd.js';
import { requireTensor } from '../checks.js';
import type { KernelTensor } from '../backend.js';
import { debugAfterOp } from '../debug/hooks.js';
import { allocStorage, requireBackend } from '../engine.js';
import { checkResultShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { OpName, OpParams } from './registry.js';
import { resultFloat, runInFloat32, touchesHalf } from './half.js';
import { OPS } from './table.js';

/** `what` names the tensor in a use-after-dispose error: a string, or an input's index. */
const asKernelTensor = (t: Tensor, op: string, what: string | number): KernelTensor => ({
  shape: t.shape,
  dtype: t.dtype,
  size: t.size,
  buf: (t.disposed ? t._use(op, typeof what === 'number' ? `input ${what}` : what) : t._use(op)).buf,
});

/**
 * Runs one primitive: checks inputs, applies the shape rule, allocates the output, has the
 * backend queue its kernel and records the op for autograd. Every public op ends up here.
 */
export function runOp<K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K]): Tensor {
  const def = OPS[op];
  const backend = requireBackend(op);
  // Public functions that pass their arguments straight through (reshape, matmulRaw) rely on this.
  for (const [i, t] of inputs.entries()) requireTensor(op, t, inputs.length > 1 ? `input ${i}` : 'input');
  const half = !def.view && touchesHalf(op, inputs, params);
  if (half && !backend.takesHalf?.(op, inputs, params)) return runInFloat32(op, inputs, params, runOp);
  const ins = inputs.map((t, i) => asKernelTensor(t, op, inputs.length > 1 ? i : 'input'));
  const ruled = def.shape(ins, params);
  // A float result of a kernel that takes halves has the dtype PyTorch's promotion gives.
  const info = half && ruled.dtype === 'float32' ? { ...ruled, dtype: resultFloat(inputs, params) } : ruled;
  checkResultShape(op, info.shape);
  for (const a of info.aux ?? []) checkResultShape(op, a.shape, 'saved output');
  let out: Tensor;
  const aux: Tensor[] = [];
  if (def.view) {
    out = inputs[0]!._view(info.shape);
  } else {
    out = new Tensor(allocStorage(op, sizeOf(info.shape), info.dtype), [...info.shape], info.dtype);
    for (const a of info.aux ?? []) aux.push(new Tensor(allocStorage(op, sizeOf(a.shape), a.dtype), [...a.shape], a.dtype, false, true));
    if (out.size > 0) {
      const args = { inputs: ins, out: asKernelTensor(out, op, 'output'), aux: aux.map((a) => asKernelTensor(a, op, 'aux')), params };
      backend.run(op, args);
      debugAfterOp(op, args);
    }
  }
  record(op, params, inputs, out, aux);
  if (!out._node) for (const a of aux) a.dispose();
  return out;
}
