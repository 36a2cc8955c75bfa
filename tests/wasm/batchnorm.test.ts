import type { KernelArgs, OpName } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmRuntime } from '../../packages/wasm/src/contract.js';
import { WASM_KERNELS } from '../../packages/wasm/src/kernels/index.js';
import { kernelKit, testRuntime, type KernelKit, type TestRuntime, randoms, type Pair } from './harness.js';

// The batch-norm kernels of the WebAssembly backend against the reference kernels: statistics,
// forward, gradient sums, backward and the running update, on 2-D, NCHW and other axes.

let h: TestRuntime;
let { both, close, exact, f, empty } = {} as KernelKit;
beforeAll(async () => {
  h = await testRuntime();
  ({ both, close, exact, f, empty } = kernelKit(h));
});

describe('wasm batch-norm kernels match the reference', () => {
  it('batch norm: statistics, forward, gradient sums, backward and running update; 2-D, NCHW, other axes, tails', () => {
    // [shape, axis, offset of x]: inner 1 ([N, C]; channels last), short inner (the column walk,
    // in more than one block of 1024 columns at the end), inner >= 16 with and without tails,
    // axis 0, and a mean far from 0.
    const cases: [number[], number, number][] = [
      [[37, 5], 1, 0],
      [[3, 70], 1, 0],
      [[6, 7, 5, 3], 1, 0],
      [[5, 3, 9, 7], 1, 0],
      [[4, 6, 17], 1, 0],
      [[4, 3, 50], 1, 0],
      [[3, 4, 5, 6], 3, 0],
      [[9, 5, 4], 0, 0],
      [[2, 3, 2, 2], 1, 0],
      [[7, 4, 6, 6], 1, 300],
      [[33, 6], 1, 300],
      [[3, 1100], 1, 0],
      [[2, 300, 5], 1, 0],
    ];
    // The runtime's parallel, cut into three parts by channels: each must give the same bits.
    const split: WasmRuntime = {
      ...h.rt,
      parallel: (count, _work, body) => {
        const cut = [0, Math.floor(count / 3), Math.floor((2 * count) / 3), count];
        for (let i = 0; i < 3; i++) if (cut[i + 1]! > cut[i]!) body(cut[i]!, cut[i + 1]!, (name, ...a) => void h.rt.exports[name]!(...a));
      },
    };
    /** Runs op on wasm (whole and split) and the reference; checks them (exact, or to tol); returns the reference's values. */
    const run = (op: OpName, inputs: Pair[], outShape: number[], params: object, tol?: number): Float32Array => {
      const [[got, want]] = both(op, inputs, empty(outShape), params);
      const parts = empty(outShape);
      const args = { inputs: inputs.map((p) => p.wasm), out: parts.wasm, aux: [], params } as unknown as KernelArgs<never>;
      expect(WASM_KERNELS[op]!(args, split)).toBe(true);
      exact(h.read(parts.wasm), got);
      if (tol === undefined) exact(got, want);
      else close(got, want, tol);
      return Float32Array.from(want);
    };
    let seed = 700;
    for (const [shape, axis, offset] of cases) {
      h.reset();
      const C = shape[axis]!;
      const size = shape.reduce((a, b) => a * b, 1);
      const x = h.tensor(shape, 'float32', randoms(size, seed++, offset - 2, offset + 2));
      const dy = f(shape, seed++);
      const epsilon = 1e-5;
      // The batch statistics, then the same values on both sides for the passes that read them.
      const stats = h.tensor([2, C], 'float32', run('batchNormStats', [x], [2, C], { axis }, 1e-6));
      const mean = f([C], seed++);
      const variance = h.tensor([C], 'float32', randoms(C, seed++, 0.1, 2));
      const gamma = h.tensor([C], 'float32', randoms(C, seed++, 0.5, 1.5));
      const beta = f([C], seed++);
      for (const training of [true, false]) {
        const [m, v] = training ? [stats, stats] : [mean, variance];
        for (const [withGamma, withBeta] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ] as const) {
          const p = { axis, epsilon, training, gamma: withGamma, beta: withBeta };
          run('batchNorm', [x, m, v, ...(withGamma ? [gamma] : []), ...(withBeta ? [beta] : [])], shape, p);
        }
        const sums = h.tensor([2, C], 'float32', run('batchNormGradSums', [x, m, v, dy], [2, C], { axis, epsilon }, 1e-6));
        for (const withGamma of [false, true]) {
          const p = { axis, epsilon, training, gamma: withGamma };
          run('batchNormBackward', [x, m, v, ...(withGamma ? [gamma] : []), dy, ...(training ? [sums] : [])], shape, p);
        }
      }
      for (const row of [0, 1] as const) run('batchNormRunning', [beta, stats], [C], { momentum: 0.1, row, scale: row ? size / C / (size / C - 1) : 1 });
    }
  });
});
