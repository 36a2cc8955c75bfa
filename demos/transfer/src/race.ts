/**
 * The side-by-side run: one training loop steps both contenders on the same batch, so at any
 * step both have seen exactly the same images, and evaluates both on the same test images
 * every few steps. That is what makes the two curves comparable: same data, same order, same
 * number of steps, same optimizer; only the starting weights differ.
 *
 * Like the MNIST demo's trainer, it yields to the browser after every step and reads losses
 * back only every few steps, asynchronously, so the page stays responsive and the GPU busy.
 *
 * Its control flow is `PageControl`'s state machine (shared/state.ts): `loading` until both
 * networks are built and evaluated, then idle / running / paused / done, and `resetting` while
 * new networks replace the old. A reset builds the new pair before freeing the old one, and the
 * loop checks its ticket before every step, so no step runs on a freed network.
 */
import type * as ts from '@tessera/core';
import { shuffledIndices } from '@tessera/data';
import { PageControl, type PageState, type Ticket } from '../../shared/state.js';
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

/** `done` once the budget is spent; `loading` before the first pair is ready. @example if (race.state === 'done') showTable(); */
export type RaceState = PageState;

/** What the race reports; the page turns these into charts and numbers. @example { evaluated: ({ step, finetuned, scratch }) => chart.push('finetuned', step, finetuned), ... } */
export interface RaceEvents {
  state(state: RaceState): void;
  /** New networks are in place (a reset succeeded): clear what the old ones drew. */
  restarted(): void;
  /** After every step; `compiled` says how it ran. */
  step(step: number, compiled: boolean): void;
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
  step = 0;
  contenders: Record<Kind, Contender> | null = null;
  readonly control: PageControl;
  private epoch = 0;
  private cursor = 0;
  private order: Uint32Array;

  constructor(
    private readonly assets: Assets,
    public settings: RaceSettings,
    private readonly on: RaceEvents,
  ) {
    this.order = shuffledIndices(assets.train.count, settings.seed, 0);
    this.control = new PageControl('loading', (s) => on.state(s));
  }

  get state(): RaceState {
    return this.control.state;
  }

  /** Builds the first pair and evaluates it at step 0; the race is `idle` (ready) after it. */
  async prepare(): Promise<void> {
    this.contenders = await this.build(this.settings);
    await this.evaluate();
    this.control.to('idle');
  }

  /** Starts or resumes; refused (false) unless idle or paused. */
  start(): boolean {
    return this.control.run(
      (ticket) => this.loop(ticket),
      (err) => this.on.error(err),
    );
  }

  /** Stops after the step in flight. */
  pause(): Promise<void> {
    return this.control.pause();
  }

  /**
   * Builds both networks with `settings`, then puts them in place of the old ones (freed after)
   * and evaluates them at step 0. Refused (false) while starting up or resetting already. If the
   * new networks cannot be built, the old ones stay, as they were, and the error is thrown.
   */
  reset(settings: RaceSettings): Promise<boolean> {
    return this.control.exclusive('resetting', async () => {
      const fresh = await this.build(settings);
      const old = this.contenders;
      this.contenders = fresh;
      this.control.newGeneration();
      if (old) await this.control.retire(() => Race.free(old));
      this.settings = settings;
      this.step = this.epoch = this.cursor = 0;
      this.order = shuffledIndices(this.assets.train.count, settings.seed, 0);
      this.on.restarted();
      await this.evaluate();
      return 'idle';
    });
  }

  /** Both networks, or neither: if the second fails to build, the first is freed again. */
  private async build(s: RaceSettings): Promise<Record<Kind, Contender>> {
    const common = { seed: s.seed, learningRate: s.learningRate, freeze: s.freeze, headOn: s.headOn, pretrained: this.assets.model };
    const finetuned = await Contender.create('finetuned', common);
    try {
      return { finetuned, scratch: await Contender.create('scratch', common) };
    } catch (err) {
      finetuned.dispose();
      throw err;
    }
  }

  private static free(pair: Record<Kind, Contender>): void {
    pair.finetuned.dispose();
    pair.scratch.dispose();
  }

  /** Compiled steps (the default) or eager ones, from the next step on. */
  private compiled = true;

  /**
   * Switches both networks between compiled and eager steps, at the next step.
   *
   * @example
   * race.setCompiled(false);
   */
  setCompiled(on: boolean): void {
    this.compiled = on;
  }

  private async evaluate(): Promise<void> {
    const { finetuned, scratch } = this.contenders!;
    const n = Math.min(this.settings.testSize, this.assets.test.count);
    const [a, b] = [await finetuned.accuracy(this.assets.test, n), await scratch.accuracy(this.assets.test, n)];
    this.on.evaluated({ step: this.step, finetuned: a, scratch: b });
  }

  private async loop(ticket: Ticket): Promise<void> {
    const s = this.settings;
    const train = this.assets.train;
    let pending: Promise<void> | null = null;
    let lastPaint = performance.now();
    // The ticket is checked before every step: a pause or a reset ends this loop for good.
    while (this.control.mayStep(ticket) && this.step < s.steps) {
      const size = Math.min(s.batchSize, train.count - this.cursor);
      const { x, y } = gather(train, this.order, this.cursor, size);
      // The "Compiled steps" checkbox applies here, between two steps.
      const compiled = this.compiled;
      this.contenders!.finetuned.trainer.setCompiled(compiled);
      this.contenders!.scratch.trainer.setCompiled(compiled);
      const losses = { finetuned: await this.contenders!.finetuned.trainStep(x, y), scratch: await this.contenders!.scratch.trainStep(x, y) };
      this.step++;
      this.cursor += size;
      if (this.cursor >= train.count) {
        this.epoch++;
        this.cursor = 0;
        this.order = shuffledIndices(train.count, s.seed, this.epoch);
      }
      this.on.step(this.step, compiled);
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
    if (this.step >= s.steps) this.control.finish(ticket);
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
