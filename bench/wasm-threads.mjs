#!/usr/bin/env node
// The WebAssembly backend's kernels on 1 thread and on N, in one process: LeNet-5's convolutions
// (forward, input gradient, filter gradient), max-pooling and dense products at batch 64, and
// square matmuls from 16 to 1024, to see where splitting pays and to choose minWorkPerThread.
// Best of the repeats (the machine is shared).
//
//   npx tsx --tsconfig examples/tsconfig.json bench/wasm-threads.mjs [threads=hardware] [--reps 15] [--min-work N]
import { createWasmBackend, hardwareThreads } from '@tessera/wasm';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const threads = Number(args.find((a) => /^\d+$/.test(a)) ?? hardwareThreads());
const reps = opt('--reps', 15);
const minWork = opt('--min-work', 0);

/** A float32 tensor of `shape` in the backend's memory, random values. */
const tensor = (be, shape, dtype = 'float32') => {
  const size = shape.reduce((a, b) => a * b, 1);
  const buf = be.alloc(4 * size);
  if (dtype === 'float32')
    be.write(
      buf,
      Float32Array.from({ length: size }, () => Math.random() - 0.5),
    );
  return { shape, dtype, size, buf };
};

/** name, multiply-adds, and the primitive with its inputs' shapes, output shape and params. */
const cases = [];
const conv = (name, x, w, pad) => {
  const y = [x[0], w[0], x[2] + 2 * pad - w[2] + 1, x[3] + 2 * pad - w[3] + 1];
  const macs = y[0] * y[1] * y[2] * y[3] * w[1] * w[2] * w[3];
  const geometry = { stride: [1, 1], dilation: [1, 1], padding: [pad, pad, pad, pad], groups: 1 };
  cases.push({ name: `${name} forward`, macs, op: 'conv2d', inputs: [x, w], out: y, params: { ...geometry, activation: 'none' } });
  cases.push({ name: `${name} input grad`, macs, op: 'conv2dBackpropInput', inputs: [y, w], out: x, params: { ...geometry, inputShape: x } });
  cases.push({
    name: `${name} filter grad`,
    macs,
    op: 'conv2dBackpropFilter',
    inputs: [x, y],
    out: w,
    params: { ...geometry, filterShape: w, withBias: false },
  });
};
conv('conv1 [64,1,28,28]', [64, 1, 28, 28], [6, 1, 5, 5], 2);
conv('conv2 [64,6,14,14]', [64, 6, 14, 14], [16, 6, 5, 5], 0);
for (const x of [
  [64, 6, 28, 28],
  [64, 16, 10, 10],
]) {
  const out = [x[0], x[1], x[2] / 2, x[3] / 2];
  const pool = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };
  cases.push({ name: `maxPool2d [${x}]`, macs: x.reduce((a, b) => a * b), op: 'maxPool2d', inputs: [x], out, aux: [out], params: pool });
}
for (const [m, k, n] of [
  [64, 400, 120],
  [64, 120, 84],
  [16, 16, 16],
  [32, 32, 32],
  [64, 64, 64],
  [128, 128, 128],
  [256, 256, 256],
  [1024, 1024, 1024],
]) {
  const params = { transA: false, transB: false, activation: 'none' };
  cases.push({
    name: `matmul [${m},${k}]@[${k},${n}]`,
    macs: m * k * n,
    op: 'matmul',
    inputs: [
      [m, k],
      [k, n],
    ],
    out: [m, n],
    params,
  });
}

/** Best microseconds per call of each case on a backend of `n` threads. */
async function measure(n) {
  const be = await createWasmBackend({ threads: n, minWorkPerThread: minWork });
  const out = [];
  for (const c of cases) {
    const args = {
      inputs: c.inputs.map((s) => tensor(be, s)),
      out: tensor(be, c.out),
      aux: (c.aux ?? []).map((s) => tensor(be, s, 'int32')),
      params: c.params,
    };
    const perCall = Math.max(1, Math.min(200, Math.round(2e6 / c.macs)));
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r <= reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < perCall; i++) be.run(c.op, /** @type {any} */ (args));
      const us = ((performance.now() - t0) * 1000) / perCall;
      if (r > 0) best = Math.min(best, us);
    }
    out.push(best);
  }
  be.destroy();
  return out;
}

const one = await measure(1);
const many = await measure(threads);
console.log(`WebAssembly SIMD kernels, 1 thread against ${threads}, best of ${reps} (minWorkPerThread ${minWork})`);
console.table(
  cases.map((c, i) => ({
    case: c.name,
    'MACs (k)': Math.round(c.macs / 1000),
    '1 thread us': Math.round(one[i]),
    [`${threads} threads us`]: Math.round(many[i]),
    speedup: `${(one[i] / many[i]).toFixed(2)}x`,
  })),
);
