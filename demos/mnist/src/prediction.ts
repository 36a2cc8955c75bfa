/**
 * Class probabilities for the drawing, updated while the user draws.
 *
 * Strokes arrive far faster than the GPU answers (and, during training, the forward pass waits
 * behind the queued training steps), so requests are coalesced: at most one prediction is in
 * flight, and when it returns only the latest drawing is predicted next. The bars therefore
 * lag by one forward pass at most and never queue up work.
 */

/** Ten horizontal bars, one per digit, with the most likely one highlighted. */
export class ProbabilityBars {
  private readonly rows: { bar: HTMLDivElement; value: HTMLSpanElement; row: HTMLDivElement }[] = [];

  /**
   * Builds the bars inside `mount`.
   *
   * @example
   * const bars = new ProbabilityBars(el); bars.show(probs);
   */
  constructor(private readonly mount: HTMLElement) {
    mount.classList.add('probs');
    for (let d = 0; d < 10; d++) {
      const row = document.createElement('div');
      row.className = 'prob-row';
      row.dataset['digit'] = String(d);
      const label = document.createElement('span');
      label.className = 'prob-digit';
      label.textContent = String(d);
      const track = document.createElement('div');
      track.className = 'prob-track';
      const bar = document.createElement('div');
      bar.className = 'prob-bar';
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'prob-value';
      row.append(label, track, value);
      mount.append(row);
      this.rows.push({ bar, value, row });
    }
    this.show(null);
  }

  /** Shows probabilities (10 values summing to 1), or empty bars for null. */
  show(probs: ArrayLike<number> | null): void {
    let best = -1;
    if (probs) for (let d = 0; d < 10; d++) if (best < 0 || probs[d]! > probs[best]!) best = d;
    this.rows.forEach(({ bar, value, row }, d) => {
      const p = probs ? probs[d]! : 0;
      bar.style.width = `${(p * 100).toFixed(1)}%`;
      value.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
      row.classList.toggle('best', d === best);
    });
    this.mount.dataset['predicted'] = best >= 0 ? String(best) : '';
  }
}

/**
 * Runs `predict` on the latest input, one call at a time, and hands results to `show`.
 *
 * @example
 * const live = new LivePredictor((x) => model.probabilities(x), (p) => bars.show(p));
 * pad.onChange = () => live.request(pad.toInput());
 */
export class LivePredictor<I> {
  private latest: I | null = null;
  private busy = false;
  private version = 0;

  constructor(
    private readonly predict: (input: I) => Promise<ArrayLike<number>>,
    private readonly show: (probs: ArrayLike<number> | null) => void,
    private readonly onError: (err: Error) => void = (err) => console.warn(err),
  ) {}

  /** True while a prediction is in flight or waiting: the bars may not show the latest input yet. */
  get pending(): boolean {
    return this.busy || this.latest !== null;
  }

  /** Asks for a prediction of `input` (null clears the bars). */
  request(input: I | null): void {
    this.version++;
    if (input === null) {
      this.latest = null;
      this.show(null);
      return;
    }
    this.latest = input;
    if (!this.busy) void this.run();
  }

  private async run(): Promise<void> {
    this.busy = true;
    try {
      while (this.latest !== null) {
        const input = this.latest;
        const version = this.version;
        this.latest = null;
        const probs = await this.predict(input);
        // A clear() that happened meanwhile wins over the stale result.
        if (this.version === version || this.latest !== null) this.show(probs);
      }
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.busy = false;
    }
  }
}
