/**
 * 04 · Lasagne in five steps.
 *
 * The tutorial's snippet, step by step, in Tessera:
 *
 *   1. architecture   data = InputLayer([null, 100]); hid = DenseLayer(data, 10);
 *                     out = DenseLayer(hid, 1, { nonlinearity: sigmoid })
 *   2. cost           binaryCrossentropy(getOutput(out, x), y).mean()
 *   3. optimizer      updates.sgd(getAllParams(out, { trainable: true }), { learningRate })
 *   4. compile        trainFn = trainFunction(cost, opt), Theano's
 *                     `theano.function([X, y], loss, updates=updates)`: the first call for a
 *                     batch shape records the step (cost, backward, the SGD update), later calls
 *                     replay it without shape rules, autograd tape or per-op tensors.
 *   5. loop           for each epoch, for each mini-batch: trainFn(x, y)
 *
 * The layers use Lasagne's positional forms (`new DenseLayer(data, 10)`); the other examples
 * use the options form (`new DenseLayer(data, { numUnits: 10 })`), which builds the same layer.
 *
 * The problem: 2,000 random 100-dimensional points (seeded), labelled by which side of a
 * random hyperplane they fall on. The same network (the same initial weights, via
 * `init.setSeed`) is trained twice for the same number of epochs with the same learning
 * rate: full batch (one step per epoch, on all points) and mini-batch (batches of 32, about
 * 63 steps per epoch). Mini-batches make far more progress per epoch; a full-batch epoch is
 * cheaper. The loss is the mean cross-entropy on all 2,000 points after the epoch.
 *
 * Prints both loss curves at a few epochs, the steps, the times (after a warm-up that compiles
 * the GPU kernels) and the final training accuracies:
 *
 *     epoch   full batch   mini-batch (32)
 *         1       0.7813            0.7187
 *         2       0.7801            0.6736
 *         5       0.7765            0.5794
 *        10       0.7706            0.4514
 *        20       0.7596            0.2492
 *     steps           20              1260
 *     time         0.9 s             3.1 s
 *     accuracy     53.3%             93.2%
 *
 * Run: npm run example -- 04-lasagne-five-steps     (a few seconds; --quick: 500 points, 5 epochs)
 */
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import { batches } from '@tessera/data';
import { DenseLayer, InputLayer, disposeLayers, getAllParams, getOutput, init, nonlinearities, objectives, trainFunction, updates } from '@tessera/nn';
import { gaussian, isMain, pct, runMain, secondsSince, type ExampleOptions, type OptionHelp } from './util.js';

export const OPTIONS: OptionHelp = {
  points: { type: 'number', help: 'training points (default 2000; --quick 500)' },
  epochs: { type: 'number', help: 'epochs of each variant (default 20; --quick 5)' },
  batchSize: { type: 'number', help: 'mini-batch size (default 32)' },
  lr: { type: 'number', help: 'SGD learning rate (default 0.01)' },
  seed: { type: 'number', help: 'seed of the data, weights and batch order (default 1)' },
};

export interface FiveStepsOptions extends ExampleOptions {
  points?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

/** One training run: the loss after some epochs, the final accuracy and the time it took. */
export interface Curve {
  steps: number;
  losses: { epoch: number; loss: number }[];
  accuracy: number;
  seconds: number;
}

/** What `main` returns. */
export interface FiveStepsResult {
  points: number;
  epochs: number;
  fullBatch: Curve;
  miniBatch: Curve;
}

/** N points of D standard-normal features, labelled 1 on the positive side of a random hyperplane. */
function hyperplaneData(n: number, d: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const g = gaussian(seed);
  const normal = Array.from({ length: d }, g);
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let side = 0;
    for (let j = 0; j < d; j++) side += (x[i * d + j] = g()) * normal[j]!;
    labels[i] = side > 0 ? 1 : 0;
  }
  return { x, labels };
}

/** Targets for binary cross-entropy: float32 [N, 1]. */
const targets = (labels: Int32Array) => ts.tensor(Float32Array.from(labels), { shape: [labels.length, 1] });

async function train(
  variant: 'full' | 'mini',
  ds: { x: Float32Array; labels: Int32Array },
  o: { epochs: number; batchSize: number; lr: number; seed: number; report: Set<number> },
): Promise<Curve> {
  const n = ds.labels.length;

  // Step 1: the architecture. `init.setSeed` makes both variants start from the same weights.
  init.setSeed(o.seed);
  const data = new InputLayer([null, 100]);
  const hid = new DenseLayer(data, 10);
  const out = new DenseLayer(hid, 1, { nonlinearity: nonlinearities.sigmoid });

  // Step 2: the cost, an expression of the network's output.
  const cost = (x: ts.Tensor, y: ts.Tensor) => objectives.binaryCrossentropy(getOutput(out, x), y).mean();

  // Step 3: the optimizer, over every trainable parameter below `out`.
  const params = getAllParams(out, { trainable: true });
  const opt = updates.sgd(params, { learningRate: o.lr });

  // Step 4: compile the training function. It returns the loss (not read back); each call
  // runs backward and the SGD update in place. A new batch shape (the last, partial batch) is
  // recorded once more.
  const trainFn = trainFunction(cost, opt);

  // Step 5: the loop.
  const X = ts.tensor(ds.x, { shape: [n, 100] });
  const Y = targets(ds.labels);
  const losses: Curve['losses'] = [];
  let steps = 0;
  const t0 = performance.now();
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    if (variant === 'full') {
      trainFn(X, Y).dispose();
      steps++;
    } else {
      for (const b of batches({ images: ds.x, labels: ds.labels, sampleShape: [100], batchSize: o.batchSize, seed: o.seed, epoch })) {
        const x = ts.tensor(b.x, { shape: [b.size, 100] });
        const y = targets(b.y);
        trainFn(x, y).dispose();
        ts.dispose([x, y]);
        steps++;
      }
    }
    if (o.report.has(epoch)) {
      const loss = ts.tidy(() => ts.noGrad(() => cost(X, Y)));
      losses.push({ epoch, loss: await loss.item() });
      loss.dispose();
    }
  }
  const acc = ts.tidy(() => ts.noGrad(() => objectives.binaryAccuracy(getOutput(out, X), Y).mean()));
  const accuracy = await acc.item();
  const seconds = secondsSince(t0);
  trainFn.dispose();
  opt.dispose();
  disposeLayers(out); // the parameters of every layer below out
  ts.dispose([X, Y, acc]);
  return { steps, losses, accuracy, seconds };
}

export async function main(opts: FiveStepsOptions = {}): Promise<FiveStepsResult> {
  const log = opts.log ?? console.log;
  const points = opts.points ?? (opts.quick ? 500 : 2000);
  const epochs = opts.epochs ?? (opts.quick ? 5 : 20);
  const batchSize = opts.batchSize ?? 32;
  const lr = opts.lr ?? 0.01;
  const seed = opts.seed ?? 1;
  await ts.init();

  const data = hyperplaneData(points, 100, seed);
  const report = new Set([1, 2, 5, 10, 20, 50, 100, epochs].filter((e) => e <= epochs));
  log(`${points} points of 100 features, labelled by a random hyperplane; InputLayer([null, 100]) -> DenseLayer(10) -> DenseLayer(1, sigmoid)`);
  log(`SGD lr ${lr}, ${epochs} epochs each: full batch (1 step per epoch) and mini-batches of ${batchSize}`);
  log('step 4 compiles the training function (nn.trainFunction): recorded at its first call, replayed after');
  const o = { epochs, batchSize, lr, seed, report };
  // Warm-up, not timed: the first use of each GPU kernel compiles it (slow on SwiftShader).
  const warm = { x: data.x.subarray(0, 100 * 2 * batchSize), labels: data.labels.subarray(0, 2 * batchSize) };
  for (const variant of ['full', 'mini'] as const) await train(variant, warm, { ...o, epochs: 1, report: new Set() });
  const fullBatch = await train('full', data, o);
  const miniBatch = await train('mini', data, o);

  log(`mean cross-entropy on all ${points} points after each epoch:`);
  log(`  epoch   full batch   mini-batch (${batchSize})`);
  fullBatch.losses.forEach((p, i) => {
    log(`  ${String(p.epoch).padStart(5)}   ${p.loss.toFixed(4).padStart(10)}   ${miniBatch.losses[i]!.loss.toFixed(4).padStart(15)}`);
  });
  log(`  steps   ${String(fullBatch.steps).padStart(10)}   ${String(miniBatch.steps).padStart(15)}`);
  log(`  time    ${`${fullBatch.seconds.toFixed(1)} s`.padStart(10)}   ${`${miniBatch.seconds.toFixed(1)} s`.padStart(15)}`);
  log(`  accuracy${pct(fullBatch.accuracy, 1).padStart(10)}   ${pct(miniBatch.accuracy, 1).padStart(15)}`);
  return { points, epochs, fullBatch, miniBatch };
}

if (isMain(import.meta.url)) await runMain({ main, OPTIONS }, undefined, '04-lasagne-five-steps');
