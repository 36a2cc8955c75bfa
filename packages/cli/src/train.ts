import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { batches, batchCount } from '@tessera/data';
import { loadFashionMnist, loadMnist, type Dataset } from '@tessera/data/node';
import { Progress } from './progress.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr: number;
  limit?: number;
  testLimit?: number;
  dataset: 'mnist' | 'fashion-mnist';
  seed: number;
  save?: string;
  json: boolean;
  /** A registered backend's name ('webgpu', 'reference'); default: the best one that starts. */
  backend?: string | undefined;
}

export interface TrainResult {
  dataset: string;
  epochs: number;
  trainImages: number;
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** The backend trained on ('webgpu', 'reference') and its adapter. */
  backend: string;
  adapter: string;
}

/**
 * One line on the backend in use, for the logs.
 *
 * @example
 * describeBackend(await ts.init());   // 'webgpu backend on SwiftShader Device (Subzero) (CPU emulation)'
 */
export function describeBackend(info: ts.BackendInfo): string {
  const kind = info.backend === 'webgpu' ? (info.isCPU ? ' (CPU emulation)' : ' (GPU)') : '';
  return `${info.backend} backend on ${info.adapter}${kind}`;
}

/** How often the loss is read back: reading syncs with the GPU, so not every step. */
const READ_EVERY = 10;

async function load(name: TrainOptions['dataset'], split: 'train' | 'test', limit?: number): Promise<Dataset> {
  const opts = { split, limit, normalize: 'standard' as const };
  return name === 'mnist' ? loadMnist(opts) : loadFashionMnist(opts);
}

/**
 * Accuracy of `net` (any record whose `out` gives class logits for [N,1,28,28] images) on a
 * dataset, in batches of 500 under noGrad; one readback at the end.
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const test = await loadMnist({ split: 'test', limit: 1000, normalize: 'standard' });
 * const acc = await evaluate(net, test);   // net: any record with an `out` layer
 */
export async function evaluate(net: { readonly out: nn.Layer }, data: Dataset, batchSize = 500): Promise<number> {
  const counts: ts.Tensor[] = [];
  for (const b of batches({ images: data.images, labels: data.labels, sampleShape: [1, 28, 28], batchSize, shuffle: false })) {
    counts.push(
      ts.tidy(() =>
        ts.noGrad(() => {
          const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
          const y = ts.tensor(b.y, { shape: [b.size] });
          return nn.getOutput(net.out, x, { deterministic: true }).argmax(1).eq(y).sum();
        }),
      ),
    );
  }
  const total = ts.tidy(() => counts.reduce((a, c) => a.add(c)));
  const correct = await total.item();
  ts.dispose([counts, total]);
  return correct / data.count;
}

/**
 * Trains LeNet-5 and reports test accuracy after each epoch. Reads the loss back every few steps
 * only, so the GPU queue stays full.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const info = await ts.init({ backend: o.backend });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`tessera: ${describeBackend(info)}; loading ${o.dataset}...`);
  const [trainSet, testSet] = await Promise.all([load(o.dataset, 'train', o.limit), load(o.dataset, 'test', o.testLimit)]);
  const net = nn.models.lenet5({ seed: o.seed });
  const params = nn.getAllParams(net.out, { trainable: true });
  const opt = nn.updates.byName(o.optimizer, params, { learningRate: o.lr });
  log(`tessera: LeNet-5, ${nn.countParams(net.out)} parameters; ${trainSet.count} training and ${testSet.count} test images`);

  let testAccuracy = 0;
  let trained = 0;
  let trainSeconds = 0;
  const steps = batchCount(trainSet.count, o.batchSize, false);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const bar = new Progress(`epoch ${epoch + 1}/${o.epochs}`, steps, o.batchSize);
    const t0 = performance.now();
    let pending: Promise<void> = Promise.resolve();
    let step = 0;
    for (const b of batches({ images: trainSet.images, labels: trainSet.labels, sampleShape: [1, 28, 28], batchSize: o.batchSize, seed: o.seed, epoch })) {
      const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
      const y = ts.tensor(b.y, { shape: [b.size] });
      const { loss, correct } = ts.tidy(() => {
        const logits = nn.getOutput(net.out, x, { deterministic: false });
        return { loss: ts.crossEntropy(logits, y), correct: ts.noGrad(() => logits.argmax(1).eq(y).sum()) };
      });
      await opt.step(loss);
      if (++step % READ_EVERY === 0 || step === steps) {
        // The previous read must finish first: that bounds how far the CPU runs ahead of the GPU.
        await pending;
        const n = b.size;
        pending = Promise.all([loss.item(), correct.item()]).then(([l, c]) => bar.update(step, { loss: l, acc: c / n }));
      } else bar.update(step);
      ts.dispose([x, y, loss, correct]);
    }
    await pending;
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds;
    trained += trainSet.count;
    bar.stop();
    testAccuracy = await evaluate(net, testSet);
    log(`epoch ${epoch + 1}: ${(trainSet.count / seconds).toFixed(0)} img/s, test accuracy ${(testAccuracy * 100).toFixed(2)}%`);
  }
  if (o.save) {
    await nn.saveParams(net.out, o.save);
    log(`saved parameters to ${o.save}`);
  }
  opt.dispose();
  nn.disposeLayers(net.out);
  return {
    dataset: o.dataset,
    epochs: o.epochs,
    trainImages: trainSet.count,
    testAccuracy,
    seconds: Number(trainSeconds.toFixed(2)),
    imagesPerSecond: Math.round(trained / trainSeconds),
    backend: info.backend,
    adapter: info.adapter,
  };
}
