// Direct unit tests of the reference backend's kernels: buffers and KernelTensors made by hand,
// no ts.init. The golden tests against PyTorch run on this backend through the public API.
import { describe, expect, it } from 'vitest';
import type { DType, KernelTensor, OpName, OpParams } from '@tessera/core';
import { ReferenceBackend } from '@tessera/reference';
import { pcg } from '../../packages/reference/src/kernels/creation.js';
import { expectClose } from '../helpers/index.js';

const be = new ReferenceBackend();
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function tensor(data: number[], shape: number[], dtype: DType = 'float32'): KernelTensor {
  const size = sizeOf(shape);
  const buf = be.alloc(size * 4);
  be.write(buf, dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data));
  return { shape, dtype, size, buf };
}
const empty = (shape: number[], dtype: DType = 'float32'): KernelTensor => tensor(new Array<number>(sizeOf(shape)).fill(0), shape, dtype);

async function values(t: KernelTensor): Promise<number[]> {
  const bytes = await be.read(t.buf, t.size * 4);
  return [...(t.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes))];
}

/** Runs `op` and returns its output's (and aux outputs') values. */
async function run<K extends OpName>(op: K, inputs: KernelTensor[], out: KernelTensor, params: OpParams[K], aux: KernelTensor[] = []) {
  be.run(op, { inputs, out, aux, params });
  return Promise.all([out, ...aux].map(values));
}

describe('reference kernels', () => {
  it('matmul: bias per column, then relu; transB reads the stored transpose', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tensor([1, -1, 0, 2, -1, 1], [3, 2]);
    const bT = tensor([1, 0, -1, -1, 2, 1], [2, 3]);
    const bias = tensor([3, -10], [2]);
    // a @ b = [[-2, 6], [-2, 12]]; + bias = [[1, -4], [1, 2]]; relu.
    const [y] = await run('matmul', [a, b, bias], empty([2, 2]), { transA: false, transB: false, activation: 'relu' });
    expect(y).toEqual([1, 0, 1, 2]);
    const [yT] = await run('matmul', [a, bT], empty([2, 2]), { transA: false, transB: true, activation: 'none' });
    expect(yT).toEqual([-2, 6, -2, 12]);
    // Batched, with b broadcast over the batch: [2, 2, 3] @ [3, 2].
    const a2 = tensor([1, 2, 3, 4, 5, 6, 0, 0, 1, 0, 0, 0], [2, 2, 3]);
    const [yb] = await run('matmul', [a2, b], empty([2, 2, 2]), { transA: false, transB: false, activation: 'none' });
    expect(yb).toEqual([-2, 6, -2, 12, -1, 1, 0, 0]);
  });

  it('conv2d and its gradients on a 3x3 image and a 2x2 filter', async () => {
    const geo = {
      stride: [1, 1] as [number, number],
      dilation: [1, 1] as [number, number],
      padding: [0, 0, 0, 0] as [number, number, number, number],
      groups: 1,
    };
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = tensor([1, 0, 0, -1], [1, 1, 2, 2]);
    const [y] = await run('conv2d', [x, w, tensor([1], [1])], empty([1, 1, 2, 2]), { ...geo, activation: 'none' });
    expect(y).toEqual([-3, -3, -3, -3]); // x[i, j] - x[i+1, j+1] + 1
    const dy = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
    const [dw] = await run('conv2dBackpropFilter', [x, dy], empty([1, 5]), { ...geo, filterShape: [1, 1, 2, 2], withBias: true });
    expect(dw).toEqual([12, 16, 24, 28, 4]); // window sums, then the bias gradient sum(dy)
    const [dx] = await run('conv2dBackpropInput', [dy, w], empty([1, 1, 3, 3]), { ...geo, inputShape: [1, 1, 3, 3] });
    expect(dx).toEqual([1, 1, 0, 1, 0, -1, 0, -1, -1]);
  });

  it('maxPool2d: the first of equal maxima wins, the last NaN wins; backward accumulates overlaps', async () => {
    const pool = { kernelSize: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number] };
    const [y, arg] = await run('maxPool2d', [tensor([5, 5, 1, 5], [1, 1, 2, 2])], empty([1, 1, 1, 1]), pool, [empty([1, 1, 1, 1], 'int32')]);
    expect([y, arg]).toEqual([[5], [0]]);
    const [yn, argn] = await run('maxPool2d', [tensor([NaN, 1, NaN, 2], [1, 1, 2, 2])], empty([1, 1, 1, 1]), pool, [empty([1, 1, 1, 1], 'int32')]);
    expect(Number.isNaN(yn![0])).toBe(true);
    expect(argn).toEqual([2]);

    const over = { kernelSize: [2, 2] as [number, number], stride: [1, 1] as [number, number], padding: [0, 0] as [number, number] };
    const x = tensor([1, 9, 9, 9, 2, 3, 4, 5, 9], [1, 1, 3, 3]);
    const a = empty([1, 1, 2, 2], 'int32');
    const [yo, ao] = await run('maxPool2d', [x], empty([1, 1, 2, 2]), over, [a]);
    expect([yo, ao]).toEqual([
      [9, 9, 9, 9],
      [1, 1, 3, 8],
    ]);
    const [dx] = await run('maxPool2dBackward', [tensor([1, 2, 3, 4], [1, 1, 2, 2]), a], empty([1, 1, 3, 3]), { ...over, inputShape: [1, 1, 3, 3] });
    expect(dx).toEqual([0, 3, 0, 3, 0, 0, 0, 0, 4]);
  });

  it('avgPool2d counts padded taps in the divisor', async () => {
    const p = { kernelSize: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1] as [number, number] };
    const [y] = await run('avgPool2d', [tensor([1, 2, 3, 4], [1, 1, 2, 2])], empty([1, 1, 2, 2]), p);
    expect(y).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('softmaxCrossEntropy: stats are (row max, log-sum-exp above it, target sum)', async () => {
    const l = Math.log(1 + Math.exp(-1) + Math.exp(-2));
    const x = tensor([1, 2, 3, 0, 0, 0], [2, 3]);
    const [loss, stats] = await run('softmaxCrossEntropy', [x, tensor([2, 3], [2], 'int32')], empty([2]), {}, [empty([2, 3])]);
    expectClose(loss!.slice(0, 1), [l]);
    expect(Number.isNaN(loss![1])).toBe(true); // class id 3 is outside [0, 3)
    expectClose(stats!, [3, l, 1, 0, Math.log(3), 1]);

    const probs = tensor([0, 0.5, 0.5, 1, 0, 0], [2, 3], 'float32');
    const [lossP, statsP] = await run('softmaxCrossEntropy', [x, probs], empty([2]), {}, [empty([2, 3])]);
    expectClose(lossP!, [0.5 + l, Math.log(3)]);
    expectClose(
      statsP!.filter((_, i) => i % 3 === 2),
      [1, 1],
    );

    const st = tensor(stats!, [2, 3]);
    const [dx] = await run('softmaxCrossEntropyBackward', [x, tensor([2, 3], [2], 'int32'), st, tensor([2, 1], [2])], empty([2, 3]), {});
    const e = [Math.exp(-2), Math.exp(-1), 1].map((v) => v / (1 + Math.exp(-1) + Math.exp(-2)));
    expectClose(dx!.slice(0, 3), [2 * e[0]!, 2 * e[1]!, 2 * (e[2]! - 1)]);
    expect(dx!.slice(3).every(Number.isNaN)).toBe(true);
  });

  it('random: the PCG hash of random.wgsl; reproducible per (seed, stream); uniform in [a, b)', async () => {
    // An independent 32-bit implementation with BigInt.
    const M = (1n << 32n) - 1n;
    const pcgBig = (v: bigint): bigint => {
      const state = (v * 747796405n + 2891336453n) & M;
      const word = (((state >> ((state >> 28n) + 4n)) ^ state) * 277803737n) & M;
      return (word >> 22n) ^ word;
    };
    for (const v of [0, 1, 42, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff]) expect(pcg(v)).toBe(Number(pcgBig(BigInt(v))));

    const draw = async (seed: number, stream: number, dist: 'uniform' | 'normal', a: number, b: number) =>
      (await run('random', [], empty([4096]), { shape: [4096], seed, stream, dist, a, b }))[0]!;
    const u = await draw(7, 0, 'uniform', -2, 3);
    expect(await draw(7, 0, 'uniform', -2, 3)).toEqual(u);
    expect(await draw(7, 1, 'uniform', -2, 3)).not.toEqual(u);
    expect(u.every((v) => v >= -2 && v < 3)).toBe(true);
    const n = await draw(7, 0, 'normal', 1, 2);
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean - 1)).toBeLessThan(0.1);
    expect(Math.abs(std - 2)).toBeLessThan(0.1);
  });

  it('elementwise and reductions follow the WGSL special cases', async () => {
    // i32(f32) as Tint compiles it: truncation, clamped to [-2^31, 2147483520]; NaN gives -2^31.
    const [c] = await run('cast', [tensor([-2.7, 2.7, 0, 3e9, -Infinity, NaN], [6])], empty([6], 'int32'), { dtype: 'int32' });
    expect(c).toEqual([-2, 2, 0, 2147483520, -2147483648, -2147483648]);
    const [s] = await run('sign', [tensor([-3, 0, 5], [3])], empty([3]), {});
    expect(s).toEqual([-1, 0, 1]);
    const [p] = await run('pow', [tensor([-2, -2, 0, 4], [4]), tensor([3, 0.5, 0, 0.5], [4])], empty([4]), {});
    expect(p).toEqual([-8, NaN, 1, 2]);
    const [mx] = await run('maximum', [tensor([NaN, 1], [2]), tensor([3], [1])], empty([2]), {});
    expect(mx).toEqual([3, 3]);
    const [w] = await run('where', [tensor([1, 0], [2, 1]), tensor([5, 6], [2], 'int32'), tensor([7.5], [1])], empty([2, 2]), {});
    expect(w).toEqual([5, 6, 7.5, 7.5]);
    const [am] = await run('argmax', [tensor([1, 4, 4, 2, NaN, NaN], [2, 3])], empty([2], 'int32'), { axes: [1], keepdims: false });
    expect(am).toEqual([1, 1]);
    const [sum] = await run('sum', [tensor([1, 2, 3, 4, 5, 6], [2, 3])], empty([3]), { axes: [0], keepdims: false });
    expect(sum).toEqual([5, 7, 9]);
  });

  it('update: adam and momentum with a gradient scale, against hand-computed steps', async () => {
    const hyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0, biasCorrection1: 0.1, biasCorrection2Sqrt: Math.sqrt(0.001) };
    const [p, g, m, v] = [tensor([1], [1]), tensor([0.5], [1]), empty([1]), empty([1])];
    be.update({ ...hyper, rule: 'adam', param: p, grad: g, states: [m, v], scale: null });
    // m = 0.05, v = 0.00025; p -= (0.1 / 0.1) * 0.05 / (sqrt(0.00025) / sqrt(0.001) + 1e-8)
    expectClose(await values(p), [1 - 0.05 / (0.5 + 1e-8)]);
    expectClose([...(await values(m)), ...(await values(v))], [0.05, 0.00025]);

    const [q, buf] = [tensor([1], [1]), tensor([1], [1])];
    be.update({ ...hyper, rule: 'momentum', momentum: 0.9, param: q, grad: g, states: [buf], scale: tensor([2], [1]) });
    expectClose(await values(buf), [1.9]); // 0.9 * 1 + 0.5 * 2
    expectClose(await values(q), [1 - 0.1 * 1.9]);
  });

  it('markNonFinite keeps the smallest flagged tag', async () => {
    be.markNonFinite!(tensor([1, Infinity], [2]).buf, 2, 9);
    be.markNonFinite!(tensor([1, 2], [2]).buf, 2, 3);
    be.markNonFinite!(tensor([NaN], [1]).buf, 1, 5);
    expect(await be.takeNonFinite!()).toBe(5);
    expect(await be.takeNonFinite!()).toBe(-1);
  });
});
