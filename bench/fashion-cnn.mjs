#!/usr/bin/env node
// nn.models.fashionCnn (three 3x3 conv + batch-norm + ReLU blocks, global average pool, dense 10)
// trained on Fashion-MNIST with nn.fit, on whatever adapter `ts.init()` picks (SwiftShader on a
// machine without a GPU): test accuracy after every epoch and training throughput. Its PyTorch
// twin is scripts/golden/fashion_cnn_torch.py (same net, initial weights, batches and optimizer).
//
//   npm run build:packages
//   node bench/fashion-cnn.mjs [--epochs 3] [--batch-size 64] [--lr 1e-3] [--seed 1]
//        [--limit N] [--test-limit N] [--model fashion-cnn|lenet5] [--save-init FILE]
//        [--cosine [--warmup-steps N]] [--checkpoint FILE [--resume]] [--json]
//
// --save-init FILE writes the initial parameters (safetensors) for the PyTorch script to start
// from; --model lenet5 trains LeNet-5 instead, for the img/s comparison. --cosine anneals the rate
// per step along a cosine to 0 over the run (nn.schedules.cosine), after --warmup-steps of linear
// warm-up from a tenth of it, as the PyTorch script's --cosine does. --checkpoint FILE saves the
// run every 50 steps and at each epoch's end (nn.fit's checkpoint option, with the finished
// epochs' results in it); --resume continues it exactly, so a run of hours can stop and go on. Progress goes to stderr;
// --json ends with one line of JSON on stdout.
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ts from '@tessera/core';
import '@tessera/webgpu'; // registers the WebGPU backend
import * as nn from '@tessera/nn';
import { loadFashionMnist } from '@tessera/data/node';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '64' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '1' },
    limit: { type: 'string' },
    'test-limit': { type: 'string' },
    model: { type: 'string', default: 'fashion-cnn' },
    'save-init': { type: 'string' },
    cosine: { type: 'boolean', default: false },
    'warmup-steps': { type: 'string', default: '0' },
    checkpoint: { type: 'string' },
    resume: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const epochs = Number(args.epochs);
const batchSize = Number(args['batch-size']);
const lr = Number(args.lr);
const seed = Number(args.seed);
const limit = args.limit === undefined ? undefined : Number(args.limit);
const testLimit = args['test-limit'] === undefined ? undefined : Number(args['test-limit']);
const builders = { 'fashion-cnn': () => nn.models.fashionCnn({ seed }), lenet5: () => nn.models.lenet5({ seed }) };
const build = builders[/** @type {keyof typeof builders} */ (args.model)];
if (!build) throw new Error(`--model must be one of ${Object.keys(builders).join(', ')}, got '${args.model}'`);

const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);
const info = await ts.init();
const [one] = os.loadavg();
log(`adapter: ${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}); ${os.cpus().length} CPUs, load average ${one.toFixed(1)}`);
const [train, test] = await Promise.all([
  loadFashionMnist({ split: 'train', limit, normalize: 'standard' }),
  loadFashionMnist({ split: 'test', limit: testLimit, normalize: 'standard' }),
]);
const net = build();
log(
  `${args.model}: ${nn.countParams(net.out, { trainable: true })} trainable parameters; ${train.count} training, ${test.count} test images; batch ${batchSize}, Adam lr ${lr}, seed ${seed}`,
);
if (args['save-init']) {
  await nn.saveParams(net.out, args['save-init']);
  log(`initial parameters saved to ${args['save-init']}`);
}

const optimizer = nn.updates.adam(net.out, { learningRate: lr });
const warmupSteps = Number(args['warmup-steps']);
const totalSteps = epochs * Math.ceil(train.count / batchSize);
const schedule = args.cosine ? nn.schedules.cosine(optimizer, { tMax: totalSteps - warmupSteps, warmupSteps, warmupStartFactor: 0.1 }) : undefined;
/** The finished epochs' results, carried in the checkpoint so that a resumed run reports them all. */
const done = { epochs: /** @type {{ valAccuracy: number, loss: number, images: number, seconds: number }[]} */ ([]) };
let resumeFrom;
if (args.resume) {
  if (!args.checkpoint) throw new Error('--resume needs --checkpoint FILE');
  const saved = await nn.loadCheckpoint(args.checkpoint, { net: net.out, optimizer });
  Object.assign(done, /** @type {typeof done} */ (saved.extra));
  // The schedule's own counter is not in the checkpoint: replay it to the saved step.
  for (let k = 0; k < saved.step; k++) schedule?.step();
  resumeFrom = args.checkpoint;
  log(`resuming ${args.checkpoint} at step ${saved.step} (epoch ${saved.epoch + 1}, batch ${saved.rng.position})`);
}
const checkpoint = args.checkpoint ? { path: args.checkpoint, every: 50, extra: done } : undefined;
// Ctrl-C stops after the current step; with --checkpoint, nn.fit saves it first.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
let windowStart = performance.now();
let windowImages = 0;
await nn.fit({
  net,
  data: train,
  validation: test,
  epochs,
  batchSize,
  seed,
  optimizer,
  resumeFrom,
  checkpoint,
  signal: stop.signal,
  onStep: (s) => {
    schedule?.step(); // after the step's update, as PyTorch's scheduler.step() after opt.step()
    windowImages += s.size;
    if (s.step % 50 === 0 || s.step === s.steps) {
      const now = performance.now();
      log(
        `  epoch ${s.epoch + 1} step ${s.step}/${s.steps}: loss ${s.loss?.toFixed(4) ?? '-'} (step ${s.lossStep ?? '-'}), ${((windowImages * 1000) / (now - windowStart)).toFixed(1)} img/s`,
      );
      windowStart = now;
      windowImages = 0;
    }
  },
  onEpoch: (e) => {
    done.epochs.push({ valAccuracy: e.valAccuracy ?? 0, loss: e.loss, images: e.images, seconds: e.seconds });
    log(
      `epoch ${e.epoch + 1}: train loss ${e.loss.toFixed(4)}, train accuracy ${((e.accuracy ?? 0) * 100).toFixed(2)}%, ` +
        `test loss ${e.valLoss?.toFixed(4)}, test accuracy ${((e.valAccuracy ?? 0) * 100).toFixed(2)}%, ${e.imagesPerSecond.toFixed(1)} img/s, ${e.seconds.toFixed(0)} s`,
    );
    windowStart = performance.now();
    windowImages = 0;
  },
});
const seconds = done.epochs.reduce((s, e) => s + e.seconds, 0);
const images = done.epochs.reduce((s, e) => s + e.images, 0);
const valAccuracy = done.epochs.map((e) => e.valAccuracy);
const result = {
  model: args.model,
  adapter: info.adapter,
  epochs,
  batchSize,
  lr,
  schedule: args.cosine ? `cosine, ${warmupSteps} warm-up steps` : 'constant',
  seed,
  trainImages: train.count,
  testImages: test.count,
  testAccuracy: valAccuracy,
  trainLoss: done.epochs.map((e) => e.loss),
  imagesPerSecond: Math.round((images / seconds) * 10) / 10,
  seconds: Math.round(seconds),
};
log(
  `${args.model}: test accuracy ${valAccuracy.map((a, i) => `${(a * 100).toFixed(2)}% after epoch ${i + 1}`).join(', ')}; ${result.imagesPerSecond} img/s training`,
);
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
optimizer.dispose();
nn.disposeLayers(net.out);
ts.shutdown();
