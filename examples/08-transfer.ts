/**
 * 08 · Transfer learning: MNIST features for Fashion-MNIST.
 *
 * The LeNet-5 in models/lenet5-mnist.safetensors was trained on MNIST digits (98.73% test
 * accuracy). Its convolutional features (strokes, edges, blobs) are a better start for another
 * 28x28 grey-image task than random weights. This example:
 *
 * 1. loads it (`nn.loadParams`), then replaces its head: a new 10-class output layer on fc1
 *    (`nn.replaceHead(net, { numClasses: 10, on: 'fc1' })`; fc2, the layer most specific to
 *    digits, and the old head are dropped);
 * 2. builds the same architecture from random weights (the scratch baseline, same head seed);
 * 3. trains both with the same budget: the same Fashion-MNIST images in the same batches, the
 *    same steps, Adam lr 1e-3; with `--freeze`, conv1 and conv2 of the fine-tuned network stay
 *    fixed (`nn.freeze`);
 * 4. evaluates both on Fashion-MNIST test images as training goes.
 *
 * Prints both accuracy curves and the final accuracies (the default run):
 *
 *   step  images  from scratch  fine-tuned
 *      0       0          9.3%       10.9%
 *     16     512         52.0%       57.8%
 *     32    1024         66.3%       72.0%
 *     48    1536         66.5%       75.3%
 *     63    2000         72.0%       76.6%
 *   final: from scratch 72.0%, fine-tuned 76.6% (+4.6 points), 53.2 s
 *
 * What to expect: with 2,000 training images (1 epoch of batch 32, 63 steps), tested on
 * 2,000, fine-tuning leads by a few points (docs/transfer.md: 72.0% vs 76.6%, and why the
 * curves are noisy), in about a minute on SwiftShader. `--quick` trains on 256 images
 * (8 steps) and tests on 300: both about 43%, well above chance (10%), in seconds.
 *
 * The same experiment, with more options, is `tessera finetune --task fashion`
 * (packages/cli/src/finetune.ts); docs/transfer.md has the measurements.
 *
 * Run: npm run example -- 08-transfer [--quick] [--train N] [--test N] [--freeze]
 */
import { fileURLToPath } from 'node:url';
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import * as nn from '@tessera/nn';
import { batches, batchCount, type Dataset } from '@tessera/data';
import { loadFashionMnist } from '@tessera/data/node';
import { evaluate, isMain, pct, runMain, secondsSince, type ExampleOptions, type OptionHelp } from './util.js';

/** The pretrained MNIST LeNet-5 that ships with the repository. */
export const PRETRAINED = fileURLToPath(new URL('../models/lenet5-mnist.safetensors', import.meta.url));

export const OPTIONS: OptionHelp = {
  train: { type: 'number', help: 'Fashion-MNIST training images, the first N (default 2000; --quick 256)' },
  test: { type: 'number', help: 'Fashion-MNIST test images, the first N (default 2000; --quick 300)' },
  epochs: { type: 'number', help: 'epochs (default 1)' },
  batchSize: { type: 'number', help: 'mini-batch size (default 32)' },
  lr: { type: 'number', help: 'Adam learning rate (default 1e-3)' },
  evalEvery: { type: 'number', help: 'evaluate both networks every N steps (default 16; --quick: at the end only)' },
  freeze: { type: 'boolean', help: 'freeze conv1 and conv2 of the fine-tuned network' },
  seed: { type: 'number', help: 'seed of the weights, the new head and the batch order (default 1)' },
};

export interface TransferOptions extends ExampleOptions {
  train?: number;
  test?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  evalEvery?: number;
  freeze?: boolean;
  seed?: number;
}

/** Test accuracy after `step` steps. */
export interface Point {
  step: number;
  images: number;
  accuracy: number;
}

/** What `main` returns. */
export interface TransferResult {
  trainImages: number;
  testImages: number;
  steps: number;
  curves: { scratch: Point[]; finetuned: Point[] };
  final: { scratch: number; finetuned: number };
  seconds: number;
}

type Net = { readonly out: nn.Layer };

/** Trains `net`'s trainable parameters with Adam and evaluates it at step 0, every `evalEvery` steps and at the end. */
async function trainNet(
  net: Net,
  train: Dataset,
  test: Dataset,
  o: { epochs: number; batchSize: number; lr: number; evalEvery: number; seed: number },
): Promise<Point[]> {
  const opt = nn.updates.adam(nn.getAllParams(net.out, { trainable: true }), { learningRate: o.lr });
  const total = o.epochs * batchCount(train.count, o.batchSize);
  const curve: Point[] = [{ step: 0, images: 0, accuracy: await evaluate(net.out, test) }];
  let step = 0;
  let images = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (const b of batches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize: o.batchSize, seed: o.seed, epoch })) {
      const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
      const y = ts.tensor(b.y, { shape: [b.size] });
      const loss = ts.tidy(() => ts.crossEntropy(nn.getOutput(net.out, x), y));
      await opt.step(loss);
      ts.dispose([x, y, loss]);
      step++;
      images += b.size;
      if (step % o.evalEvery === 0 || step === total) curve.push({ step, images, accuracy: await evaluate(net.out, test) });
    }
  }
  opt.dispose();
  return curve;
}

export async function main(opts: TransferOptions = {}): Promise<TransferResult> {
  const log = opts.log ?? console.log;
  const q = opts.quick ?? false;
  const seed = opts.seed ?? 1;
  const o = { epochs: opts.epochs ?? 1, batchSize: opts.batchSize ?? 32, lr: opts.lr ?? 1e-3, evalEvery: opts.evalEvery ?? (q ? Infinity : 16), seed };
  await ts.init();
  const t0 = performance.now();

  const [train, test] = await Promise.all([
    loadFashionMnist({ split: 'train', limit: opts.train ?? (q ? 256 : 2000), normalize: 'standard' }),
    loadFashionMnist({ split: 'test', limit: opts.test ?? (q ? 300 : 2000), normalize: 'standard' }),
  ]);
  const steps = o.epochs * batchCount(train.count, o.batchSize);
  log(`Fashion-MNIST: ${train.count} training images (${steps} steps of batch ${o.batchSize}, Adam lr ${o.lr}), ${test.count} test images`);

  // Both networks: LeNet-5 up to fc1, then a new 10-class head with the same seed. Only the
  // starting weights below the head differ: random, or MNIST-trained.
  const head = { numClasses: 10, on: 'fc1', seed: seed * 100 + 5 };
  const scratchNet = nn.replaceHead(nn.models.lenet5({ seed }), head);
  const scratch = await trainNet(scratchNet, train, test, o);
  nn.disposeLayers(scratchNet);

  const pretrained = nn.models.lenet5({ seed });
  await nn.loadParams(pretrained, PRETRAINED); // names conv1.W, ..., out.b; every shape checked
  const tuned = nn.replaceHead(pretrained, head); // frees fc2 and the old head
  if (opts.freeze) nn.freeze(tuned, ['conv1', 'conv2']); // before the optimizer is made
  log(
    `fine-tuned: ${PRETRAINED.replace(/.*\/models\//, 'models/')}, new head on fc1; ${nn
      .trainableSummary(tuned)
      .map((r) => `${r.layer}${r.trainable ? '' : ' (frozen)'}`)
      .join(', ')}`,
  );
  const finetuned = await trainNet(tuned, train, test, o);
  nn.disposeLayers(tuned);

  log(`test accuracy on ${test.count} Fashion-MNIST images:`);
  log('  step  images  from scratch  fine-tuned');
  scratch.forEach((p, i) => {
    log(`  ${String(p.step).padStart(4)}  ${String(p.images).padStart(6)}  ${pct(p.accuracy, 1).padStart(12)}  ${pct(finetuned[i]!.accuracy, 1).padStart(10)}`);
  });
  const final = { scratch: scratch.at(-1)!.accuracy, finetuned: finetuned.at(-1)!.accuracy };
  const gain = (final.finetuned - final.scratch) * 100;
  const seconds = secondsSince(t0);
  log(
    `final: from scratch ${pct(final.scratch, 1)}, fine-tuned ${pct(final.finetuned, 1)} (${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points), ${seconds.toFixed(1)} s`,
  );
  return { trainImages: train.count, testImages: test.count, steps, curves: { scratch, finetuned }, final, seconds };
}

if (isMain(import.meta.url)) await runMain({ main, OPTIONS }, undefined, '08-transfer');
