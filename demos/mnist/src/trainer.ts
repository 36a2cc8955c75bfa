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
 */
import type * as ts from '@tessera/core';
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

/** `idle` before the first step and after a reset; `paused` after Pause (or an error). */
export type TrainerState = 'idle' | 'running' | 'paused';

/** What the trainer reports; the page turns these into charts and numbers. */
export interface TrainerEvents {
  state(state: TrainerState): void;
  step(info: { step: number; epoch: number; images: number }): void;
  loss(info: { step: number; loss: number }): void;
  throughput(imagesPerSecond: number): void;
  evaluated(info: { step: number; accuracy: number; predictions: Int32Array }): void;
  error(err: Error): void;
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
  /** The model being trained; replaced by `reset`. */
  model: Model;
  state: TrainerState = 'idle';
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
  private running: Promise<void> | null = null;
  private runToken = 0;
  private settings: Settings;
  private lastRead: { at: number; images: number } | null = null;

  constructor(
    private readonly data: MnistBytes,
    settings: Settings,
    private readonly on: TrainerEvents,
  ) {
    this.settings = { ...settings };
    this.model = new Model(settings);
    this.order = this.newOrder();
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
   * Starts or resumes training; a no-op while running. A resume right after a pause waits for
   * the paused loop to finish its last step, and the run token retires that loop, so two loops
   * never step the same model.
   */
  start(): void {
    if (this.state === 'running') return;
    this.setState('running');
    const token = ++this.runToken;
    const previous = this.running ?? Promise.resolve();
    this.running = previous
      .then(() => this.loop(token))
      .catch((err: unknown) => {
        this.setState('paused');
        this.on.error(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /** Stops after the step in flight; resolves once the loop has exited. */
  async pause(): Promise<void> {
    if (this.state === 'running') this.setState('paused');
    await this.running;
  }

  /** Stops, frees the model and starts over with new weights (and the current sizes). */
  async reset(): Promise<void> {
    await this.pause();
    this.runToken++;
    this.model.dispose();
    this.model = new Model(this.settings);
    this.step = this.epoch = this.images = this.cursor = 0;
    this.lastRead = null;
    this.order = this.newOrder();
    this.setState('idle');
  }

  /** Runs an evaluation now (after loading weights, say) and reports it. */
  async evaluate(): Promise<number> {
    const predictions = await this.model.predictClasses(this.data.test, this.testCount);
    let right = 0;
    for (let i = 0; i < predictions.length; i++) if (predictions[i] === this.data.test.labels[i]) right++;
    const accuracy = predictions.length ? right / predictions.length : 0;
    this.on.evaluated({ step: this.step, accuracy, predictions });
    return accuracy;
  }

  private setState(s: TrainerState): void {
    this.state = s;
    this.on.state(s);
  }

  private async loop(token: number): Promise<void> {
    let pending: Promise<void> | null = null;
    let lastPaint = performance.now();
    this.lastRead = null; // the first read after a pause starts a new throughput window
    while (this.state === 'running' && token === this.runToken) {
      const { optimizer, learningRate } = this.settings;
      const o = this.model.optimizer;
      if (o.name !== optimizer || o.learningRate !== learningRate) this.model.setOptimizer(optimizer, learningRate);

      const size = Math.min(this.settings.batchSize, this.trainCount - this.cursor);
      const { x, y } = gather(this.data.train, this.order, this.cursor, size);
      const loss = await this.model.trainStep(x, y);
      this.step++;
      this.images += size;
      this.cursor += size;
      const epochDone = this.cursor >= this.trainCount;
      this.on.step({ step: this.step, epoch: this.epoch, images: this.images });

      const evalDue = this.step % this.evalEvery === 0 || epochDone;
      if (this.step === 1 || this.step % READ_EVERY === 0 || evalDue) {
        // Wait for the previous read (usually long done) before queuing the next one.
        await pending;
        pending = this.readLoss(loss, this.step, this.images);
      } else {
        loss.dispose();
      }
      if (epochDone) {
        this.epoch++;
        this.cursor = 0;
        this.order = epochOrder(this.trainCount, this.settings.seed, this.epoch);
      }
      if (evalDue) {
        await pending;
        pending = null;
        await this.evaluate();
        this.lastRead = null; // evaluation time is not training throughput
      }
      if (performance.now() - lastPaint > PAINT_EVERY_MS) {
        await nextFrame();
        lastPaint = performance.now();
      } else {
        await yieldToBrowser();
      }
    }
    await pending;
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
