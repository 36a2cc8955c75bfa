/**
 * Every CNN op against PyTorch: forward values and every input's gradient, for the option
 * combinations in scripts/golden/cnn_ops.py (strides 1-3, number / pair / 'same' / 'valid'
 * padding, dilation 2, groups 2 and depthwise, non-square kernels and inputs, batch 1 and > 1,
 * C=1, with and without bias, fused ReLU; pooling windows 2 and 3 with strides 1-3 and padding;
 * softmax over the last and a middle axis; cross-entropy with ids, probabilities and one-hot).
 */
import { expect, it } from 'vitest';
import { ts, applyCnnCase as apply, describeEachBackend, expectClose, fromGolden, loadGolden } from '../helpers/index.js';

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
