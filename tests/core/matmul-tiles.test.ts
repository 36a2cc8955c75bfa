// The matmul kernels against a float64 reference, on ragged shapes where the last row and column
// blocks are partly outside: on this adapter's caps (SwiftShader: the register kernel, 8 rows per
// thread for the larger products), then as a GPU gets them (the workgroup-memory kernel from four
// 64x64 blocks of C), then each variant the builder only runs when forced or tuned (tiled128,
// splitK, subgroup), checking that the forced variant really ran.
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend, WEBGPU_KERNELS, type KernelContext, type WebGPUBackend } from '@tessera/webgpu';
import type { KernelArgs, OpParams } from '@tessera/core';
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

/** C = op(A) @ op(B) (+ bias, ReLU) in float64 with broadcast batch dimensions: A [...aBatch, ar, ac], B [...bBatch, br, bc]. */
function batchedReference(
  a: Float32Array,
  b: Float32Array,
  aBatch: readonly number[],
  bBatch: readonly number[],
  [M, K, N]: readonly [number, number, number],
  tA: boolean,
  tB: boolean,
  bias?: Float32Array,
  relu = false,
): Float64Array {
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [as, bs] = [pad(aBatch), pad(bBatch)];
  const outBatch = as.map((n, d) => Math.max(n, bs[d]!));
  const batch = outBatch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    // Batch item z's index per dimension, then A's and B's items (size-1 dimensions broadcast).
    let [rem, za, zb, sa, sb] = [z, 0, 0, 1, 1];
    for (let d = rank - 1; d >= 0; d--) {
      const i = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
      za += (as[d] === 1 ? 0 : i) * sa;
      zb += (bs[d] === 1 ? 0 : i) * sb;
      sa *= as[d]!;
      sb *= bs[d]!;
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = bias ? bias[j]! : 0;
        for (let k = 0; k < K; k++) s += a[za * M * K + (tA ? k * M + i : i * K + k)]! * b[zb * K * N + (tB ? j * K + k : k * N + j)]!;
        out[z * M * N + i * N + j] = relu ? Math.max(0, s) : s;
      }
    }
  }
  return out;
}

interface Case {
  /** [M, K, N] of op(A) @ op(B). */
  mkn: readonly [number, number, number];
  tA?: boolean;
  tB?: boolean;
  aBatch?: readonly number[];
  bBatch?: readonly number[];
  bias?: boolean;
  relu?: boolean;
}

const name = ({ mkn: [M, K, N], tA, tB, aBatch = [], bBatch = [], bias, relu }: Case) =>
  `[${[...aBatch, tA ? K : M, tA ? M : K]}] @ [${[...bBatch, tB ? N : K, tB ? K : N]}]${tA ? ' A^T' : ''}${tB ? ' B^T' : ''}${bias ? ' +bias' : ''}${relu ? ' relu' : ''}`;

/** Every transpose of each shape. */
const transposes = (mkn: Case['mkn'], more: Omit<Case, 'mkn'> = {}): Case[] =>
  (
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const
  ).map(([tA, tB]) => ({ mkn, tA, tB, ...more }));

// K is at least 64 throughout, where splitK is legal. Multiples of 4 give tiled128 its vec4 loads
// along every operand's contiguous dimension; 130x70x140 gives scalar loads except row-major B's.
// Each new combination of tiled128's constants (VEC_A, VEC_B; bias and ReLU are uniforms) costs
// SwiftShader ~1.6 s to compile, so the cases share a few.
const CASES: readonly Case[] = [
  ...transposes([130, 70, 140]),
  ...transposes([132, 68, 136]),
  { mkn: [1031, 72, 8] },
  { mkn: [3, 65, 2], tB: true },
  // Batches, and broadcasting: a batch against one matrix, a batch of 1 against 3, [2,1] against [3].
  { mkn: [75, 66, 130], aBatch: [2] },
  { mkn: [36, 64, 40], aBatch: [2], bBatch: [2], tA: true },
  { mkn: [36, 64, 40], aBatch: [1], bBatch: [3] },
  { mkn: [20, 68, 12], aBatch: [2, 1], bBatch: [3], tB: true },
  { mkn: [257, 72, 66], bias: true, relu: true },
  // LeNet-5's dense layers at batch 64 (forward with bias and ReLU; the input and weight
  // gradients) and at batch 1.
  { mkn: [64, 400, 120], bias: true, relu: true },
  { mkn: [64, 120, 84], bias: true, relu: true },
  { mkn: [64, 84, 10], bias: true },
  { mkn: [400, 64, 120], tA: true },
  { mkn: [64, 120, 400], tB: true },
  { mkn: [120, 64, 84], tA: true },
  { mkn: [1, 400, 120], bias: true, relu: true },
];

/**
 * The subgroup variant runs only where the device has the 'subgroups' feature (SwiftShader has
 * it): elsewhere its cases are skipped, saying why.
 */
function skipNoSubgroups(test: { skip: (note?: string) => void }): void {
  console.info("skipped: this adapter's device has no 'subgroups' feature, so the subgroup matmul cannot run");
  test.skip("skipped: this adapter's device has no 'subgroups' feature, so the subgroup matmul cannot run");
}

for (const variant of ['tiled128', 'splitK', 'subgroup'] as const) {
  describe(`matmul variant ${variant}, forced`, () => {
    let backend: WebGPUBackend;
    beforeAll(async () => {
      backend = (await createBackend({ variants: { matmul: variant } })) as WebGPUBackend;
      await ts.init({ backend });
    });
    const runs = () => backend.variantUse.get(`matmul:${variant}`) ?? 0;

    for (const c of CASES) {
      it(name(c), async (test) => {
        if (variant === 'subgroup' && !backend.caps.subgroups) skipNoSubgroups(test);
        const { mkn, tA = false, tB = false, aBatch = [], bBatch = [] } = c;
        const [M, K, N] = mkn;
        const a = fill(aBatch.reduce((x, y) => x * y, 1) * M * K, 1);
        const b = fill(bBatch.reduce((x, y) => x * y, 1) * K * N, 2);
        const bias = c.bias ? fill(N, 5) : undefined;
        const A = ts.tensor(a, { shape: [...aBatch, tA ? K : M, tA ? M : K] });
        const B = ts.tensor(b, { shape: [...bBatch, tB ? N : K, tB ? K : N] });
        const Bias = bias && ts.tensor(bias);
        const before = runs();
        const C = ts.matmulRaw(A, B, { transA: tA, transB: tB }, Bias, c.relu ? 'relu' : 'none');
        const want = batchedReference(a, b, aBatch, bBatch, mkn, tA, tB, bias, c.relu);
        expectClose(await C.data(), want, { rtol: 1e-4, atol: 1e-4 });
        expect(runs(), `${variant} ran`).toBeGreaterThan(before);
        ts.dispose([A, B, C, ...(Bias ? [Bias] : [])]);
      });
    }

    it("takes ts.compile's fused chain as its epilogue", async (test) => {
      if (variant === 'subgroup' && !backend.caps.subgroups) skipNoSubgroups(test);
      const [M, K, N] = [70, 66, 130];
      const [a, b, r] = [fill(M * K, 6), fill(K * N, 7), fill(N, 8)];
      const [A, B, R] = [ts.tensor(a, { shape: [M, K] }), ts.tensor(b, { shape: [K, N] }), ts.tensor(r)];
      const f = ts.compile((x: ts.Tensor, w: ts.Tensor, s: ts.Tensor) => [x.matmul(w).mul(s).add(1).relu()]);
      // The first call records, the second captures and starts building the fused kernel.
      for (let i = 0; i < 2; i++) ts.dispose(f(A, B, R));
      await f.ready();
      const before = runs();
      const d0 = ts.stats().dispatches;
      const [C] = f(A, B, R);
      expect(ts.stats().dispatches - d0, 'one dispatch: the product with its epilogue').toBe(1);
      expect(f.info).toMatchObject({ fusedKernels: 1 });
      expect(runs(), `${variant} ran`).toBeGreaterThan(before);
      const want = reference(a, b, 1, M, K, N, false, false).map((v, i) => Math.max(0, v * r[i % N]! + 1));
      expectClose(await C!.data(), want, { rtol: 1e-4, atol: 1e-4 });
      f.dispose();
      ts.dispose([A, B, R, C!]);
    });
  });
}

describe('matmul variants: legality and specialisation', () => {
  // The builder alone, with buffers it never touches: which variant runs and with what constants.
  const build = (mkn: readonly [number, number, number], tA: boolean, tB: boolean, forced: string, subgroups = false) => {
    const [M, K, N] = mkn;
    const t = (shape: number[]) =>
      ({ shape, dtype: 'float32', buf: {}, size: shape.reduce((x, y) => x * y, 1) }) as unknown as KernelArgs<OpParams['matmul']>['out'];
    const args = {
      inputs: [t(tA ? [K, M] : [M, K]), t(tB ? [N, K] : [K, N])],
      out: t([M, N]),
      aux: [],
      params: { transA: tA, transB: tB, activation: 'none' },
    } as unknown as KernelArgs<OpParams['matmul']>;
    let legal: readonly string[] = [];
    const ctx = {
      caps: { registerTiling: false, subgroups, maxWorkgroupStorageBytes: 16384, maxStorageBufferBytes: 1 << 30 },
      scratch: () => ({}),
      variant: (_site: string, _bucket: string, l: readonly string[], pick: string) => {
        legal = l;
        return l.includes(forced) ? forced : pick;
      },
    } as unknown as KernelContext;
    const call = WEBGPU_KERNELS.matmul(args, ctx) as { kernel: string; constants: Record<string, number> };
    return { legal, kernel: call.kernel, constants: call.constants };
  };

  it('tiled128 loads vec4s exactly where the contiguous dimension is a multiple of 4', () => {
    const vec = (mkn: readonly [number, number, number], tA: boolean, tB: boolean) => {
      const { kernel, constants } = build(mkn, tA, tB, 'tiled128');
      expect(kernel).toBe('matmulTiled128');
      return [constants.VEC_A, constants.VEC_B];
    };
    expect(vec([132, 68, 136], false, false)).toEqual([1, 1]);
    expect(vec([132, 68, 136], true, true)).toEqual([1, 1]);
    // A row-major walks K (70), transposed M (130); B row-major walks N (140), transposed K.
    expect(vec([130, 70, 140], false, false)).toEqual([0, 1]);
    expect(vec([130, 70, 140], true, false)).toEqual([0, 1]);
    expect(vec([130, 70, 140], false, true)).toEqual([0, 0]);
    expect(vec([130, 72, 141], true, true)).toEqual([0, 1]);
    // A single row of a transposed A is contiguous along K.
    expect(vec([1, 400, 120], true, false)).toEqual([1, 1]);
  });

  it('splitK is legal from K = 64, subgroup also needs the feature; the default pick is unchanged', () => {
    expect(build([64, 400, 120], false, false, 'none').legal).toEqual(['register4', 'register8', 'tiled64', 'tiled128', 'splitK']);
    expect(build([64, 400, 120], false, false, 'none', true).legal).toEqual(['register4', 'register8', 'tiled64', 'tiled128', 'splitK', 'subgroup']);
    expect(build([64, 63, 120], false, false, 'none', true).legal).toEqual(['register4', 'register8', 'tiled64', 'tiled128']);
    expect(build([64, 63, 120], false, false, 'splitK').kernel).toBe('matmul');
    expect(build([64, 400, 120], false, false, 'subgroup').kernel).toBe('matmul');
    expect(build([64, 400, 120], false, false, 'subgroup', true).kernel).toBe('matmulSubgroup');
    expect(build([512, 512, 512], false, false, 'none').kernel).toBe('matmulTiled');
  });

  it('splitK shapes its block after C', () => {
    expect(build([1, 400, 120], false, false, 'splitK').constants.CELLS_M).toBe(1);
    expect(build([64, 400, 120], false, false, 'splitK').constants.CELLS_M).toBe(2);
    // 10 columns: blocks of 16 rows x 4 columns compute 2 columns outside C, not 6.
    expect(build([64, 84, 10], false, false, 'splitK').constants.CELLS_M).toBe(4);
  });
});
