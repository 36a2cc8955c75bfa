/**
 * The control flow of a demo page as one explicit state machine, shared by the three pages.
 *
 * Each page trains models in a loop that awaits the GPU between steps, while the user clicks
 * Pause, Reset or uploads weights at any moment. The bugs found by hand all had one shape: a
 * click landed while another operation was half done (Resume during a Reset, a Reset that freed
 * the models before the new ones failed to build), and a step then ran on a discarded or freed
 * model. So:
 *
 * - the state says what is allowed. A loop starts only from idle or paused; a reset or a load
 *   only from a resting state, and one at a time (`resetting` / `loading` refuse the rest);
 * - work that changes a model (loops, resets, loads, consistent snapshots) runs in one queue,
 *   one piece at a time: a reset waits for the loop's last step before it touches anything;
 * - every loop holds a ticket (the model generation and its run number) and checks it before
 *   each step. Replacing the model bumps the generation and pausing ends the run, so a loop
 *   that wakes up late stops instead of stepping;
 * - reads that may overlap training (a download, the drawing pad's prediction) are tracked, and
 *   a replaced model is freed only once they are done (`retire`).
 */

/** Where a page is. `loading` covers start-up and loading weights or a saved run. */
export type PageState = 'loading' | 'idle' | 'running' | 'paused' | 'resetting' | 'done';

/** The states a page rests in (what a failed reset or load returns to). */
export type RestingState = 'idle' | 'paused' | 'done';

/** Allowed transitions. Anything else is a bug in the page, reported as such. */
const NEXT: Readonly<Record<PageState, readonly PageState[]>> = {
  loading: ['idle', 'paused', 'done'],
  idle: ['running', 'resetting', 'loading'],
  running: ['paused', 'done', 'resetting', 'loading'],
  paused: ['running', 'resetting', 'loading'],
  // paused / done too: a reset that fails keeps the old model where it was.
  resetting: ['idle', 'paused', 'done'],
  done: ['resetting', 'loading'],
};

/** What a loop holds: it may step while both numbers are current and the page is running. */
export interface Ticket {
  readonly generation: number;
  readonly run: number;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * One page's state machine and work queue.
 *
 * @example
 * const control = new PageControl('loading', (s) => (stateLabel.textContent = s));
 * control.to('idle');
 * control.run(async (ticket) => { while (control.mayStep(ticket)) await model.step(); }, showError);
 * await control.exclusive('resetting', async () => { swapModel(); control.newGeneration(); return 'idle'; });
 */
export class PageControl {
  private current: PageState;
  private gen = 0;
  private runs = 0;
  /** The tail of the work queue; never rejects. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readers = new Set<Promise<unknown>>();

  constructor(
    initial: PageState,
    private readonly onChange: (state: PageState) => void,
  ) {
    this.current = initial;
  }

  get state(): PageState {
    return this.current;
  }

  /** The model generation: bumped each time a page replaces or reloads its model. */
  get generation(): number {
    return this.gen;
  }

  /** True while starting up, resetting or loading: the model is not to be used or replaced. */
  get busy(): boolean {
    return this.current === 'loading' || this.current === 'resetting';
  }

  /** Moves to `next`; a transition the table does not allow throws (a bug, not a user error). */
  to(next: PageState): void {
    if (next === this.current) return;
    if (!NEXT[this.current].includes(next)) throw new Error(`page state: '${this.current}' cannot go to '${next}'`);
    this.current = next;
    this.onChange(next);
  }

  /** May the loop holding `ticket` take another step now? Checked before every step. */
  mayStep(ticket: Ticket): boolean {
    return this.current === 'running' && ticket.generation === this.gen && ticket.run === this.runs;
  }

  /**
   * Starts `loop` for the current model, after any work in the queue (a paused loop's last
   * step). Does nothing and returns false unless the page is idle or paused. An error in the
   * loop pauses the page and goes to `onError`.
   */
  run(loop: (ticket: Ticket) => Promise<void>, onError: (err: Error) => void): boolean {
    if (this.current !== 'idle' && this.current !== 'paused') return false;
    this.to('running');
    const ticket: Ticket = { generation: this.gen, run: ++this.runs };
    this.enqueue(() => loop(ticket)).catch((err: unknown) => {
      if (this.mayStep(ticket)) this.to('paused');
      onError(asError(err));
    });
    return true;
  }

  /** A loop that ran out of steps by itself: `done`, if it is still the current one. */
  finish(ticket: Ticket): void {
    if (this.mayStep(ticket)) this.to('done');
  }

  /** Pauses a running loop; resolves once the work in the queue (its last step) is done. */
  async pause(): Promise<void> {
    if (this.current === 'running') this.to('paused');
    await this.queue;
  }

  /**
   * Runs `work` alone, in state `busy`: refused (resolves false) while starting up, resetting or
   * loading. Otherwise the state changes at once (so Resume is refused from this moment), the
   * loop stops after its step in flight, and `work` runs when the queue is empty. `work`
   * returns the state to end in; when it replaces the model it calls `newGeneration()` and frees
   * the old one with `retire`. If it throws, the page goes back to where it rested (a running
   * page to paused) and the error is rethrown: the old model must still be intact then.
   */
  async exclusive(busy: 'resetting' | 'loading', work: (resting: RestingState) => Promise<RestingState>): Promise<boolean> {
    const now = this.current;
    if (now === 'loading' || now === 'resetting') return false;
    const resting: RestingState = now === 'running' ? 'paused' : now;
    this.to(busy);
    try {
      this.to(await this.enqueue(() => work(resting)));
      return true;
    } catch (err) {
      this.to(resting);
      throw asError(err);
    }
  }

  /** Marks a new model: loops started for the old one stop before their next step. */
  newGeneration(): number {
    return ++this.gen;
  }

  /**
   * Runs `task` in the queue: after the current loop has stopped and before any later loop,
   * reset or load (a snapshot of a paused model that Resume must not change halfway).
   */
  between<T>(task: () => Promise<T>): Promise<T> {
    return this.enqueue(task);
  }

  /**
   * Runs a read of the model that may overlap training (a download, a prediction, the filter
   * view). It runs at once; a model replaced meanwhile is freed only after it (`retire`).
   */
  read<T>(task: () => Promise<T>): Promise<T> {
    const p = task();
    this.readers.add(p);
    const forget = () => this.readers.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Frees a replaced model once every read that may still be using it has finished. */
  async retire(dispose: () => void): Promise<void> {
    await Promise.allSettled([...this.readers]);
    dispose();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => {});
    return result;
  }
}
