#!/usr/bin/env node
// LeNet-5 training steps (forward, backward, Adam), eager against compiled (nn.trainFunction):
// steps per second, host milliseconds per step (until the call returns, the GPU still busy),
// and dispatches per step, on whatever adapter `ts.init()` picks. The measuring is
// bench/train-steps.mjs, which the suite's fact rows share (node bench/run.mjs --eager).
//
//   npx tsx --tsconfig examples/tsconfig.json bench/compile.mjs [batch=16] [steps=20] [backend=webgpu]
//   node bench/compile.mjs [batch] [steps] [backend]   (on the built packages: npm run build:packages)
// backend: webgpu (the default here, even on SwiftShader), wasm, reference or auto.
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import '@tessera/webgpu'; // registers the backends
import '@tessera/wasm';
import '@tessera/reference';
import { trainStepFigures } from './train-steps.mjs';

const batch = Number(process.argv[2] ?? 16);
const steps = Number(process.argv[3] ?? 20);
const info = await ts.init({ backend: process.argv[4] ?? 'webgpu' });
console.log(`${info.backend}: ${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}), LeNet-5, Adam, batch ${batch}, ${steps} timed steps`);

const rows = [];
for (const mode of ['eager', 'compiled']) {
  const r = await trainStepFigures(ts, nn, { batch, steps, mode });
  rows.push({
    mode,
    'steps/s': +r.stepsPerSecond.toFixed(2),
    'host ms/step': +r.hostMsPerStep.toFixed(2),
    'dispatches/step': r.dispatchesPerStep,
    loss: +r.loss.toFixed(4),
  });
}
console.table(rows);
console.log(
  `compiled/eager: ${(rows[1]['steps/s'] / rows[0]['steps/s']).toFixed(2)}x steps/s, ${(rows[0]['host ms/step'] / rows[1]['host ms/step']).toFixed(2)}x less host time`,
);
ts.shutdown();
