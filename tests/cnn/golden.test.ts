/**
 * Every CNN op against PyTorch: forward values and every input's gradient, for the option
 * combinations in scripts/golden/cnn_ops.py (strides 1-3, number / pair / 'same' / 'valid'
 * padding, dilation 2, groups 2 and depthwise, non-square kernels and inputs, batch 1 and > 1,
 * C=1, with and without bias, fused ReLU; pooling windows 2 and 3 with strides 1-3 and padding;
 * softmax over the last and a middle axis; cross-entropy with ids, probabilities and one-hot).
 */
import { expect, it } from 'vitest';
import { ts, describeEachBackend, expectClose, fromGolden, loadGolden, type GoldenCase } from '../helpers/index.js';

type Params = Record<string, unknown>;

/** Calls the Tessera function a fixture case describes. */
function apply(c: GoldenCase, xs: ts.Tensor[]): ts.Tensor {
  const p = c.params as Params;
  switch (c.op) {
    case 'conv2d':
      return ts.conv2d(xs[0]!, xs[1]!, xs[2], p as ts.Conv2dOptions);
    case 'maxPool2d':
      return ts.maxPool2d(xs[0]!, p as unknown as ts.Pool2dOptions);
    case 'avgPool2d':
      return ts.avgPool2d(xs[0]!, p as unknown as ts.Pool2dOptions);
    case 'softmax':
      return ts.softmax(xs[0]!, p.axis as number);
    case 'logSoftmax':
      return ts.logSoftmax(xs[0]!, p.axis as number);
    case 'crossEntropy':
      return ts.crossEntropy(xs[0]!, xs[1]!, p as ts.CrossEntropyOptions);
    default:
      throw new Error(`no runner for op ${c.op}`);
  }
}

const { cases } = loadGolden('cnn_ops.json');

describeEachBackend('CNN ops match PyTorch', () => {
  it('has cases for every op', () => {
    const ops = new Set(cases.map((c) => c.op));
    for (const op of ['conv2d', 'maxPool2d', 'avgPool2d', 'softmax', 'logSoftmax', 'crossEntropy']) expect(ops.has(op), op).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      await ts.tidy(async () => {
        const xs = c.inputs.map((g) => fromGolden(g, true));
        const out = apply(c, xs);
        expect([...out.shape]).toEqual(c.output.shape);
        expectClose(await out.data(), c.output.data, { rtol: 1e-4, atol: 1e-5, what: `${c.name} output` });
        out.backward(fromGolden(c.cotangent!));
        for (const [i, g] of (c.grads ?? []).entries()) {
          if (!g) continue;
          expect(xs[i]!.grad, `${c.name}: grad of input ${i}`).toBeTruthy();
          expectClose(await xs[i]!.grad!.data(), g.data, { rtol: 1e-4, atol: 1e-5, what: `${c.name} grad ${i}` });
        }
        ts.dispose(xs);
      });
    });
  }
});
