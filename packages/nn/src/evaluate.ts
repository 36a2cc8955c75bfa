/**
 * `evaluate` and `predict`, Keras-style: metrics of a trained network over a dataset in batches
 * (accuracy, top-k, a confusion matrix, the loss), and class probabilities for images, both in
 * deterministic mode and without reading the device more than once.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { batches } from '@tessera/data';
import type { Layer } from './layers/base.js';
import { getAllLayers, getOutput } from './layers/helper.js';
import { InputLayer } from './layers/input.js';
import {
  asFloat,
  checkData,
  checkedLoss,
  checkLabelRange,
  describe,
  outputOf,
  positiveInt,
  staticClasses,
  type Checked,
  type FitData,
  type FitNet,
  type LossFn,
} from './fit-data.js';

/** A metric `evaluate` computes. @example const m: nn.Metric[] = ['accuracy', 'topK', 'confusion']; */
export type Metric = 'accuracy' | 'topK' | 'confusion' | 'loss';

/**
 * Options of `evaluate`.
 *
 * @example
 * const o: nn.EvaluateOptions = { metrics: ['accuracy', 'topK'], k: 3 };
 * const compiled: nn.EvaluateOptions = { forward: nn.predictFunction(net.out) };   // dispose it when done
 */
export interface EvaluateOptions {
  /** Default `['accuracy']`. */
  metrics?: readonly Metric[] | undefined;
  /** Samples per forward pass (default 500). */
  batchSize?: number | undefined;
  /** The k of 'topK' (default 5). */
  k?: number | undefined;
  /** The loss of 'loss' (default `defaultLoss`). */
  loss?: LossFn | undefined;
  /**
   * The deterministic forward pass to run on each batch instead of `getOutput(net, x,
   * { deterministic: true })`: pass an `nn.predictFunction(net.out)` that you evaluate with
   * again and again (it is recorded once per batch shape and replayed; the same numbers).
   * `evaluate` does not dispose it.
   */
  forward?: ((x: Tensor) => Tensor) | undefined;
}

/** What `evaluate` returns: the metrics asked for. @example const show = ({ accuracy, confusion }: nn.Evaluation) => console.log(accuracy, confusion?.[3]?.[5]); */
export interface Evaluation {
  /** Samples evaluated. */
  count: number;
  /** Fraction of samples whose highest score is their label. */
  accuracy?: number;
  /** Fraction of samples whose label is among their `k` highest scores (ties count in the label's favour). */
  topK?: number;
  /** The k of topK. */
  k?: number;
  /** `confusion[label][predicted]`: counts, rows the true classes, columns the predictions (scikit-learn's layout). */
  confusion?: number[][];
  /** Mean loss per sample. */
  loss?: number;
}

/** Options of `predict`. @example const o: nn.PredictOptions = { batchSize: 256, softmax: false }; */
export interface PredictOptions {
  /** Samples per forward pass (default 500); the results are concatenated. */
  batchSize?: number | undefined;
  /** Apply a softmax over the last axis (default true): class probabilities from logits. False returns the raw output. */
  softmax?: boolean | undefined;
}

// ---------------------------------------------------------------------------------------------
// evaluate and predict

/** @internal The settings `evaluateChecked` takes. */
export interface EvalConfig {
  metrics: readonly Metric[];
  batchSize: number;
  k: number;
  loss: LossFn;
  /** The deterministic forward pass, default `getOutput(out, x, { deterministic: true })`; `fit` passes its `nn.predictFunction`. */
  forward?: ((x: Tensor) => Tensor) | undefined;
}

/** @internal Shared with `fit`'s validation: `evaluate` on data already checked. */
export async function evaluateChecked(out: Layer, data: Checked, cfg: EvalConfig): Promise<Evaluation> {
  const fn = 'evaluate';
  const want = new Set(cfg.metrics);
  const needIds = want.has('accuracy') || want.has('topK') || want.has('confusion');
  if (needIds && !data.classes)
    throw new Error(`${fn}: metrics ${JSON.stringify([...want].filter((m) => m !== 'loss'))} need int32 class ids; these labels are float32 targets`);
  let classes = staticClasses(out);
  if (classes !== null && data.classes) checkLabelRange(fn, 'data', data.labels as Int32Array, classes);
  const acc: Partial<Record<Metric, Tensor>> = {};
  // Called inside the batch's tidy: the running sums are kept out of it.
  const add = (m: Metric, t: Tensor) => {
    const prev = acc[m];
    acc[m] = ts.keep(prev ? prev.add(t) : t);
    prev?.dispose();
  };
  try {
    for (const b of batches<Int32Array | Float32Array>({
      images: data.images,
      labels: data.labels,
      sampleShape: data.sampleShape,
      targetShape: data.targetShape,
      batchSize: cfg.batchSize,
      shuffle: false,
    })) {
      ts.tidy(() =>
        ts.noGrad(() => {
          const x = ts.tensor(b.x, { shape: [b.size, ...data.sampleShape] });
          const y = ts.tensor(b.y, { shape: [b.size, ...data.targetShape], dtype: data.classes ? 'int32' : 'float32' });
          const output = cfg.forward ? cfg.forward(x) : getOutput(out, x, { deterministic: true });
          if (needIds) {
            if (output.rank !== 2) throw new Error(`${fn}: classification metrics need an output [N, C], got ${ts.fmtShape(output.shape)}`);
            if (classes === null) {
              classes = output.shape[1]!;
              checkLabelRange(fn, 'data', data.labels as Int32Array, classes);
            }
          }
          if (want.has('loss')) {
            const l = cfg.loss(output, y);
            add('loss', (l.rank === 0 ? l : l.mean()).mul(b.size));
          }
          if (want.has('accuracy')) add('accuracy', asFloat(output.argmax(1).eq(y)).sum());
          if (want.has('topK')) {
            // The label's rank: how many classes score strictly higher (ties count for the label).
            const target = output.mul(ts.oneHot(y, classes!)).sum(1, true);
            add('topK', asFloat(output.gt(target).sum(1).lt(cfg.k)).sum());
          }
          if (want.has('confusion')) {
            const truth = asFloat(ts.oneHot(y, classes!));
            const predicted = asFloat(ts.oneHot(output.argmax(1), classes!));
            add('confusion', ts.matmul(truth.transpose(), predicted));
          }
        }),
      );
    }
    const names = Object.keys(acc) as Metric[];
    const values = await Promise.all(names.map((m) => acc[m]!.data()));
    const result: Evaluation = { count: data.n };
    names.forEach((m, i) => {
      const v = values[i]!;
      if (m === 'confusion')
        result.confusion = Array.from({ length: classes! }, (_, r) => Array.from(v.subarray(r * classes!, (r + 1) * classes!), Math.round));
      else result[m] = v[0]! / data.n;
    });
    if (want.has('topK')) result.k = cfg.k;
    return result;
  } finally {
    ts.dispose(Object.values(acc));
  }
}

/**
 * Evaluates `net` on a dataset with a deterministic forward pass (dropout off, batch norm on
 * its running statistics), in batches under `noGrad`, with one read at the end: accuracy,
 * top-k accuracy (`k`, default 5), the confusion matrix (`confusion[label][predicted]`) and the
 * mean loss, as `metrics` asks (default `['accuracy']`). Class ids out of the output's range
 * are an error naming the first.
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const test = await loadMnist({ split: 'test', normalize: 'standard' });
 * const { accuracy, topK, confusion } = await nn.evaluate(net, test, { metrics: ['accuracy', 'topK', 'confusion'], k: 2 });
 * console.log(accuracy, topK, confusion![3]![5]);   // 3s taken for 5s
 */
export async function evaluate(net: FitNet, data: FitData, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const out = outputOf('evaluate', net);
  const checked = checkData('evaluate', 'data', data);
  const metrics = opts.metrics ?? ['accuracy'];
  const valid: Metric[] = ['accuracy', 'topK', 'confusion', 'loss'];
  if (!Array.isArray(metrics) || metrics.length === 0 || !metrics.every((m) => valid.includes(m))) {
    throw new Error(`evaluate: metrics must be a non-empty list of ${valid.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(metrics)}`);
  }
  const k = positiveInt('evaluate', 'k', opts.k, 5);
  const batchSize = positiveInt('evaluate', 'batchSize', opts.batchSize, 500);
  if (opts.loss !== undefined && typeof opts.loss !== 'function')
    throw new Error(`evaluate: loss must be a function (output, targets) => Tensor, got ${describe(opts.loss)}`);
  if (opts.forward !== undefined && typeof opts.forward !== 'function')
    throw new Error(`evaluate: forward must be a function (x) => output, such as nn.predictFunction(net.out), got ${describe(opts.forward)}`);
  return evaluateChecked(out, checked, { metrics, batchSize, k, loss: opts.loss ?? checkedLoss, forward: opts.forward });
}

/**
 * Class probabilities: the softmax of the network's deterministic output (dropout off, batch
 * norm on its running statistics), under `noGrad`, as PyTorch's `model.eval()` then
 * `softmax(model(x))`. Returns a Tensor, not yet read: `await p.data()` (or `.array()`) reads
 * it; dispose it afterwards.
 *
 * `images` is a batch ([N, ...sampleShape], e.g. [N, 1, 28, 28]) or one image ([1, 28, 28], or
 * [28, 28] for a one-channel input), as a Tensor; or a Float32Array of one image or of several
 * (a whole number of samples of the input layer's shape). A batch gives [N, C], one image [C].
 * Large batches run `batchSize` (default 500) at a time. `{ softmax: false }` returns the raw
 * output instead (logits, or a regression's values).
 *
 * @example
 * const probs = nn.predict(net, ts.rand([1, 28, 28]));   // one image: [10]
 * const p = await probs.data();                           // Float32Array(10), sums to 1
 * const classes = nn.predict(net, ts.rand([64, 1, 28, 28])).argmax(1);   // [64]
 */
export function predict(net: FitNet, images: Tensor | Float32Array, opts: PredictOptions = {}): Tensor {
  const fn = 'predict';
  const out = outputOf(fn, net);
  const inputs = getAllLayers(out).filter((l): l is InputLayer => l instanceof InputLayer);
  if (inputs.length !== 1) throw new Error(`${fn}: the network needs exactly one InputLayer, found ${inputs.length}`);
  const inShape = inputs[0]!.outputShape;
  const sampleShape = inShape.slice(1);
  if (!sampleShape.every((d): d is number => typeof d === 'number')) {
    throw new Error(`${fn}: the input layer's sample shape must be fixed, got [${inShape.map((d) => d ?? 'null').join(', ')}]`);
  }
  const sampleSize = (sampleShape as number[]).reduce((a, b) => a * b, 1);
  const batchSize = positiveInt(fn, 'batchSize', opts.batchSize, 500);
  const softmax = opts.softmax ?? true;
  let x: Tensor;
  let single: boolean;
  if (images instanceof Float32Array) {
    if (images.length === 0 || images.length % sampleSize !== 0) {
      throw new Error(
        `${fn}: a Float32Array must hold whole samples of shape [${sampleShape.join(', ')}] (${sampleSize} values each), got ${images.length} values`,
      );
    }
    const n = images.length / sampleSize;
    single = n === 1;
    x = ts.tensor(images, { shape: [n, ...(sampleShape as number[])] });
  } else if (images instanceof Tensor) {
    const r = inShape.length;
    const rest = images.shape.slice(images.rank === r ? 1 : 0);
    const fits = (s: readonly number[]) => s.length === sampleShape.length && s.every((d, i) => d === sampleShape[i]);
    if (images.rank === r && fits(rest)) single = false;
    else if (images.rank === r - 1 && fits(images.shape)) single = true;
    else if (images.rank === r - 2 && sampleShape[0] === 1 && fits([1, ...images.shape])) single = true;
    else {
      throw new Error(
        `${fn}: images ${ts.fmtShape(images.shape)} do not fit the input [${inShape.map((d) => d ?? 'N').join(', ')}]: expected a batch [N, ${sampleShape.join(', ')}] or one image [${sampleShape.join(', ')}]${sampleShape[0] === 1 ? ` or [${sampleShape.slice(1).join(', ')}]` : ''}`,
      );
    }
    x = images;
  } else throw new Error(`${fn}: images must be a Tensor or a Float32Array, got ${describe(images)}`);
  try {
    return ts.tidy(() =>
      ts.noGrad(() => {
        const batch = single ? x.reshape([1, ...(sampleShape as number[])]) : x;
        const n = batch.shape[0]!;
        const parts: Tensor[] = [];
        for (let from = 0; from < n; from += batchSize) {
          const chunk =
            n <= batchSize ? batch : batch.slice([from, ...sampleShape.map(() => 0)], [Math.min(batchSize, n - from), ...(sampleShape as number[])]);
          const y = getOutput(out, chunk, { deterministic: true });
          parts.push(softmax ? ts.softmax(y, -1) : y);
        }
        const all = parts.length === 1 ? parts[0]! : ts.concat(parts, 0);
        return single ? all.reshape(all.shape.slice(1)) : all;
      }),
    );
  } finally {
    if (x !== images) x.dispose();
  }
}
