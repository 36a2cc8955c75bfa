// The WebAssembly backend on worker threads (packages/wasm/src/threads.ts): every kernel that
// splits its work (convolutions in both forms and their gradients, matmul, max-pooling) gives
// on 2 and 3 threads the bits it gives on one, with every kernel forced to split; a kernel that
// fails on a worker is an error on the calling thread and the pool goes on; lists placed in
// memory grown after the workers started; the options and TESSERA_THREADS.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createWasmBackend, hardwareThreads } from '@tessera/wasm';
import { expectClose, ts } from '../helpers/index.js';

afterAll(() => {
  ts.shutdown();
});

/** Forward values and gradients of a small CNN with every splitting kernel in it. */
async function program(): Promise<Float32Array[]> {
  const out = ts.tidy(() => {
    const x = ts.randn([5, 4, 9, 9], { seed: 1 });
    const w1 = ts.randn([6, 2, 3, 3], { seed: 2 }); // groups 2, stride 1: the direct kernel
    const b1 = ts.randn([6], { seed: 3 });
    const w2 = ts.randn([8, 6, 3, 3], { seed: 4 }); // stride 2: im2col + GEMM
    const w3 = ts.randn([5, 8, 1, 1], { seed: 5 }); // pointwise
    const d = ts.randn([3, 1, 45, 7], { seed: 6 }); // broadcast batch matmul
    const f = (xx: ts.Tensor, a: ts.Tensor, bias: ts.Tensor, b: ts.Tensor, c: ts.Tensor, dd: ts.Tensor) => {
      const h1 = ts.conv2d(xx, a, bias, { padding: 1, groups: 2, activation: 'relu' });
      const p = ts.maxPool2d(h1, { kernelSize: 2 });
      const h2 = ts.conv2d(p, b, undefined, { stride: 2, padding: 1 });
      const h3 = ts.conv2d(h2, c);
      const flat = h3.reshape([5, 20]);
      const dense = ts.matmul(flat.reshape([1, 5, 20]).broadcastTo([2, 5, 20]), ts.randn([20, 45], { seed: 7 }));
      return ts.matmul(dense, dd).square().mean();
    };
    const { value, grads } = ts.valueAndGrad(f)(x, w1, b1, w2, w3, d);
    return [value, ...grads];
  });
  const data = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
  for (const t of out) t.dispose();
  return data;
}

/** a [m, k] @ b [k, n] in float64 on the host. */
function hostMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) c[i * n + j]! += a[i * k + q]! * b[q * n + j]!;
  return c;
}

describe('worker threads', () => {
  afterEach(() => {
    ts.shutdown();
    vi.unstubAllEnvs();
  });

  it('give what one thread gives, every kernel split', async () => {
    await ts.init({ backend: await createWasmBackend({ threads: 1 }) });
    const one = await program();
    for (const threads of [2, 3]) {
      const be = await createWasmBackend({ threads, minWorkPerThread: 0 });
      expect(be.info.adapter).toBe(`WebAssembly SIMD (${threads} threads)`);
      expect(be.info.features).toContain('threads');
      await ts.init({ backend: be });
      const before = be.stats().dispatches;
      const many = await program();
      expect(be.stats().dispatches).toBeGreaterThan(before);
      // The same bits: parts own disjoint outputs, and a filter gradient sums its samples in
      // fixed chunks whatever the thread count.
      for (const [i, what] of ['loss', 'dx', 'dw1', 'db1', 'dw2', 'dw3', 'dd'].entries()) {
        expect(Array.from(many[i]!), `${what} on ${threads} threads`).toEqual(Array.from(one[i]!));
      }
      ts.shutdown();
    }
  });

  it('give the reference backend its bits in random, arange, softmax, avgPool2d and pow, forward and backward', async () => {
    /** Seeded tensors through the kernels that split by rows, planes and element ranges. */
    const run = async (): Promise<Float32Array[]> => {
      const out = ts.tidy(() => {
        const u = ts.rand([3, 5, 13, 11], { seed: 4, low: -2, high: 3 });
        const z = ts.randn([1001], { seed: 5, mean: 0.5, std: 2 });
        const r = ts.arange(0, 1001).mul(0.01);
        const f = (x: ts.Tensor, n: ts.Tensor, a: ts.Tensor) => {
          const p = ts.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
          const s = ts.softmax(p, 1).add(ts.logSoftmax(x.reshape([15, 143]), 0).sum());
          return s
            .sum()
            .add(n.abs().pow(a).mean())
            .add(ts.avgPool2d(x, { kernelSize: 2 }).square().sum());
        };
        const { value, grads } = ts.valueAndGrad(f)(u, z, r);
        return [u, z, r, value, ...grads];
      });
      const data = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
      for (const t of out) t.dispose();
      return data;
    };
    await ts.init({ backend: 'reference' });
    const want = await run();
    ts.shutdown();
    for (const threads of [1, 3]) {
      await ts.init({ backend: await createWasmBackend({ threads, minWorkPerThread: 0 }) });
      const got = await run();
      for (const [i, what] of ['rand', 'randn', 'arange', 'value', 'dx', 'dn', 'da'].entries()) {
        expect(Array.from(got[i]!), `${what} on ${threads} thread(s)`).toEqual(Array.from(want[i]!));
      }
      ts.shutdown();
    }
  });

  it('rethrow a kernel that fails on a worker, and go on', async () => {
    const be = await createWasmBackend({ threads: 2, minWorkPerThread: 0 });
    const beyond = be.rt.memory.buffer.byteLength + 1024;
    expect(() =>
      be.rt.parallel(2, 1e9, (lo, _hi, call) => {
        if (lo > 0) call('zero', beyond, 64);
      }),
    ).toThrow(/a kernel call failed on a worker thread: .*out of bounds/);
    await ts.init({ backend: be });
    const [a, b] = [ts.randn([16, 12], { seed: 9 }), ts.randn([12, 8], { seed: 8 })];
    expectClose(await ts.matmul(a, b).data(), hostMatmul(await a.data(), await b.data(), 16, 12, 8), { rtol: 1e-4, atol: 1e-5 });
    ts.shutdown();
    expect(() => be.rt.parallel(2, 1e9, () => {})).toThrow(/the wasm backend was destroyed/);
  });

  it('read their calls from memory grown after they started', async () => {
    const be = await createWasmBackend({ threads: 2, minWorkPerThread: 0, initialBytes: 0 });
    const start = be.rt.memory.buffer.byteLength;
    await ts.init({ backend: be });
    const big = ts.zeros([8 * 2 ** 20]); // 32 MiB: the memory grows past where it started
    expect(start).toBeLessThan(2 ** 20);
    expect(be.rt.memory.buffer.byteLength).toBeGreaterThanOrEqual(32 * 2 ** 20);
    const a = ts.randn([64, 48], { seed: 10 });
    const b = ts.randn([48, 40], { seed: 11 });
    const viaThreads = await ts.matmul(a, b).data();
    expectClose(viaThreads, hostMatmul(await a.data(), await b.data(), 64, 48, 40), { rtol: 1e-4, atol: 1e-5 });
    big.dispose();
  });

  it('are asked for with clear errors', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/createWasmBackend\(\{ threads: 0 \}\): expected a whole number from 1 to 64/);
    await expect(createWasmBackend({ threads: 2, shared: false })).rejects.toThrow(
      /threads: 2 \}\) cannot start worker threads: the memory is not shared .*Leave 'threads' out to run on one/,
    );
    const unshared = await createWasmBackend({ shared: false });
    expect(unshared.info.adapter).toBe('WebAssembly SIMD (1 thread)');
    unshared.destroy();
    vi.stubEnv('TESSERA_THREADS', '3');
    const three = await createWasmBackend();
    expect(three.info.adapter).toBe('WebAssembly SIMD (3 threads)');
    three.destroy();
    vi.stubEnv('TESSERA_THREADS', 'many');
    await expect(createWasmBackend()).rejects.toThrow(/TESSERA_THREADS is 'many'; expected a whole number from 1 to 64/);
    vi.stubEnv('TESSERA_THREADS', '');
    const dflt = await createWasmBackend();
    const n = Math.min(8, hardwareThreads());
    expect(dflt.info.adapter).toBe(`WebAssembly SIMD (${n} thread${n === 1 ? '' : 's'})`);
    dflt.destroy();
  });
});
