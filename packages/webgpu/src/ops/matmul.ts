import { broadcastStrides, matmulDims, sizeOf, type OpParams, type TensorInfo } from '@tessera/core';
import { kernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';
import { u32x8 } from './util.js';
import { bucketKey, type VariantOf } from '../tune/sites.js';

/** Register tile of the matmul kernel: each thread computes TM (4 or 8) x TILE_N outputs. */
const TILE_N = 4;
const WG = 8; // 8x8 threads per workgroup

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

/** splitK and subgroup are legal from this K on: below it, one thread walks K quickly enough alone. */
const SPLIT_K_MIN_K = 64;

/**
 * splitK's grid of cells (kernels/matmul_splitk.wgsl): CELLS_M rows of 4x4 cells, 4 in all,
 * shaped after C so that the fewest computed outputs fall outside it (a batch of 1, 10 classes).
 * Ties go to the square block, which reads the fewest A and B elements per output.
 */
function splitKCellsM(M: number, N: number): number {
  let best = 2;
  let bestArea = Infinity;
  for (const cm of [2, 1, 4]) {
    const area = Math.ceil(M / (4 * cm)) * 4 * cm * Math.ceil(N / (16 / cm)) * (16 / cm);
    if (area < bestArea) [best, bestArea] = [cm, area];
  }
  return best;
}

/**
 * Whether tiled128 may load an operand's quads (4 elements along its contiguous dimension) as
 * aligned vec4s: that dimension is a multiple of 4, and so is every other offset of the quads
 * (the other stride, unless that dimension is 1, and the batch strides).
 * `contiguous` and `other` are (size, stride) of the operand's two dimensions, the contiguous
 * one being the one kernels/matmul_tiled128.wgsl takes quads along for these strides.
 */
function quadsAligned(contiguous: number, other: readonly [size: number, stride: number], batchStrides: readonly number[]): boolean {
  const [size, stride] = other;
  return contiguous % 4 === 0 && (size === 1 || stride % 4 === 0) && batchStrides.every((s) => s % 4 === 0);
}

/**
 * Whether kernels/matmul_half.wgsl takes this product (Backend.takesHalf): every operand float16
 * (bias included), and an even N, so that each thread's four output columns are whole words.
 * Other products with halves run in float32 between casts.
 *
 * @example matmulTakesHalf([{ shape: [64, 400], dtype: 'float16' }, { shape: [400, 120], dtype: 'float16' }], { transA: false, transB: false, activation: 'none' }) // true
 */
export function matmulTakesHalf(inputs: readonly TensorInfo[], params: OpParams['matmul']): boolean {
  const [a, b] = inputs;
  if (!a || !b || inputs.some((t) => t.dtype !== 'float16')) return false;
  return matmulDims(a, b, params).N % 2 === 0;
}

export const matmulKernels: KernelBuilders<'matmul'> = {
  matmul({ inputs, out, params }, ctx) {
    const { caps } = ctx;
    const [a, b, bias] = inputs;
    const { M, K, N } = matmulDims(a!, b!, params);
    const batchShape = out.shape.slice(0, -2);
    const [ar, ac] = a!.shape.slice(-2) as [number, number];
    const [br, bc] = b!.shape.slice(-2) as [number, number];
    const aStr = broadcastStrides(a!.shape.slice(0, -2), batchShape).map((s) => s * ar * ac);
    const bStr = broadcastStrides(b!.shape.slice(0, -2), batchShape).map((s) => s * br * bc);
    const batch = sizeOf(batchShape);
    const uniforms = {
      M,
      N,
      K,
      batch,
      a_rs: params.transA ? 1 : K,
      a_cs: params.transA ? M : 1,
      b_rs: params.transB ? 1 : N,
      b_cs: params.transB ? K : 1,
      batch_rank: batchShape.length,
      batch_shape: u32x8(batchShape),
      a_bstrides: u32x8(aStr),
      b_bstrides: u32x8(bStr),
      flags: (bias ? 1 : 0) | (params.activation === 'relu' ? 2 : 0),
    };
    const buffers = { a: a!.buf, b: b!.buf, bias: (bias ?? a!).buf, out: out.buf };
    const cpu = caps.registerTiling;
    if (a!.dtype === 'float16') {
      // Halves in and out (matmulTakesHalf): the register kernel, with the rows the float32
      // heuristic would take. No variants to tune: it is the one kernel that reads halves.
      const tm = rowsPerThread(M, N, batch, cpu);
      // Word-pair loads where a row of A (k) or of B (n) runs contiguously through whole words.
      const constants = { TM: tm, A_PAIRS: !params.transA && K % 2 === 0 ? 1 : 0, B_PAIRS: params.transB ? 0 : 1 };
      return kernelCall({ kernel: 'matmulHalf', constants, uniforms, buffers, workgroups: [Math.ceil(N / (TILE_N * WG)), Math.ceil(M / (tm * WG)), batch] });
    }
    const pick: VariantOf<'matmul'> = useTiled(M, N, batch, cpu) ? 'tiled64' : rowsPerThread(M, N, batch, cpu) === 8 ? 'register8' : 'register4';
    const bucket = bucketKey({ M, N, K, batch }, { tA: params.transA ? 1 : 0, tB: params.transB ? 1 : 0 });
    // Every variant computes any product; splitK and subgroup only pay for a long reduction.
    const legal: VariantOf<'matmul'>[] = ['register4', 'register8', 'tiled64', 'tiled128'];
    if (K >= SPLIT_K_MIN_K) legal.push('splitK');
    if (K >= SPLIT_K_MIN_K && caps.subgroups) legal.push('subgroup');
    const variant = ctx.variant('matmul', bucket, legal, pick);
    if (variant === 'tiled64') {
      return kernelCall({ kernel: 'matmulTiled', uniforms, buffers, workgroups: [Math.ceil(N / 64), Math.ceil(M / 64), batch] });
    }
    if (variant === 'tiled128') {
      // The kernel takes A's quads along K where a_cs is 1 (row-major), else along M; B's
      // along N where b_cs is 1, else along K.
      const { a_rs, a_cs, b_rs, b_cs } = uniforms;
      const vecA = a_cs === 1 ? quadsAligned(K, [M, a_rs], aStr) : quadsAligned(M, [K, a_cs], aStr);
      const vecB = b_cs === 1 ? quadsAligned(N, [K, b_rs], bStr) : quadsAligned(K, [N, b_cs], bStr);
      return kernelCall({
        kernel: 'matmulTiled128',
        constants: { VEC_A: vecA ? 1 : 0, VEC_B: vecB ? 1 : 0 },
        uniforms,
        buffers,
        workgroups: [Math.ceil(N / 128), Math.ceil(M / 128), batch],
      });
    }
    if (variant === 'subgroup') {
      return kernelCall({ kernel: 'matmulSubgroup', uniforms, buffers, workgroups: [Math.ceil(N / 4), Math.ceil(M / 4), batch] });
    }
    if (variant === 'splitK') {
      const cellsM = splitKCellsM(M, N);
      return kernelCall({
        kernel: 'matmulSplitK',
        constants: { CELLS_M: cellsM },
        uniforms,
        buffers,
        workgroups: [Math.ceil(N / (16 / cellsM)), Math.ceil(M / (4 * cellsM)), batch],
      });
    }
    const tm = variant === 'register8' ? 8 : 4;
    return kernelCall({
      kernel: 'matmul',
      constants: { TM: tm },
      uniforms,
      buffers,
      workgroups: [Math.ceil(N / (TILE_N * WG)), Math.ceil(M / (tm * WG)), batch],
    });
  },
};
