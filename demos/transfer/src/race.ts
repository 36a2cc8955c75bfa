/**
 * The side-by-side run: one training loop steps both contenders on the same batch, so at any
 * step both have seen exactly the same images, and evaluates both on the same test images
 * every few steps. That is what makes the two curves comparable: same data, same order, same
 * number of steps, same optimizer; only the starting weights differ.
 *
 * Like the MNIST demo's trainer, it yields to the browser after every step and reads losses
 * back only every few steps, asynchronously, so the page stays responsive and the GPU busy.
 */
import type * as ts from '@tessera/core';
import { shuffledIndices } from '@tessera/data';
import { nextFrame, yieldToBrowser } from '../../shared/yield.js';
import { gather, type Assets } from './data.js';
import { Contender, type HeadLayer, type Kind } from './model.js';

/** What the controls set; all apply from the next reset. @example { steps: 40, batchSize: 32, learningRate: 1e-3, evalEvery: 10, testSize: 500, freeze: false, headOn: 'fc1', seed: 1 } */
export interface RaceSettings {
  /** The budget: training steps for each network. */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Evaluate both networks every this many steps. */
  evalEvery: number;
  /** Test images evaluated (the first N of the served 1,000). */
  testSize: number;
  /** Freeze conv1 and conv2 of the fine-tuned network. */
  freeze: boolean;
  /** The layer both networks' heads are built on. */
  headOn: HeadLayer;
  seed: number;
}

/** `done` once the budget is spent. @example if (race.state === 'done') showTable(); */
export type RaceState = 'idle' | 'running' | 'paused' | 'done';

/** What the race reports; the page turns these into charts and numbers. @example { evaluated: ({ step, finetuned, scratch }) => chart.push('finetuned', step, finetuned), ... } */
export interface RaceEvents {
  state(state: RaceState): void;
  step(step: number): void;
  loss(info: { kind: Kind; step: number; loss: number }): void;
  evaluated(info: { step: number; finetuned: number; scratch: number }): void;
  error(err: Error): void;
}

/** Steps between loss reads. */
const READ_EVERY = 5;
/** The loop awaits an animation frame at least this often (ms), so charts repaint while training. */
const PAINT_EVERY_MS = 100;

/**
 * Owns both contenders and the loop.
 *
 * @example
 * const race = new Race(assets, settings, events);
 * await race.prepare();   // builds both networks and evaluates them at step 0
 * race.start();
 */
export class Race {
  state: RaceState = 'idle';
  step = 0;
  contenders: Record<Kind, Contender> | null = null;
  private epoch = 0;
  private cursor = 0;
  private order: Uint32Array;
  private running: Promise<void> | null = null;
  private token = 0;

  constructor(
    private readonly assets: Assets,
    public settings: RaceSettings,
    private readonly on: RaceEvents,
  ) {
    this.order = shuffledIndices(assets.train.count, settings.seed, 0);
  }

  /** Builds both networks with the current settings and evaluates them before any step. */
  async prepare(): Promise<void> {
    const s = this.settings;
    const common = { seed: s.seed, learningRate: s.learningRate, freeze: s.freeze, headOn: s.headOn, pretrained: this.assets.model };
    this.contenders = { finetuned: await Contender.create('finetuned', common), scratch: await Contender.create('scratch', common) };
    await this.evaluate();
  }

  /** Starts or resumes; a no-op while running or when done. */
  start(): void {
    if (this.state === 'running' || this.state === 'done' || !this.contenders) return;
    this.setState('running');
    const token = ++this.token;
    this.running = (this.running ?? Promise.resolve())
      .then(() => this.loop(token))
      .catch((err: unknown) => {
        this.setState('paused');
        this.on.error(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /** Stops after the step in flight. */
  async pause(): Promise<void> {
    if (this.state === 'running') this.setState('paused');
    await this.running;
  }

  /** Stops, frees both networks and builds new ones with `settings`. */
  async reset(settings: RaceSettings): Promise<void> {
    await this.pause();
    this.token++;
    this.free();
    this.settings = settings;
    this.step = this.epoch = this.cursor = 0;
    this.order = shuffledIndices(this.assets.train.count, settings.seed, 0);
    this.setState('idle');
    await this.prepare();
  }

  /** Frees both networks (the page is closing, or a reset). */
  free(): void {
    if (!this.contenders) return;
    this.contenders.finetuned.dispose();
    this.contenders.scratch.dispose();
    this.contenders = null;
  }

  private setState(s: RaceState): void {
    this.state = s;
    this.on.state(s);
  }

  private async evaluate(): Promise<void> {
    const { finetuned, scratch } = this.contenders!;
    const n = Math.min(this.settings.testSize, this.assets.test.count);
    const [a, b] = [await finetuned.accuracy(this.assets.test, n), await scratch.accuracy(this.assets.test, n)];
    this.on.evaluated({ step: this.step, finetuned: a, scratch: b });
  }

  private async loop(token: number): Promise<void> {
    const s = this.settings;
    const train = this.assets.train;
    let pending: Promise<void> | null = null;
    let lastPaint = performance.now();
    while (this.state === 'running' && token === this.token && this.step < s.steps) {
      const size = Math.min(s.batchSize, train.count - this.cursor);
      const { x, y } = gather(train, this.order, this.cursor, size);
      const losses = { finetuned: await this.contenders!.finetuned.trainStep(x, y), scratch: await this.contenders!.scratch.trainStep(x, y) };
      this.step++;
      this.cursor += size;
      if (this.cursor >= train.count) {
        this.epoch++;
        this.cursor = 0;
        this.order = shuffledIndices(train.count, s.seed, this.epoch);
      }
      this.on.step(this.step);
      const last = this.step === s.steps;
      const evalDue = this.step % s.evalEvery === 0 || last;
      if (this.step === 1 || this.step % READ_EVERY === 0 || evalDue) {
        await pending; // the previous read first: bounds how far the CPU runs ahead of the GPU
        pending = this.readLosses(losses, this.step);
      } else disposeLosses(losses);
      if (evalDue) {
        await pending;
        pending = null;
        await this.evaluate();
      }
      if (performance.now() - lastPaint > PAINT_EVERY_MS) {
        await nextFrame();
        lastPaint = performance.now();
      } else await yieldToBrowser();
    }
    await pending;
    if (this.step >= s.steps && token === this.token) this.setState('done');
  }

  private async readLosses(losses: Record<Kind, ts.Tensor>, step: number): Promise<void> {
    try {
      for (const kind of ['finetuned', 'scratch'] as const) this.on.loss({ kind, step, loss: await losses[kind].item() });
    } finally {
      disposeLosses(losses);
    }
  }
}

/** Frees both loss scalars of a step. */
function disposeLosses(losses: Record<Kind, ts.Tensor>): void {
  losses.finetuned.dispose();
  losses.scratch.dispose();
}
