/**
 * When a readback should start polling, on CPU adapters in Node.
 *
 * Dawn in Node resolves `mapAsync` by polling the device from the JS thread (setImmediate, then
 * `ProcessEvents`) until the GPU is done. On SwiftShader, whose "GPU" is the same two or so CPU
 * cores, that polling slowed the work it waits for several-fold: 200 dependent 16-element adds
 * took 200-270 us per dispatch when mapped at once, and 26-34 us when the read first slept 5 ms
 * (no polling) and then mapped, in raw Dawn calls with no Tessera code, on a loaded 2-core
 * machine. With this pacing a LeNet-5 training step (batch 64, loss read every step) took
 * 16-33% less time and batch-1 inference 16-55% less, alternating runs in one process.
 *
 * So a read sleeps first, for about as long as the same work took before, then maps. The work is
 * told apart by a signature (dispatches and workgroups submitted since the last read): loops
 * (training steps, benchmarks, inference batches) repeat it. The first time a signature is seen
 * nothing changes (mapped at once); that time is the first sleep. While the map then completes
 * at once the sleep halves at each read (a benchmark that reads a few times must not keep paying an
 * old, long sleep); when it does not, the sleep becomes the sleep plus
 * the wait, an upper bound again. Too short a sleep costs a polled remainder, too long one the
 * excess, so it errs long; neither takes longer than polling from the start did.
 */
export class ReadWait {
  /** Per work signature: the sleep before mapping, and the time polling from the start took. */
  private readonly learnt = new Map<string, { sleep: number; cap: number }>();
  private dispatches = 0;
  private workgroups = 0;
  /**
   * Work shorter than this is mapped at once: a timer's granularity (1 ms and more on a loaded
   * machine) cost more than polling did (the chain of 200 adds: 43 against 26 us per op).
   */
  private static readonly MIN_SLEEP_MS = 10;
  /** A map that completes within this after the sleep means the work was already done. */
  private static readonly DONE_MS = 0.5;

  /** Notes a dispatch queued for the GPU. */
  queued(workgroups: number): void {
    this.dispatches++;
    this.workgroups += workgroups;
  }

  /** The signature of the work outstanding, and the sleep it has learnt (0: map at once). */
  begin(): { key: string; sleep: number } {
    const key = `${this.dispatches}/${this.workgroups}`;
    this.dispatches = 0;
    this.workgroups = 0;
    const sleep = this.learnt.get(key)?.sleep ?? 0;
    return { key, sleep: sleep >= ReadWait.MIN_SLEEP_MS ? sleep : 0 };
  }

  /** Learns from a read of `key` that slept `slept` ms and then waited `mapped` ms for its map. */
  end(key: string, slept: number, mapped: number): void {
    if (this.learnt.size > 256) this.learnt.clear();
    const known = this.learnt.get(key);
    if (!known || slept === 0) {
      // Polled throughout: an upper bound of the work's time, and where the sleep starts.
      this.learnt.set(key, { sleep: mapped, cap: Math.max(mapped, known?.cap ?? 0) });
      return;
    }
    // A map that completes within a tick or two (or a tenth of the sleep, on a loaded machine)
    // found the work done: try shorter. Otherwise the work needed the sleep and then some.
    const done = mapped <= Math.max(ReadWait.DONE_MS, slept / 10);
    known.sleep = done ? slept * 0.5 : Math.min(slept + mapped, known.cap);
  }
}

/**
 * Whether reads should be paced: Dawn in Node on a CPU adapter. Browsers poll in the GPU
 * process, and a real GPU is not slowed by a polling CPU core.
 */
export function pollingSlowsDevice(isCPU: boolean): boolean {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return isCPU && typeof process !== 'undefined' && !!process.versions?.node && !nav?.gpu;
}

/** Resolves after `ms` milliseconds, without polling anything meanwhile. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
