/**
 * Training helpers in the style of Keras' `model.fit` / `evaluate` / `predict`, written on the
 * public API (layers, objectives, optimizers), for the common loop: mini-batches of a dataset
 * held in typed arrays, an optimizer step per batch, validation after every epoch.
 *
 * None of them stalls the device to read a number: losses and counts are summed on the device
 * and read back once per epoch, and the per-step values that progress reports need are read a
 * few steps late (see `FitOptions.readEvery` and `lag`), so the queue never runs dry.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { batches, batchCount } from '@tessera/data';
import { Layer } from './layers/base.js';
import { getAllLayers, getOutput, type LayerSource } from './layers/helper.js';
import { adam, Optimizer } from './updates.js';
import { checkpointSaver, resumeForFit, type FitCheckpoint } from './checkpoint.js';
import {
  asFloat,
  checkData,
  checkedLoss,
  checkLabelRange,
  defaultLoss,
  describe,
  outputOf,
  positiveInt,
  staticClasses,
  type FitData,
  type FitNet,
  type LossFn,
} from './fit-data.js';
import { evaluateChecked } from './evaluate.js';
import { compileTrainBody, predictFunction, uncompilableNoise, type CompiledStep } from './compiled.js';

/**
 * What one training step leaves on the device: the batch's loss (a scalar) and, for
 * classification, the number of correct predictions. The caller reads them (or not) and
 * disposes them.
 *
 * @example
 * const opt = nn.updates.adam(net.out);
 * const { loss, correct } = await nn.trainStep({ net, optimizer: opt })(x, labels);
 * ts.dispose([loss, correct!]);
 */
export interface StepResult {
  loss: Tensor;
  correct?: Tensor | undefined;
}

/**
 * One training step: forward, loss, backward and optimizer update on a batch, queued on the
 * device and read nowhere. `nn.trainStep` makes the plain eager one; `fit` compiles its own
 * unless told otherwise, and runs yours through its `step` option.
 *
 * @example
 * const step: nn.TrainStep = nn.trainStep({ net, optimizer: nn.updates.adam(net.out) });
 */
export type TrainStep = (x: Tensor, targets: Tensor) => StepResult | Promise<StepResult>;

/** Options of `trainStep`. @example const o: nn.TrainStepOptions = { net, optimizer: nn.updates.sgd(net.out, { learningRate: 0.1 }) }; */
export interface TrainStepOptions {
  net: FitNet;
  /** Default `defaultLoss`: cross-entropy from logits for int32 class ids, mean squared error for float32 targets. */
  loss?: LossFn | undefined;
  optimizer: Optimizer;
}

/** Progress after one step, for `onStep`. @example const show = (s: nn.StepInfo) => console.log(s.epoch, s.step, s.loss); */
export interface StepInfo {
  /** Epoch, from 0. */
  epoch: number;
  /** Step within the epoch, from 1 (in a resumed epoch, counting the batches done before). */
  step: number;
  /** Steps in a full epoch. */
  steps: number;
  /** Steps since `fit` started, from 1. */
  totalSteps: number;
  /** Optimizer steps over the whole run, a resumed one included (a checkpoint's `step`). */
  globalStep: number;
  /** Samples in this step's batch. */
  size: number;
  /** Samples trained on in this epoch so far. */
  images: number;
  /**
   * The latest loss read back (of step `lossStep`, a few steps ago: reads are late on purpose),
   * undefined until the first read completes.
   */
  loss?: number | undefined;
  /** The accuracy of the batch of step `lossStep` (classification only). */
  accuracy?: number | undefined;
  /** The step (within the epoch `lossEpoch`) that `loss` and `accuracy` belong to. */
  lossStep?: number | undefined;
  /** The epoch of `lossStep`. */
  lossEpoch?: number | undefined;
}

/** One epoch of a `fit` history. @example const log = (e: nn.EpochLog) => console.log(`epoch ${e.epoch + 1}: loss ${e.loss}, val acc ${e.valAccuracy}`); */
export interface EpochLog {
  /** Epoch, from 0. */
  epoch: number;
  /** Mean training loss over the epoch's samples (each batch's loss weighted by its size). */
  loss: number;
  /** Training accuracy over the epoch (classification), measured during the steps (training-mode forward). */
  accuracy?: number | undefined;
  /** Loss on `validation` (deterministic forward), when given. */
  valLoss?: number | undefined;
  /** Accuracy on `validation` (classification), when given. */
  valAccuracy?: number | undefined;
  /** Steps and samples trained on in this epoch (by this call: a resumed epoch counts from the resume). */
  steps: number;
  images: number;
  /** Wall time of the training steps (until the device finished them), without validation. */
  seconds: number;
  imagesPerSecond: number;
  /** False for an epoch cut short by `signal`. */
  complete: boolean;
}

/**
 * What `fit` returns: one entry per epoch run, and the same numbers as columns, as Keras'
 * `History.history` (`loss`, `accuracy`, `val_loss`, `val_accuracy` in camelCase).
 *
 * @example
 * const show = (h: nn.FitHistory) => console.log(h.epochs.length, h.valAccuracy.at(-1), h.aborted);
 */
export interface FitHistory {
  /** Every epoch run; the last one has `complete: false` when `signal` cut it short. */
  epochs: EpochLog[];
  /** `epochs[i].loss` for every entry. */
  loss: number[];
  /** Training accuracy per epoch (classification). */
  accuracy: number[];
  /** Validation loss per validated epoch (an aborted epoch is not validated). */
  valLoss: number[];
  /** Validation accuracy per validated epoch (classification). */
  valAccuracy: number[];
  /** True when `signal` stopped training before the last epoch ended. */
  aborted: boolean;
  /** Steps taken in all. */
  steps: number;
  /**
   * True when every step ran as a compiled step (`nn.trainFunction`'s machinery) and validation
   * through `nn.predictFunction`; false with `compiled: false`, a custom `step`, or a fallback.
   */
  compiled: boolean;
  /**
   * Why `fit` trained eagerly although `compiled` was not false (a seeded noise layer, a loss
   * function a step cannot be recorded with), from the step it happened at; absent otherwise.
   */
  eagerReason?: string | undefined;
}

/** Options of `fit`. @example const o: nn.FitOptions = { net, data: { images: new Float32Array(784), labels: new Int32Array(1), shape: [1, 1, 28, 28] }, epochs: 3, batchSize: 64 }; */
export interface FitOptions {
  /** The network (its output layer, or a record with `out`). */
  net: FitNet;
  /** Training data: `{ images, labels, shape }`, e.g. what `loadMnist` returns. */
  data: FitData;
  /**
   * Default `defaultLoss`: cross-entropy from logits for int32 labels, mean squared error for
   * float32 targets. Also the validation loss (with a custom `step`, only that).
   */
  loss?: LossFn | undefined;
  /**
   * Default: Adam, learning rate 1e-3, over the trainable parameters, freed when `fit` returns.
   * Pass your own to choose it, to keep its state between calls, or to schedule its rate.
   */
  optimizer?: Optimizer | undefined;
  /** Default 1. */
  epochs?: number | undefined;
  /** Default 32 (Keras'). */
  batchSize?: number | undefined;
  /** Evaluated after every epoch (loss, and accuracy for int32 labels), deterministic forward. */
  validation?: FitData | undefined;
  /** Shuffle every epoch (default true): `@tessera/data`'s seeded order, the same as `batches({ seed, epoch })`. */
  shuffle?: boolean | undefined;
  /** Seed of the shuffles (default 0). */
  seed?: number | undefined;
  /** Called after every step (awaited: a page can yield to the browser here). */
  onStep?: ((info: StepInfo) => void | Promise<void>) | undefined;
  /** Called after every complete epoch, validation included (awaited). */
  onEpoch?: ((log: EpochLog) => void | Promise<void>) | undefined;
  /** Aborting stops training before the next step: `fit` resolves with the history so far, `aborted: true`. */
  signal?: AbortSignal | undefined;
  /** A loss value is read back every `readEvery` steps (default 4), for `onStep`. The epoch's loss is exact regardless. */
  readEvery?: number | undefined;
  /** How many steps late each read is awaited (default 4): the device always has that much work queued. */
  lag?: number | undefined;
  /** Batch size of validation (default 500). */
  validationBatchSize?: number | undefined;
  /**
   * The step to run instead of fit's own (compiled, or with `compiled: false` the eager
   * `trainStep({ net, loss, optimizer })`): `fit` only calls it with each batch and reads its
   * results late.
   */
  step?: TrainStep | undefined;
  /**
   * The epoch to start at, Keras' `initial_epoch`: epochs before it count as done (their shuffles
   * are skipped, not replayed); `epochs` stays the epoch to stop before. Default 0.
   */
  initialEpoch?: number | undefined;
  /** Batches of `initialEpoch` already trained: a mid-epoch resume skips them, in the same seeded order. Default 0. */
  initialStep?: number | undefined;
  /**
   * Continue from a checkpoint (a path in Node, or its bytes): loads the weights and the optimizer
   * state (`loadCheckpoint`) and starts at its epoch and batch, so the run goes on as if it had
   * never stopped. Its seed must be `seed`. Excludes initialEpoch and initialStep.
   */
  resumeFrom?: string | Uint8Array | undefined;
  /** Write checkpoints every `every` steps, after every epoch and on abort (see `FitCheckpoint`). */
  checkpoint?: FitCheckpoint | undefined;
  /**
   * Train through compiled steps (default true): the step is recorded once per batch shape
   * and replayed (`nn.trainFunction`'s machinery; the last partial batch records a second
   * shape), and validation runs through `nn.predictFunction`, with the same numbers as the
   * eager path. What a step cannot compile (a seeded `DropoutLayer` or `GaussianNoiseLayer`,
   * a loss that cannot be recorded) falls back to eager by itself and says why in
   * `FitHistory.eagerReason`. `false` runs every op eagerly (e.g. under `ts.debug.shadow`).
   * Ignored with a custom `step`.
   */
  compiled?: boolean | undefined;
}

/**
 * The eager training step `fit` runs: training-mode forward, `loss`, backward, `optimizer`
 * update, all queued; it returns the loss and (for int32 labels and a [N, C] output) the number
 * of correct predictions, as tensors the caller disposes. Nothing is read back.
 *
 * @example
 * const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
 * const step = nn.trainStep({ net, optimizer: opt });
 * const { loss, correct } = await step(x, labels);
 * console.log(await loss.item());   // reading is up to you
 * ts.dispose([loss, correct!]);
 */
export function trainStep({ net, loss, optimizer }: TrainStepOptions): TrainStep {
  const out = outputOf('trainStep', net);
  if (!(optimizer instanceof Optimizer)) throw new Error(`trainStep: optimizer must be an nn.updates optimizer, got ${describe(optimizer)}`);
  const lossFn = loss ?? defaultLoss;
  return (x: Tensor, targets: Tensor): StepResult => runStep(out, lossFn, optimizer, x, targets);
}

/** The step itself, synchronous: what `trainStep` runs eagerly and `fit` compiles. */
function runStep(out: Layer, lossFn: LossFn, optimizer: Optimizer, x: Tensor, targets: Tensor, seen?: { output: readonly number[] }): StepResult {
  const [value, correct] = ts.tidy(() => {
    const output = getOutput(out, x, { deterministic: false });
    if (seen) seen.output = output.shape;
    const raw = lossFn(output, targets);
    if (!(raw instanceof Tensor)) throw new Error(`trainStep: the loss function must return a Tensor, got ${describe(raw)}`);
    const scalar = raw.rank === 0 ? raw : raw.mean();
    const hits = targets.dtype === 'int32' && output.rank === 2 ? ts.noGrad(() => output.argmax(1).eq(targets).sum()) : null;
    return hits ? [scalar, hits] : [scalar];
  });
  try {
    value!.backward();
    optimizer.update();
  } catch (e) {
    ts.dispose([value!, correct ?? []]);
    throw e;
  }
  return { loss: value!, correct };
}

/**
 * `fit`'s compiled step: `runStep` recorded once per batch shape (`compileTrainBody`, what
 * `nn.trainFunction` is made of) and replayed, with the same kernels and so the same numbers
 * as the eager step. `output` is the network output's shape, seen when a shape is recorded.
 */
function compiledStep(out: Layer, lossFn: LossFn, optimizer: Optimizer) {
  const seen = { output: [] as readonly number[] };
  const step = compileTrainBody(
    'fit',
    (x: Tensor, targets: Tensor): Record<string, Tensor> => {
      const { loss, correct } = runStep(out, lossFn, optimizer, x, targets, seen);
      return correct ? { loss: loss.detach(), correct } : { loss: loss.detach() };
    },
    optimizer,
    { cacheSize: 4 },
    out,
  );
  return { step, seen };
}

// ---------------------------------------------------------------------------------------------
// fit

/** A read started right after its step was queued: its copy sits right behind that step's work. */
interface Read {
  epoch: number;
  step: number;
  size: number;
  tensors: Tensor[];
  values: Promise<number[]>;
}

/**
 * Trains `net` on `data` for `epochs`, Keras' `model.fit`: shuffled mini-batches (the seeded
 * order of `@tessera/data`'s `batches`), a step per batch (`trainStep`, or your `step`), and
 * after every epoch the validation loss and accuracy. Resolves to the history: per-epoch train
 * loss (exact: summed on the device), train accuracy and validation metrics.
 *
 * It never waits for the device to read a metric: the epoch's sums are read once at its end,
 * and the per-step loss that `onStep` reports is read `lag` steps late, every `readEvery` steps,
 * so the device always has queued work. Steps are compiled by default (`compiled`): recorded
 * once per batch shape and replayed, the same numbers as eager at a fraction of the host's
 * work; `step` swaps in your own.
 *
 * Int32 labels are class ids, checked against the output's class count before training (an id
 * out of range is an error naming it); Float32 labels are regression targets ([size, k] per
 * batch; the default loss is then the mean squared error). `signal` stops training cleanly
 * before the next step: the promise resolves with the history so far, `aborted: true`, and no
 * tensor is left behind. An empty dataset is an error.
 *
 * `checkpoint` writes checkpoints as training goes (every N steps, after each epoch, on abort),
 * and `resumeFrom` continues from one exactly: the same batches, weights and optimizer state
 * as an uninterrupted run, mid-epoch too (or start at `initialEpoch`, Keras-style).
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const train = await loadMnist({ split: 'train', limit: 2000, normalize: 'standard' });
 * const test = await loadMnist({ split: 'test', limit: 500, normalize: 'standard' });
 * const net = nn.models.lenet5({ seed: 1 });
 * const history = await nn.fit({
 *   net, data: train, validation: test, epochs: 2, batchSize: 64, seed: 1,
 *   optimizer: nn.updates.adam(net.out, { learningRate: 1e-3 }),
 *   onEpoch: (e) => console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(3)}, val acc ${e.valAccuracy}`),
 * });
 * history.valAccuracy;   // [0.9, 0.93], say
 */
export async function fit(options: FitOptions): Promise<FitHistory> {
  const fn = 'fit';
  if (!options || typeof options !== 'object') throw new Error(`fit: expected an options object { net, data, ... }, got ${describe(options)}`);
  const known = [
    'net',
    'data',
    'loss',
    'optimizer',
    'epochs',
    'batchSize',
    'validation',
    'shuffle',
    'seed',
    'onStep',
    'onEpoch',
    'signal',
    'readEvery',
    'lag',
    'validationBatchSize',
    'step',
    'initialEpoch',
    'initialStep',
    'resumeFrom',
    'checkpoint',
    'compiled',
  ];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw new Error(`fit: unknown option '${k}'. Valid options: ${known.join(', ')}`);
  const out = outputOf(fn, options.net);
  const data = checkData(fn, 'data', options.data);
  const validation = options.validation === undefined ? null : checkData(fn, 'validation', options.validation);
  const epochs = positiveInt(fn, 'epochs', options.epochs, 1, 0);
  const batchSize = positiveInt(fn, 'batchSize', options.batchSize, 32);
  const readEvery = positiveInt(fn, 'readEvery', options.readEvery, 4);
  const lag = positiveInt(fn, 'lag', options.lag, 4, 0);
  const valBatch = positiveInt(fn, 'validationBatchSize', options.validationBatchSize, 500);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`fit: seed must be an integer, got ${String(options.seed)}`);
  if (options.loss !== undefined && typeof options.loss !== 'function')
    throw new Error(`fit: loss must be a function (output, targets) => Tensor, got ${describe(options.loss)}`);
  if (options.optimizer !== undefined && !(options.optimizer instanceof Optimizer)) {
    throw new Error(`fit: optimizer must be an nn.updates optimizer (e.g. nn.updates.adam(net.out)), got ${describe(options.optimizer)}`);
  }
  if (options.step !== undefined && typeof options.step !== 'function')
    throw new Error(`fit: step must be a function (x, targets) => { loss }, got ${describe(options.step)}`);
  if (validation && validation.classes !== data.classes) {
    throw new Error(
      `fit: data has ${data.classes ? 'int32 class ids' : 'float32 targets'} but validation ${validation.classes ? 'int32 class ids' : 'float32 targets'}`,
    );
  }
  // Class ids are checked here, on the CPU, where the error can name the first bad one; the
  // default loss then skips its device-side check. Without a fixed class count it keeps it.
  let loss = options.loss;
  if (data.classes) {
    const c = staticClasses(out);
    if (c !== null) {
      checkLabelRange(fn, 'data', data.labels as Int32Array, c);
      if (validation) checkLabelRange(fn, 'validation', validation.labels as Int32Array, c);
    }
    loss ??= c !== null ? checkedLoss : defaultLoss;
  }
  loss ??= checkedLoss;

  if (options.compiled !== undefined && typeof options.compiled !== 'boolean')
    throw new Error(`fit: compiled must be true or false, got ${describe(options.compiled)}`);
  const history: FitHistory = { epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [], aborted: false, steps: 0, compiled: false };
  const signal = options.signal;
  const ownOptimizer = options.optimizer === undefined && options.step === undefined;
  const optimizer = options.optimizer ?? (options.step === undefined ? adam(out, { learningRate: 1e-3 }) : null);
  const step = options.step ?? trainStep({ net: out, loss, optimizer: optimizer! });
  // The compiled step and forward pass (null when eager): made here, disposed in `finally`.
  let compiled: ReturnType<typeof compiledStep> | null = null;
  let forward: CompiledStep<[Tensor]> | null = null;
  /** From here on, eagerly: frees the compiled functions and notes why. */
  const toEager = (why: string) => {
    history.eagerReason ??= why;
    compiled?.step.dispose();
    forward?.dispose();
    compiled = null;
    forward = null;
  };
  if ((options.compiled ?? true) && options.step === undefined) {
    const why = uncompilableNoise(getAllLayers(out));
    if (why) history.eagerReason = `${why}; trained eagerly`;
    else {
      compiled = compiledStep(out, loss, optimizer!);
      forward = predictFunction(out);
    }
  }
  // Consecutive recordings of one batch size without a replay: two that kept nothing mean the
  // third would fail (ts.compile gives up after three), so the step goes eager before that.
  const captures = new Map<number, number>();
  /** Classes of an output whose shape does not fix them, checked on the CPU after the first compiled step. */
  let classesChecked = !data.classes || staticClasses(out) !== null;
  /** One compiled step, or null when the step cannot be compiled (and nothing ran). */
  const compiledRun = (x: Tensor, y: Tensor, size: number): StepResult | null => {
    const c = compiled!;
    const before = c.step.info;
    const stepsBefore = optimizer!.stepCount;
    let r: Record<string, Tensor>;
    try {
      r = c.step(x, y);
    } catch (e) {
      // A step that cannot be recorded, refused before the optimizer moved: eager does it.
      if (e instanceof Error && /^(compile|fit): /.test(e.message) && optimizer!.stepCount === stepsBefore && !/was disposed/.test(e.message)) {
        toEager(`${e.message.split('\n')[0]}; trained eagerly from epoch ${history.epochs.length + 1}, step ${history.steps + 1}`);
        return null;
      }
      throw e;
    }
    const after = c.step.info;
    if (after.captures === before.captures) captures.set(size, 0);
    else {
      const n = (captures.get(size) ?? 0) + 1;
      captures.set(size, n);
      if (n >= 2 && after.recordings <= before.recordings) {
        toEager(`a step of batch size ${size} could not be recorded twice in a row (see docs/compile.md); trained eagerly from step ${history.steps + 2}`);
      }
    }
    if (!classesChecked) {
      const shape = c.seen.output;
      if (shape.length === 2) {
        // The device-side label check is not part of a compiled step: check them all here.
        checkLabelRange(fn, 'data', data.labels as Int32Array, shape[1]!);
        if (validation) checkLabelRange(fn, 'validation', validation.labels as Int32Array, shape[1]!);
      }
      classesChecked = true;
    }
    return { loss: r.loss!, correct: r.correct };
  };
  const steps = batchCount(data.n, batchSize);
  let start = positiveInt(fn, 'initialEpoch', options.initialEpoch, 0, 0);
  let skip = positiveInt(fn, 'initialStep', options.initialStep, 0, 0);
  if (skip >= steps) throw new Error(`${fn}: initialStep must be below the ${steps} batches of an epoch, got ${skip}`);
  if (options.resumeFrom !== undefined && (options.initialEpoch !== undefined || options.initialStep !== undefined)) {
    throw new Error(`${fn}: resumeFrom sets the starting epoch and batch itself; drop initialEpoch and initialStep`);
  }
  // Checkpoints name parameters as the caller's net does (a record's keys), as saveParams would.
  const named: LayerSource = options.net instanceof Layer || Object.values(options.net).every((l) => l instanceof Layer) ? (options.net as LayerSource) : out;
  const saver = checkpointSaver(options.checkpoint, named, optimizer, { seed, batchSize });
  let globalStep = 0;
  const reads: Read[] = [];
  let sums: Tensor[] = [];
  // (Assigned in settle(): the cast keeps TypeScript from narrowing it to null here.)
  let latest = null as { epoch: number; step: number; loss: number; accuracy?: number | undefined } | null;

  /** Awaits reads started at least `lag` steps before `(epoch, at)` (all of them when `at` is Infinity). */
  const settle = async (epoch: number, at: number): Promise<void> => {
    while (reads.length && (reads[0]!.epoch < epoch || reads[0]!.step <= at - lag)) {
      const r = reads.shift()!;
      try {
        const [l, c] = await r.values;
        latest = { epoch: r.epoch, step: r.step, loss: l!, accuracy: c === undefined ? undefined : c / r.size };
      } finally {
        ts.dispose(r.tensors);
      }
    }
  };

  try {
    if (options.resumeFrom !== undefined) {
      const at = await resumeForFit(options.resumeFrom, named, optimizer, { seed, batchSize, steps });
      [start, skip, globalStep] = [at.epoch, at.position, at.step];
    } else globalStep = start * steps + skip;
    /** Where the run stands, for the checkpoint written on abort. */
    let at = { epoch: start, position: skip };
    for (let epoch = start; epoch < epochs && !signal?.aborted; epoch++) {
      const first = epoch === start ? skip : 0;
      const t0 = performance.now();
      let lossSum = ts.zeros([]);
      let hitSum = ts.zeros([]);
      sums = [lossSum, hitSum];
      let images = 0;
      let done = 0;
      let classified = false;
      for (const b of batches<Int32Array | Float32Array>({
        images: data.images,
        labels: data.labels,
        sampleShape: data.sampleShape,
        targetShape: data.targetShape,
        batchSize,
        seed,
        epoch,
        shuffle: options.shuffle ?? true,
      })) {
        if (b.index < first) continue; // trained before the resume
        if (signal?.aborted) break;
        const x = ts.tensor(b.x, { shape: [b.size, ...data.sampleShape] });
        const y = ts.tensor(b.y, { shape: [b.size, ...data.targetShape], dtype: data.classes ? 'int32' : 'float32' });
        let result: StepResult;
        try {
          result = (compiled ? compiledRun(x, y, b.size) : null) ?? (await step(x, y));
        } finally {
          ts.dispose([x, y]);
        }
        const { loss: l, correct } = result;
        // Summed on the device: the epoch's loss is exact without a read per step.
        const prev = sums;
        lossSum = ts.tidy(() => ts.noGrad(() => lossSum.add(l.mul(b.size))));
        if (correct) hitSum = ts.tidy(() => ts.noGrad(() => hitSum.add(asFloat(correct))));
        sums = [lossSum, hitSum];
        ts.dispose(prev.filter((t) => !sums.includes(t)));
        classified ||= correct !== undefined;
        done++;
        history.steps++;
        globalStep++;
        images += b.size;
        const pos = first + done;
        if (pos % readEvery === 0 || pos === steps) {
          // One read for both numbers, started now (its copy queued right behind this step)
          // and awaited `lag` steps later.
          const both = correct ? ts.tidy(() => ts.noGrad(() => ts.concat([l.reshape([1]), asFloat(correct).reshape([1])], 0))) : l;
          const values = both.data().then((v) => Array.from(v));
          values.catch(() => {}); // awaited in settle(); until then a failure must not count as unhandled
          reads.push({ epoch, step: pos, size: b.size, tensors: correct ? [l, correct, both] : [l], values });
        } else ts.dispose(correct ? [l, correct] : [l]);
        await settle(epoch, pos);
        await options.onStep?.({
          epoch,
          step: pos,
          steps,
          totalSteps: history.steps,
          globalStep,
          size: b.size,
          images,
          loss: latest?.loss,
          accuracy: latest?.accuracy,
          lossStep: latest?.step,
          lossEpoch: latest?.epoch,
        });
        at = { epoch, position: pos };
        if (saver?.every && globalStep % saver.every === 0 && pos < steps) await saver.save(globalStep, epoch, pos, 'every');
      }
      await settle(Infinity, Infinity);
      if (done === 0) break; // aborted before this epoch's first step
      const totals = ts.tidy(() => ts.concat([lossSum.reshape([1]), hitSum.reshape([1])], 0));
      sums.push(totals);
      const [ls, hs] = await totals.data();
      const seconds = (performance.now() - t0) / 1000;
      ts.dispose(sums);
      sums = [];
      const complete = first + done === steps;
      const log: EpochLog = {
        epoch,
        loss: ls / images,
        ...(classified ? { accuracy: hs / images } : {}),
        steps: done,
        images,
        seconds,
        imagesPerSecond: images / seconds,
        complete,
      };
      if (complete && validation) {
        const v = await evaluateChecked(out, validation, {
          metrics: validation.classes ? ['loss', 'accuracy'] : ['loss'],
          batchSize: valBatch,
          k: 1,
          loss,
          forward: forward ?? undefined,
        });
        log.valLoss = v.loss;
        if (v.accuracy !== undefined) log.valAccuracy = v.accuracy;
      }
      history.epochs.push(log);
      history.loss.push(log.loss);
      if (log.accuracy !== undefined) history.accuracy.push(log.accuracy);
      if (log.valLoss !== undefined) history.valLoss.push(log.valLoss);
      if (log.valAccuracy !== undefined) history.valAccuracy.push(log.valAccuracy);
      if (!complete) break;
      await options.onEpoch?.(log);
      at = { epoch: epoch + 1, position: 0 };
      await saver?.save(globalStep, epoch + 1, 0, 'epoch'); // after onEpoch: a schedule's new rate is part of it
    }
    if (signal?.aborted) await saver?.save(globalStep, at.epoch, at.position, 'abort');
    history.aborted = signal?.aborted === true && (start + history.epochs.length < epochs || history.epochs.at(-1)?.complete === false);
    history.compiled = compiled !== null;
    return history;
  } finally {
    // On an error (or an abort): the reads in flight and the sums go; a read that failed is
    // already reported by whatever threw.
    for (const r of reads) {
      r.values.catch(() => {});
      ts.dispose(r.tensors);
    }
    ts.dispose(sums);
    (compiled as ReturnType<typeof compiledStep> | null)?.step.dispose();
    (forward as CompiledStep<[Tensor]> | null)?.dispose();
    if (ownOptimizer) optimizer?.dispose();
  }
}
