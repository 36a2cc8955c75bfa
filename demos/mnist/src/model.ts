/**
 * LeNet-5 in the page: one training step, evaluation, single-image prediction, the first-layer
 * filters, and weights in and out. The UI and the training loop never touch layers directly.
 * The step is `nn.trainStep`'s (the one `nn.fit` runs) and the predictions are `nn.predict`'s.
 *
 * Every computation runs inside a synchronous `ts.tidy` and only its result leaves it; the
 * awaits (readbacks) happen outside. That matters here because training, evaluation and the
 * drawing pad interleave on one page: an async tidy spanning an await would also sweep up the
 * tensors the other tasks create meanwhile.
 *
 * Loading weights (an upload) or a saved run (`loadState`) checks everything before it writes
 * anything, so a refused file leaves the model as it was. Loading weights also starts the
 * optimizer afresh: its moments belong to the old weights, and after a run that diverged they
 * are NaN, which would turn good weights into NaN again at the next step.
 */
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
type LeNet = nn.models.LeNet;
import { PIXELS, gather, inOrder, type Split } from './data.js';
import { checkFiniteWeights } from './weights.js';

/** Optimizers the page offers, by `nn.updates.byName` name, with a sensible learning rate each. */
export const OPTIMIZERS: Record<string, { label: string; learningRate: number }> = {
  adam: { label: 'Adam', learningRate: 1e-3 },
  sgd: { label: 'SGD', learningRate: 0.05 },
  momentum: { label: 'SGD + momentum', learningRate: 0.01 },
  nesterovMomentum: { label: 'Nesterov momentum', learningRate: 0.01 },
  rmsprop: { label: 'RMSprop', learningRate: 1e-3 },
};

/** Test images per forward pass in `evaluate` (large enough to keep the GPU busy). */
const EVAL_BATCH = 500;

/** LeNet-5 with its optimizer. */
export class Model {
  readonly net: LeNet;
  private opt: nn.updates.Optimizer;

  /**
   * A freshly initialised LeNet-5 (seeded: the same seed gives the same weights).
   *
   * @example
   * const model = new Model({ seed: 1, optimizer: 'adam', learningRate: 1e-3 });
   */
  constructor({ seed, optimizer, learningRate }: { seed: number; optimizer: string; learningRate: number }) {
    this.net = nn.models.lenet5({ seed });
    this.opt = this.makeOptimizer(optimizer, learningRate);
  }

  /** The compiled step (`nn.trainFunction`) of the current optimizer, made at the first compiled step. */
  private compiledStep: nn.CompiledStep<[ts.Tensor, ts.Tensor]> | null = null;
  /** Whether `trainStep` runs the compiled step (default) or every op eagerly. */
  private compiledMode = true;

  /** True when steps run compiled (recorded once per batch size, then replayed). */
  get compiled(): boolean {
    return this.compiledMode;
  }

  /**
   * Compiled steps (true, the default) or eager ones, from the next step on: the same
   * numbers either way. Switching off frees the compiled step.
   *
   * @example
   * model.setCompiled(false);   // the next trainStep runs every op eagerly
   */
  setCompiled(on: boolean): void {
    if (on === this.compiledMode) return;
    this.compiledMode = on;
    this.dropStep();
  }

  /** Frees the compiled step: it belongs to an optimizer that is going, or to a mode that is. */
  private dropStep(): void {
    this.compiledStep?.dispose();
    this.compiledStep = null;
  }

  private makeOptimizer(name: string, learningRate: number): nn.updates.Optimizer {
    return nn.updates.byName(name, nn.getAllParams(this.net.out, { trainable: true }), { learningRate });
  }

  /** Optimizer name and learning rate in use. */
  get optimizer(): { name: string; learningRate: number } {
    return { name: this.opt.name, learningRate: this.opt.learningRate };
  }

  /** Drops the optimizer's state (moments, step counts): the next step starts it afresh. */
  resetOptimizer(): void {
    const { name, learningRate } = this.optimizer;
    this.dropStep();
    this.opt.dispose();
    this.opt = this.makeOptimizer(name, learningRate);
  }

  /**
   * Switches optimizer or learning rate. A new rule starts with fresh state (moments, momentum);
   * a new rate alone keeps it, as changing `lr` in PyTorch does.
   */
  setOptimizer(name: string, learningRate: number): void {
    if (this.opt.name === name) {
      this.opt.learningRate = learningRate;
      return;
    }
    this.dropStep();
    this.opt.dispose();
    this.opt = this.makeOptimizer(name, learningRate);
  }

  /**
   * One step of Adam/SGD/... on a batch. Returns the loss as a GPU scalar that the caller may
   * read back (or not) and must dispose; nothing here waits for the GPU.
   *
   * @example
   * const loss = await model.trainStep(x, y);   // x: n*784 floats, y: n labels
   */
  async trainStep(x: Float32Array, y: Int32Array): Promise<ts.Tensor> {
    const n = y.length;
    const xt = ts.tensor(x, { shape: [n, 1, 28, 28] });
    const yt = ts.tensor(y, { shape: [n], dtype: 'int32' });
    try {
      if (this.compiledMode) {
        // The labels come from the MNIST files (0..9): plain cross-entropy, no device-side check.
        const net = this.net.out;
        this.compiledStep ??= nn.trainFunction((a: ts.Tensor, b: ts.Tensor) => ts.crossEntropy(nn.getOutput(net, a, { deterministic: false }), b), this.opt);
        return this.compiledStep(xt, yt);
      }
      // The labels come from the MNIST files (0..9): plain cross-entropy, no device-side check.
      const { loss, correct } = await nn.trainStep({ net: this.net, optimizer: this.opt, loss: ts.crossEntropy })(xt, yt);
      correct?.dispose();
      return loss;
    } finally {
      xt.dispose();
      yt.dispose();
    }
  }

  /**
   * Predicted classes of the first `count` images of a split, with one readback per 500.
   *
   * @example
   * const preds = await model.predictClasses(data.test, 2000);
   */
  async predictClasses(split: Split, count: number): Promise<Int32Array> {
    const order = inOrder(count);
    const parts: ts.Tensor[] = [];
    for (let start = 0; start < count; start += EVAL_BATCH) {
      const size = Math.min(EVAL_BATCH, count - start);
      const { x } = gather(split, order, start, size);
      parts.push(ts.tidy(() => nn.predict(this.net, ts.tensor(x, { shape: [size, 1, 28, 28] }), { softmax: false }).argmax(1)));
    }
    try {
      const read = await Promise.all(parts.map((p) => p.data()));
      const out = new Int32Array(count);
      let at = 0;
      for (const r of read) {
        out.set(r as ArrayLike<number>, at);
        at += r.length;
      }
      return out;
    } finally {
      ts.dispose(parts);
    }
  }

  /**
   * Class probabilities for one normalized 28x28 image (784 floats, as `gather` makes them).
   *
   * @example
   * const probs = await model.probabilities(pad.toInput());   // Float32Array(10), sums to 1
   */
  async probabilities(image: Float32Array): Promise<Float32Array> {
    if (image.length !== PIXELS) throw new Error(`probabilities: expected ${PIXELS} pixels, got ${image.length}`);
    const p = nn.predict(this.net, image); // [10]
    try {
      return Float32Array.from(await p.data());
    } finally {
      p.dispose();
    }
  }

  /** The first convolution's weights: 6 filters of 5x5, as `[filter][row * 5 + col]`. */
  async firstLayerFilters(): Promise<Float32Array[]> {
    const W = (this.net.conv1 as nn.Conv2DLayer).W;
    const [f, , kh, kw] = W.shape as [number, number, number, number];
    const all = Float32Array.from(await W.data());
    return Array.from({ length: f }, (_, i) => all.subarray(i * kh * kw, (i + 1) * kh * kw));
  }

  /** The weights as a safetensors file (names like `conv1.W`), loadable in PyTorch. */
  async save(): Promise<Uint8Array> {
    return nn.saveParams(this.net.out);
  }

  /**
   * Loads weights saved by `save` (or by the CLI / PyTorch with the same names and shapes), then
   * starts the optimizer afresh. Throws, changing nothing, on a corrupt file, other names or
   * shapes (`nn.loadParams`' checks) or values that are not finite.
   */
  async load(bytes: Uint8Array, source = 'weights file'): Promise<void> {
    checkFiniteWeights(bytes, source);
    await nn.loadParams(this.net.out, bytes);
    this.resetOptimizer();
  }

  /**
   * The weights and the optimizer's state (moments, step counts: `Optimizer.state`) as one
   * safetensors file: parameters under their names (`conv1.W`), the optimizer's tensors as
   * `optim.<param>.<slot>` and its settings as JSON in the metadata. One round trip reads all.
   */
  async saveState(): Promise<Uint8Array> {
    const names = nn.paramNames(this.net.out);
    const { tensors, ...optimizer } = this.opt.state(names);
    const reads: [string, ts.Tensor][] = [...[...names].map(([t, n]): [string, ts.Tensor] => [n, t]), ...tensors];
    const values = await Promise.all(reads.map(([, t]) => t.data()));
    const out = new Map(reads.map(([name, t], i) => [name, { shape: t.shape, data: values[i]! }]));
    return nn.encodeSafetensors(out, { producer: 'tessera mnist demo', optimizer: JSON.stringify(optimizer) });
  }

  /**
   * Restores `saveState`'s bytes. The weights must fit (names, shapes, finite values) or it
   * throws and nothing changes. The optimizer's state comes back when it was saved for this
   * kind of optimizer and holds finite values; otherwise the optimizer starts afresh, and the
   * reason is returned.
   */
  async loadState(bytes: Uint8Array): Promise<{ optimizer: true } | { optimizer: false; why: string }> {
    const source = 'the saved training';
    const isOptim = (name: string) => name.startsWith('optim.');
    checkFiniteWeights(bytes, source, isOptim);
    await nn.loadParams(this.net.out, bytes, { strict: false }); // the optim.* tensors are not parameters
    try {
      checkFiniteWeights(bytes, source, (name) => !isOptim(name));
      const file = nn.decodeSafetensors(bytes, source);
      if (file.metadata['optimizer'] === undefined) throw new Error('no optimizer state was saved');
      const tensors = new Map<string, Float32Array>();
      for (const [name, entry] of file.tensors) if (isOptim(name)) tensors.set(name, nn.entryToFloat32(name, entry, source));
      this.opt.loadState({ ...(JSON.parse(file.metadata['optimizer']) as Omit<nn.OptimizerState, 'tensors'>), tensors }, nn.paramNames(this.net.out));
      return { optimizer: true };
    } catch (err) {
      this.resetOptimizer();
      return { optimizer: false, why: (err as Error).message };
    }
  }

  /** Frees the weights and optimizer state on the GPU. */
  dispose(): void {
    this.dropStep();
    this.opt.dispose();
    nn.disposeLayers(this.net.out);
  }
}
