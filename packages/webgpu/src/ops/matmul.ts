import { broadcastStrides, matmulDims, sizeOf } from '@tessera/core';
import { kernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';
import { u32x8 } from './util.js';
import { bucketKey, type VariantOf } from '../tune/sites.js';

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
    };
    const buffers = { a: a!.buf, b: b!.buf, bias: (bias ?? a!).buf, out: out.buf };
    const constants = { HAS_BIAS: bias ? 1 : 0, ACT: ACT[params.activation] };
    const cpu = caps.registerTiling;
    const pick: VariantOf<'matmul'> = useTiled(M, N, batch, cpu) ? 'tiled64' : rowsPerThread(M, N, batch, cpu) === 8 ? 'register8' : 'register4';
    const bucket = bucketKey({ M, N, K, batch }, { tA: params.transA ? 1 : 0, tB: params.transB ? 1 : 0 });
    const variant = ctx.variant('matmul', bucket, ['register4', 'register8', 'tiled64'], pick);
    if (variant === 'tiled64') {
      return kernelCall({ kernel: 'matmulTiled', constants, uniforms, buffers, workgroups: [Math.ceil(N / 64), Math.ceil(M / 64), batch] });
    }
    const tm = variant === 'register8' ? 8 : 4;
    return kernelCall({
      kernel: 'matmul',
      constants: { ...constants, TM: tm },
      uniforms,
      buffers,
      workgroups: [Math.ceil(N / (TILE_N * WG)), Math.ceil(M / (tm * WG)), batch],
    });
  },
};
