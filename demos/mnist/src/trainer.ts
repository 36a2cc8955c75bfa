/**
 * The training loop of the page: start, pause, resume, reset; periodic evaluation; throughput.
 *
 * The loop must keep the page alive and the GPU busy at once:
 * - it yields to the browser after every step (input and paint get their turn);
 * - it reads the loss back only every few steps, asynchronously: the read of step k is still in
 *   flight while steps k+1.. are queued, and the loop waits for it only when the next read is due.
 *   That bounds how far the CPU runs ahead of the GPU without a stall per step;
 * - throughput is measured between two completed reads, the only moments when we know the GPU
 *   has finished the work counted.
 *
 * It is not `nn.fit`, whose loop runs whole epochs over a dataset of floats: the page pauses and
 * resumes mid-epoch, switches optimizer between steps and keeps the pixels as bytes. The step
 * itself is fit's (`nn.trainStep`, in `Model.trainStep`), and predictions are `nn.predict`'s.
 *
 * The control flow is `PageControl`'s state machine (shared/state.ts): idle, running, paused,
 * `resetting` while a new model replaces the old one, `loading` while weights or a saved run
 * load. Those two stop the loop and wait for its last step before touching the model, refuse
 * Resume meanwhile, and build or check everything new before the old is freed or overwritten;
 * the loop checks its ticket (model generation and run) before every step.
 *
 * `snapshot` takes a consistent copy of the run for the page's autosave: between two steps of
 * the loop while running, or in the control queue while paused, never halfway through a step.
 */
import type * as ts from '@tessera/core';
import { PageControl, type PageState, type Ticket } from '../../shared/state.js';
import { nextFrame, yieldToBrowser } from '../../shared/yield.js';
import { epochOrder, gather, type MnistBytes } from './data.js';
import { Model } from './model.js';

/** Everything the controls set. `trainSize` / `testSize` apply from the next reset. */
export interface Settings {
  optimizer: string;
  learningRate: number;
  batchSize: number;
  /** Training images used (the first N of the 60,000), for quick runs. */
  trainSize: number;
  /** Test images evaluated (the first N of the 10,000). */
  testSize: number;
  seed: number;
}

/**
 * `loading` at start-up and while weights or a saved run load; `idle` before the first step and
 * after a reset; `paused` after Pause, an upload or an error; `resetting` during a reset.
 */
export type TrainerState = PageState;

/** What the trainer reports; the page turns these into charts and numbers. */
export interface TrainerEvents {
  state(state: TrainerState): void;
  /** A new model is in place (reset, or a saved run restored): forget the old one's numbers. */
  restarted(): void;
  /** After every step; `compiled` says how it ran (compiled or eager). */
  step(info: { step: number; epoch: number; images: number; compiled: boolean }): void;
  loss(info: { step: number; loss: number }): void;
  throughput(imagesPerSecond: number): void;
  /** `record` is false for an evaluation that only refreshes the pictures (after a restore). */
  evaluated(info: { step: number; accuracy: number; predictions: Int32Array; record: boolean }): void;
  error(err: Error): void;
}

/** A consistent copy of a run: where it stands and its tensors (`Model.saveState`). */
export interface RunSnapshot {
  /** The model generation it was taken from (a later reset or load makes it stale). */
  generation: number;
  step: number;
  epoch: number;
  images: number;
  /** Images of the current epoch already trained on, in its seeded order. */
  cursor: number;
  settings: Settings;
  tensors: Uint8Array;
}

/** Steps between loss reads. */
const READ_EVERY = 5;
/** The loop awaits an animation frame at least this often (ms), so charts repaint while training. */
const PAINT_EVERY_MS = 100;

/**
 * Owns the model and runs the loop.
 *
 * @example
 * const trainer = new Trainer(data, settings, { loss: ({ step, loss }) => chart.push(step, loss), ... });
 * trainer.start();  await trainer.pause();  await trainer.reset();
 */
export class Trainer {
  /** The model being trained; replaced by `reset` and `restore`. */
  model: Model;
  /** The page's state machine: `trainer.control.read(...)` for reads that overlap training. */
  readonly control: PageControl;
  /** Steps and epochs completed since the last reset. */
  step = 0;
  epoch = 0;
  /** Images trained on since the last reset. */
  images = 0;
  /** Training images in use, fixed between resets. */
  trainCount = 0;
  /** Test images evaluated, fixed between resets. */
  testCount = 0;
  private cursor = 0;
  private order: Uint32Array;
  private settings: Settings;
  private lastRead: { at: number; images: number } | null = null;
  /** Snapshots asked for while running: the loop takes them between two steps. */
  private snapshotsDue: ((s: RunSnapshot | null) => void)[] = [];

  constructor(
    private readonly data: MnistBytes,
    settings: Settings,
    private readonly on: TrainerEvents,
  ) {
    this.settings = { ...settings };
    this.model = new Model(settings);
    this.order = this.newOrder();
    this.control = new PageControl('loading', (s) => on.state(s));
  }

  get state(): TrainerState {
    return this.control.state;
  }

  /** The page is set up: from `loading` to `idle`. */
  ready(): void {
    this.control.to('idle');
  }

  /** Compiled steps (the default) or eager ones, from the next step on (the "Compiled steps" checkbox). */
  private compiled = true;

  /**
   * Switches between compiled and eager steps; takes effect at the next step, between two
   * steps, where the old compiled step is freed.
   *
   * @example
   * trainer.setCompiled(false);
   */
  setCompiled(on: boolean): void {
    this.compiled = on;
  }

  /** Settings in force (the optimizer switches at the next step; sizes at the next reset). */
  configure(s: Partial<Settings>): void {
    this.settings = { ...this.settings, ...s };
    // Before the first step the sizes can change at once: nothing has been trained on yet.
    if (this.state === 'idle' && this.step === 0) this.order = this.newOrder();
  }

  private newOrder(): Uint32Array {
    this.trainCount = Math.min(this.settings.trainSize, this.data.train.count);
    this.testCount = Math.min(this.settings.testSize, this.data.test.count);
    return epochOrder(this.trainCount, this.settings.seed, this.epoch);
  }

  /** Steps per epoch at the current batch size. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.trainCount / this.settings.batchSize);
  }

  /** Evaluate after this many steps: once per epoch, but at least every 200 steps. */
  get evalEvery(): number {
    return Math.min(this.stepsPerEpoch, 200);
  }

  /**
   * Starts or resumes training; refused (false) unless idle or paused. A resume right after a
   * pause waits for the paused loop's last step (they share the control's queue).
   */
  start(): boolean {
    return this.control.run(
      (ticket) => this.loop(ticket),
      (err) => this.on.error(err),
    );
  }

  /** Stops after the step in flight; resolves once the loop has exited. */
  pause(): Promise<void> {
    return this.control.pause();
  }

  /**
   * Starts over with new weights (and the current sizes): the new model is built first, the old
   * one freed after. Refused (false) while loading or resetting already.
   */
  reset(): Promise<boolean> {
    return this.control.exclusive('resetting', async () => {
      this.replaceModel(new Model(this.settings));
      this.step = this.epoch = this.images = this.cursor = 0;
      this.lastRead = null;
      this.order = this.newOrder();
      this.on.restarted();
      return 'idle';
    });
  }

  /**
   * Loads uploaded weights (safetensors bytes) into the model and evaluates it; the optimizer
   * starts afresh. Training, if it ran, stays paused. A refused file throws and leaves the
   * model as it was. False if refused because a reset or load is under way.
   */
  loadWeights(bytes: Uint8Array, source: string): Promise<boolean> {
    return this.control.exclusive('loading', async (resting) => {
      await this.model.load(bytes, source);
      // Steps queued for the old weights must not run: a new generation retires their loop.
      this.control.newGeneration();
      await this.evaluate();
      return resting;
    });
  }

  /**
   * Puts a saved run in place: a model built with its settings, its tensors, its position in
   * the data. Throws (keeping the current model) if its weights do not fit or are not finite.
   * Resolves whether the optimizer state came back (else it starts afresh, and why), or null if
   * refused because a reset or load is under way.
   */
  async restore(run: RunSnapshot | Omit<RunSnapshot, 'generation'>): Promise<{ optimizer: true } | { optimizer: false; why: string } | null> {
    let result: { optimizer: true } | { optimizer: false; why: string } | null = null;
    const done = await this.control.exclusive('loading', async () => {
      const fresh = new Model(run.settings);
      try {
        result = await fresh.loadState(run.tensors);
      } catch (err) {
        fresh.dispose();
        throw err;
      }
      this.settings = { ...run.settings };
      this.replaceModel(fresh);
      this.trainCount = Math.min(run.settings.trainSize, this.data.train.count);
      this.testCount = Math.min(run.settings.testSize, this.data.test.count);
      ({ step: this.step, epoch: this.epoch, images: this.images, cursor: this.cursor } = run);
      this.order = epochOrder(this.trainCount, this.settings.seed, this.epoch);
      this.lastRead = null;
      this.on.restarted();
      await this.evaluate(false);
      return 'paused';
    });
    return done ? result : null;
  }

  /**
   * A consistent copy of the run, or null when there is nothing to save (no step yet) or a
   * reset or load is under way. While running it is taken between two steps of the loop.
   */
  snapshot(): Promise<RunSnapshot | null> {
    if (this.step === 0 || this.control.busy) return Promise.resolve(null);
    if (this.state === 'running') return new Promise((resolve) => this.snapshotsDue.push(resolve));
    return this.control.between(() => this.takeSnapshot());
  }

  private async takeSnapshot(): Promise<RunSnapshot | null> {
    if (this.step === 0 || this.control.busy) return null;
    const { step, epoch, images, cursor } = this;
    const generation = this.control.generation;
    const tensors = await this.model.saveState();
    return { generation, step, epoch, images, cursor, settings: { ...this.settings }, tensors };
  }

  private async serveSnapshots(): Promise<void> {
    const due = this.snapshotsDue.splice(0);
    if (!due.length) return;
    const snap = await this.takeSnapshot().catch((err: unknown) => {
      this.on.error(err instanceof Error ? err : new Error(String(err)));
      return null;
    });
    for (const resolve of due) resolve(snap);
  }

  /** Puts `fresh` in place of the model; the old one is freed once no read uses it. */
  private replaceModel(fresh: Model): void {
    const old = this.model;
    this.model = fresh;
    this.control.newGeneration();
    void this.control.retire(() => old.dispose());
  }

  /**
   * Runs an evaluation now (after loading weights, say) and reports it; `record` false only
   * refreshes the pictures, adding no point to the curve.
   */
  async evaluate(record = true): Promise<number> {
    const predictions = await this.model.predictClasses(this.data.test, this.testCount);
    let right = 0;
    for (let i = 0; i < predictions.length; i++) if (predictions[i] === this.data.test.labels[i]) right++;
    const accuracy = predictions.length ? right / predictions.length : 0;
    this.on.evaluated({ step: this.step, accuracy, predictions, record });
    return accuracy;
  }

  private async loop(ticket: Ticket): Promise<void> {
    let pending: Promise<void> | null = null;
    let lastPaint = performance.now();
    this.lastRead = null; // the first read after a pause starts a new throughput window
    try {
      // The ticket is checked before every step: a pause, reset or load ends this loop for good.
      while (this.control.mayStep(ticket)) {
        const { optimizer, learningRate } = this.settings;
        const o = this.model.optimizer;
        if (o.name !== optimizer || o.learningRate !== learningRate) this.model.setOptimizer(optimizer, learningRate);
        this.model.setCompiled(this.compiled);

        const size = Math.min(this.settings.batchSize, this.trainCount - this.cursor);
        const { x, y } = gather(this.data.train, this.order, this.cursor, size);
        const loss = await this.model.trainStep(x, y);
        this.step++;
        this.images += size;
        this.cursor += size;
        const epochDone = this.cursor >= this.trainCount;
        // The epoch count is of epochs completed, so it moves on before the step is reported: a
        // save taken at this step (which holds the incremented count) and the page agree.
        if (epochDone) {
          this.epoch++;
          this.cursor = 0;
          this.order = epochOrder(this.trainCount, this.settings.seed, this.epoch);
        }
        this.on.step({ step: this.step, epoch: this.epoch, images: this.images, compiled: this.model.compiled });

        const evalDue = this.step % this.evalEvery === 0 || epochDone;
        if (this.step === 1 || this.step % READ_EVERY === 0 || evalDue) {
          // Wait for the previous read (usually long done) before queuing the next one.
          await pending;
          pending = this.readLoss(loss, this.step, this.images);
        } else {
          loss.dispose();
        }
        if (evalDue) {
          await pending;
          pending = null;
          await this.evaluate();
          this.lastRead = null; // evaluation time is not training throughput
        }
        if (this.snapshotsDue.length) {
          await this.serveSnapshots();
          this.lastRead = null; // nor is the time the snapshot took
        }
        if (performance.now() - lastPaint > PAINT_EVERY_MS) {
          await nextFrame();
          lastPaint = performance.now();
        } else {
          await yieldToBrowser();
        }
      }
      await pending;
    } finally {
      // Snapshots asked for just as the loop stopped: still the model of this run, intact until
      // the queue moves on (a reset or load waits for this loop), unless one is under way.
      await this.serveSnapshots();
    }
  }

  private async readLoss(loss: ts.Tensor, step: number, images: number): Promise<void> {
    try {
      const value = await loss.item();
      const now = performance.now();
      if (this.lastRead && now > this.lastRead.at) {
        this.on.throughput(((images - this.lastRead.images) * 1000) / (now - this.lastRead.at));
      }
      this.lastRead = { at: now, images };
      this.on.loss({ step, loss: value });
    } finally {
      loss.dispose();
    }
  }
}
