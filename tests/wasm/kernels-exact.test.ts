import type { UpdateArgs } from '@tessera/core';
import { referenceUpdate } from '@tessera/reference';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_UPDATE } from '../../packages/wasm/src/kernels/index.js';
import { kernelKit, testRuntime, type KernelKit, type TestRuntime, randoms, BROADCAST_SHAPES } from './harness.js';

// The WebAssembly kernels that give the reference backend's bits exactly, on V8: the float64
// math functions they share with it (fdlibm.ts), softmax, average pooling, pow, arange, random
// and the optimizer rules, each also with its work cut into parts as threads would take it.

let h: TestRuntime;
let { refView, both, exact, f, empty, splitRt, sprinkled } = {} as KernelKit;
beforeAll(async () => {
  h = await testRuntime();
  ({ refView, both, exact, f, empty, splitRt, sprinkled } = kernelKit(h));
});

describe('wasm kernels match the reference bit for bit: softmax, average pooling, pow, arange, random, optimizer rules', () => {
  it("the module's float64 exp, log, log1p, cos and pow (fdlibm.ts, also in f64x2 lanes) are V8's Math, bit for bit", () => {
    // (A float64 result one ulp off would change a float32 result only now and then, so the
    // kernels' tests alone would rarely see it: these compare the functions themselves.)
    const math = h.rt.exports.mathF64 as (op: number, x: number, y: number) => number;
    const bits = new BigUint64Array(1);
    const f64 = new Float64Array(bits.buffer);
    const same = (a: number, b: number): boolean => {
      if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
      f64[0] = a;
      const x = bits[0];
      f64[0] = b;
      return x === bits[0];
    };
    const check = (op: number, what: string, ref: (x: number, y: number) => number, args: (i: number) => [number, number], n: number): void => {
      for (let i = 0; i < n; i++) {
        const [x, y] = args(i);
        const [got, want] = [math(op, x, y), ref(x, y)];
        if (!same(got, want)) expect.fail(`${what}(${x}${op === 4 ? `, ${y}` : ''}) = ${got}, Math gives ${want}`);
      }
    };
    const I = Number.POSITIVE_INFINITY;
    const specials = [0, -0, 1, -1, 2, 0.5, -0.5, I, -I, Number.NaN, 5e-324, 2.2250738585072014e-308, 1e-300, 1e300, 709.79, -745.2, 2 ** -29, Math.PI];
    const u = randoms(400000, 1500, 0, 1);
    const at = (i: number): number => u[i % u.length]! + u[(i * 7 + 3) % u.length]! * 2 ** -24; // ~48 random bits
    const spec = (i: number): [number, number] => [specials[i % specials.length]!, specials[Math.floor(i / specials.length)]!];
    const ns = specials.length ** 2;
    check(0, 'exp', Math.exp, spec, ns);
    check(0, 'exp', Math.exp, (i) => [(at(i) - 0.5) * 1500, 0], 100000);
    check(0, 'exp', Math.exp, (i) => [Math.fround(at(i) * 60 - 30) - Math.fround(at(i + 1) * 30), 0], 100000);
    // exp in f64x2 lanes (softmax's): x beside another lane, ordinary or one exp treats apart.
    check(5, 'expLanes', Math.exp, spec, ns);
    check(5, 'expLanes', Math.exp, (i) => [(at(i) - 0.5) * 1500, (at(i + 1) - 0.5) * 3], 100000);
    check(5, 'expLanes', Math.exp, (i) => [Math.fround(at(i) * -60) - Math.fround(at(i + 1) * 3), -at(i + 2)], 100000);
    check(5, 'expLanes', Math.exp, (i) => [(at(i) - 0.5) * 2 ** -(at(i + 1) * 40), i % 97 === 0 ? Number.NEGATIVE_INFINITY : 0], 100000);
    check(1, 'log', Math.log, spec, ns);
    check(1, 'log', Math.log, (i) => [Math.exp((at(i) - 0.5) * 1400), 0], 100000);
    check(2, 'log1p', Math.log1p, spec, ns);
    check(2, 'log1p', Math.log1p, (i) => [at(i) * 1000, 0], 100000);
    check(2, 'log1p', Math.log1p, (i) => [(at(i) - 0.5) * 2 ** -(at(i + 5) * 60), 0], 100000);
    check(3, 'cos', Math.cos, spec, ns);
    check(3, 'cos', Math.cos, (i) => [(at(i) - 0.5) * 2e6, 0], 100000);
    // Random's normal numbers take log and cos in f64x2 lanes (logLanes, cosLanes): every
    // argument they can get, 1 - k/2^24 and f32(2 pi) k/2^24, beside another in the other lane.
    const twoPi = Math.fround(6.283185307179586);
    const other = (k: number): number => ((k * 2654435761) % 16777216) / 16777216;
    check(6, 'logLanes', Math.log, (k) => [1 - k / 16777216, 1 - other(k)], 16777216);
    check(7, 'cosLanes', Math.cos, (k) => [twoPi * (k / 16777216), twoPi * other(k)], 16777216);
    check(6, 'logLanes', Math.log, spec, ns);
    check(7, 'cosLanes', Math.cos, spec, ns);
    check(1, 'log', Math.log, (k) => [1 - at(k), 0], 100000);
    check(3, 'cos', Math.cos, (k) => [twoPi * at(k), 0], 100000);
    // Within 2^-20 of pi/2, pi, 3pi/2, 2pi (their high word), where fdlibm reduces in more steps.
    const near = (i: number): number => {
      bits[0] = (BigInt([0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb][i % 4]!) << 32n) | BigInt(Math.floor(u[i % u.length]! * 2 ** 32));
      return f64[0]!;
    };
    check(7, 'cosLanes', Math.cos, (i) => [near(i), twoPi * at(i)], 100000);
    check(3, 'cos', Math.cos, (i) => [near(i), 0], 100000);
    check(4, 'pow', (x, y) => x ** y, spec, ns);
    const fr = Math.fround;
    check(
      4,
      'pow',
      (x, y) => x ** y,
      (i) => [fr(Math.exp((at(i) - 0.5) * 190)), fr((at(i + 1) - 0.5) * 20)],
      200000,
    );
    check(
      4,
      'pow',
      (x, y) => x ** y,
      (i) => [fr(1 + (at(i) - 0.5) * 1e-3), fr((at(i + 1) - 0.5) * 1e6)],
      50000,
    );
    check(
      4,
      'pow',
      (x, y) => x ** y,
      (i) => [fr(at(i) * 100), Math.round((at(i + 1) - 0.5) * 80)],
      50000,
    );
  });

  it('softmax, logSoftmax and softmaxBackward along every axis, ties, NaN, infinities and signed zeros', () => {
    const cases: [number[], number][] = [
      [[1, 1], 1],
      [[7], 0],
      [[3, 5], 0],
      [[3, 5], 1],
      [[4, 37], 1],
      [[6, 1], 1],
      [[2, 3, 4, 5], 0],
      [[2, 3, 4, 5], 1],
      [[2, 3, 4, 5], 2],
      [[2, 3, 4, 5], 3],
      [[3, 9, 2], 1],
      [[16, 1000], 1],
    ];
    // Ties at the maximum (random values are below 30), NaN, -Infinity, signed zeros.
    const specials = [30, 1, 2, 30, Number.NaN, Number.NEGATIVE_INFINITY, -0, 0, 30, -88];
    let seed = 1000;
    for (const [shape, axis] of cases) {
      for (const rt of [h.rt, splitRt(3)]) {
        h.reset();
        const n = shape.reduce((a, b) => a * b, 1);
        // Mostly plain rows (wide, so exp underflows in some), the specials in a few.
        const x = h.tensor(shape, 'float32', n >= 40 ? sprinkled(n, seed++, -30, 30, specials, 23) : randoms(n, seed++, -30, 30));
        const [[s, ws]] = both('softmax', [x], empty(shape), { axis }, [], rt);
        exact(s, ws);
        const [[l, wl]] = both('logSoftmax', [x], empty(shape), { axis }, [], rt);
        exact(l, wl);
        const dy = h.tensor(shape, 'float32', sprinkled(n, seed++, -1, 1, [0, -0, 3e-30], 17));
        for (const log of [false, true]) {
          const y = h.tensor(shape, 'float32', log ? l : s);
          const [[d, wd]] = both('softmaxBackward', [y, dy], empty(shape), { axis, log }, [], rt);
          exact(d, wd);
        }
      }
    }
    // Rows made of specials: all -Infinity, all NaN, signed zeros, NaN beside ties, +Infinity, and D = 1.
    h.reset();
    const I = Number.POSITIVE_INFINITY;
    const rows = [-I, -I, -I, -I, Number.NaN, Number.NaN, Number.NaN, Number.NaN, -0, 0, -0, -1, 1, Number.NaN, 1, 0.5, I, 1, 2, I, -I, 3, Number.NaN, -I];
    const x = h.tensor([6, 4], 'float32', rows);
    for (const op of ['softmax', 'logSoftmax'] as const) {
      exact(...both(op, [x], empty([6, 4]), { axis: 1 })[0]!);
      exact(...both(op, [x], empty([6, 4]), { axis: 0 })[0]!);
    }
    const single = h.tensor([4, 1], 'float32', [-0, 5, Number.NaN, -I]);
    for (const op of ['softmax', 'logSoftmax'] as const) exact(...both(op, [single], empty([4, 1]), { axis: 1 })[0]!);
  });

  it('avgPool2d and its backward: 2x2 fast paths, padding, overlap, strides, tails; float64 sums of extreme values', () => {
    const pool = (k: number[], s: number[], pad: number[]) => ({ kernelSize: k, stride: s, padding: pad });
    const cases = [
      { x: [2, 3, 28, 28], p: pool([2, 2], [2, 2], [0, 0]) }, // LeNet's: 14 columns, the last group overlaps
      { x: [1, 2, 9, 13], p: pool([2, 2], [2, 2], [0, 0]) }, // odd sizes: last row and column unused
      { x: [1, 2, 9, 16], p: pool([2, 2], [2, 2], [0, 0]) }, // exact groups of 4
      { x: [1, 3, 7, 7], p: pool([2, 2], [2, 2], [0, 0]) }, // 3 columns: scalar only
      { x: [1, 2, 10, 15], p: pool([2, 2], [2, 2], [1, 1]) }, // padded: edge windows of 1 row or column
      { x: [1, 2, 11, 17], p: pool([3, 3], [3, 3], [0, 0]) }, // stride == window: lane gathers, disjoint gradient
      { x: [2, 2, 12, 19], p: pool([3, 3], [2, 2], [1, 1]) }, // overlapping, padded
      { x: [1, 2, 9, 11], p: pool([3, 3], [1, 1], [1, 1]) }, // stride 1: contiguous loads
      { x: [1, 2, 8, 21], p: pool([2, 3], [1, 2], [1, 1]) }, // mixed window and stride
      { x: [1, 2, 6, 14], p: pool([3, 2], [2, 2], [1, 0]) }, // 2 wide, 3 tall, stride 2
      { x: [1, 2, 9, 10], p: pool([2, 2], [1, 1], [0, 0]) }, // 2x2 stride 1: overlap
      { x: [1, 1, 5, 9], p: pool([1, 1], [1, 1], [0, 0]) }, // 1x1
      { x: [1, 1, 5, 4], p: pool([2, 2], [3, 3], [1, 1]) }, // stride > window: uncovered elements
    ];
    // Magnitudes far apart, so a float32 sum (or another order) would round differently.
    const specials = [1e30, -1e30, 3e-30, -0, 16777217, -3, 0.1];
    let seed = 1100;
    for (const { x, p } of cases) {
      for (const rt of [h.rt, splitRt(2)]) {
        h.reset();
        const [N, C, H, W] = x as [number, number, number, number];
        const n = N * C * H * W;
        const values = sprinkled(n, seed++, -4, 4, specials, 11);
        values[5] = Number.NaN;
        values[7] = Number.POSITIVE_INFINITY;
        // Windows of only -0 (and dy of -0 below): the sums start from +0, so they give +0.
        values.fill(-0, (H - 3) * W);
        const xs = h.tensor(x, 'float32', values);
        const [k, s, pad] = [p.kernelSize, p.stride, p.padding] as [number[], number[], number[]];
        const OH = Math.floor((H + 2 * pad[0]! - k[0]!) / s[0]!) + 1;
        const OW = Math.floor((W + 2 * pad[1]! - k[1]!) / s[1]!) + 1;
        exact(...both('avgPool2d', [xs], empty([N, C, OH, OW]), p, [], rt)[0]!);
        const dyValues = sprinkled(N * C * OH * OW, seed++, -2, 2, specials, 9);
        dyValues.fill(-0, 0, OW + 5);
        const dy = h.tensor([N, C, OH, OW], 'float32', dyValues);
        exact(...both('avgPool2dBackward', [dy], empty(x), { ...p, inputShape: x }, [], rt)[0]!);
      }
    }
  });

  it('pow with broadcasting: negative bases, integral and fractional exponents, the scalar fast paths, specials', () => {
    const I = Number.POSITIVE_INFINITY;
    const bases = [-0, 0, -1, 1, -2, 2, Number.NaN, I, -I, -0.5, 1e-30, -3e10];
    const exps = [0, -0, 1, 2, 3, -1, -2, 0.5, -0.5, 1.5, Number.NaN, I, -I, 40];
    const shapes: [number[], number[], number[]][] = [
      ...BROADCAST_SHAPES,
      [
        [1, 43],
        [7, 1],
        [7, 43],
      ],
    ];
    let seed = 1200;
    for (const [sa, sb, so] of shapes) {
      for (const rt of [h.rt, splitRt(3)]) {
        h.reset();
        const na = sa.reduce((a, b) => a * b, 1);
        const nb = sb.reduce((a, b) => a * b, 1);
        const a = h.tensor(sa, 'float32', sprinkled(na, seed++, -3, 3, bases, 19));
        // Exponents: random, whole numbers (negative bases keep a sign) and the specials.
        const e = sprinkled(nb, seed++, -4, 4, exps, 23).map((v, i) => (i % 3 === 1 ? Math.round(v) : v));
        const b = h.tensor(sb, 'float32', e);
        exact(...both('pow', [a, b], empty(so), {}, [], rt)[0]!);
      }
    }
    // A scalar exponent: the float32 fast paths (2, 0.5, -1, 1) with their tails, and the rest.
    for (const y of [...exps, 4, -3, 0.25, 7.5]) {
      for (const n of [1, 6, 37]) {
        h.reset();
        const a = h.tensor([2, n], 'float32', sprinkled(2 * n, seed++, -5, 5, bases, 13));
        exact(...both('pow', [a, h.tensor([1], 'float32', [y])], empty([2, n]), {})[0]!);
      }
    }
  });

  it('arange in float32 and int32 (wrapping), split in parts', () => {
    const cases = [
      { start: 0, step: 1, count: 37, dtype: 'float32' },
      { start: -2.5, step: 0.1, count: 1001, dtype: 'float32' },
      { start: 1e7, step: 0.37, count: 100, dtype: 'float32' },
      { start: 3, step: -1.3e-5, count: 17, dtype: 'float32' },
      { start: 0.1, step: 3e38, count: 3, dtype: 'float32' },
      { start: -3.7, step: 2, count: 21, dtype: 'int32' },
      { start: 5, step: 1073741824, count: 9, dtype: 'int32' },
      { start: 0, step: -7.9, count: 5, dtype: 'int32' },
      { start: 3e9, step: 1, count: 6, dtype: 'int32' },
    ] as const;
    for (const params of cases) {
      for (const rt of [h.rt, splitRt(3)]) {
        h.reset();
        exact(...both('arange', [], empty([params.count], params.dtype), params, [], rt)[0]!);
      }
    }
  });

  it('random: the counter-based stream, uniform and normal, identical bits for seeds, streams and sizes', () => {
    let checked = 0;
    for (const dist of ['uniform', 'normal'] as const) {
      for (const seed of [0, 1, 12345, 4294967295]) {
        for (const stream of [0, 3, 1000]) {
          for (const size of [1, 2, 3, 4, 5, 37, 1001]) {
            h.reset();
            const [a, b] = dist === 'uniform' ? (seed % 2 ? [-2, 3] : [0, 1]) : seed % 2 ? [0.5, 2] : [0, 1];
            const params = { shape: [size], seed, stream, dist, a, b };
            // (Parts of odd length that start past 0: the normal kernel's last, unpaired element.)
            exact(...both('random', [], empty([size]), params, [], size === 1001 ? splitRt(4) : size === 37 ? splitRt(2) : h.rt)[0]!);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(168);
    // A long run: every float32 uniform is a multiple of 2^-24 below 1; normal has both tails.
    h.reset();
    const [[u, wu]] = both('random', [], empty([100000]), { shape: [100000], seed: 7, stream: 1, dist: 'uniform', a: 0, b: 1 });
    exact(u, wu);
    const [[z, wz]] = both('random', [], empty([100000]), { shape: [100000], seed: 7, stream: 1, dist: 'normal', a: 0, b: 1 }, [], splitRt(4));
    exact(z, wz);
    expect(Math.min(...z)).toBeLessThan(-4);
    expect(Math.max(...z)).toBeGreaterThan(4);
  });

  it('rmsprop (with and without momentum), adagrad, adadelta and adamax: several steps equal referenceUpdate bit for bit', () => {
    const rules = [
      { rule: 'rmsprop', momentum: 0, states: 1 },
      { rule: 'rmsprop', momentum: 0.9, states: 2 },
      { rule: 'adagrad', momentum: 0, states: 1 },
      { rule: 'adadelta', momentum: 0, states: 2 },
      { rule: 'adamax', momentum: 0, states: 2 },
    ] as const;
    for (const { rule, momentum, states } of rules) {
      // (A large lr as well: the parameter then shows the last bits of each step.)
      for (const [weightDecay, withScale, lr] of [
        [0, false, 0.01],
        [0.01, true, 1.5],
      ] as const) {
        h.reset();
        const n = 23;
        const p = h.tensor([n], 'float32', sprinkled(n, 1300, -1, 1, [0, -0, 1e-20, 30], 7));
        const s = Array.from({ length: states }, (_, k) =>
          h.tensor([n], 'float32', k === 0 && rule === 'adagrad' ? randoms(n, 1301, 0, 0.1) : new Float32Array(n)),
        );
        const scale = h.tensor([1], 'float32', [0.5]);
        const hyper = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, momentum, biasCorrection1: 0.19, biasCorrection2Sqrt: 0.0447 };
        for (let step = 0; step < 5; step++) {
          const gv = sprinkled(n, 1302 + step, -2, 2, [0, -0, 1e-30, -40], 6);
          if (step === 3) [gv[20], gv[21]] = [Number.NaN, Number.POSITIVE_INFINITY]; // (adamax's max: NaN wins)
          const g = h.tensor([n], 'float32', gv);
          const mk = (side: 'wasm' | 'ref'): UpdateArgs => ({
            rule,
            param: p[side],
            grad: g[side],
            states: s.map((t) => t[side]),
            scale: withScale ? scale[side] : null,
            ...hyper,
            biasCorrection1: 1 - 0.9 ** (step + 1),
          });
          expect(WASM_UPDATE(mk('wasm'), h.rt), `${rule} is handled`).toBe(true);
          referenceUpdate(mk('ref'));
          exact(h.read(p.wasm), refView(p.ref));
          for (const t of s) exact(h.read(t.wasm), refView(t.ref));
        }
      }
    }
    // Missing states: declined, so the reference's error names what the rule needs.
    h.reset();
    const p = f([5], 1400);
    const g = f([5], 1401);
    const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0.9, biasCorrection1: 1, biasCorrection2Sqrt: 1 };
    expect(WASM_UPDATE({ rule: 'rmsprop', param: p.wasm, grad: g.wasm, states: [f([5], 1402).wasm], scale: null, ...hyper }, h.rt)).toBe(false);
    expect(WASM_UPDATE({ rule: 'adadelta', param: p.wasm, grad: g.wasm, states: [f([5], 1403).wasm], scale: null, ...hyper }, h.rt)).toBe(false);
  });
});
