import { E } from './expr.js';
import { checkShape } from '../shape.js';
import type { OpDefs } from './registry.js';

const noInputs = (op: string, n: number): void => {
  if (n !== 0) throw new Error(`${op}: takes no tensor inputs`);
};

export const creationOps: OpDefs<'fill' | 'arange' | 'random'> = {
  fill: {
    shape: (ins, p) => (noInputs('fill', ins.length), { shape: checkShape('fill', p.shape), dtype: p.dtype }),
    grad: null,
    expr: (_ins, p) => E.c(p.value),
  },
  arange: {
    shape: (ins, p) => (noInputs('arange', ins.length), { shape: [p.count], dtype: p.dtype }),
    grad: null,
  },
  random: {
    shape: (ins, p) => (noInputs('random', ins.length), { shape: checkShape('random', p.shape), dtype: 'float32' }),
    grad: null,
  },
};
