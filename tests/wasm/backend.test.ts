// The WebAssembly backend's runtime (packages/wasm/src): the heap (16-byte alignment, reuse by
// size class, growth that leaves earlier views valid, with and without shared memory), the
// Backend methods (read / write / copy / stats / emptyCache), ops end to end against the
// reference backend, flat memory over 200 eager training steps, and how init() selects it:
// by name, by 'auto' over a CPU-emulated WebGPU adapter, and the clear error without SIMD.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import * as nn from '@tessera/nn';
import { WASM_FACTORY, WasmBackend, WasmHeap, createWasmBackend, sizeClass } from '@tessera/wasm';
import { expectClose, ts } from '../helpers/index.js';

const PAGE = 65536;

afterAll(() => {
  ts.shutdown();
});

describe('the heap', () => {
  const heapOf = (shared: boolean, pages = 2, maxPages = 64) =>
    new WasmHeap(new WebAssembly.Memory({ initial: pages, maximum: maxPages, shared }), { base: PAGE, maximumBytes: maxPages * PAGE });

  it('rounds requests to size classes that are multiples of 16', () => {
    expect([1, 16, 17, 256, 257, 4096, 4097, 5000].map(sizeClass)).toEqual([16, 16, 32, 256, 512, 4096, 5120, 5120]);
    for (let n = 1; n < 70_000; n += 97) {
      const c = sizeClass(n);
      expect(c % 16).toBe(0);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c).toBeLessThan(Math.max(16, n * 1.26 + 256));
    }
  });

  it('aligns every block to 16 bytes, past the module data, and reuses a freed block of the same class', () => {
    const heap = heapOf(false);
    const blocks = [3, 100, 1000, 17, 64].map((n) => heap.alloc(n));
    for (const b of blocks) {
      expect(b.ptr % 16).toBe(0);
      expect(b.ptr).toBeGreaterThanOrEqual(PAGE);
    }
    const ends = blocks.map((b) => [b.ptr, b.ptr + b.capacity]).sort((p, q) => p[0]! - q[0]!);
    for (let i = 1; i < ends.length; i++) expect(ends[i]![0]).toBeGreaterThanOrEqual(ends[i - 1]![1]!);
    blocks[1]!.f32.fill(7);
    heap.release(blocks[1]!);
    expect(heap.pooledBytes).toBe(112);
    const again = heap.alloc(99); // the same class as 100: the same block, zeroed
    expect(again).toBe(blocks[1]);
    expect(again.f32.every((v) => v === 0)).toBe(true);
    expect(heap.pooledBytes).toBe(0);
    expect(heap.created).toBe(5);
  });

  it.each([true, false])('growth keeps earlier buffers readable (shared memory: %s)', (shared) => {
    const heap = heapOf(shared, 2, 256);
    const first = heap.alloc(1000);
    first.f32.set([1, 2, 3]);
    const before = heap.memoryBytes;
    const big = heap.alloc(3 * 2 ** 20); // past the 128 KiB the memory starts with
    expect(heap.memoryBytes).toBeGreaterThan(before);
    expect(heap.grows).toBeGreaterThan(0);
    expect(Array.from(first.f32.subarray(0, 3))).toEqual([1, 2, 3]);
    big.f32[big.f32.length - 1] = 5;
    expect(new Float32Array(heap.memory.buffer, big.ptr + big.capacity - 4, 1)[0]).toBe(5);
    // The views look at the memory the kernels see.
    expect(new Float32Array(heap.memory.buffer, first.ptr, 3)).toEqual(new Float32Array([1, 2, 3]));
  });

  it('trim merges pooled blocks into space any size can use, and fails clearly when memory is full', () => {
    const heap = heapOf(true, 2, 4);
    const a = heap.alloc(32 * 1024);
    const b = heap.alloc(32 * 1024);
    const c = heap.alloc(16);
    heap.release(a);
    heap.release(b);
    expect(heap.trim()).toBe(64 * 1024);
    expect(heap.pooledBytes).toBe(0);
    const d = heap.alloc(60 * 1024); // fits where a and b were
    expect(d.ptr).toBe(a.ptr);
    expect(() => heap.alloc(4 * PAGE)).toThrow(/alloc: the wasm backend's memory is full: .* maximum of 0\.3 MiB .*ts\.emptyCache\(\)/);
    heap.release(c);
    heap.release(d);
    heap.trim();
    expect(heap.alloc(2 * PAGE).ptr).toBe(PAGE); // everything merged back down to the base
  });
});

describe('WasmBackend', () => {
  afterEach(() => ts.shutdown());

  it('writes, reads a copy, copies, pools freed buffers and counts them', async () => {
    const be = await createWasmBackend({ threads: 1 });
    expect(be).toBeInstanceOf(WasmBackend);
    expect(be.info).toMatchObject({ backend: 'wasm', isCPU: true, adapter: 'WebAssembly SIMD (1 thread)' });
    expect(be.info.features).toContain('shared-memory'); // Node has SharedArrayBuffer
    const a = be.alloc(12);
    const b = be.alloc(12);
    be.write(a, new Float32Array([1, NaN, -0]));
    be.copy(a, b, 3);
    const out = await be.read(b, 12);
    expect(out).not.toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(new Float32Array(out))).toEqual([1, NaN, -0]);
    expect(() => be.write(a, new Float32Array(5))).toThrow(/write: 20 bytes do not fit a buffer of 16 bytes/);
    expect(be.stats()).toMatchObject({ allocatedBytes: 32, pooledBytes: 0, buffersCreated: 2, buffers: 2 });
    be.free(a);
    expect(() => be.free(a)).toThrow(/already freed/);
    expect(be.stats()).toMatchObject({ allocatedBytes: 32, pooledBytes: 16, buffers: 2 });
    expect(be.alloc(4)).toBe(a);
    be.free(a);
    expect(be.emptyCache()).toBe(16);
    expect(be.stats()).toMatchObject({ allocatedBytes: 16, pooledBytes: 0, buffers: 1 });
    const other = await createWasmBackend();
    expect(() => other.write(b, new Float32Array(1))).toThrow(/the buffer to write was not allocated by this wasm backend/);
    be.destroy();
    other.destroy();
  });

  it('runs ops end to end with the numbers of the reference backend', async () => {
    const program = async () => {
      const results = ts.tidy(() => {
        const x = ts.randn([2, 3, 8, 8], { seed: 3 });
        const w = ts.randn([4, 3, 3, 3], { seed: 4 });
        const p = ts.maxPool2d(ts.conv2d(x, w, undefined, { padding: 1 }).relu(), { kernelSize: 2 });
        const logits = ts.matmul(p.flatten(), ts.randn([64, 5], { seed: 5 }));
        const labels = ts.tensor([1, 4], { dtype: 'int32' });
        return [ts.softmax(logits), ts.crossEntropy(logits, labels), ts.concat([x.sum(1), x.max(1)], 0), x.transpose([0, 2, 3, 1])];
      });
      const out = await Promise.all(results.map((t) => t.data()));
      ts.dispose(results);
      return out;
    };
    await ts.init({ backend: 'reference' });
    const want = await program();
    await ts.init({ backend: 'wasm' });
    const before = ts.memory();
    const got = await program();
    for (const [i, g] of got.entries()) expectClose(g, want[i]!, { rtol: 1e-4, atol: 1e-5, what: `result ${i}` });
    expect(ts.memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
  });

  it('keeps memory flat over 200 eager steps of a small MLP (Adam), and learns', async () => {
    await ts.init({ backend: 'wasm' });
    const data = new nn.InputLayer([null, 6]);
    const hidden = new nn.DenseLayer(data, { numUnits: 16, W: nn.init.GlorotUniform({ seed: 1 }) });
    const out = new nn.DenseLayer(hidden, { numUnits: 3, W: nn.init.GlorotUniform({ seed: 2 }), nonlinearity: null });
    const opt = nn.updates.adam(out, { learningRate: 1e-2 });
    const x = ts.tensor(
      Array.from({ length: 32 * 6 }, (_, j) => Math.sin(0.37 * j)),
      { shape: [32, 6] },
    );
    const y = ts.tensor(
      Array.from({ length: 32 }, (_, j) => j % 3),
      { dtype: 'int32' },
    );
    const step = async () => {
      const loss = ts.tidy(() => nn.objectives.categoricalCrossentropy(nn.getOutput(out, x), y, { fromLogits: true }).mean());
      await opt.step(loss);
      const v = await loss.item();
      loss.dispose();
      return v;
    };
    const first = await step();
    for (let i = 0; i < 3; i++) await step();
    const mem = ts.memory();
    const stats = ts.stats();
    let last = first;
    for (let i = 0; i < 200; i++) last = await step();
    expect(ts.memory()).toMatchObject({ tensors: mem.tensors, bytes: mem.bytes });
    expect(ts.stats().buffers).toBe(stats.buffers);
    expect(ts.stats().allocatedBytes).toBe(stats.allocatedBytes);
    expect(ts.stats().dispatches).toBeGreaterThan(stats.dispatches + 200);
    expect(last).toBeLessThan(first * 0.7);
    opt.dispose();
    nn.disposeLayers(out);
    ts.dispose([x, y]);
  });
});

describe('init() and the wasm backend', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    ts.registerBackend('wasm', { ...WASM_FACTORY, auto: false }); // as tests/setup.ts has it
    ts.shutdown();
  });

  it("starts by name and says so; 'auto' keeps WebGPU while wasm is by name only", async () => {
    const info = await ts.init({ backend: 'wasm' });
    expect(info).toMatchObject({ backend: 'wasm', isCPU: true, reason: "named: init({ backend: 'wasm' })" });
    expect(ts.backendInfo().reason).toBe(info.reason);
    ts.shutdown();
    const auto = await ts.init();
    expect(auto.backend).toBe('webgpu');
    expect(auto.reason).toMatch(/^auto: webgpu, the first automatic backend; wasm, reference start only by name$/);
  });

  it("'auto' takes wasm over a WebGPU adapter that is only a CPU emulation, and says why", async () => {
    ts.registerBackend('wasm', WASM_FACTORY);
    const info = await ts.init();
    // This machine's WebGPU is SwiftShader; on a real GPU 'auto' keeps WebGPU.
    const probe = await (await import('@tessera/webgpu')).probeWebGPU();
    if (probe.emulated) {
      expect(info.backend).toBe('wasm');
      expect(info.reason).toMatch(/^auto: wasm, because webgpu: its adapter .* is a CPU emulation$/);
    } else {
      expect(info.backend).toBe('webgpu');
      expect(info.reason).toMatch(/^auto: webgpu \(adapter .* is a GPU\)/);
    }
  });

  it('fails with a clear error where WebAssembly has no SIMD', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    await expect(ts.init({ backend: 'wasm' })).rejects.toThrow(
      /init: the 'wasm' backend needs WebAssembly SIMD \(128-bit\), which this engine does not support\. Use Node 16\.4\+/,
    );
    // 'auto' passes over it to the next backend, and its probe says why.
    ts.registerBackend('wasm', WASM_FACTORY);
    expect(await WASM_FACTORY.probe!({})).toMatchObject({ available: false });
    expect((await ts.init()).backend).toBe('webgpu');
  });

  it('runs a non-shared memory (a browser page without cross-origin isolation) to the same numbers', async () => {
    const be = await createWasmBackend({ shared: false, initialBytes: 0 });
    expect(be.info.features).not.toContain('shared-memory');
    await ts.init({ backend: be });
    const a = ts.randn([64, 300], { seed: 1 });
    const b = ts.randn([300, 200], { seed: 2 }); // these allocations grow the memory past its start
    const c = a.matmul(b);
    const got = await c.data();
    const want = await ts.tidy(() => ts.matmul(a, b)).data(); // a and b still readable after growth
    expectClose(got, want);
    ts.dispose([a, b, c]);
  });
});

describe('tessera --backend wasm', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    ts.shutdown();
  });

  /** Runs the CLI in this process; resolves to what it printed on stdout. */
  const tessera = async (...argv: string[]) => {
    const { run } = await import('../../packages/cli/src/cli.js');
    let out = '';
    expect(await run(argv, (s) => (out += s))).toBe(0);
    return out;
  };

  it('info names the backend and why: --backend, TESSERA_BACKEND, or auto', async () => {
    expect(await tessera('info', '--backend', 'wasm')).toMatch(
      /^backend: wasm \(registered: webgpu, wasm, reference\)\nwhy: --backend wasm\nadapter: WebAssembly SIMD/,
    );
    ts.shutdown();
    vi.stubEnv('TESSERA_BACKEND', 'wasm');
    expect(await tessera('info')).toMatch(/^backend: wasm .*\nwhy: TESSERA_BACKEND=wasm\n/);
    expect(JSON.parse(await tessera('info', '--json'))).toMatchObject({ backend: 'wasm', reason: "named: init({ backend: 'wasm' })" });
    ts.shutdown();
    vi.stubEnv('TESSERA_BACKEND', 'cuda');
    await expect(tessera('info')).rejects.toThrow(/TESSERA_BACKEND must be one of webgpu, wasm, reference, got 'cuda'/);
    vi.stubEnv('TESSERA_BACKEND', '');
    expect(await tessera('info')).toMatch(/^backend: webgpu .*\nwhy: auto: webgpu, the first automatic backend; wasm, reference start only by name\n/);
  });

  it("--threads sets the wasm backend's threads, as TESSERA_THREADS does", async () => {
    vi.stubEnv('TESSERA_THREADS', ''); // restored after the test, whatever the CLI sets
    expect(await tessera('info', '--backend', 'wasm', '--threads', '1')).toMatch(/\nadapter: WebAssembly SIMD \(1 thread\)\n/);
    ts.shutdown();
    expect(await tessera('info', '--backend', 'wasm', '--threads', '3')).toMatch(/\nadapter: WebAssembly SIMD \(3 threads\)\n/);
    ts.shutdown();
    await expect(tessera('info', '--backend', 'wasm', '--threads', '65')).rejects.toThrow(/--threads must be a whole number from 1 to 64, got '65'/);
    vi.unstubAllEnvs();
  });

  it('train --backend wasm trains LeNet-5 and says so in the JSON line', async () => {
    const line = await tessera('train', '--backend', 'wasm', '--limit', '64', '--test-limit', '64', '--batch-size', '32', '--json');
    expect(JSON.parse(line)).toMatchObject({ backend: 'wasm', steps: 2 });
    expect(JSON.parse(line).adapter).toMatch(/^WebAssembly SIMD \(\d+ threads?\)$/);
  });
});
