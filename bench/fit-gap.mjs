#!/usr/bin/env node
// Where `tessera train`'s epoch figure (images / epoch seconds) and the MNIST page's figure (images
// between two loss reads, steps 10 to 110) part: LeNet-5, Adam, real MNIST, through nn.fit as the
// CLI runs it, timing every step. Prints, per mode: the page's window figure, the whole-run figure
// the CLI reports, the first steps' share, and the host cost of the data pipeline alone.
//
//   npx tsx --tsconfig examples/tsconfig.json bench/fit-gap.mjs [steps=300] [batch=64] [modes=compiled,eager]
//   node bench/fit-gap.mjs [steps] [batch] [modes]      (on the built packages: npm run build:packages)
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { batches } from '@tessera/data';
import { loadMnist } from '@tessera/data/node';
import '@tessera/webgpu'; // registers the WebGPU backend

const steps = Number(process.argv[2] ?? 300);
const batch = Number(process.argv[3] ?? 64);
const modes = (process.argv[4] ?? 'compiled,eager').split(',');
const info = await ts.init();
const train = await loadMnist({ split: 'train', normalize: 'standard' });
console.log(`adapter: ${info.adapter}; LeNet-5, Adam 1e-3, batch ${batch}, ${steps} steps of the 60,000-image epoch per mode`);

/** Host milliseconds per batch of the data pipeline alone: the seeded shuffle's gather and the two uploads. */
function pipelineMs(n) {
  const t0 = performance.now();
  let k = 0;
  for (const b of batches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize: batch, seed: 1, epoch: 0 })) {
    const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
    const y = ts.tensor(b.y, { shape: [b.size], dtype: 'int32' });
    ts.dispose([x, y]);
    if (++k === n) break;
  }
  return (performance.now() - t0) / n;
}

async function run(mode) {
  const net = nn.models.lenet5({ seed: 1 });
  const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
  const controller = new AbortController();
  const at = [performance.now()];
  const reads = []; // [step, time the value arrived]
  let lastLossStep = -1;
  const history = await nn.fit({
    net,
    data: train,
    epochs: 1,
    batchSize: batch,
    seed: 1,
    optimizer: opt,
    signal: controller.signal,
    compiled: mode === 'compiled',
    onStep: (s) => {
      at.push(performance.now());
      if (s.lossStep !== undefined && s.lossStep !== lastLossStep) {
        lastLossStep = s.lossStep;
        reads.push([s.lossStep, performance.now()]);
      }
      if (s.step >= steps) controller.abort();
    },
  });
  const e = history.epochs[0];
  // The page's figure: images between the reads of steps ~10 and ~110 (the last step trained before the later read).
  const a = reads.find(([s]) => s >= 10);
  const z = reads.find(([s]) => s >= 110) ?? reads.at(-1);
  const window = ((z[0] - a[0]) * batch * 1000) / (z[1] - a[1]);
  const first10 = at[10] - at[0];
  const row = {
    mode,
    'window 10..110 img/s (page)': Math.round(window),
    'whole run img/s (CLI)': Math.round(e.imagesPerSecond),
    'steps 11.. img/s': Math.round(((e.steps - 10) * batch * 1000) / (at.at(-1) - at[10])),
    'first 10 steps s': +(first10 / 1000).toFixed(2),
    compiled: history.compiled,
  };
  opt.dispose();
  nn.disposeLayers(net.out);
  return row;
}

const rows = [];
for (const m of modes) rows.push(await run(m));
console.table(rows);
console.log(`data pipeline alone (gather + 2 uploads): ${pipelineMs(100).toFixed(2)} host ms per batch of ${batch}`);
ts.shutdown();
