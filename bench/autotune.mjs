#!/usr/bin/env node
// Autotune on this adapter: the time `ts.tune` takes over one LeNet-5 training step (Adam,
// compiled), its table of winners, and the step's speed with the winners against the
// heuristics' choices (autotune off), measured alternately in the same run (off, tuned, off,
// tuned) so that load from other processes hits both alike. Results are kept in memory only:
// nothing is read from or written to the user's autotune cache.
//
//   npx tsx --tsconfig examples/tsconfig.json bench/autotune.mjs [batch=64] [steps=20] [rounds=2]
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { createBackend, memoryStore } from '@tessera/webgpu';
import { trainStepFigures } from './train-steps.mjs';
import { tuneLeNet } from './tune-lenet.mjs';

const batch = Number(process.argv[2] ?? 64);
const steps = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 2);
const store = memoryStore();

/** A fresh backend with the tuned store ('cached') or the heuristics ('off'). */
async function start(autotune) {
  return ts.init({ backend: await createBackend({ autotune, tuneStore: store, warmPipelines: 'none' }) });
}

const { seconds: tuneSeconds, rows } = await tuneLeNet(ts, nn, { batch, store });
const info = ts.backendInfo();
console.log(`${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}): autotune of a LeNet-5 training step, batch ${batch}`);
const fmt = (ms) => (ms >= 10 ? ms.toFixed(1) : ms.toFixed(3));
console.table(
  rows.map((r) => ({
    op: r.site,
    bucket: r.bucket,
    heuristic: r.pick,
    winner: r.winner,
    'ms (heuristic)': fmt(r.ms[r.pick] ?? Number.NaN),
    'ms (winner)': fmt(r.ms[r.winner] ?? Number.NaN),
  })),
);
console.log(
  `tuned ${rows.length} op shapes in ${tuneSeconds.toFixed(1)} s; ${rows.filter((r) => r.winner !== r.pick).length} winners differ from the heuristic`,
);

const figures = { off: [], cached: [] };
for (let round = 0; round < rounds; round++) {
  for (const mode of ['off', 'cached']) {
    await start(mode);
    const r = await trainStepFigures(ts, nn, { batch, steps, mode: 'compiled' });
    figures[mode].push(r.stepsPerSecond * batch);
    console.log(`  round ${round + 1}, ${mode === 'off' ? 'heuristics' : 'tuned'}: ${Math.round(r.stepsPerSecond * batch)} img/s`);
  }
}
const best = (xs) => Math.max(...xs);
console.log(
  `LeNet-5 training, batch ${batch}: heuristics ${Math.round(best(figures.off))} img/s, tuned ${Math.round(best(figures.cached))} img/s (best of ${rounds}), tuned/heuristics ${(best(figures.cached) / best(figures.off)).toFixed(2)}x`,
);
ts.shutdown();
