// The matmul kernels against a float64 reference, on ragged shapes where the last row and column
// blocks are partly outside: on this adapter's caps (SwiftShader: the register kernel, 8 rows per
// thread for the larger products), then as a GPU gets them (the workgroup-memory kernel from four
// 64x64 blocks of C).
import { beforeAll, describe, it } from 'vitest';
import { createBackend } from '@tessera/webgpu';
import { ts, expectClose } from '../helpers/index.js';

const fill = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + (i % 7) / 7));

/** C[b] = op(A[b]) @ op(B[b]) (+ bias, ReLU) in float64, with A [batch, ar, ac], B [batch, br, bc]. */
function reference(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  M: number,
  K: number,
  N: number,
  tA: boolean,
  tB: boolean,
  bias?: Float32Array,
  relu = false,
): Float64Array {
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = bias ? bias[j]! : 0;
        for (let k = 0; k < K; k++) {
          const av = a[z * M * K + (tA ? k * M + i : i * K + k)]!;
          const bv = b[z * K * N + (tB ? j * K + k : k * N + j)]!;
          s += av * bv;
        }
        out[z * M * N + i * N + j] = relu ? Math.max(0, s) : s;
      }
    }
  }
  return out;
}

for (const registerTiling of [true, false]) {
  describe(`matmul tiles, registerTiling ${registerTiling}`, () => {
    beforeAll(async () => {
      await ts.init({ backend: await createBackend({ caps: { registerTiling } }) });
    });
    for (const [batch, M, K, N] of [
      [1, 130, 70, 140],
      [2, 75, 33, 258],
      [1, 1031, 9, 5],
    ] as const) {
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
      ] as const) {
        it(`[${batch}] ${M}x${K} @ ${K}x${N}${tA ? ' (A transposed)' : ''}${tB ? ' (B transposed)' : ''}`, async () => {
          const a = fill(batch * M * K, 1);
          const b = fill(batch * K * N, 2);
          const A = ts.tensor(a, { shape: batch > 1 ? [batch, tA ? K : M, tA ? M : K] : [tA ? K : M, tA ? M : K] });
          const B = ts.tensor(b, { shape: batch > 1 ? [batch, tB ? N : K, tB ? K : N] : [tB ? N : K, tB ? K : N] });
          const C = ts.matmulRaw(A, B, { transA: tA, transB: tB });
          expectClose(await C.data(), reference(a, b, batch, M, K, N, tA, tB), { rtol: 1e-4, atol: 1e-4 });
          ts.dispose([A, B, C]);
        });
      }
    }

    it('fuses bias and ReLU', async () => {
      const [M, K, N] = [257, 40, 66];
      const a = fill(M * K, 3);
      const b = fill(K * N, 4);
      const bias = fill(N, 5);
      const [A, B, Bias] = [ts.tensor(a, { shape: [M, K] }), ts.tensor(b, { shape: [K, N] }), ts.tensor(bias)];
      const C = ts.linear(A, B, Bias, { activation: 'relu' });
      expectClose(await C.data(), reference(a, b, 1, M, K, N, false, false, bias, true), { rtol: 1e-4, atol: 1e-4 });
      ts.dispose([A, B, Bias, C]);
    });
  });
}
