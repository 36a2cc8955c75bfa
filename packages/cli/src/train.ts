import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { loadFashionMnist, loadMnist, type Dataset } from '@tessera/data/node';
import { MODELS } from './models.js';
import { Progress } from './progress.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr: number;
  limit?: number;
  testLimit?: number;
  dataset: 'mnist' | 'fashion-mnist';
  /** A model of MODELS (models.ts): 'lenet5' (the default) or 'fashion-cnn'. */
  model?: string | undefined;
  seed: number;
  save?: string;
  json: boolean;
  /** A registered backend's name ('webgpu', 'reference'); default: the best one that starts. */
  backend?: string | undefined;
}

export interface TrainResult {
  dataset: string;
  model: string;
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

async function load(name: TrainOptions['dataset'], split: 'train' | 'test', limit?: number): Promise<Dataset> {
  const opts = { split, limit, normalize: 'standard' as const };
  return name === 'mnist' ? loadMnist(opts) : loadFashionMnist(opts);
}

/**
 * Accuracy of `net` (any record whose `out` gives class logits for [N,1,28,28] images) on a
 * dataset, in batches of 500 under noGrad, deterministic; one readback at the end (nn.evaluate).
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const test = await loadMnist({ split: 'test', limit: 1000, normalize: 'standard' });
 * const acc = await evaluate(net, test);   // net: any record with an `out` layer
 */
export async function evaluate(net: { readonly out: nn.Layer }, data: Dataset, batchSize = 500): Promise<number> {
  return (await nn.evaluate(net.out, data, { metrics: ['accuracy'], batchSize })).accuracy!;
}

/**
 * Trains a model of MODELS (LeNet-5 by default) with nn.fit and reports test accuracy after each
 * epoch. fit reads the loss back a few steps late, so the GPU queue stays full.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const info = await ts.init({ backend: o.backend });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`tessera: ${describeBackend(info)}; loading ${o.dataset}...`);
  const [trainSet, testSet] = await Promise.all([load(o.dataset, 'train', o.limit), load(o.dataset, 'test', o.testLimit)]);
  const model = o.model ?? 'lenet5';
  const entry = Object.hasOwn(MODELS, model) ? MODELS[model]! : null;
  if (!entry) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${model}'`);
  const out = entry.build(o.seed);
  try {
    const opt = nn.updates.byName(o.optimizer, nn.getAllParams(out, { trainable: true }), { learningRate: o.lr });
    try {
      log(`tessera: ${entry.name}, ${nn.countParams(out)} parameters; ${trainSet.count} training and ${testSet.count} test images`);
      let bar: Progress | null = null;
      const history = await nn.fit({
        net: out,
        data: trainSet,
        validation: testSet,
        epochs: o.epochs,
        batchSize: o.batchSize,
        seed: o.seed,
        optimizer: opt,
        onStep: (s) => {
          if (s.step === 1) bar = new Progress(`epoch ${s.epoch + 1}/${o.epochs}`, s.steps, o.batchSize);
          // The loss and accuracy of a batch a few steps back: fit reads them late, never stalling the GPU.
          const fresh = s.loss !== undefined && s.lossEpoch === s.epoch;
          bar!.update(s.step, fresh ? { loss: s.loss!, acc: s.accuracy ?? NaN } : undefined);
        },
        onEpoch: (e) => {
          bar?.update(e.steps, { loss: e.loss, acc: e.accuracy ?? NaN }); // the epoch's means
          bar?.stop();
          log(`epoch ${e.epoch + 1}: ${e.imagesPerSecond.toFixed(0)} img/s, test accuracy ${((e.valAccuracy ?? 0) * 100).toFixed(2)}%`);
        },
      });
      if (o.save) {
        await nn.saveParams(out, o.save);
        log(`saved parameters to ${o.save}`);
      }
      const trainSeconds = history.epochs.reduce((t, e) => t + e.seconds, 0);
      const trained = history.epochs.reduce((n, e) => n + e.images, 0);
      return {
        dataset: o.dataset,
        model,
        epochs: o.epochs,
        trainImages: trainSet.count,
        testAccuracy: history.valAccuracy.at(-1) ?? 0,
        seconds: Number(trainSeconds.toFixed(2)),
        imagesPerSecond: Math.round(trained / trainSeconds),
        backend: info.backend,
        adapter: info.adapter,
      };
    } finally {
      opt.dispose();
    }
  } finally {
    nn.disposeLayers(out);
  }
}
