import cliProgress from 'cli-progress';

/**
 * The training progress bar: loss, accuracy, images/s and ETA on stderr (stdout stays free for
 * `--json`). Without a terminal it prints a plain line every few seconds instead.
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar;
  private readonly t0 = performance.now();
  private loss = NaN;
  private acc = NaN;

  constructor(
    label: string,
    private readonly total: number,
    private readonly batchSize: number,
  ) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} {bar} {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {etaText}`,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        hideCursor: true,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, this.payload(0));
  }

  private payload(step: number) {
    const secs = (performance.now() - this.t0) / 1000;
    // Our own ETA from the mean step time: cli-progress's estimate follows only the last few
    // updates, which jump when a step waits for a loss readback.
    const eta = step > 0 ? Math.round((secs / step) * (this.total - step)) : NaN;
    return {
      etaText: Number.isNaN(eta) ? '-' : eta >= 60 ? `${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s` : `${eta}s`,
      loss: Number.isNaN(this.loss) ? '-' : this.loss.toFixed(4),
      acc: Number.isNaN(this.acc) ? '-' : `${(this.acc * 100).toFixed(1)}%`,
      ips: secs > 0 ? Math.round((step * this.batchSize) / secs) : 0,
    };
  }

  update(step: number, stats?: { loss: number; acc: number }): void {
    if (stats) ({ loss: this.loss, acc: this.acc } = stats);
    this.bar.update(step, this.payload(step));
  }

  stop(): void {
    this.bar.stop();
  }
}
