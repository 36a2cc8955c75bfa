/**
 * Two-series line charts (fine-tuned vs from scratch) drawn with uPlot, as in the MNIST demo:
 * redraws are coalesced to one per animation frame, and the charts follow their container's
 * width. Each series keeps its own x values merged onto one step axis (uPlot wants one x
 * array), with gaps (null) where a series has no point at a step.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The two series, in legend order, and their colours. @example SERIES[0].label   // 'fine-tuned (MNIST features)' */
export const SERIES = [
  { key: 'finetuned', label: 'fine-tuned (MNIST features)', color: '#1e9e5a' },
  { key: 'scratch', label: 'from scratch', color: '#d8363a' },
] as const;

/** A series key: 'finetuned' or 'scratch'. @example chart.push('scratch' satisfies SeriesKey, 10, 50) */
export type SeriesKey = (typeof SERIES)[number]['key'];

/**
 * A chart of both networks against the training step.
 *
 * @example
 * const acc = new CompareChart(el, { yRange: [0, 100], format: (v) => `${v.toFixed(0)}%`, points: true });
 * acc.push('finetuned', 10, 61.5);
 */
export class CompareChart {
  private readonly points: Record<SeriesKey, Map<number, number>> = { finetuned: new Map(), scratch: new Map() };
  private readonly plot: uPlot;
  private queued = false;

  constructor(
    private readonly mount: HTMLElement,
    opts: { yRange?: [number, number]; format?: (v: number) => string; points?: boolean },
  ) {
    const format = opts.format ?? ((v: number) => v.toFixed(3));
    this.plot = new uPlot(
      {
        width: Math.max(200, mount.clientWidth),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false }, y: opts.yRange ? { range: opts.yRange } : { auto: true } },
        axes: [
          { label: 'step', size: 36 },
          { size: 50, values: (_u, vals) => vals.map((v) => (v == null ? '' : format(v))) },
        ],
        series: [
          { label: 'step' },
          ...SERIES.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: true,
            points: { show: opts.points ?? false, size: 6 },
            value: (_u: uPlot, v: number | null) => (v == null ? '–' : format(v)),
          })),
        ],
      },
      [[], [], []],
      mount,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, this.mount.clientWidth), height: 220 })).observe(mount);
  }

  /** Adds a point of one series; the chart redraws at the next animation frame. */
  push(key: SeriesKey, x: number, y: number): void {
    this.points[key].set(x, y);
    this.schedule();
  }

  /** Points of one series. */
  count(key: SeriesKey): number {
    return this.points[key].size;
  }

  /** Removes every point. */
  clear(): void {
    for (const s of SERIES) this.points[s.key].clear();
    this.schedule();
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      const xs = [...new Set(SERIES.flatMap((s) => [...this.points[s.key].keys()]))].sort((a, b) => a - b);
      this.plot.setData([xs, ...SERIES.map((s) => xs.map((x) => this.points[s.key].get(x) ?? null))]);
    });
  }
}
