/**
 * The float16 dtype: halves stored two to a word, every op computed in float32 from them and
 * rounded once at its output (PyTorch's opmath rule for half). Checked against PyTorch
 * (tests/fixtures/half.json, scripts/golden/half.py) on every backend, plus dtype promotion,
 * memory, autograd, compiled steps and the shadow check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeEachBackend,
  expectClose,
  expectNoLeak,
  fromGolden,
  loadGolden,
  ts,
  goldenValues,
  type GoldenCase,
  type GoldenTensor,
} from '../helpers/index.js';

interface HalfCase extends GoldenCase {
  oracle: 'half' | 'opmath';
}
const { cases } = loadGolden<{ cases: HalfCase[] }>('half.json');
const values = (g: GoldenTensor): number[] => goldenValues(g);

/**
 * A float16 result may differ from PyTorch's by one unit in the last place: both round a float32
 * value to half once, but a float32 sum in another order can land across a rounding boundary.
 * A half's unit is 2^-10 of its magnitude, and 2^-24 at the bottom.
 */
const HALF_ULP = { rtol: 2 ** -10, atol: 2 ** -24 };
/**
 * Ops that sum many products: float32 sums in another order (the reference backend sums in
 * float64) differ by about 2^-24 of the summed magnitudes, which near a zero result is more than
 * a half's unit there. 2^-14 (the smallest normal half) covers the fixtures' sums of at most 50.
 */
const SUMS = { rtol: 2 ** -10, atol: 2 ** -14 };
const ACCUMULATING = new Set(['matmul', 'conv2d', 'sum', 'mean', 'softmax', 'crossEntropy', 'denseGrad']);

function apply(c: HalfCase, xs: ts.Tensor[]): ts.Tensor {
  const p = c.params as Record<string, number>;
  const [a, b] = xs as [ts.Tensor, ts.Tensor];
  switch (c.op) {
    case 'castToHalf':
      return a.cast('float16');
    case 'castToInt':
      return a.cast('int32');
    case 'add':
      return a.add(b);
    case 'mulScalar':
      return a.mul(p['scalar']!);
    case 'divScalar':
      return a.div(p['scalar']!);
    case 'relu':
    case 'exp':
    case 'sigmoid':
    case 'tanh':
      return a[c.op]();
    case 'sum':
      return a.sum(p['axis']);
    case 'mean':
      return a.mean();
    case 'softmax':
      return ts.softmax(a, p['axis']);
    case 'matmul':
      return a.matmul(b);
    case 'conv2d':
      return ts.conv2d(a, b, null, { padding: p['padding']! });
    case 'maxPool2d':
      return ts.maxPool2d(a, { kernelSize: p['kernel']! });
    case 'crossEntropy':
      return ts.crossEntropy(a, b);
    default:
      throw new Error(`half.json: unknown op ${c.op}`);
  }
}

describeEachBackend('float16 against PyTorch', () => {
  for (const c of cases.filter((k) => k.op !== 'denseGrad')) {
    it(`${c.name} (${c.oracle})`, async () => {
      await expectNoLeak(async () => {
        const xs = c.inputs.map((g) => fromGolden(g));
        const y = apply(c, xs);
        expect(y.dtype).toBe(c.output.dtype);
        expect([...y.shape]).toEqual(c.output.shape);
        // Casts are exact: no tolerance.
        expectClose(await y.data(), values(c.output), c.op.startsWith('cast') ? { rtol: 0, atol: 0 } : ACCUMULATING.has(c.op) ? SUMS : HALF_ULP);
        ts.dispose([...xs, y]);
      }, c.name);
    });
  }

  it('a float16 leaf gets a float16 gradient (dense + ReLU + sum)', async () => {
    const c = cases.find((k) => k.op === 'denseGrad')!;
    const [x, w, b] = [fromGolden(c.inputs[0]!), fromGolden(c.inputs[1]!, true), fromGolden(c.inputs[2]!, true)];
    const loss = ts.relu(x.matmul(w).add(b)).sum();
    expect(loss.dtype).toBe('float16');
    expectClose(await loss.data(), values(c.output), SUMS);
    loss.backward();
    for (const [i, t] of [w, b].entries()) {
      expect(t.grad!.dtype, `grad ${i}`).toBe('float16');
      expectClose(await t.grad!.data(), values(c.grads![i]!), { ...SUMS, what: `grad ${i}` });
    }
    ts.dispose([x, w, b, loss]);
  });
});

describeEachBackend('float16 dtype rules', (backend) => {
  afterEach(() => {
    ts.debug.shadow(false);
    ts.debug.checkNumerics(false);
  });

  it('checkNumerics names the op whose half result overflowed, and passes finite halves', async () => {
    ts.debug.checkNumerics(true);
    // Odd sizes: the spare half of the last word is never checked.
    const x = ts.tensor([1, 300, 2], { dtype: 'float16' });
    const fine = x.mul(200); // 60000: still a half
    expect(Array.from(await fine.data())).toEqual([200, 60000, 400]);
    const y = x.mul(300); // 90000 overflows the halves (65504) to Infinity
    const z = y.add(1);
    // Where the backend takes halves the mul writes the Infinity itself; elsewhere the mul runs
    // in float32 (90000 is finite there) and the cast back to half overflows.
    const named = backend === 'webgpu' ? 'mul' : 'cast';
    await expect(z.data()).rejects.toThrow(new RegExp(`^checkNumerics: '${named}' produced NaN or Inf`));
    ts.dispose([x, fine, y, z]);
  });

  it('takes 2 bytes per element, in whole words', async () => {
    const before = ts.memory().bytes;
    const h = ts.tensor([1, 2, 3], { dtype: 'float16' });
    expect(ts.memory().bytes - before).toBe(8);
    const big = ts.zeros([1000], { dtype: 'float16' });
    expect(ts.memory().bytes - before).toBe(8 + 2000);
    expect(big.dtype).toBe('float16');
    ts.dispose([h, big]);
  });

  it('promotes as PyTorch does: rank-0 operands and JS numbers do not widen a half tensor', async () => {
    ts.tidy(() => {
      const h = ts.tensor([1, 2], { dtype: 'float16' });
      const f = ts.tensor([1, 2]);
      const i = ts.tensor([1, 2], { dtype: 'int32' });
      expect(h.add(f).dtype).toBe('float32');
      expect(h.mul(2.5).dtype).toBe('float16');
      expect(h.add(ts.tensor(1)).dtype).toBe('float16');
      expect(h.add(i).dtype).toBe('float16');
      expect(i.add(ts.tensor(1, { dtype: 'float16' })).dtype).toBe('float16');
      expect(ts.tensor(1, { dtype: 'float16' }).add(f).dtype).toBe('float32');
      expect(ts.tensor(1, { dtype: 'float16' }).add(ts.tensor(1)).dtype).toBe('float32');
      expect(h.argmax(0).dtype).toBe('int32');
      expect(h.reshape([2, 1]).dtype).toBe('float16');
      expect(h.transpose().dtype).toBe('float16');
    });
  });

  it("a gradient has its input's dtype, also through an op whose result was float32", async () => {
    const h = ts.tensor([0.5, -1.5, 2], { dtype: 'float16', requiresGrad: true });
    const f = ts.tensor([3, 0.1, -2], { requiresGrad: true });
    const y = h.mul(f); // float32: the ranked float32 operand wins
    expect(y.dtype).toBe('float32');
    const loss = y.sum();
    loss.backward();
    expect(h.grad!.dtype).toBe('float16');
    expect(f.grad!.dtype).toBe('float32');
    expectClose(await h.grad!.data(), [3, 0.0999755859375, -2], { rtol: 0, atol: 0 });
    expectClose(await f.grad!.data(), [0.5, -1.5, 2], { rtol: 0, atol: 0 });
    // A half loss seeds its backward pass with halves.
    const s = h.square().sum();
    expect(s.dtype).toBe('float16');
    h.grad!.dispose();
    h.grad = null;
    s.backward();
    expect(h.grad!.dtype).toBe('float16');
    expectClose(await h.grad!.data(), [1, -3, 4], { rtol: 0, atol: 0 });
    ts.dispose([h, f, y, loss, s]);
  });

  it('rounds once per op: (0.1 as half) * 3 is rounded from float32, ties to even', async () => {
    const h = ts.tensor([0.1], { dtype: 'float16' });
    const y = h.mul(3);
    // 0.0999755859375 * 3 = 0.2999267578125, halfway between the halves 0.2998046875 and
    // 0.300048828125: the even one. roundHalf(0.3) would be the other.
    expect((await y.data())[0]).toBe(0.2998046875);
    expect(ts.roundHalf(0.3)).toBe(0.300048828125);
    ts.dispose([h, y]);
  });

  it('elementwise ops on halves: one dispatch where the backend takes halves, casts around float32 elsewhere', async () => {
    const x = ts.tensor([0.1, -2, 3.5, 65504, -0.25], { dtype: 'float16' });
    const row = ts.tensor([1, 2, 3, 4, 5], { dtype: 'float16' });
    const m = ts.tensor(
      [
        [1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10],
      ],
      { dtype: 'float16' },
    );
    const native = backend === 'webgpu';
    const dispatches = (f: () => ts.Tensor): [ts.Tensor, number] => {
      const d0 = ts.stats().dispatches;
      const y = f();
      return [y, ts.stats().dispatches - d0];
    };
    const cases: [string, () => ts.Tensor, number, number[]][] = [
      ['relu', () => x.relu(), native ? 1 : 3, [0.0999755859375, 0, 3.5, 65504, 0]],
      ['mul by a JS number', () => x.mul(3), native ? 1 : 3, [0.2998046875, -6, 10.5, Infinity, -0.75]],
      ['add, same shapes', () => x.add(row), native ? 1 : 4, [1.099609375, 0, 6.5, 65504, 4.75]],
      // [2, 5] + [5] does not collapse to one dimension: casts on every backend.
      ['add, broadcast rows', () => m.add(row), 4, [2, 4, 6, 8, 10, 7, 9, 11, 13, 15]],
    ];
    for (const [what, f, expected, want] of cases) {
      const [y, n] = dispatches(f);
      expect(y.dtype, what).toBe('float16');
      expect(n, `${what}: dispatches`).toBe(expected);
      expectClose(await y.data(), want, { rtol: 0, atol: 0, what });
      y.dispose();
    }
    ts.dispose([x, row, m]);
  });

  it('matmul of halves: one dispatch on WebGPU where N is even, the same values as float32 between casts', async () => {
    const cases: { what: string; a: number[]; b: number[]; transA?: boolean; transB?: boolean; bias?: boolean; relu?: boolean }[] = [
      { what: 'LeNet dense [16,400]@[400,120] + bias, relu', a: [16, 400], b: [400, 120], bias: true, relu: true },
      { what: '[7,33]@[33,10]', a: [7, 33], b: [33, 10] },
      { what: '[9,5]ᵀ@[9,6] + bias', a: [9, 5], b: [9, 6], transA: true, bias: true },
      { what: '[3,12]@[14,12]ᵀ', a: [3, 12], b: [14, 12], transB: true },
      { what: 'batched [2,3,5,8]@[3,8,6], broadcast', a: [2, 3, 5, 8], b: [3, 8, 6] },
      { what: 'odd N: [4,6]@[6,5]', a: [4, 6], b: [6, 5] },
    ];
    for (const [i, c] of cases.entries()) {
      const n = c.transB ? c.b.at(-2)! : c.b.at(-1)!;
      const [a, b] = [ts.randn(c.a, { seed: 10 + i }).cast('float16'), ts.randn(c.b, { seed: 20 + i }).cast('float16')];
      const bias = c.bias ? ts.randn([n], { seed: 30 + i }).cast('float16') : undefined;
      const run = (x: ts.Tensor, y: ts.Tensor, z?: ts.Tensor) => ts.matmulRaw(x, y, { transA: !!c.transA, transB: !!c.transB }, z, c.relu ? 'relu' : 'none');
      const d0 = ts.stats().dispatches;
      const y = run(a, b, bias);
      const dispatches = ts.stats().dispatches - d0;
      expect(y.dtype, c.what).toBe('float16');
      const casts = 2 + (bias ? 1 : 0) + 1;
      expect(dispatches, `${c.what}: dispatches`).toBe(backend === 'webgpu' && n % 2 === 0 ? 1 : 1 + casts);
      const wide = ts.tidy(() => run(a.cast('float32'), b.cast('float32'), bias?.cast('float32')).cast('float16'));
      expectClose(await y.data(), await wide.data(), { ...SUMS, what: c.what });
      ts.dispose([a, b, y, wide, ...(bias ? [bias] : [])]);
    }
  });

  it('compiled calls on half tensors replay to the eager result', async () => {
    const w = ts.randn([6, 3], { seed: 2 }).cast('float16');
    const f = (x: ts.Tensor) => x.matmul(w).relu().add(1);
    const cf = ts.compile(f);
    for (let i = 0; i < 3; i++) {
      const x = ts.tidy(() => ts.randn([4, 6], { seed: 10 + i }).cast('float16'));
      const [y, eager] = [cf(x), ts.tidy(() => f(x))];
      expect(y.dtype).toBe('float16');
      expectClose(await y.data(), await eager.data(), { rtol: 0, atol: 0, what: `call ${i}` });
      ts.dispose([x, y, eager]);
    }
    cf.dispose();
    w.dispose();
  });

  it('the shadow check replays half ops on the reference backend, and names an overflowing cast', async () => {
    ts.debug.shadow(true);
    const x = ts.tensor([0.1, -2, 3e-8], { dtype: 'float16' });
    const y = x.mul(2).cast('float32');
    expectClose(await y.data(), [0.199951171875, -4, 2 ** -23], { rtol: 0, atol: 0 });
    const big = ts.tensor([1, 70000]);
    const h = big.cast('float16');
    await expect(h.data()).rejects.toThrow(/shadow: 'cast' turned finite inputs into/);
    ts.dispose([x, y, big, h]);
  });

  it("the device's conversions agree with core's bit for bit: every half, and float32 values around each rounding edge", async () => {
    // Every half pattern, widened on the device, is the value core decodes.
    const bits = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
    const want = Float32Array.from(bits, ts.fromHalfBits);
    const all = ts.tensor(want, { dtype: 'float16' });
    const wide = all.cast('float32');
    expectClose(await wide.data(), want, { rtol: 0, atol: 0, what: 'widened halves' });
    // float32 values at, just below and just above each midpoint between neighbouring halves
    // (ties go to even), and the subnormal and overflow edges.
    const probes: number[] = [];
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let h = 0; h < 0x7c00; h += 37) {
      const mid = (ts.fromHalfBits(h) + ts.fromHalfBits(h + 1)) / 2;
      f32[0] = mid;
      for (const d of [-1, 0, 1]) {
        const u = new Uint32Array([u32[0]! + d]);
        probes.push(new Float32Array(u.buffer)[0]!, -new Float32Array(u.buffer)[0]!);
      }
    }
    probes.push(65504, 65519.996, 65520, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -26, 1e-40, -1e-40, 3.4e38, NaN, Infinity, -Infinity);
    const x = ts.tensor(probes);
    const narrowed = x.cast('float16').cast('float32');
    expectClose(await narrowed.data(), probes.map(ts.roundHalf), { rtol: 0, atol: 0, what: 'narrowed float32' });
    ts.dispose([all, wide, x, narrowed]);
  });

  it('names the dtypes it knows in errors, and keeps gradients to float dtypes', () => {
    expect(() => ts.tensor([1], { dtype: 'float64' as never })).toThrow(/unknown dtype "float64".*'float16'/s);
    expect(() => ts.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/only float tensors can require grad, not int32/);
    expect(ts.tensor([1], { dtype: 'float16', requiresGrad: true }).requiresGrad).toBe(true);
  });
});

describe('float16 conversions in core', () => {
  it('round to nearest even, overflow to infinity and keep subnormals, as PyTorch', () => {
    const c = cases.find((k) => k.op === 'castToHalf')!;
    const ins = values(c.inputs[0]!);
    expectClose(
      ins.map((v) => ts.roundHalf(v)),
      values(c.output),
      { rtol: 0, atol: 0 },
    );
    expect(Object.is(ts.roundHalf(-0), -0)).toBe(true);
    // Every half pattern survives a round trip (NaNs stay NaN).
    for (let h = 0; h < 0x10000; h++) {
      const v = ts.fromHalfBits(h);
      if (Number.isNaN(v)) expect(Number.isNaN(ts.fromHalfBits(ts.toHalfBits(v)))).toBe(true);
      else if (ts.toHalfBits(v) !== h) expect.fail(`half 0x${h.toString(16)} (${v}) came back as 0x${ts.toHalfBits(v).toString(16)}`);
    }
  });
});
