// Fusion in ts.compile: chains of elementwise ops run as one generated kernel (the WGSL code
// generator on WebGPU, the expression interpreter on the reference backend) and give the
// numbers of the unfused ops, on random chains with broadcasting, int32 inputs and several
// stored values; a chain is cut where a stored value would be smaller than the kernel.
import { afterEach, expect, it } from 'vitest';
import { f32Literal } from '../../packages/webgpu/src/fusion/codegen.js';
import { describeEachBackend, expectClose, ts } from '../helpers/index.js';

/** A small deterministic generator, so that a failing chain can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Unary = (x: ts.Tensor) => ts.Tensor;
type Binary = (a: ts.Tensor, b: ts.Tensor) => ts.Tensor;
// Domains kept safe (log and sqrt of positive values, pow of positive bases) so NaNs do not hide differences.
const UNARY: [string, Unary][] = [
  ['neg', (x) => x.neg()],
  ['exp', (x) => x.mul(0.5).exp()],
  ['log', (x) => x.abs().add(0.5).log()],
  ['sqrt', (x) => x.abs().sqrt()],
  ['abs', (x) => x.abs()],
  ['sign', (x) => x.sign()],
  ['relu', (x) => x.relu()],
  ['sigmoid', (x) => x.sigmoid()],
  ['tanh', (x) => x.tanh()],
  ['leakyRelu', (x) => ts.leakyRelu(x, 0.1)],
  ['elu', (x) => ts.elu(x, 0.7)],
  ['square', (x) => x.square()],
  ['reciprocal', (x) => ts.reciprocal(x.abs().add(1))],
];
const BINARY: [string, Binary][] = [
  ['add', (a, b) => a.add(b)],
  ['sub', (a, b) => a.sub(b)],
  ['mul', (a, b) => a.mul(b)],
  ['div', (a, b) => a.div(b.abs().add(1))],
  ['pow', (a, b) => a.abs().add(0.5).pow(b.maximum(-2).minimum(2))],
  ['maximum', (a, b) => a.maximum(b)],
  ['minimum', (a, b) => a.minimum(b)],
  ['gt', (a, b) => a.gt(b)],
  ['le', (a, b) => a.le(b)],
  ['eq', (a, b) => a.gt(0).eq(b.gt(0))],
  ['where', (a, b) => ts.where(a.gt(0), a, b)],
];

/** Shapes that broadcast to `full`: some leading dimensions dropped, some set to 1. */
function broadcastable(r: () => number, full: number[]): number[] {
  const drop = Math.floor(r() * full.length);
  return full.slice(drop).map((d) => (r() < 0.3 ? 1 : d));
}

/** A random chain over three inputs (one of them int32); returns the last value and one intermediate. */
function chain(seed: number): { shapes: number[][]; fn: (a: ts.Tensor, b: ts.Tensor, c: ts.Tensor) => ts.Tensor[]; ops: string[] } {
  const r = rng(seed);
  const full = Array.from({ length: 1 + Math.floor(r() * 3) }, () => 1 + Math.floor(r() * 5));
  const shapes = [full, broadcastable(r, full), broadcastable(r, full)];
  const steps = 3 + Math.floor(r() * 5);
  const plan = Array.from({ length: steps }, () => {
    const unary = r() < 0.5;
    const list = unary ? UNARY : BINARY;
    return { unary, op: list[Math.floor(r() * list.length)]!, i: r(), j: r() };
  });
  const keepAt = Math.floor(r() * steps);
  return {
    shapes,
    ops: plan.map((p) => p.op[0]),
    fn: (a, b, c) => {
      const values = [a, b, c.cast('float32')];
      let kept = a;
      for (const [n, p] of plan.entries()) {
        const x = values[Math.floor(p.i * values.length)]!;
        const y = values[Math.floor(p.j * values.length)]!;
        values.push(p.unary ? (p.op[1] as Unary)(x) : (p.op[1] as Binary)(x, y));
        if (n === keepAt) kept = values.at(-1)!;
      }
      return [values.at(-1)!, kept.mul(1)];
    },
  };
}

// The backends that build fused kernels (the WebAssembly one replays each op's own kernel).
describeEachBackend('fusion', () => {
  const kept: ts.Tensor[] = [];
  const keep = <T extends ts.Tensor>(t: T): T => (kept.push(t), ts.keep(t));
  afterEach(() => {
    for (const t of kept.splice(0)) t.dispose();
  });

  it('fused random chains give the unfused numbers, broadcasting and int32 inputs included', async () => {
    for (let seed = 1; seed <= 24; seed++) {
      const { shapes, fn, ops } = chain(seed);
      const a = keep(ts.randn(shapes[0]!, { seed }));
      const b = keep(ts.randn(shapes[1]!, { seed: seed + 100 }));
      const c = keep(
        ts.tidy(() =>
          ts
            .randn(shapes[2]!, { seed: seed + 200 })
            .mul(2)
            .cast('int32'),
        ),
      );
      const eager = ts.tidy(() => fn(a, b, c));
      const f = ts.compile(fn);
      for (let i = 0; i < 2; i++) ts.dispose(f(a, b, c)); // the first call may make cached scalars
      await f.ready();
      const d0 = ts.stats().dispatches;
      const got = f(a, b, c);
      const dispatches = ts.stats().dispatches - d0;
      const what = `seed ${seed} (${ops.join(', ')} over ${shapes.map((s) => `[${s}]`).join(' ')})`;
      for (const [i, t] of got.entries()) expectClose(await t.data(), await eager[i]!.data(), { what: `${what}, output ${i}` });
      const info = f.info;
      // Each fused kernel stands for at least two ops, and one dispatch replaces them.
      expect(info.fusedKernels, what).toBeGreaterThanOrEqual(1);
      expect(info.fusedOps, what).toBeGreaterThanOrEqual(2 * info.fusedKernels);
      expect(dispatches, what).toBe(info.calls[0]);
      ts.dispose([...got, ...eager]);
      f.dispose();
    }
  });

  it('a chain stores only what is used after it, smaller values by their own elements', async () => {
    const a = keep(ts.randn([4, 10], { seed: 1 }));
    const b = keep(ts.randn([10], { seed: 2 }));
    // e = y.exp() ([10]) is used inside the [4, 10] chain and after it: one kernel stores it
    // and the chain's result; the [10] product at the end goes into the same kernel.
    const fn = (x: ts.Tensor, y: ts.Tensor) => {
      const e = y.exp();
      return [x.mul(y).add(e).relu().neg(), e.mul(3)];
    };
    const f = ts.compile(fn);
    for (let i = 0; i < 2; i++) ts.dispose(f(a, b));
    await f.ready();
    const out = f(a, b);
    const eager = ts.tidy(() => fn(a, b));
    for (const [i, t] of out.entries()) expectClose(await t.data(), await eager[i]!.data(), { what: `output ${i}` });
    expect(f.info).toMatchObject({ fusedKernels: 1, fusedOps: 6, calls: [1] });
    ts.dispose([...out, ...eager]);
    f.dispose();
  });

  it('a value whose buffer the pool hands to a later op of the chain is not overwritten', async () => {
    const x = keep(ts.randn([8, 6], { seed: 3 }));
    const w = keep(ts.randn([6, 6], { seed: 4 }));
    const row = keep(ts.randn([6], { seed: 5 }));
    const fn = (v: ts.Tensor) => {
      const m = v.matmul(w);
      const p = m.mul(row);
      m.dispose(); // its buffer goes back to the pool while the chain goes on
      const q = p.add(row).sigmoid();
      return [q, p.tanh()];
    };
    const f = ts.compile(fn);
    for (let i = 0; i < 2; i++) ts.dispose(f(x));
    await f.ready();
    const out = f(x);
    const eager = ts.tidy(() => fn(x));
    for (const [i, t] of out.entries()) expectClose(await t.data(), await eager[i]!.data(), { what: `output ${i}` });
    expect(f.info.fusedKernels).toBeGreaterThanOrEqual(1);
    ts.dispose([...out, ...eager]);
    f.dispose();
  });

  /** Compiles `fn`, waits for its fused kernels and checks one replay against eager, returning the compiled function's info. */
  async function checkFused(fn: (...a: ts.Tensor[]) => ts.Tensor[], args: ts.Tensor[]) {
    const f = ts.compile(fn);
    for (let i = 0; i < 2; i++) ts.dispose(f(...args));
    await f.ready();
    const d0 = ts.stats().dispatches;
    const out = f(...args);
    const dispatches = ts.stats().dispatches - d0;
    const eager = ts.tidy(() => fn(...args));
    for (const [i, t] of out.entries()) expectClose(await t.data(), await eager[i]!.data(), { what: `output ${i}` });
    ts.dispose([...out, ...eager]);
    const info = f.info;
    f.dispose();
    return { ...info, dispatches };
  }

  it('a chain after a matmul runs as its epilogue, broadcast operands included', async () => {
    const x = keep(ts.randn([5, 7], { seed: 1 }));
    const w = keep(ts.randn([7, 6], { seed: 2 }));
    const r = keep(ts.randn([6], { seed: 3 }));
    const info = await checkFused((a, b, c) => [a.matmul(b).mul(c).add(1).relu()], [x, w, r]);
    expect(info).toMatchObject({ fusedKernels: 1, fusedOps: 4, dispatches: 1 });
  });

  it("a pooling gradient takes the ReLU gradient as its epilogue, and a matmul's input gradient moves down to its ReLU's", async () => {
    const x = keep(ts.randn([2, 3, 6, 6], { seed: 4 }));
    const w = keep(ts.randn([27, 5], { seed: 5 }));
    const loss = (v: ts.Tensor, m: ts.Tensor) => ts.maxPool2d(v.relu(), { kernelSize: 2 }).reshape([2, 27]).matmul(m).relu().sum();
    const step = ts.valueAndGrad(loss);
    const fn = (v: ts.Tensor, m: ts.Tensor) => {
      const { value, grads } = step(v, m);
      return [value, ...grads];
    };
    const info = await checkFused(fn, [x, w]);
    // The product's input gradient (matmul) with the ReLU's gradient of the pooled values,
    // and max-pool's gradient with the first ReLU's.
    expect(info.fusedKernels).toBeGreaterThanOrEqual(2);
  });

  it('transposes, slices and broadcasts are read through their index maps', async () => {
    const x = keep(ts.randn([3, 4, 5], { seed: 6 }));
    const r = keep(ts.randn([4, 1], { seed: 7 }));
    const fn = (v: ts.Tensor, w: ts.Tensor) => [
      v
        .transpose([2, 0, 1])
        .mul(2)
        .add(w.reshape([4])),
      v.slice([1, 0, 2], [2, 3, 3]).exp(),
      v.slice([0, 1, 0], [3, 1, 5]).sub(w.broadcastTo([4, 5]).slice([1, 0], [1, 5])),
    ];
    const info = await checkFused(fn, [x, r]);
    expect(info).toMatchObject({ fusedKernels: 1, dispatches: 1 });
  });

  it('fuse: false keeps one kernel per op', async () => {
    const a = keep(ts.randn([5], { seed: 1 }));
    const f = ts.compile((x: ts.Tensor) => x.exp().neg().relu(), { fuse: false });
    for (let i = 0; i < 2; i++) f(a).dispose();
    await f.ready();
    expect(f.info.fusedKernels).toBe(0);
    expect(f.info.calls[0]).toBe(3);
    f.dispose();
  });
}, ['webgpu', 'reference']);

it('f32Literal writes constants that read back exactly', () => {
  expect(f32Literal(1)).toBe('1.0');
  expect(f32Literal(-0.5)).toBe('(-0.5)');
  expect(f32Literal(0.1)).toBe(String(Math.fround(0.1)));
  expect(f32Literal(1e-30)).toMatch(/e-/);
  expect(f32Literal(Number.POSITIVE_INFINITY)).toBe('bitcast<f32>(0x7f800000u)');
  expect(f32Literal(Number.NaN)).toBe('bitcast<f32>(0x7fc00000u)');
  expect(f32Literal(-0)).toBe('bitcast<f32>(0x80000000u)');
  expect(f32Literal(1e39)).toBe('bitcast<f32>(0x7f800000u)');
});
