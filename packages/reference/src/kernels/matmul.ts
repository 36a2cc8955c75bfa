import { broadcastStrides, matmulDims, sizeOf } from '@tessera/core';
import { f32Of, floatsOf } from '../buffer.js';
import { offsetOf, wgslMax, type KernelGroup } from './util.js';

/**
 * Batched matrix product, as kernels/matmul.wgsl:
 *
 *   out[z, m, n] = act( sum_k A_z[m, k] * B_z[k, n] + bias[n] )
 *
 * A_z[m, k] is a[z][m, k], or a[z][k, m] with transA (the stored matrix read transposed), and
 * likewise B_z with transB. The leading (batch) dimensions of a and b broadcast NumPy-style to
 * the output's. The dot product is accumulated in float64; the bias [N] is added per column;
 * the 'relu' activation is WGSL's max(v, 0) after the bias (so a NaN becomes 0).
 */
export const matmulKernels: KernelGroup<'matmul'> = {
  matmul({ inputs: [a, b, bias], out, params }) {
    const { M, K, N } = matmulDims(a!, b!, params);
    const batchShape = out.shape.slice(0, -2);
    const [aRows, aCols] = a!.shape.slice(-2) as [number, number];
    const [bRows, bCols] = b!.shape.slice(-2) as [number, number];
    // Element strides of each batch dimension (0 where an operand is broadcast).
    const aBatchStrides = broadcastStrides(a!.shape.slice(0, -2), batchShape).map((s) => s * aRows * aCols);
    const bBatchStrides = broadcastStrides(b!.shape.slice(0, -2), batchShape).map((s) => s * bRows * bCols);
    const batch = sizeOf(batchShape);

    const A = floatsOf(a!);
    const B = floatsOf(b!);
    const BIAS = bias ? floatsOf(bias) : null;
    const o = f32Of(out);
    // Logical A[m, k] and B[k, n] in a stored row-major matrix, reading through the flags.
    const aAt = (off: number, m: number, k: number): number => (params.transA ? A[off + k * M + m]! : A[off + m * K + k]!);
    const bAt = (off: number, k: number, n: number): number => (params.transB ? B[off + n * K + k]! : B[off + k * N + n]!);

    for (let z = 0; z < batch; z++) {
      const aOff = offsetOf(z, batchShape, aBatchStrides);
      const bOff = offsetOf(z, batchShape, bBatchStrides);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += aAt(aOff, m, k) * bAt(bOff, k, n);
          if (BIAS) acc += BIAS[n]!;
          if (params.activation === 'relu') acc = wgslMax(acc, 0);
          o[(z * M + m) * N + n] = acc;
        }
      }
    }
  },
};
