/**
 * The kernel variants a real GPU gets, checked on this machine's adapter: the backend's caps are
 * overridden to `registerTiling: false`, which changes how the filter gradient splits its
 * reduction (many more, shorter chunks, down to one (n, oh) row each). Every conv2d fixture case
 * must still match PyTorch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '@tessera/webgpu';
import { ts, expectClose, fromGolden, loadGolden } from '../helpers/index.js';

beforeAll(async () => {
  const backend = await createBackend();
  (backend.caps as { registerTiling: boolean }).registerTiling = false;
  await ts.init({ backend });
});

const { cases } = loadGolden('cnn_ops.json');

describe('GPU kernel variants on this adapter', () => {
  it('run with registerTiling off', () => {
    expect(ts.stats()).toBeTruthy();
  });

  for (const c of cases.filter((k) => k.op === 'conv2d')) {
    it(c.name, async () => {
      await ts.tidy(async () => {
        const xs = c.inputs.map((g) => fromGolden(g, true));
        const out = ts.conv2d(xs[0]!, xs[1]!, xs[2], c.params as ts.Conv2dOptions);
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
