/**
 * Central finite differences against autograd for every CNN op on small inputs, including the
 * gradient rules of the backward primitives themselves (second derivatives of conv2d).
 */
import { it } from 'vitest';
import { ts, describeEachBackend, gradcheck } from '../helpers/index.js';

/** Deterministic values in [-1, 1) (mulberry32), so failures reproduce. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const inputs = (shapes: number[][], seed = 1): Float32Array[] => shapes.map((s, i) => values(size(s), seed + 17 * i));
const raw = <K extends ts.OpName>(op: K, xs: ts.Tensor[], p: ts.OpParams[K]) => ts.Tensor._fromOp(op, xs, p);
const geometry = {
  stride: [1, 1] as [number, number],
  dilation: [1, 1] as [number, number],
  padding: [1, 1, 0, 1] as [number, number, number, number],
  groups: 1,
};

describeEachBackend('finite-difference gradients', () => {
  it('conv2d: stride 2, padding 1, bias', async () => {
    const shapes = [[1, 2, 5, 5], [3, 2, 3, 3], [3]];
    await gradcheck((x, w, b) => ts.conv2d(x, w, b, { stride: 2, padding: 1 }), inputs(shapes), shapes);
  });

  it("conv2d: groups 2, dilation 2, 'same' with an even kernel", async () => {
    const shapes = [
      [2, 2, 4, 5],
      [2, 1, 2, 3],
    ];
    await gradcheck((x, w) => ts.conv2d(x, w, null, { groups: 2, dilation: 2, padding: 'same' }), inputs(shapes, 5), shapes);
  });

  it('conv2dBackpropInput (second derivative of conv2d)', async () => {
    const shapes = [
      [1, 2, 5, 4],
      [2, 2, 2, 2],
    ]; // dy [N, F, OH, OW], w [F, C, KH, KW]
    await gradcheck((dy, w) => raw('conv2dBackpropInput', [dy, w], { ...geometry, inputShape: [1, 2, 4, 4] }), inputs(shapes, 9), shapes);
  });

  it('conv2dBackpropFilter with the bias column (second derivative of conv2d)', async () => {
    const shapes = [
      [1, 2, 4, 4],
      [1, 2, 5, 4],
    ]; // x, dy
    await gradcheck(
      (x, dy) => raw('conv2dBackpropFilter', [x, dy], { ...geometry, filterShape: [2, 2, 2, 2], chunks: 2, withBias: true }),
      inputs(shapes, 13),
      shapes,
    );
  });

  it('maxPool2d: overlapping windows with padding', async () => {
    const shapes = [[1, 2, 5, 5]];
    await gradcheck((x) => ts.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), inputs(shapes, 21), shapes);
  });

  it('avgPool2d: overlapping windows with padding, and its backward primitive', async () => {
    const shapes = [[1, 2, 5, 5]];
    await gradcheck((x) => ts.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), inputs(shapes, 25), shapes);
    const dyShapes = [[1, 2, 3, 3]];
    await gradcheck(
      (dy) => raw('avgPool2dBackward', [dy], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], inputShape: [1, 2, 5, 5] }),
      inputs(dyShapes, 27),
      dyShapes,
    );
  });

  it('softmax and logSoftmax over a middle axis', async () => {
    const shapes = [[2, 3, 4]];
    await gradcheck((x) => ts.softmax(x, 1), inputs(shapes, 31), shapes);
    await gradcheck((x) => ts.logSoftmax(x, 1), inputs(shapes, 33), shapes);
  });

  it('crossEntropy: class ids, and probabilities (gradient to both inputs)', async () => {
    const labels = ts.tensor([2, 0, 3], { dtype: 'int32' });
    await gradcheck((x) => ts.crossEntropy(x, labels), inputs([[3, 4]], 41), [[3, 4]]);
    const shapes = [
      [3, 4],
      [3, 4],
    ];
    await gradcheck((x, t) => ts.crossEntropy(x, t, { reduction: 'none' }), inputs(shapes, 43), shapes);
    labels.dispose();
  });
});
