import { isFloatDType } from '../dtype.js';
import { backward } from '../autograd.js';
import { requireTensor } from '../checks.js';
import { opError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { tidy } from './memory.js';
import { trackInScope } from '../engine.js';

/** @internal `t.backward()`. */
export function backwardFrom(t: Tensor, grad?: Tensor): void {
  requireTensor('backward', t, 'output');
  if (grad !== undefined) requireTensor('backward', grad, 'gradient');
  backward(t, grad);
}

/** A copy of `x` outside the autograd graph (shares no gradient history). @example x.detach() */
export function detach(x: Tensor): Tensor {
  return requireTensor('detach', x, 'input')._view(x.shape);
}

function leafCopies(op: string, args: readonly Tensor[]): Tensor[] {
  return args.map((a, i) => {
    if (!(a instanceof Tensor)) throw opError(op, `argument ${i} is not a Tensor`);
    if (!isFloatDType(a.dtype))
      throw opError(op, `argument ${i} is ${a.dtype}; only float tensors have gradients`, "Pass float32 or float16 tensors (convert with .cast('float32'))");
    const leaf = a._view(a.shape);
    leaf.requiresGrad = true;
    return leaf;
  });
}

/**
 * Value and gradients of a scalar function with respect to each of its tensor arguments.
 *
 * @example
 * const { value, grads: [da, db] } = ts.valueAndGrad((a, b) => a.mul(b).sum())(a, b);
 */
export function valueAndGrad<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => { value: Tensor; grads: Tensor[] } {
  return (...args: A) => {
    const leaves = leafCopies('valueAndGrad', args);
    const { value, grads } = tidy(() => {
      const out = f(...(leaves as A));
      if (!(out instanceof Tensor)) throw opError('valueAndGrad', 'the function must return a Tensor');
      if (out.size !== 1)
        throw opError('valueAndGrad', `the function returned shape [${out.shape.join(',')}]; expected a single value`, 'Reduce it with .sum() or .mean()');
      const value = out.detach();
      if (out.requiresGrad) out.backward();
      const grads = leaves.map((l) => {
        const g = l.grad;
        l.grad = null;
        if (!g) return l.mul(0);
        trackInScope(g);
        return g;
      });
      return { value, grads };
    });
    for (const l of leaves) l.dispose();
    return { value, grads };
  };
}

/**
 * The gradient function of a scalar function: `grad(f)(a, b)` returns `[df/da, df/db]`.
 *
 * @example
 * const [dx] = ts.grad((x) => x.mul(x).sum())(ts.tensor([1, 2, 3]));   // [2, 4, 6]
 */
export function grad<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...args: A) => {
    const { value, grads } = vg(...args);
    value.dispose();
    return grads;
  };
}
