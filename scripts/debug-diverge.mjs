#!/usr/bin/env node
// A training run that diverges on purpose, to show the numerical debugging tools
// (docs/debugging.md): a linear model of MNIST digits (one-hot targets, squared error, the
// tutorial's first objective) trained by plain SGD at learning rate 100. Each step multiplies
// the error by about -600, so the weights overflow float32 within a dozen steps.
//
//   npm run build:packages
//   node scripts/debug-diverge.mjs              no tool: the loss just turns into NaN
//   node scripts/debug-diverge.mjs numerics     ts.debug.checkNumerics: the first op with NaN/Inf
//   node scripts/debug-diverge.mjs shadow       ts.debug.shadow: the first op that differs from
//                                               the reference backend, or that makes NaN/Inf
import { pathToFileURL } from 'node:url';
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import '@tessera/reference';
import * as nn from '@tessera/nn';
import { loadMnist } from '@tessera/data/node';

/**
 * Trains until the loss is not finite or a debugging tool throws; returns what happened.
 * @param {{ mode?: 'none' | 'numerics' | 'shadow', steps?: number, lr?: number, log?: (s: string) => void }} opts
 */
export async function diverge({ mode = 'none', steps = 20, lr = 100, log = console.log } = {}) {
  await ts.init({ backend: 'webgpu' });
  const data = await loadMnist({ split: 'train', limit: 32 * steps });
  const input = new nn.InputLayer([null, 1, 28, 28]);
  const net = { out: new nn.DenseLayer(input, { numUnits: 10, nonlinearity: nn.nonlinearities.linear }) };
  const opt = nn.updates.sgd(net.out, { learningRate: lr });
  if (mode === 'numerics') ts.debug.checkNumerics(true);
  if (mode === 'shadow') ts.debug.shadow(true);
  const params = nn.getAllParams(net.out);
  try {
    for (let step = 0; step < steps; step++) {
      const x = ts.tensor(data.images.subarray(step * 32 * 784, (step + 1) * 32 * 784), { shape: [32, 1, 28, 28] });
      const labels = ts.tensor(data.labels.subarray(step * 32, (step + 1) * 32), { dtype: 'int32' });
      const y = ts.oneHot(labels, 10);
      labels.dispose();
      const loss = ts.tidy(() => nn.objectives.squaredError(nn.getOutput(net.out, x), y).mean());
      await opt.step(loss);
      let value;
      try {
        value = await loss.item();
      } finally {
        ts.dispose([x, y, loss]);
      }
      log(`step ${step + 1}: loss ${value}`);
      if (!Number.isFinite(value)) return { step: step + 1, loss: value, error: null };
    }
    return { step: steps, loss: null, error: null };
  } catch (e) {
    log(String(/** @type {Error} */ (e).message));
    return { step: -1, loss: null, error: /** @type {Error} */ (e) };
  } finally {
    ts.debug.checkNumerics(false);
    ts.debug.shadow(false);
    opt.dispose();
    ts.dispose(params);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = /** @type {'none' | 'numerics' | 'shadow'} */ (process.argv[2] ?? 'none');
  if (!['none', 'numerics', 'shadow'].includes(mode)) {
    console.error(`usage: node scripts/debug-diverge.mjs [none|numerics|shadow], got ${mode}`);
    process.exit(2);
  }
  await diverge({ mode });
  ts.shutdown();
}
