/**
 * The kernel variants a real GPU gets, checked on this machine's adapter: the backend is created
 * with its caps overridden to `registerTiling: false`, which changes how the filter gradient splits its
 * reduction (many more, shorter chunks, down to one (n, oh) row each), the input gradient's thread
 * order, and gives rows of 64 or more a workgroup-per-row softmax. Every conv2d and softmax
 * fixture case must still match PyTorch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '@tessera/webgpu';
import { ts, expectClose, fromGolden, loadGolden } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: await createBackend({ caps: { registerTiling: false } }) });
});

const { cases } = loadGolden('cnn_ops.json');

describe('GPU kernel variants on this adapter', () => {
  it('run with registerTiling off', () => {
    expect(ts.stats()).toBeTruthy();
  });

  const apply = (op: string, xs: ts.Tensor[], p: Record<string, unknown>): ts.Tensor =>
    op === 'conv2d'
      ? ts.conv2d(xs[0]!, xs[1]!, xs[2], p as ts.Conv2dOptions)
      : op === 'softmax'
        ? ts.softmax(xs[0]!, p.axis as number)
        : ts.logSoftmax(xs[0]!, p.axis as number);

  for (const c of cases.filter((k) => ['conv2d', 'softmax', 'logSoftmax'].includes(k.op))) {
    it(c.name, async () => {
      await ts.tidy(async () => {
        const xs = c.inputs.map((g) => fromGolden(g, true));
        const out = apply(c.op, xs, c.params as Record<string, unknown>);
        expectClose(await out.data(), c.output.data, { rtol: 1e-4, atol: 1e-5, what: 'output' });
        out.backward(fromGolden(c.cotangent!));
        for (const [i, g] of (c.grads ?? []).entries()) {
          if (g) expectClose(await xs[i]!.grad!.data(), g.data, { rtol: 1e-4, atol: 1e-5, what: `grad ${i}` });
        }
        ts.dispose(xs);
      });
    });
  }
});
