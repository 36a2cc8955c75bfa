#!/usr/bin/env node
// Time from ts.init() to the first finished LeNet-5 training step (batch 64, Adam, compiled),
// the latency a user waits before training starts: on WebGPU it is mostly pipeline creation
// (shader compilation), on the WebAssembly backend module instantiation.
//
//   npx tsx --tsconfig examples/tsconfig.json bench/first-step.mjs [backend=auto]
//   (backend: auto, webgpu, wasm or reference; run once per process, as a user's first step is)
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import '@tessera/webgpu';
import '@tessera/wasm';
import '@tessera/reference';
const backend = process.argv[2] ?? 'auto';
const t0 = performance.now();
const info = await ts.init({ backend });
const t1 = performance.now();
const net = nn.models.lenet5({ seed: 1 });
const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
const step = nn.trainFunction((x, y) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt);
const x = ts.rand([64, 1, 28, 28], { seed: 3 });
const y = ts.tensor(
  Int32Array.from({ length: 64 }, (_, i) => i % 10),
  { dtype: 'int32' },
);
await step(x, y).item();
const t2 = performance.now();
console.log(info.backend, 'init', (t1 - t0).toFixed(0), 'ms; first step', (t2 - t1).toFixed(0), 'ms; init -> first step', (t2 - t0).toFixed(0), 'ms');
process.exit(0);
