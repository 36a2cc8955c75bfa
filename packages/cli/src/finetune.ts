/**
 * `tessera finetune`: two worked examples of transfer learning, each comparing a fine-tuned
 * network against the same network trained from scratch with the same budget (same images,
 * same batches in the same order, same steps, same optimizer).
 *
 * - `--task fashion`: LeNet-5 pretrained on MNIST (models/lenet5-mnist.safetensors) gets a new
 *   10-class head and is fine-tuned on a small Fashion-MNIST subset.
 * - `--task digits`: LeNet-5 pretrained on the digits 0-4 only gets a new 5-class head and is
 *   fine-tuned on 10 labelled examples of each of 5-9.
 *
 * The new head goes on fc1 by default (`--head-on fc2` keeps fc2 too): fc2 is the layer most
 * specific to the source task, and measured over three seeds, dropping it made fine-tuning
 * clearly better on Fashion-MNIST (docs/transfer.md has both). The scratch network gets the
 * same architecture, so the only difference between the two is the starting weights. The MNIST model is not used here on
 *   purpose: it was trained on 5-9 with labels, so its "transfer" to 5-9 would be a leak. The
 *   0-4 network is pretrained inside the command (1 epoch on all 30,596 training images of
 *   0-4, about 2.5 minutes on SwiftShader), or read from `--cache FILE` when that holds one
 *   made with the same settings. A shorter pretraining (`--pretrain-images 5000`) gives
 *   features that barely help (docs/transfer.md has the numbers).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { batches, batchCount, shuffledIndices } from '@tessera/data';
import { loadFashionMnist, loadMnist, type Dataset } from '@tessera/data/node';
import { Progress } from './progress.js';
import { describeBackend, evaluate } from './train.js';

/**
 * Settings of `tessera finetune`.
 *
 * @example
 * const o: FinetuneOptions = {
 *   ...FINETUNE_DEFAULTS.fashion,
 *   task: 'fashion',
 *   pretrained: 'models/lenet5-mnist.safetensors',
 *   freeze: false,
 *   headOn: 'fc1',
 *   lr: 1e-3,
 *   seed: 1,
 *   pretrainImages: Infinity,
 *   pretrainEpochs: 1,
 * };
 */
export interface FinetuneOptions {
  task: 'fashion' | 'digits';
  /** MNIST-pretrained weights (the fashion task). */
  pretrained: string;
  /** Freeze conv1 and conv2 of the fine-tuned network. */
  freeze: boolean;
  /**
   * The layer the new head is built on, in both networks: `fc1` (the default: keeps the conv
   * features and fc1, drops the digit-specific fc2), `fc2` (keeps all but the old head) or `pool2`.
   */
  headOn: 'pool2' | 'fc1' | 'fc2';
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Training images: fashion, the first N; digits, N per class of 5-9. */
  trainSize: number;
  /** Test images evaluated (the first N of the task's test set). */
  testSize: number;
  /** Evaluate both networks every this many steps (and after the last). */
  evalEvery: number;
  /** digits: images of 0-4 (the first N; Infinity: all) and epochs for the pretraining. */
  pretrainImages: number;
  pretrainEpochs: number;
  /** digits: where to keep the 0-4 network between runs. */
  cache?: string | undefined;
  /** A registered backend's name ('webgpu', 'reference'); default: the best one that starts. */
  backend?: string | undefined;
  /** Train and evaluate through compiled steps (default true: `nn.trainFunction`, `nn.predictFunction`); false is `--eager`. */
  compiled?: boolean | undefined;
}

/** Defaults per task, chosen so that each example runs in a few minutes on a CPU (SwiftShader). @example FINETUNE_DEFAULTS.digits.epochs   // 20 */
export const FINETUNE_DEFAULTS = {
  fashion: { epochs: 1, batchSize: 32, trainSize: 2000, testSize: 2000, evalEvery: 8 },
  digits: { epochs: 20, batchSize: 10, trainSize: 10, testSize: 100_000, evalEvery: 20 },
} as const;

/** One evaluation: test accuracy after `step` steps (`images` training images seen). @example const p: CurvePoint = { step: 40, epoch: 8, images: 400, accuracy: 0.867 }; */
export interface CurvePoint {
  step: number;
  epoch: number;
  images: number;
  accuracy: number;
}

/** What `finetune` reports (and `--json` prints). @example const gain = (r: FinetuneResult) => r.final.finetuned - r.final.scratch; */
export interface FinetuneResult {
  task: FinetuneOptions['task'];
  headOn: FinetuneOptions['headOn'];
  source: string;
  target: string;
  pretrained: string;
  freeze: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  trainImages: number;
  testImages: number;
  steps: number;
  /** digits: how the 0-4 network was obtained and how well it does on 0-4. */
  pretraining?: { images: number; epochs: number; cached: boolean; accuracy: number };
  curves: { scratch: CurvePoint[]; finetuned: CurvePoint[] };
  final: { scratch: number; finetuned: number };
  seconds: number;
  /** The backend both networks trained on ('webgpu', 'reference') and its adapter. */
  backend: string;
  adapter: string;
  /** Whether the steps ran compiled (false with `--eager`). */
  compiled: boolean;
}

type Net = { readonly out: nn.Layer };
/** Seed of the digits task's 0-4 pretraining (weights and batch order). */
const PRETRAIN_SEED = 1;
const log = (s: string) => process.stderr.write(`${s}\n`);
const pct = (a: number) => `${(a * 100).toFixed(1)}%`;

/** The samples of `data` at `indices`, with labels passed through `relabel`. */
function subset(data: Dataset, indices: ArrayLike<number>, relabel = (y: number) => y): Dataset {
  const n = indices.length;
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    images.set(data.images.subarray(j * 784, (j + 1) * 784), i * 784);
    labels[i] = relabel(data.labels[j]!);
  }
  return { images, labels, count: n, shape: [n, 1, 28, 28] };
}

/** Indices of the samples whose label passes `keep`, in file order, at most `limit`. */
function where(data: Dataset, keep: (y: number) => boolean, limit = Infinity): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.count && out.length < limit; i++) if (keep(data.labels[i]!)) out.push(i);
  return out;
}

/**
 * Trains `net` with Adam on `train` and records test accuracy at step 0, every `evalEvery`
 * steps and after the last step. Only trainable parameters are updated.
 */
async function fit(
  label: string,
  net: Net,
  train: Dataset,
  test: Dataset,
  o: Pick<FinetuneOptions, 'epochs' | 'batchSize' | 'lr' | 'seed' | 'evalEvery' | 'compiled'>,
): Promise<CurvePoint[]> {
  const opt = nn.updates.adam(nn.getAllParams(net.out, { trainable: true }), { learningRate: o.lr });
  // Compiled: the step and the evaluation's forward pass are recorded once per batch shape and
  // replayed, running the same kernels as the eager code below (so the same numbers).
  const lossOf = (x: ts.Tensor, y: ts.Tensor) => ts.crossEntropy(nn.getOutput(net.out, x, { deterministic: false }), y);
  const compiled = o.compiled ?? true;
  const trainStep = compiled ? nn.trainFunction(lossOf, opt) : null;
  const forward = compiled ? nn.predictFunction(net.out) : undefined;
  try {
    return await loop();
  } finally {
    trainStep?.dispose();
    forward?.dispose();
    opt.dispose();
  }

  async function loop(): Promise<CurvePoint[]> {
    const curve: CurvePoint[] = [{ step: 0, epoch: 0, images: 0, accuracy: await evaluate(net, test, 500, forward) }];
    const steps = batchCount(train.count, o.batchSize);
    const total = steps * o.epochs;
    let step = 0;
    let images = 0;
    // One bar for the whole run: the digits task has 20 epochs of 5 steps each.
    const bar = new Progress(label, total, o.batchSize);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      let k = 0;
      for (const b of batches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize: o.batchSize, seed: o.seed, epoch })) {
        const x = ts.tensor(b.x, { shape: [b.size, 1, 28, 28] });
        const y = ts.tensor(b.y, { shape: [b.size] });
        let loss: ts.Tensor;
        if (trainStep) loss = trainStep(x, y);
        else {
          loss = ts.tidy(() => lossOf(x, y));
          await opt.step(loss);
        }
        step++;
        k++;
        images += b.size;
        const due = step % o.evalEvery === 0 || step === total;
        if (due) {
          const l = await loss.item();
          const accuracy = await evaluate(net, test, 500, forward);
          curve.push({ step, epoch: epoch + (k === steps ? 1 : 0), images, accuracy });
          bar.update(step, { loss: l, acc: accuracy });
        } else bar.update(step);
        ts.dispose([x, y, loss]);
      }
    }
    bar.stop();
    return curve;
  }
}

/** The 0-4 network of the digits task: read from the cache when it matches, else trained. */
async function pretrainDigits(
  o: FinetuneOptions,
  train04: Dataset,
  test04: Dataset,
): Promise<{ bytes: Uint8Array; info: NonNullable<FinetuneResult['pretraining']> }> {
  // A fixed seed: --seed varies the experiment (which 5-9 examples, the heads, the batches),
  // while the 0-4 network stays the same across seeds and can be cached once.
  const meta = { task: 'mnist-digits-0-4', images: String(train04.count), epochs: String(o.pretrainEpochs), seed: String(PRETRAIN_SEED) };
  const net = nn.models.lenet5({ seed: PRETRAIN_SEED, numClasses: 5 });
  let cached = false;
  if (o.cache && existsSync(o.cache)) {
    const bytes = new Uint8Array(readFileSync(o.cache));
    const found = nn.decodeSafetensors(bytes, `--cache '${o.cache}'`).metadata;
    if (Object.entries(meta).every(([k, v]) => found[k] === v)) {
      await nn.loadParams(net, bytes);
      cached = true;
      log(`pretraining: using the 0-4 network cached in ${o.cache}`);
    } else log(`pretraining: ${o.cache} was made with other settings; training again`);
  }
  if (!cached) {
    log(`pretraining LeNet-5 from scratch on ${train04.count} images of the digits 0-4 (${o.pretrainEpochs} epoch(s))`);
    await fit('pretrain 0-4', net, train04, test04, {
      epochs: o.pretrainEpochs,
      batchSize: 64,
      lr: 1e-3,
      seed: PRETRAIN_SEED,
      evalEvery: Infinity,
      compiled: o.compiled,
    });
  }
  const accuracy = await evaluate(net, test04);
  const bytes = await nn.saveParams(net, cached ? undefined : o.cache, { metadata: meta });
  if (!cached && o.cache) log(`pretraining: saved the 0-4 network to ${o.cache}`);
  nn.disposeLayers(net);
  return { bytes, info: { images: train04.count, epochs: o.pretrainEpochs, cached, accuracy } };
}

/**
 * Runs one worked example: builds the fine-tuned network (pretrained body, new head, convs
 * optionally frozen) and a fresh one, trains both with the same budget, and returns both
 * accuracy curves. Progress goes to stderr.
 *
 * @example
 * const o: FinetuneOptions = { ...FINETUNE_DEFAULTS.fashion, task: 'fashion', pretrained: 'models/lenet5-mnist.safetensors', freeze: false, headOn: 'fc1', lr: 1e-3, seed: 1, pretrainImages: Infinity, pretrainEpochs: 1 };
 * const r = await finetune(o);
 * r.final;   // { scratch: 0.7, finetuned: 0.78 }
 */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const info = await ts.init({ backend: o.backend });
  const t0 = performance.now();
  log(`tessera: ${describeBackend(info)}`);
  let train: Dataset;
  let test: Dataset;
  let classes: number;
  let loadBody: (net: nn.models.LeNet) => Promise<void>;
  let pretraining: FinetuneResult['pretraining'];
  let source: string;
  let target: string;
  if (o.task === 'fashion') {
    if (!existsSync(o.pretrained)) {
      throw new Error(`--pretrained '${o.pretrained}' does not exist. It is made by \`npm start -- --epochs 3 --save models/lenet5-mnist.safetensors\``);
    }
    [train, test] = await Promise.all([
      loadFashionMnist({ split: 'train', limit: o.trainSize, normalize: 'standard' }),
      loadFashionMnist({ split: 'test', limit: o.testSize, normalize: 'standard' }),
    ]);
    classes = 10;
    source = `MNIST (${o.pretrained})`;
    target = 'Fashion-MNIST';
    loadBody = (net) => nn.loadParams(net, o.pretrained);
  } else {
    const [all, allTest] = await Promise.all([loadMnist({ split: 'train', normalize: 'standard' }), loadMnist({ split: 'test', normalize: 'standard' })]);
    const low = (y: number) => y < 5;
    const train04 = subset(all, where(all, low, o.pretrainImages));
    const test04 = subset(allTest, where(allTest, low, 1000));
    // The few labelled 5-9 examples: a seeded draw, the first trainSize of each class.
    const order = shuffledIndices(all.count, o.seed, 0);
    const taken = new Map<number, number>();
    const picks: number[] = [];
    for (const i of order) {
      const y = all.labels[i]!;
      if (y >= 5 && (taken.get(y) ?? 0) < o.trainSize) {
        taken.set(y, (taken.get(y) ?? 0) + 1);
        picks.push(i);
      }
    }
    train = subset(all, picks, (y) => y - 5);
    test = subset(
      allTest,
      where(allTest, (y) => y >= 5, o.testSize),
      (y) => y - 5,
    );
    const pre = await pretrainDigits(o, train04, test04);
    pretraining = pre.info;
    classes = 5;
    source = `MNIST digits 0-4 (${pre.info.images} images, ${pre.info.epochs} epoch(s)${pre.info.cached ? `, cached in ${o.cache}` : ''})`;
    target = `MNIST digits 5-9 (${o.trainSize} labelled per class)`;
    loadBody = (net) => nn.loadParams(net, pre.bytes);
  }
  const steps = o.epochs * batchCount(train.count, o.batchSize);
  log(
    `${source} -> ${target}: ${train.count} training images, ${o.epochs} epoch(s) of batch ${o.batchSize} = ${steps} steps each, Adam lr ${o.lr}; ${test.count} test images; ${o.compiled === false ? 'eager steps (--eager)' : 'compiled steps'}`,
  );

  // Both networks have the same architecture (LeNet-5 up to the head layer, then a new head,
  // seeded alike); only the body's starting weights differ: random, or pretrained.
  const head = { numClasses: classes, seed: o.seed * 100 + 5, on: o.headOn };
  const scratchNet = nn.replaceHead(nn.models.lenet5({ seed: o.seed, numClasses: classes }), head);
  const scratch = await fit('from scratch', scratchNet, train, test, o);
  nn.disposeLayers(scratchNet);

  const body = nn.models.lenet5({ seed: o.seed, numClasses: o.task === 'fashion' ? 10 : 5 });
  await loadBody(body);
  const tuned = nn.replaceHead(body, head);
  if (o.freeze) nn.freeze(tuned, ['conv1', 'conv2']);
  const summary = nn
    .trainableSummary(tuned)
    .map((r) => `${r.layer}${r.trainable ? '' : ' (frozen)'}`)
    .join(', ');
  log(`fine-tuning: ${summary}`);
  const finetuned = await fit('fine-tuned', tuned, train, test, o);
  nn.disposeLayers(tuned);

  return {
    task: o.task,
    headOn: o.headOn,
    source,
    target,
    pretrained: o.task === 'fashion' ? o.pretrained : 'pretrained on digits 0-4 by this command',
    freeze: o.freeze,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    trainImages: train.count,
    testImages: test.count,
    steps,
    ...(pretraining ? { pretraining } : {}),
    curves: { scratch, finetuned },
    final: { scratch: scratch.at(-1)!.accuracy, finetuned: finetuned.at(-1)!.accuracy },
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    backend: info.backend,
    adapter: info.adapter,
    compiled: o.compiled ?? true,
  };
}

/**
 * The human-readable report: both curves side by side, then the final table.
 *
 * @example
 * const o: FinetuneOptions = { ...FINETUNE_DEFAULTS.digits, task: 'digits', pretrained: '', freeze: false, headOn: 'fc1', lr: 1e-3, seed: 1, pretrainImages: Infinity, pretrainEpochs: 1 };
 * process.stdout.write(formatFinetune(await finetune(o)));
 */
export function formatFinetune(r: FinetuneResult): string {
  const lines = [
    `${r.source} -> ${r.target}`,
    `fine-tuned: new head on ${r.headOn}${r.freeze ? ', conv1 and conv2 frozen' : ', all layers trained'}; both: ${r.steps} steps of batch ${r.batchSize}, Adam lr ${r.lr}, seed ${r.seed}`,
  ];
  if (r.pretraining) lines.push(`pretraining on 0-4: ${pct(r.pretraining.accuracy)} on 1000 test images of 0-4${r.pretraining.cached ? ' (cached)' : ''}`);
  lines.push('', `test accuracy on ${r.testImages} images during training`, '  step  epoch  images  from scratch  fine-tuned');
  const byStep = new Map(r.curves.finetuned.map((p) => [p.step, p]));
  for (const p of r.curves.scratch) {
    const f = byStep.get(p.step);
    lines.push(
      `${String(p.step).padStart(6)}  ${String(p.epoch).padStart(5)}  ${String(p.images).padStart(6)}  ${pct(p.accuracy).padStart(12)}  ${(f ? pct(f.accuracy) : '-').padStart(10)}`,
    );
  }
  const gain = (r.final.finetuned - r.final.scratch) * 100;
  lines.push(
    '',
    `final test accuracy (${r.testImages} images, ${r.trainImages} training images, ${r.steps} steps)`,
    '  model          accuracy',
    `  from scratch   ${pct(r.final.scratch).padStart(8)}`,
    `  fine-tuned     ${pct(r.final.finetuned).padStart(8)}   (${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points)`,
    `${r.seconds} s on ${r.adapter}`,
    '',
  );
  return lines.join('\n');
}
