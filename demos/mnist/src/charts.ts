/**
 * Live line charts of training loss and test accuracy, drawn with uPlot.
 *
 * uPlot is small (about 50 kB) and draws thousands of points on a canvas in well under a
 * millisecond, so redrawing at every reported loss costs the training loop nothing. Redraws are
 * still coalesced to one per animation frame, and charts follow their container's width.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A chart of one series against the training step. */
export class StepChart {
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private readonly plot: uPlot;
  private queued = false;

  /**
   * Creates the chart inside `mount`.
   *
   * @example
   * const loss = new StepChart(el, { label: 'training loss', color: '#2f6fdf' });
   * loss.push(10, 2.1);
   */
  constructor(
    private readonly mount: HTMLElement,
    opts: { label: string; color: string; yRange?: [number, number]; format?: (v: number) => string; points?: boolean },
  ) {
    const format = opts.format ?? ((v: number) => v.toFixed(3));
    this.plot = new uPlot(
      {
        width: Math.max(200, mount.clientWidth),
        height: 180,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: false },
          y: opts.yRange ? { range: opts.yRange } : { auto: true },
        },
        axes: [
          { label: 'step', size: 36 },
          { size: 50, values: (_u, vals) => vals.map((v) => (v == null ? '' : format(v))) },
        ],
        series: [
          { label: 'step' },
          {
            label: opts.label,
            stroke: opts.color,
            width: 2,
            // Accuracy comes once per evaluation: dots make the first (single) point visible.
            points: { show: opts.points ?? false, size: 6 },
            value: (_u, v) => (v == null ? '–' : format(v)),
          },
        ],
      },
      [[], []],
      mount,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, this.mount.clientWidth), height: 180 })).observe(mount);
  }

  /** Adds a point; the chart redraws at the next animation frame. */
  push(x: number, y: number): void {
    this.xs.push(x);
    this.ys.push(y);
    this.schedule();
  }

  /** Removes every point. */
  clear(): void {
    this.xs.length = 0;
    this.ys.length = 0;
    this.schedule();
  }

  /** Number of points drawn. */
  get length(): number {
    return this.xs.length;
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.plot.setData([this.xs, this.ys]);
    });
  }
}

/**
 * The page's two charts: loss per read (every few steps) and test accuracy per evaluation.
 *
 * @example
 * const charts = new TrainingCharts(lossEl, accEl);
 * charts.loss(5, 1.93); charts.accuracy(16, 0.71);
 */
export class TrainingCharts {
  private readonly lossChart: StepChart;
  private readonly accChart: StepChart;

  constructor(lossMount: HTMLElement, accuracyMount: HTMLElement) {
    this.lossChart = new StepChart(lossMount, { label: 'training loss', color: '#2f6fdf', format: (v) => v.toFixed(2) });
    this.accChart = new StepChart(accuracyMount, {
      label: 'test accuracy',
      color: '#1e9e5a',
      yRange: [0, 100],
      points: true,
      format: (v) => `${v.toFixed(v >= 99.95 || v === Math.round(v) ? 0 : 1)}%`,
    });
  }

  /** Records the training loss at a step. */
  loss(step: number, value: number): void {
    this.lossChart.push(step, value);
  }

  /** Records test accuracy (0..1) at a step; shown in percent. */
  accuracy(step: number, value: number): void {
    this.accChart.push(step, value * 100);
  }

  /** Empties both charts (after a reset). */
  clear(): void {
    this.lossChart.clear();
    this.accChart.clear();
  }
}
