import { fmtShape, opError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDefs, OpParams, TensorInfo } from './registry.js';
import { checkActivation, matmulRaw, reluBackward, requireFloat, unbroadcast } from './gradutil.js';

type MatmulParams = OpParams['matmul'];

/** Output rows/cols of one matrix product, reading each operand through its transpose flag. */
export function matmulDims(a: TensorInfo, b: TensorInfo, p: MatmulParams) {
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, K] = p.transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = p.transB ? [bc, br] : [br, bc];
  return { M, K, Kb, N };
}

export const matmulOps: OpDefs<'matmul'> = {
  matmul: {
    shape(ins, p) {
      const [a, b, bias] = ins as [TensorInfo, TensorInfo, TensorInfo | undefined];
      const desc = `${fmtShape(a.shape)}${p.transA ? 'ᵀ' : ''} @ ${fmtShape(b.shape)}${p.transB ? 'ᵀ' : ''}`;
      if (a.shape.length < 2 || b.shape.length < 2) throw opError('matmul', `${desc}: both operands need at least 2 dimensions`);
      // Backends pick a kernel variant by name: an unknown one would fail there, far from the call.
      checkActivation('matmul', p.activation);
      // float16 operands reach here only where the backend's kernel takes halves (ops/half.ts).
      requireFloat('matmul', [a, b]);
      const { M, K, Kb, N } = matmulDims(a, b, p);
      if (K !== Kb) throw opError('matmul', `${desc}: inner dimensions differ (${K} vs ${Kb})`, 'Expected a [..., M, K] @ [..., K, N]');
      const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N))
        throw opError('matmul', `bias of shape ${fmtShape(bias.shape)} does not match ${N} output columns`);
      return { shape: [...batch, M, N], dtype: 'float32' };
    },
    grad(dy, { inputs: [a, b, bias], out, params: p, needs }) {
      // One fused masking pass (ops/conv.ts) instead of broadcasting gt + mul.
      const g: Tensor = p.activation === 'relu' ? reluBackward(dy, out) : dy;
      const ta = p.transA,
        tb = p.transB;
      const da = needs[0]
        ? unbroadcast(ta ? matmulRaw(b!, g, { transA: tb, transB: true }) : matmulRaw(g, b!, { transA: false, transB: !tb }), a!.shape)
        : null;
      const db = needs[1]
        ? unbroadcast(tb ? matmulRaw(g, a!, { transA: true, transB: ta }) : matmulRaw(a!, g, { transA: !ta, transB: false }), b!.shape)
        : null;
      const dbias = bias && needs[2] ? g.sum([...Array(g.rank - 1).keys()]) : null;
      return bias ? [da, db, dbias] : [da, db];
    },
  },
};
