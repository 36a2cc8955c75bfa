#!/usr/bin/env node
// LeNet-5 training steps (forward, backward, Adam), eager against compiled (nn.trainFunction):
// steps per second, host milliseconds per step (until the call returns, the GPU still busy),
// and dispatches per step, on whatever adapter `ts.init()` picks.
//
//   npx tsx --tsconfig examples/tsconfig.json bench/compile.mjs [batch=16] [steps=20]
//   node bench/compile.mjs [batch] [steps]      (on the built packages: npm run build:packages)
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import '@tessera/webgpu'; // registers the WebGPU backend

const batch = Number(process.argv[2] ?? 16);
const steps = Number(process.argv[3] ?? 20);
const info = await ts.init();
console.log(`adapter: ${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}), LeNet-5, Adam, batch ${batch}, ${steps} timed steps`);

/** One mode's figures: warm-up steps first (pipelines, optimizer state, recording), then `steps` timed ones. */
async function measure(mode) {
  const net = nn.models.lenet5({ seed: 1 });
  const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
  const lossFn = (x, y) => nn.objectives.categoricalCrossentropy(nn.getOutput(net.out, x), y, { fromLogits: true }).mean();
  const compiled = nn.trainFunction(lossFn, opt);
  const x = ts.keep(ts.rand([batch, 1, 28, 28], { seed: 3 }));
  const y = ts.keep(
    ts.tensor(
      Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10),
      { dtype: 'int32' },
    ),
  );
  const step = () => {
    if (mode === 'compiled') return compiled(x, y);
    const loss = ts.tidy(() => lossFn(x, y));
    void opt.step(loss);
    return loss;
  };
  for (let i = 0; i < 3; i++) await step().data();
  const d0 = ts.stats().dispatches;
  let host = 0;
  const t0 = performance.now();
  let last = null;
  for (let i = 0; i < steps; i++) {
    const h = performance.now();
    const loss = step();
    host += performance.now() - h;
    last?.dispose();
    last = loss;
  }
  const value = await last.item();
  const wall = performance.now() - t0;
  const row = {
    mode,
    'steps/s': +((steps * 1000) / wall).toFixed(2),
    'host ms/step': +(host / steps).toFixed(2),
    'dispatches/step': (ts.stats().dispatches - d0) / steps,
    loss: +value.toFixed(4),
  };
  last.dispose();
  compiled.dispose();
  opt.dispose();
  nn.disposeLayers(net.out);
  ts.dispose([x, y]);
  return row;
}

const rows = [await measure('eager'), await measure('compiled')];
console.table(rows);
console.log(
  `compiled/eager: ${(rows[1]['steps/s'] / rows[0]['steps/s']).toFixed(2)}x steps/s, ${(rows[0]['host ms/step'] / rows[1]['host ms/step']).toFixed(2)}x less host time`,
);
ts.shutdown();
