import { broadcastStrides, matmulDims, sizeOf, type KernelArgs, type OpParams } from '@tessera/core';
import type { WasmKernel, WasmRuntime } from '../contract.js';
import { align16, allF32, fn, offsetOf } from './util.js';

/**
 * The matmul wrapper: out[z] = act(A_z B_z + bias) with the module's packed SIMD GEMM (gemm in
 * assembly/gemm.ts) and its bias/ReLU epilogue. transA/transB become element strides of the
 * stored operands, so no operand is transposed in memory; broadcast batch dimensions become
 * batch offsets (a stride of 0 re-reads the same matrix).
 */

type MatmulArgs = KernelArgs<OpParams['matmul']>;

/**
 * Runs rows [rowStart, rowEnd) of every batch matrix of a matmul, split across threads. Returns false for a case it does not handle (non-float32 operands).
 *
 * @example
 * const [args, rt] = [{}, {}] as unknown as Parameters<typeof matmulRows>;
 * matmulRows(args, rt, 0, 64);   // rows 0..63 of each [M, N] output matrix
 */
export function matmulRows(args: MatmulArgs, rt: WasmRuntime, rowStart: number, rowEnd: number): boolean {
  const [a, b, bias] = args.inputs;
  const { out, params } = args;
  if (!a || !b || !allF32(a, b, bias, out)) return false;
  const { M, K, N } = matmulDims(a, b, params);
  const batchShape = out.shape.slice(0, -2);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * M * K);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * K * N);
  const batch = sizeOf(batchShape);
  const lo = Math.max(0, rowStart);
  const hi = Math.min(M, rowEnd);
  if (hi <= lo || N === 0) return true;

  // A(i, k) at i*rsA + k*csA, B(k, j) at k*rsB + j*csB, in elements.
  const [rsA, csA] = params.transA ? [1, M] : [K, 1];
  const [rsB, csB] = params.transB ? [1, K] : [N, 1];
  const [pa, pb, pc] = [rt.ptr(a.buf), rt.ptr(b.buf), rt.ptr(out.buf)];
  const biasPtr = bias ? rt.ptr(bias.buf) : 0;
  const relu = params.activation === 'relu' ? 1 : 0;
  const scratchBytes = align16(fn(rt, 'gemmScratchBytes')(N, K) as number);
  // Split by blocks of 4 rows (the GEMM's tile height) of every batch matrix together: parts
  // own disjoint rows of C, and each packs its own panels of B into its own scratch.
  const rows = hi - lo;
  rt.parallel(Math.ceil(rows / 4), batch * rows * N * K, (b0, b1, call) => {
    const [r0, r1] = [4 * b0, Math.min(rows, 4 * b1)];
    const scratch = rt.scratch(scratchBytes);
    for (let z = 0; z < batch; z++) {
      const aOff = 4 * offsetOf(z, batchShape, aBatch);
      const bOff = 4 * offsetOf(z, batchShape, bBatch);
      const c = pc + 4 * z * M * N;
      call('gemm', pa + aOff, rsA, csA, pb + bOff, rsB, csB, c, N, N, K, lo + r0, lo + r1, 0, scratch);
      call('epilogue', c, N, N, lo + r0, lo + r1, biasPtr, bias ? 1 : 0, relu);
    }
  });
  return true;
}

/**
 * matmul (transA/transB, optional bias [N], activation 'none' | 'relu', batched with
 * broadcasting), all rows on this thread.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof matmul>;
 * matmul(args, rt);   // true: out written
 */
export const matmul: WasmKernel = (args, rt) => {
  const a = (args as unknown as MatmulArgs).inputs[0];
  const rows = a ? a.shape[a.shape.length - ((args as unknown as MatmulArgs).params.transA ? 1 : 2)]! : 0;
  return matmulRows(args as unknown as MatmulArgs, rt, 0, rows);
};
