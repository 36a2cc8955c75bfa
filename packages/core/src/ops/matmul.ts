import { engine } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../shape.js';
import { kernelCall } from '../kernels.js';
import type { Tensor } from '../tensor.js';
import type { OpDefs, OpParams, TensorInfo } from './registry.js';
import { reluBackward, unbroadcast } from './gradutil.js';
import { matmulRaw } from '../api/linalg.js';
import { u32x8 } from './util.js';

type MatmulParams = OpParams['matmul'];

/** Output rows/cols of one matrix product, reading each operand through its transpose flag. */
function dims(a: TensorInfo, b: TensorInfo, p: MatmulParams) {
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, K] = p.transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = p.transB ? [bc, br] : [br, bc];
  return { M, K, Kb, N };
}

/** Register tile of the matmul kernel: each thread computes TM (4 or 8) x TILE_N outputs. */
const TILE_N = 4;
const WG = 8; // 8x8 threads per workgroup

const ACT = { none: 0, relu: 1 } as const;

/**
 * 8 rows per thread where that still leaves enough threads to fill the device (512 on a CPU
 * adapter, whose two cores want long threads; 32k on a GPU), else 4. On SwiftShader 8 rows run
 * a 512x512 product 1.45x faster (185 -> 128 ms); LeNet's dense layers keep 4.
 */
function rowsPerThread(M: number, N: number, batch: number, cpu: boolean): number {
  const threads8 = Math.ceil(M / 8) * Math.ceil(N / TILE_N) * batch;
  return threads8 >= (cpu ? 512 : 32768) ? 8 : 4;
}

/**
 * A GPU takes the workgroup-memory kernel once C has at least four 64x64 blocks; below that (the
 * dense layers of small nets) too few workgroups would run, and the register kernel is used.
 */
function useTiled(M: number, N: number, batch: number, cpu: boolean): boolean {
  return !cpu && M * N * batch >= 4 * 64 * 64;
}

export const matmulOps: OpDefs<'matmul'> = {
  matmul: {
    shape(ins, p) {
      const [a, b, bias] = ins as [TensorInfo, TensorInfo, TensorInfo | undefined];
      const desc = `${fmtShape(a.shape)}${p.transA ? 'ᵀ' : ''} @ ${fmtShape(b.shape)}${p.transB ? 'ᵀ' : ''}`;
      if (a.shape.length < 2 || b.shape.length < 2) throw opError('matmul', `${desc}: both operands need at least 2 dimensions`);
      if (a.dtype !== 'float32' || b.dtype !== 'float32') throw opError('matmul', `${desc}: expected float32 operands, got ${a.dtype} and ${b.dtype}`, 'Convert with .cast("float32")');
      const { M, K, Kb, N } = dims(a, b, p);
      if (K !== Kb) throw opError('matmul', `${desc}: inner dimensions differ (${K} vs ${Kb})`, 'Expected a [..., M, K] @ [..., K, N]');
      const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw opError('matmul', `bias of shape ${fmtShape(bias.shape)} does not match ${N} output columns`);
      return { shape: [...batch, M, N], dtype: 'float32' };
    },
    kernel({ inputs, out, params }) {
      const [a, b, bias] = inputs;
      const { M, K, N } = dims(a!, b!, params);
      const batchShape = out.shape.slice(0, -2);
      const [ar, ac] = a!.shape.slice(-2) as [number, number];
      const [br, bc] = b!.shape.slice(-2) as [number, number];
      const aStr = broadcastStrides(a!.shape.slice(0, -2), batchShape).map((s) => s * ar * ac);
      const bStr = broadcastStrides(b!.shape.slice(0, -2), batchShape).map((s) => s * br * bc);
      const batch = sizeOf(batchShape);
      const uniforms = {
        M, N, K, batch,
        a_rs: params.transA ? 1 : K, a_cs: params.transA ? M : 1,
        b_rs: params.transB ? 1 : N, b_cs: params.transB ? K : 1,
        batch_rank: batchShape.length, batch_shape: u32x8(batchShape), a_bstrides: u32x8(aStr), b_bstrides: u32x8(bStr),
      };
      const buffers = { a: a!.buf, b: b!.buf, bias: (bias ?? a!).buf, out: out.buf };
      const constants = { HAS_BIAS: bias ? 1 : 0, ACT: ACT[params.activation] };
      const caps = engine.backend!.caps;
      if (useTiled(M, N, batch, caps.registerTiling)) {
        return kernelCall({ kernel: 'matmulTiled', constants, uniforms, buffers, workgroups: [Math.ceil(N / 64), Math.ceil(M / 64), batch] });
      }
      const tm = rowsPerThread(M, N, batch, caps.registerTiling);
      return kernelCall({
        kernel: 'matmul',
        constants: { ...constants, TM: tm },
        uniforms,
        buffers,
        workgroups: [Math.ceil(N / (TILE_N * WG)), Math.ceil(M / (tm * WG)), batch],
      });
    },
    grad(dy, { inputs: [a, b, bias], out, params: p, needs }) {
      // One fused masking pass (ops/conv.ts) instead of broadcasting gt + mul.
      const g: Tensor = p.activation === 'relu' ? reluBackward(dy, out) : dy;
      const ta = p.transA, tb = p.transB;
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
