/**
 * The implicit-GEMM conv kernels (kernels/conv2d_gemm*.wgsl), forced at all three conv sites:
 * every conv2d case of the PyTorch fixture (forward, input and filter gradients), then shapes the
 * fixture leaves out (more than one 64-wide block of filters, channels or taps, chunked filter
 * gradients with and without vec4 loads, ragged sizes, LeNet-5's layers) against the direct
 * kernels, and ts.compile's fusion of elementwise chains into the gemm kernels' epilogues.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type WebGPUBackend } from '@tessera/webgpu';
import { ts, expectClose, fromGolden, loadGolden } from '../helpers/index.js';

const GEMM = { conv2d: 'gemm', conv2dBackpropInput: 'gemm', conv2dBackpropFilter: 'gemm' } as const;

interface Extra {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  opts: ts.Conv2dOptions;
}

const EXTRAS: Extra[] = [
  { name: 'ragged N3 C5 F7 11x9, padding 1, bias', x: [3, 5, 11, 9], w: [7, 5, 3, 3], bias: true, opts: { padding: 1 } },
  { name: 'groups 2, stride 2, padding [1, 2]', x: [2, 6, 11, 10], w: [4, 3, 3, 3], opts: { groups: 2, stride: 2, padding: [1, 2] } },
  { name: 'dilation 2, padding 2, bias, relu', x: [2, 4, 10, 9], w: [5, 4, 3, 3], bias: true, opts: { dilation: 2, padding: 2, activation: 'relu' } },
  { name: 'stride [2, 3], dilation [2, 1], 2x4 kernel', x: [2, 3, 13, 14], w: [6, 3, 2, 4], opts: { stride: [2, 3], dilation: [2, 1], padding: 1 } },
  { name: '70 filters (two filter blocks), bias, relu', x: [2, 3, 6, 6], w: [70, 3, 3, 3], bias: true, opts: { padding: 1, activation: 'relu' } },
  { name: '66 channels (two channel blocks, ten tap blocks), bias', x: [1, 66, 5, 5], w: [4, 66, 3, 3], bias: true, opts: {} },
  { name: 'odd OH*OW, chunked filter gradient without vec4', x: [4, 3, 15, 15], w: [5, 3, 3, 3], bias: true, opts: {} },
  { name: 'LeNet-5 conv1 [16,1,28,28] with [6,1,5,5], padding 2', x: [16, 1, 28, 28], w: [6, 1, 5, 5], bias: true, opts: { padding: 2, activation: 'relu' } },
  { name: 'LeNet-5 conv2 [16,6,14,14] with [16,6,5,5]', x: [16, 6, 14, 14], w: [16, 6, 5, 5], bias: true, opts: { activation: 'relu' } },
];

/** Deterministic values in [-1, 1) (an LCG), the same for both backends. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed * 7919 + 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The output, then the gradients of x, w (and bias), of sum(conv2d(x, w, b) * cotangent). */
async function runExtra(e: Extra): Promise<Float32Array[]> {
  return ts.tidy(async () => {
    const x = ts.tensor(values(size(e.x), 1), { shape: e.x, requiresGrad: true });
    const w = ts.tensor(values(size(e.w), 2), { shape: e.w, requiresGrad: true });
    const b = e.bias ? ts.tensor(values(e.w[0]!, 3), { shape: [e.w[0]!], requiresGrad: true }) : undefined;
    const out = ts.conv2d(x, w, b, e.opts);
    out.backward(ts.tensor(values(out.size, 4), { shape: out.shape }));
    const res = [await out.data(), await x.grad!.data(), await w.grad!.data()];
    if (b) res.push(await b.grad!.data());
    return res.map((r) => Float32Array.from(r));
  });
}

/** Sums of hundreds of products in another order: errors relative to the largest value. */
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]!));
  expectClose(got, want, { rtol: 1e-4, atol: 1e-5 * Math.max(1, max), what });
}

const expected = new Map<string, Float32Array[]>();
let backend: WebGPUBackend;

beforeAll(async () => {
  // The direct kernels first, for the extra cases' reference values; then the gemm variants.
  await ts.init({ backend: await createBackend() });
  for (const e of EXTRAS) expected.set(e.name, await runExtra(e));
  backend = (await createBackend({ variants: GEMM })) as WebGPUBackend;
  await ts.init({ backend });
});

const { cases } = loadGolden('cnn_ops.json');

describe('implicit-GEMM conv kernels', () => {
  for (const c of cases.filter((k) => k.op === 'conv2d')) {
    it(c.name, async () => {
      await ts.tidy(async () => {
        const xs = c.inputs.map((g) => fromGolden(g, true));
        const out = ts.conv2d(xs[0]!, xs[1]!, xs[2], c.params as ts.Conv2dOptions);
        expectClose(await out.data(), c.output.data, { rtol: 1e-4, atol: 1e-5, what: 'output' });
        out.backward(fromGolden(c.cotangent!));
        for (const [i, g] of (c.grads ?? []).entries()) {
          if (g) expectClose(await xs[i]!.grad!.data(), g.data, { rtol: 1e-4, atol: 1e-5, what: `grad ${i}` });
        }
        ts.dispose(xs);
      });
    });
  }

  for (const e of EXTRAS) {
    it(`matches the direct kernels: ${e.name}`, async () => {
      const got = await runExtra(e);
      const want = expected.get(e.name)!;
      const names = ['output', 'grad x', 'grad w', 'grad bias'];
      for (const [i, g] of got.entries()) expectNear(g, want[i]!, names[i]!);
    });
  }

  it('ran the gemm variant at every site', () => {
    for (const site of Object.keys(GEMM)) expect(backend.variantUse.get(`${site}:gemm`) ?? 0, site).toBeGreaterThan(0);
  });

  it('an explicit chunk count keeps the direct filter gradient', async () => {
    const before = backend.variantUse.get('conv2dBackpropFilter:gemm') ?? 0;
    await ts.tidy(async () => {
      const x = ts.tensor(values(2 * 3 * 8 * 8, 5), { shape: [2, 3, 8, 8] });
      const dy = ts.tensor(values(2 * 4 * 6 * 6, 6), { shape: [2, 4, 6, 6] });
      const p = { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0], groups: 1, filterShape: [4, 3, 3, 3], withBias: false };
      const filterGrad = (q: object) =>
        (ts.Tensor as unknown as { _fromOp(op: string, i: ts.Tensor[], q: object): ts.Tensor })._fromOp('conv2dBackpropFilter', [x, dy], q);
      const direct = filterGrad({ ...p, chunks: 3 });
      const gemm = filterGrad(p);
      expectNear(await gemm.data(), await direct.data(), 'filter gradient');
    });
    expect(backend.variantUse.get('conv2dBackpropFilter:gemm')).toBe(before + 1);
  });

  it("fuses elementwise chains into the gemm kernels' stores (forward and input gradient)", async () => {
    const x = ts.tensor(values(2 * 3 * 9 * 9, 7), { shape: [2, 3, 9, 9] });
    const w = ts.tensor(values(5 * 3 * 3 * 3, 8), { shape: [5, 3, 3, 3] });
    const s = ts.tensor(values(5 * 7 * 7, 9), { shape: [5, 7, 7] });
    const forward = (a: ts.Tensor, m: ts.Tensor) => [ts.conv2d(a, m).mul(s).add(1).relu()];
    // The input gradient of conv2d(relu(a)) runs the ReLU gradient as its epilogue.
    const step = ts.valueAndGrad((a: ts.Tensor, m: ts.Tensor) => ts.conv2d(a.relu(), m).mul(s).sum());
    const backward = (a: ts.Tensor, m: ts.Tensor) => {
      const { value, grads } = step(a, m);
      return [value, ...grads];
    };
    for (const fn of [forward, backward]) {
      const used = backend.variantUse.get('conv2d:gemm')!;
      const f = ts.compile(fn);
      for (let i = 0; i < 2; i++) ts.dispose(f(x, w));
      await f.ready();
      const out = f(x, w);
      const eager = ts.tidy(() => fn(x, w));
      for (const [i, t] of out.entries()) expectNear(await t.data(), await eager[i]!.data(), `output ${i}`);
      expect(f.info.fusedKernels).toBeGreaterThanOrEqual(1);
      expect(backend.variantUse.get('conv2d:gemm')).toBeGreaterThan(used);
      ts.dispose([...out, ...eager]);
      f.dispose();
    }
    ts.dispose([x, w, s]);
  });
});
