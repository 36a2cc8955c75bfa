#!/usr/bin/env node
// ts.batchNorm (fused primitives) against the same batch normalization composed from elementwise
// ops and reductions, forward and forward + backward, on the adapter Tessera picks. Each timed
// region ends with a one-element readback, so the figures are the GPU work, not a 3 MB transfer.
//   npm run build:packages && node bench/batchnorm.mjs [N,C,H,W] [--reps 8]
import * as ts from '@tessera/core';
import '@tessera/webgpu'; // registers the WebGPU backend

const shape = (process.argv.slice(2).find((a) => /^\d+(,\d+)+$/.test(a)) ?? '64,16,28,28').split(',').map(Number);
const repsAt = process.argv.indexOf('--reps');
const reps = repsAt > 0 ? Number(process.argv[repsAt + 1]) : 8;
const info = await ts.init();
const C = shape[1];
const axes = [0, ...shape.slice(2).map((_, i) => i + 2)];
const bshape = shape.map((d, i) => (i === 1 ? d : 1));
const gamma = ts.keep(ts.ones([C], { requiresGrad: true }));
const beta = ts.keep(ts.zeros([C], { requiresGrad: true }));
const runningMean = ts.keep(ts.zeros([C]));
const runningVar = ts.keep(ts.ones([C]));
const x = ts.keep(ts.randn(shape, { seed: 1, requiresGrad: true }));
const cot = ts.keep(ts.randn(shape, { seed: 2 }));

/** The textbook composition: 11 dispatches forward, two of them reductions over all but axis 1. */
function composed() {
  return ts.tidy(() => {
    const mean = x.mean(axes, true);
    const d = x.sub(mean);
    const v = d.square().mean(axes, true);
    return d.div(v.add(1e-5).sqrt()).mul(gamma.reshape(bshape)).add(beta.reshape(bshape));
  });
}

const variants = {
  'fused, training': () => ts.batchNorm(x, { gamma, beta, runningMean, runningVar, training: true }),
  'fused, evaluation': () => ts.batchNorm(x, { gamma, beta, runningMean, runningVar }),
  'composed, training (no running update)': composed,
};
const one = (t) =>
  ts.tidy(() =>
    t.slice(
      t.shape.map(() => 0),
      t.shape.map(() => 1),
    ),
  );
const results = new Map();
for (let r = 0; r < reps + 1; r++) {
  for (const [name, f] of Object.entries(variants)) {
    if (name.startsWith('composed') && r > 2) continue; // seconds per run on a CPU adapter
    await one(x).data();
    const d0 = ts.stats().dispatches;
    const t0 = performance.now();
    const y = f();
    await one(y).data();
    const t1 = performance.now();
    const d1 = ts.stats().dispatches;
    y.backward(cot);
    await one(x.grad).data();
    const t2 = performance.now();
    const d2 = ts.stats().dispatches;
    ts.dispose([y, x.grad, gamma.grad, beta.grad]);
    x.grad = gamma.grad = beta.grad = null;
    if (r === 0) continue; // warm-up: pipelines compile
    const e = results.get(name) ?? { fwd: [], total: [], dispatches: [d1 - d0 - 1, d2 - d1 - 1] };
    e.fwd.push(t1 - t0);
    e.total.push(t2 - t0);
    results.set(name, e);
  }
}
const min = (a) => Math.min(...a).toFixed(1);
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1].toFixed(1);
console.log(`adapter ${info?.adapter ?? ts.backendInfo().adapter}, input [${shape}]`);
console.log('| variant | dispatches fwd / bwd | forward ms (min / median) | forward + backward ms (min / median) |');
console.log('| --- | --- | --- | --- |');
for (const [name, e] of results) console.log(`| ${name} | ${e.dispatches.join(' / ')} | ${min(e.fwd)} / ${med(e.fwd)} | ${min(e.total)} / ${med(e.total)} |`);
