import type { UpdateArgs } from '@tessera/core';
import { referenceUpdate } from '@tessera/reference';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_UPDATE } from '../../packages/wasm/src/kernels/index.js';
import { kernelKit, testRuntime, type KernelKit, type TestRuntime, randoms, BROADCAST_SHAPES } from './harness.js';

// Every WebAssembly kernel against the reference kernel of the same op, on random shapes: the
// float32 sums of the GEMM-based kernels to a tolerance scaled by the reduction length, the
// rest (elementwise, pooling, float64-accumulated sums, the optimizer) bit for bit.

let h: TestRuntime;
let { refView, both, close, exact, f, empty } = {} as KernelKit;
beforeAll(async () => {
  h = await testRuntime();
  ({ refView, both, close, exact, f, empty } = kernelKit(h));
});

describe('wasm kernels match the reference', () => {
  it('matmul: every transpose, bias and relu, edges and batch broadcast', () => {
    const cases: [number, number, number][] = [
      [1, 1, 1],
      [4, 8, 3],
      [5, 9, 17],
      [33, 70, 300],
      [64, 120, 400],
    ];
    let seed = 1;
    for (const [M, N, K] of cases) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const withBias of [false, true]) {
            h.reset();
            const a = f(transA ? [K, M] : [M, K], seed++);
            const b = f(transB ? [N, K] : [K, N], seed++);
            const inputs = withBias ? [a, b, f([N], seed++)] : [a, b];
            const activation = withBias ? 'relu' : 'none';
            const [[got, want]] = both('matmul', inputs, empty([M, N]), { transA, transB, activation });
            close(got, want, 1e-6 * Math.sqrt(K) * 4);
          }
        }
      }
    }
    h.reset();
    const [[got, want]] = both('matmul', [f([3, 1, 7, 5], 9), f([2, 5, 6], 10)], empty([3, 2, 7, 6]), { transA: false, transB: false, activation: 'none' });
    close(got, want, 1e-5);
  });

  it('conv2d: LeNet shapes, stride, dilation, asymmetric padding, groups, pointwise; bias and relu', () => {
    const cases = [
      { x: [3, 1, 28, 28], w: [6, 1, 5, 5], p: { stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2], groups: 1 } },
      { x: [2, 6, 14, 14], w: [16, 6, 5, 5], p: { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0], groups: 1 } },
      { x: [2, 4, 11, 9], w: [6, 2, 3, 2], p: { stride: [2, 3], dilation: [2, 1], padding: [1, 2, 0, 1], groups: 2 } },
      { x: [2, 8, 5, 7], w: [4, 8, 1, 1], p: { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0], groups: 1 } },
      // The direct kernel's edges: stride 1 with groups, asymmetric padding, channel counts past
      // a multiple of 4, rows of 2, 9 and 17 outputs (partial 8-column blocks), P not a multiple of 4.
      { x: [2, 4, 7, 13], w: [6, 2, 3, 4], p: { stride: [1, 1], dilation: [1, 1], padding: [1, 0, 2, 1], groups: 2 } },
      { x: [1, 3, 5, 3], w: [5, 3, 2, 2], p: { stride: [1, 1], dilation: [1, 1], padding: [0, 1, 0, 0], groups: 1 } },
      { x: [3, 2, 9, 17], w: [9, 2, 5, 5], p: { stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2], groups: 1 } },
    ];
    let seed = 100;
    for (const { x, w, p } of cases) {
      for (const withBias of [false, true]) {
        h.reset();
        const xs = f(x, seed++);
        const ws = f(w, seed++);
        const OH = Math.floor((x[2]! + p.padding[0]! + p.padding[1]! - p.dilation[0]! * (w[2]! - 1) - 1) / p.stride[0]!) + 1;
        const OW = Math.floor((x[3]! + p.padding[2]! + p.padding[3]! - p.dilation[1]! * (w[3]! - 1) - 1) / p.stride[1]!) + 1;
        const inputs = withBias ? [xs, ws, f([w[0]!], seed++)] : [xs, ws];
        const taps = w[1]! * w[2]! * w[3]!;
        const [[got, want]] = both('conv2d', inputs, empty([x[0]!, w[0]!, OH, OW]), { ...p, activation: withBias ? 'relu' : 'none' });
        close(got, want, 4e-6 * Math.sqrt(taps));

        const dy = f([x[0]!, w[0]!, OH, OW], seed++);
        const [[gi, wi]] = both('conv2dBackpropInput', [dy, ws], empty(x), { ...p, inputShape: x });
        close(gi, wi, 4e-6 * Math.sqrt(w[0]! * w[2]! * w[3]!));

        const rowLength = taps + (withBias ? 1 : 0);
        const [[gf, wf]] = both('conv2dBackpropFilter', [xs, dy], empty([w[0]!, rowLength]), { ...p, filterShape: w, withBias });
        close(gf, wf, 4e-6 * Math.sqrt(x[0]! * OH * OW));
      }
    }
  });

  it('maxPool2d and its backward, with padding, overlap, ties and NaN', () => {
    const cases = [
      { x: [2, 3, 28, 28], p: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] } },
      { x: [1, 2, 9, 7], p: { kernelSize: [3, 3], stride: [2, 1], padding: [1, 1] } },
    ];
    let seed = 200;
    for (const { x, p } of cases) {
      h.reset();
      const values = randoms(
        x.reduce((a, b) => a * b, 1),
        seed++,
      );
      for (let i = 0; i < values.length; i += 7) values[i] = 0.5; // ties
      values[3] = Number.NaN;
      const xs = h.tensor(x, 'float32', values);
      const OH = Math.floor((x[2]! + 2 * p.padding[0]! - p.kernelSize[0]!) / p.stride[0]!) + 1;
      const OW = Math.floor((x[3]! + 2 * p.padding[1]! - p.kernelSize[1]!) / p.stride[1]!) + 1;
      const out = empty([x[0]!, x[1]!, OH, OW]);
      const arg = empty([x[0]!, x[1]!, OH, OW], 'int32');
      const [[o, wo], [a, wa]] = both('maxPool2d', [xs], out, p, [arg]);
      exact(o, wo);
      exact(a, wa);
      const dy = f([x[0]!, x[1]!, OH, OW], seed++);
      const [[d, wd]] = both('maxPool2dBackward', [dy, arg], empty(x), { ...p, inputShape: x });
      close(d, wd, 1e-7);
    }
  });

  it('maxPool2d SIMD paths: 2x2/stride-2, other windows and strides, padding, tails, ties, NaN, -Infinity', () => {
    const pool = (k: number[], s: number[], pad: number[]) => ({ kernelSize: k, stride: s, padding: pad });
    const cases = [
      { x: [2, 3, 28, 28], p: pool([2, 2], [2, 2], [0, 0]) }, // LeNet's pool: 14 columns, the last group overlaps
      { x: [3, 4, 10, 10], p: pool([2, 2], [2, 2], [0, 0]) }, // 5 columns
      { x: [2, 2, 9, 13], p: pool([2, 2], [2, 2], [0, 0]) }, // odd sizes: last row and column unused
      { x: [1, 3, 7, 7], p: pool([2, 2], [2, 2], [0, 0]) }, // 3 columns: scalar only
      { x: [1, 2, 9, 16], p: pool([2, 2], [2, 2], [0, 0]) }, // exact groups of 4
      { x: [1, 2, 10, 15], p: pool([2, 2], [2, 2], [1, 1]) }, // padded 2x2: 1-row edge windows, odd left column
      { x: [1, 2, 11, 17], p: pool([3, 3], [3, 3], [0, 0]) }, // stride == kernel, lane gathers
      { x: [2, 2, 12, 19], p: pool([3, 3], [2, 2], [1, 1]) }, // overlapping, padded
      { x: [1, 2, 9, 11], p: pool([3, 3], [1, 1], [1, 1]) }, // stride 1: contiguous loads
      { x: [1, 2, 8, 21], p: pool([2, 3], [1, 2], [1, 1]) }, // mixed window and stride
      { x: [1, 1, 5, 9], p: pool([1, 1], [1, 1], [0, 0]) }, // 1x1
    ];
    let seed = 700;
    for (const { x, p } of cases) {
      h.reset();
      const [N, C, H, W] = x as [number, number, number, number];
      const n = N * C * H * W;
      const values = randoms(n, seed++);
      const kinds = randoms(n, seed++, 0, 1);
      for (let i = 0; i < n; i++) {
        values[i] = Math.round(values[i]! * 2) / 2; // 5 levels (and -0): many equal maxima
        if (kinds[i]! < 0.04) values[i] = Number.NaN;
        else if (kinds[i]! < 0.3) values[i] = Number.NEGATIVE_INFINITY;
        else if (kinds[i]! < 0.32) values[i] = Number.POSITIVE_INFINITY;
      }
      values.fill(Number.NEGATIVE_INFINITY, 0, 3 * W); // whole windows of -Infinity
      if (N * C > 1) values.fill(Number.NEGATIVE_INFINITY, H * W, 2 * H * W); // a plane of them
      const xs = h.tensor(x, 'float32', values);
      const [k, s, pad] = [p.kernelSize, p.stride, p.padding] as [number[], number[], number[]];
      const OH = Math.floor((H + 2 * pad[0]! - k[0]!) / s[0]!) + 1;
      const OW = Math.floor((W + 2 * pad[1]! - k[1]!) / s[1]!) + 1;
      const out = empty([N, C, OH, OW]);
      const arg = empty([N, C, OH, OW], 'int32');
      const [[o, wo], [a, wa]] = both('maxPool2d', [xs], out, p, [arg]);
      exact(o, wo);
      exact(a, wa);
      const dy = f([N, C, OH, OW], seed++);
      const [[d, wd]] = both('maxPool2dBackward', [dy, arg], empty(x), { ...p, inputShape: x });
      close(d, wd, 1e-7); // (overlapping windows: float32 sums against the reference's float64)
    }
  });

  it('elementwise ops with broadcasting, relu and reluBackward', () => {
    const shapes = BROADCAST_SHAPES;
    let seed = 300;
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
      for (const [sa, sb, so] of shapes) {
        h.reset();
        const a = f(sa, seed++);
        const b = f(sb, seed++);
        // A NaN operand: WGSL's max/min return the other operand, arithmetic propagates it.
        refView(a.ref)[0] = Number.NaN;
        new Float32Array(h.rt.memory.buffer, h.rt.ptr(a.wasm.buf), 1)[0] = Number.NaN;
        const [[got, want]] = both(op, [a, b], empty(so), {});
        exact(got, want);
      }
    }
    for (const op of ['neg', 'abs', 'sqrt', 'square', 'relu', 'reciprocal'] as const) {
      h.reset();
      const [[got, want]] = both(op, [f([37], seed++)], empty([37]), {});
      exact(got, want);
    }
    h.reset();
    const [[got, want]] = both('reluBackward', [f([4, 19], seed++), f([4, 19], seed++)], empty([4, 19]), {});
    exact(got, want);
  });

  it('comparisons (NaN operands), float64 unary math, cast', () => {
    let seed = 700;
    for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const) {
      h.reset();
      const a = h.tensor(
        [3, 11],
        'float32',
        randoms(33, seed++).map((v, i) => (i % 5 === 0 ? 0.25 : i === 7 ? Number.NaN : v)),
      );
      const b = h.tensor(
        [11],
        'float32',
        randoms(11, seed++).map((v, i) => (i % 5 === 0 ? 0.25 : i === 3 ? Number.NaN : v)),
      );
      const [[got, want]] = both(op, [a, b], empty([3, 11]), {});
      exact(got, want);
    }
    const specials = [0, -0, 1e-30, -1e-30, 88, 89, -104, -110, 30, -30, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const op of ['exp', 'log', 'sigmoid', 'tanh', 'sign', 'leakyRelu', 'elu'] as const) {
      h.reset();
      const values = [...randoms(200, seed++, -12, 12), ...randoms(40, seed++, 0, 3), ...specials];
      const [[got, want]] = both(op, [h.tensor([values.length], 'float32', values)], empty([values.length]), { alpha: 0.1 });
      // One float32 rounding apart at most (a float64 exp/log differing in its last bits).
      close(got, want, 1.2e-7);
    }
    h.reset();
    const values = [...randoms(20, seed++, -1e3, 1e3), 2.9, -2.9, 3e9, -3e9, 2147483520, -2147483648, Number.NaN, Number.POSITIVE_INFINITY];
    const xf = h.tensor([values.length], 'float32', values);
    const xi = h.tensor([5], 'int32', [0, -7, 16777217, 2147483647, -2147483648]);
    exact(
      both('cast', [xf], empty([values.length], 'int32'), { dtype: 'int32' })[0]![0],
      both('cast', [xf], empty([values.length], 'int32'), { dtype: 'int32' })[0]![1],
    );
    for (const out of ['float32', 'int32'] as const) {
      const [[got, want]] = both('cast', [xi], empty([5], out), { dtype: out });
      exact(got, want);
    }
  });

  it('max, min, argmax, argmin with ties and NaN (exact)', () => {
    const cases: [number[], number[], number[]][] = [
      [[64, 10], [1], [64]],
      [[6, 7, 5], [1], [6, 5]],
      [[4, 3, 5], [0, 1], [5]],
      [[9], [0], []],
    ];
    let seed = 800;
    for (const [shape, axes, outShape] of cases) {
      for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
        h.reset();
        const n = shape.reduce((a, b) => a * b, 1);
        const values = randoms(n, seed++).map((v, i) => (i % 4 === 1 ? 0.5 : i % 13 === 5 ? Number.NaN : v));
        const x = h.tensor(shape, 'float32', values);
        const [[got, want]] = both(op, [x], empty(outShape, op.startsWith('arg') ? 'int32' : 'float32'), { axes, keepdims: false });
        exact(got, want);
      }
    }
  });

  it('data movement: slice, transpose, broadcastTo, reshape, pad, concat, fill, where (exact)', () => {
    let seed = 900;
    for (const dtype of ['float32', 'int32'] as const) {
      h.reset();
      const x = h.tensor(
        [4, 5, 6],
        dtype,
        Array.from(randoms(120, seed++), (v) => (dtype === 'int32' ? Math.round(v * 1000) : v)),
      );
      exact(...both('slice', [x], empty([2, 3, 4], dtype), { begin: [1, 2, 1], size: [2, 3, 4] })[0]!);
      exact(...both('slice', [x], empty([4, 5, 1], dtype), { begin: [0, 0, 5], size: [4, 5, 1] })[0]!);
      exact(...both('transpose', [x], empty([6, 4, 5], dtype), { perm: [2, 0, 1] })[0]!);
      exact(...both('reshape', [x], empty([20, 6], dtype), { shape: [20, 6] })[0]!);
      exact(...both('pad', [x], empty([5, 8, 7], dtype), { before: [1, 2, 0], after: [0, 1, 1] })[0]!);
      const y = h.tensor(
        [4, 2, 6],
        dtype,
        Array.from(randoms(48, seed++), (v) => (dtype === 'int32' ? Math.round(v * 1000) : v)),
      );
      exact(...both('concat', [x, y], empty([4, 7, 6], dtype), { axis: 1 })[0]!);
      const b = h.tensor(
        [5, 1],
        dtype,
        Array.from(randoms(5, seed++), (v) => (dtype === 'int32' ? Math.round(v * 1000) : v)),
      );
      exact(...both('broadcastTo', [b], empty([3, 5, 7], dtype), { shape: [3, 5, 7] })[0]!);
      const s = h.tensor([1], dtype, [dtype === 'int32' ? -3 : 0.015625]);
      exact(...both('broadcastTo', [s], empty([64], dtype), { shape: [64] })[0]!);
      for (const value of [0, 1.5, -7, 3e9, Number.NaN]) exact(...both('fill', [], empty([13], dtype), { shape: [13], dtype, value })[0]!);
      const condValues = randoms(24, seed++).map((v, i) => (i === 2 ? -0 : i === 3 ? Number.NaN : v > 0 ? 1 : 0));
      const cond = h.tensor([4, 1, 6], 'float32', condValues);
      exact(...both('where', [cond, x, b], empty([4, 5, 6], dtype), {})[0]!);
      const full = h.tensor(
        [4, 5, 6],
        'float32',
        randoms(120, seed++).map((v) => (v > 0 ? 1 : 0)),
      );
      exact(...both('where', [full, x, x], empty([4, 5, 6], dtype), {})[0]!);
    }
  });

  it('sum over contiguous axes, float64 accumulation (exact)', () => {
    const cases: [number[], number[], number[]][] = [
      [[64, 120], [0], [120]],
      [[64, 120], [1], [64]],
      [
        [4, 6, 5, 3],
        [1, 2],
        [4, 3],
      ],
      [
        [4, 1, 5, 3],
        [0, 2],
        [1, 3],
      ],
      [[7], [0], []],
    ];
    let seed = 400;
    for (const [shape, axes, outShape] of cases) {
      h.reset();
      const [[got, want]] = both('sum', [f(shape, seed++)], empty(outShape), { axes, keepdims: false });
      exact(got, want);
    }
  });

  it('softmaxCrossEntropy and its backward, class ids (one invalid) and target rows', () => {
    h.reset();
    const [N, C] = [9, 10];
    const x = h.tensor([N, C], 'float32', randoms(N * C, 500, -5, 5));
    const ids = h.tensor([N], 'int32', [0, 1, 2, 3, 4, 9, 8, 7, 11]);
    const targets = f([N, C], 501);
    for (const labels of [ids, targets]) {
      const out = empty([N]);
      const stats = empty([N, 3]);
      const [[l, wl], [s, ws]] = both('softmaxCrossEntropy', [x, labels], out, {}, [stats]);
      close(l, wl, 1e-6);
      close(s, ws, 1e-6);
      const dy = f([N], 502);
      const [[d, wd]] = both('softmaxCrossEntropyBackward', [x, labels, stats, dy], empty([N, C]), {});
      close(d, wd, 1e-6);
    }
  });

  it('optimizer steps equal referenceUpdate bit for bit', () => {
    for (const rule of ['sgd', 'momentum', 'nesterov', 'adam', 'adamw'] as const) {
      h.reset();
      const n = 23;
      const p = f([n], 600);
      const g = f([n], 601);
      const s = [h.tensor([n], 'float32', randoms(n, 602, 0, 1)), h.tensor([n], 'float32', randoms(n, 603, 0, 1))];
      const scale = h.tensor([1], 'float32', [0.5]);
      const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, momentum: 0.9, biasCorrection1: 0.19, biasCorrection2Sqrt: 0.0447 };
      const mk = (side: 'wasm' | 'ref'): UpdateArgs => ({ rule, param: p[side], grad: g[side], states: s.map((t) => t[side]), scale: scale[side], ...hyper });
      expect(WASM_UPDATE(mk('wasm'), h.rt)).toBe(true);
      referenceUpdate(mk('ref'));
      exact(h.read(p.wasm), refView(p.ref));
      exact(h.read(s[0]!.wasm), refView(s[0]!.ref));
      exact(h.read(s[1]!.wasm), refView(s[1]!.ref));
    }
  });
});
