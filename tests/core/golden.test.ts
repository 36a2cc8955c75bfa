// Every core op, forward and gradient, against values PyTorch computed
// (tests/fixtures/core_ops.json, written by scripts/golden/core_ops.py).
import { expect, it } from 'vitest';
import { ts, describeEachBackend, expectClose, fromGolden, loadGolden, type GoldenCase } from '../helpers/index.js';

type P = Record<string, any>;
const CALL: Record<string, (xs: ts.Tensor[], p: P) => ts.Tensor> = {
  add: ([a, b]) => a!.add(b!),
  sub: ([a, b]) => a!.sub(b!),
  mul: ([a, b]) => a!.mul(b!),
  div: ([a, b]) => a!.div(b!),
  pow: ([a, b]) => a!.pow(b!),
  maximum: ([a, b]) => a!.maximum(b!),
  minimum: ([a, b]) => a!.minimum(b!),
  eq: ([a, b]) => a!.eq(b!),
  gt: ([a, b]) => a!.gt(b!),
  lt: ([a, b]) => a!.lt(b!),
  neg: ([x]) => x!.neg(),
  exp: ([x]) => x!.exp(),
  log: ([x]) => x!.log(),
  sqrt: ([x]) => x!.sqrt(),
  abs: ([x]) => x!.abs(),
  relu: ([x]) => x!.relu(),
  sigmoid: ([x]) => x!.sigmoid(),
  tanh: ([x]) => x!.tanh(),
  where: ([c, a, b]) => ts.where(c!, a!, b!),
  sum: ([x], p) => x!.sum(p.axis ?? undefined, p.keepdims),
  mean: ([x], p) => x!.mean(p.axis ?? undefined, p.keepdims),
  max: ([x], p) => x!.max(p.axis ?? undefined, p.keepdims),
  min: ([x], p) => x!.min(p.axis ?? undefined, p.keepdims),
  argmax: ([x], p) => x!.argmax(p.axis),
  reshape: ([x], p) => x!.reshape(p.shape),
  transpose: ([x], p) => x!.transpose(p.perm ?? undefined),
  flatten: ([x], p) => x!.flatten(p.startDim),
  slice: ([x], p) => x!.slice(p.begin, p.size),
  concat: (xs, p) => ts.concat(xs, p.axis),
  oneHot: ([x], p) => ts.oneHot(x!, p.numClasses),
  matmul: ([a, b]) => ts.matmul(a!, b!),
  linear: ([x, w, b]) => ts.linear(x!, w!, b),
};

const { cases } = loadGolden('core_ops.json');

describeEachBackend('core ops against PyTorch', () => {
  it('covers every op in the fixture', () => {
    for (const c of cases) expect(CALL[c.op], `no call for op ${c.op}`).toBeDefined();
  });

  it.each(cases.map((c) => [c.name, c] as [string, GoldenCase]))('%s', async (_name, c) => {
    const inputs = c.inputs.map((g) => fromGolden(g, !!c.grads));
    const out = CALL[c.op]!(inputs, c.params);
    expect([...out.shape]).toEqual(c.output.shape);
    expect(out.dtype).toBe(c.output.dtype ?? 'float32');
    expectClose(await out.data(), c.output.data, { rtol: 1e-5, atol: 1e-5, what: `${c.name} forward` });
    if (c.cotangent && c.grads) {
      const cot = fromGolden(c.cotangent);
      out.backward(cot);
      for (const [i, g] of c.grads.entries()) {
        if (!g) continue;
        const grad = inputs[i]!.grad;
        expect(grad, `${c.name}: gradient of input ${i}`).toBeTruthy();
        expect([...grad!.shape]).toEqual(g.shape);
        expectClose(await grad!.data(), g.data, { rtol: 1e-4, atol: 1e-5, what: `${c.name} grad ${i}` });
      }
      cot.dispose();
    }
    ts.dispose([inputs, out]);
  });
});
