#!/usr/bin/env node
// Soak test: trains LeNet-5 on MNIST for many steps (20,000 by default) and checks that nothing
// grows: live tensors, their bytes, the pooled bytes and the GPU buffers that exist (the WebGPU
// backend's stats().buffers). It prints them every --every steps (1,000) and, at the end,
// whether each stayed flat after the first interval (the warm-up, which fills the buffer pool);
// the exit code is 1 if one grew.
//
// Modes (--mode): eager (every op dispatched as it is called), compiled (one nn.trainFunction
// step, recorded once and replayed), or both, one after the other on a fresh network (default).
//
//   npm run build:packages
//   node bench/soak.mjs [--steps 20000] [--batch-size 64] [--backend auto|webgpu|reference]
//        [--every 1000] [--read-every 100] [--limit 60000] [--lr 1e-3] [--seed 1]
//        [--mode both|eager|compiled] [--json]
//
// --read-every reads the loss back every N steps, as a training loop that logs does (a queue
// never read would only grow the submit batch); --limit caps the MNIST training images loaded.
// On SwiftShader a step takes ~0.25 s: use --steps 1000 there, or --backend reference.
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ts from '@tessera/core';
import '@tessera/webgpu'; // registers the WebGPU backend
import '@tessera/reference'; // registers the reference backend
import * as nn from '@tessera/nn';
import { batches, loadMnist } from '@tessera/data/node';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20000' },
    'batch-size': { type: 'string', default: '64' },
    backend: { type: 'string', default: 'auto' },
    every: { type: 'string', default: '1000' },
    'read-every': { type: 'string', default: '100' },
    limit: { type: 'string', default: '60000' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const int = (/** @type {string} */ name) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got '${args[name]}'`);
  return v;
};
const steps = int('steps');
const batchSize = int('batch-size');
const every = Math.min(int('every'), steps);
const readEvery = int('read-every');
const limit = int('limit');
const seed = Number(args.seed);
const lr = Number(args.lr);
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);
const modes = args.mode === 'both' ? ['eager', 'compiled'] : [args.mode];
if (!modes.every((m) => m === 'eager' || m === 'compiled')) throw new Error(`--mode must be both, eager or compiled, got '${args.mode}'`);

const info = await ts.init({ backend: args.backend });
const [load] = os.loadavg();
log(`soak: ${info.backend} on ${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}); ${os.cpus().length} CPUs, load average ${load.toFixed(1)}`);
const train = await loadMnist({ split: 'train', limit, normalize: 'standard' });

/** Endless shuffled mini-batches: one epoch after another, each in a new order. */
function* stream() {
  for (let epoch = 0; ; epoch++) {
    yield* batches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize, seed, epoch, dropLast: true });
  }
}

/** @typedef {{ step: number, tensors: number, bytes: number, pooledBytes: number, buffers: number | null, buffersCreated: number, loss: number, stepsPerSecond: number }} Sample */
/**
 * Trains `steps` steps in one mode on a fresh LeNet-5 and samples the counters every `every`.
 * @param {string} mode
 */
async function soak(mode) {
  const net = nn.models.lenet5({ seed });
  const opt = nn.updates.adam(net.out, { learningRate: lr });
  log(`LeNet-5, ${mode}, ${steps} steps of batch ${batchSize} over ${train.count} MNIST images, Adam lr ${lr}, seed ${seed}`);
  const train1 =
    mode === 'compiled'
      ? nn.trainFunction((/** @type {ts.Tensor} */ x, /** @type {ts.Tensor} */ y) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt)
      : null;
  /** @type {Sample[]} */
  const samples = [];
  const data = stream();
  let loss = NaN;
  let mark = performance.now();
  let markStep = 0;
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    const batch = /** @type {{ x: Float32Array, y: Int32Array, size: number }} */ (data.next().value);
    const x = ts.tensor(batch.x, { shape: [batch.size, 1, 28, 28] });
    const y = ts.tensor(batch.y, { dtype: 'int32' });
    let l;
    if (train1) l = train1(x, y);
    else {
      l = ts.tidy(() => ts.crossEntropy(nn.getOutput(net.out, x), y));
      await opt.step(l);
    }
    if (step % readEvery === 0 || step % every === 0) loss = await l.item();
    ts.dispose([x, y, l]);
    if (step % every === 0) {
      const now = performance.now();
      const m = ts.memory();
      const s = ts.stats();
      const sample = {
        step,
        tensors: m.tensors,
        bytes: m.bytes,
        pooledBytes: m.pooledBytes,
        buffers: s.buffers ?? null,
        buffersCreated: s.buffersCreated,
        loss,
        stepsPerSecond: ((step - markStep) * 1000) / (now - mark),
      };
      samples.push(sample);
      [mark, markStep] = [now, step];
      log(
        `step ${String(step).padStart(6)}: tensors ${sample.tensors}, bytes ${sample.bytes}, pooled bytes ${sample.pooledBytes}, ` +
          `GPU buffers ${sample.buffers ?? 'n/a'} (created ${sample.buffersCreated}), loss ${loss.toFixed(4)}, ${sample.stepsPerSecond.toFixed(1)} steps/s`,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  train1?.dispose();
  opt.dispose();
  nn.disposeLayers(net.out);
  return { mode, samples, seconds };
}

// Flat: no later sample above the first one (taken after a full interval of warm-up).
const counters = /** @type {const} */ (['tensors', 'bytes', 'pooledBytes', 'buffers']);
/** @param {{ mode: string, samples: Sample[], seconds: number }} run */
function report({ mode, samples, seconds }) {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const verdicts = counters.map((k) => {
    if (first[k] === null) return { counter: k, flat: true, note: 'not reported by this backend' };
    const max = Math.max(...samples.map((s) => /** @type {number} */ (s[k])));
    const flat = max <= first[k];
    return {
      counter: k,
      flat,
      note: flat ? `${first[k]} at step ${first.step}, ${last[k]} at step ${last.step}` : `grew from ${first[k]} to a peak of ${max} (${last[k]} at the end)`,
    };
  });
  console.log(
    `\nsoak: ${steps} ${mode} LeNet-5 steps, batch ${batchSize}, on ${info.backend} (${info.adapter}) in ${seconds.toFixed(0)} s (${(steps / seconds).toFixed(1)} steps/s)`,
  );
  for (const v of verdicts) console.log(`  ${v.counter.padEnd(12)} ${v.flat ? 'flat ' : 'GREW '} ${v.note}`);
  console.log(`  final loss ${last.loss.toFixed(4)} (first sample ${first.loss.toFixed(4)})`);
  return { mode, seconds, samples, verdicts };
}

const runs = [];
for (const mode of modes) runs.push(report(await soak(mode)));
if (args.json) console.log(JSON.stringify({ backend: info.backend, adapter: info.adapter, steps, batchSize, runs }));
ts.shutdown();
process.exitCode = runs.every((r) => r.verdicts.every((v) => v.flat)) ? 0 : 1;
