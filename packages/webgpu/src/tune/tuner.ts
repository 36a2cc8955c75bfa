/**
 * Autotune: which variant of an op (tune/sites.ts) runs fastest on this adapter, per shape
 * bucket, found by timing them all and remembered (tune/store.ts).
 *
 * At the first use of a (site, bucket) the builder's own pick runs, and a job is queued: once
 * the backend has waited on a read (so a first step's pipeline creation is never held up), the
 * jobs run one by one in the background on buffers of their own, filled with noise, never the
 * caller's tensors. Each legal variant's pipelines are created asynchronously, then the variant
 * is timed with timestamp queries where the device has them (wall time around a submit
 * otherwise; one run only for a variant over twice as slow as the best so far). The fastest
 * becomes the bucket's winner, unless the pick is within 3% of it (near ties keep the
 * heuristic's choice, so results do not flap between runs). Later builds of that bucket get
 * the winner, and compiled steps rebuild their dispatches of it at their next replay.
 */
import type { KernelArgs, KernelTensor, OpName, TuneRow } from '@tessera/core';
import { BufferUsage } from '../flags.js';
import type { PipelineCache } from '../pipelines.js';
import { KERNELS, type AnyKernelCall } from '../spec.js';
import { packUniforms, uniformLayout } from '../uniforms.js';
import type { StoredTuning, TunedEntry, TuneStore } from './store.js';

/**
 * 'background' (the default) tunes new buckets in the background; 'cached' uses stored winners
 * but measures nothing (a run whose timings must not be disturbed); 'off' ignores the store
 * too, so every op runs its heuristic pick (reproducible kernel choices).
 */
export type AutotuneMode = 'off' | 'cached' | 'background';

/** What the tuner needs from the backend. */
export interface TuneHost {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  /** `op`'s dispatches for `args` with `variant` forced for its site, scratch from `scratch`. */
  build(op: OpName, args: KernelArgs<unknown>, variant: string, scratch: (bytes: number) => GPUBuffer): readonly AnyKernelCall[];
  /** Called when a bucket gets a winner other than what it ran before. */
  changed(): void;
}

/** A (site, bucket) waiting to be timed, with the shapes of the call that met it first. */
interface Job {
  readonly key: string;
  readonly site: string;
  readonly bucket: string;
  readonly legal: readonly string[];
  readonly pick: string;
  readonly op: OpName;
  readonly args: KernelArgs<unknown>;
}

const UNIFORM_SLOT = 256;
/** GPU time one timed submit aims at: long enough to dwarf the submit's own cost. */
const TARGET_MS = 4;
const MAX_REPS = 64;
const SAMPLES = 3;
/** A pick within this factor of the fastest stays the winner. */
const TIE = 1.03;

/**
 * The autotuner of one backend.
 *
 * @example
 * // Made by the backend; read its table through ts.tune, or look at it directly:
 * import { createBackend, type WebGPUBackend } from '@tessera/webgpu';
 * const b = (await createBackend({ autotune: 'background' })) as WebGPUBackend;
 * b.tuner?.pending; // jobs still to run
 */
export class Tuner {
  private readonly winners = new Map<string, TunedEntry & { from: 'tuned' | 'cache' }>();
  private readonly queue: Job[] = [];
  private readonly queued = new Set<string>();
  private running: Promise<void> | null = null;
  /** Rows met while `ts.tune` runs its function, keyed like `winners`. */
  private collecting: Map<string, Omit<TuneRow, 'winner' | 'ms' | 'from'>> | null = null;
  /** Set when a job failed: the message, for `endTuning`'s error. */
  private failure: string | null = null;
  private readonly timestamps: boolean;
  /** Jobs run so far. */
  private finished = 0;
  /** Reports a finished job to `end`'s caller. */
  private progress: (() => void) | null = null;

  constructor(
    private readonly host: TuneHost,
    readonly mode: AutotuneMode,
    readonly store: TuneStore,
    private readonly adapter: string,
    private readonly kernels: string,
  ) {
    this.timestamps = host.device.features.has('timestamp-query');
  }

  /** Reads the stored winners of this adapter, unless they were measured with other kernels. */
  async load(): Promise<void> {
    if (this.mode === 'off') return;
    const stored = await this.store.load(this.adapter).catch(() => null);
    if (!stored || stored.kernels !== this.kernels) return;
    for (const [k, e] of Object.entries(stored.winners) as [string, TunedEntry][]) this.winners.set(k, { winner: e.winner, ms: e.ms, from: 'cache' });
  }

  /** The variant to build (see `KernelContext.variant`); queues a job for a bucket not yet tuned. */
  choose(site: string, bucket: string, legal: readonly string[], pick: string, call: { op: OpName; args: KernelArgs<unknown> } | null): string {
    const key = `${site}|${bucket}`;
    this.collecting?.set(key, { site, bucket, pick });
    const w = this.mode === 'off' && !this.collecting ? undefined : this.winners.get(key);
    if (w) return legal.includes(w.winner) ? w.winner : pick;
    const tuning = this.mode === 'background' || this.collecting;
    if (tuning && call && legal.length > 1 && !this.queued.has(key)) {
      this.queued.add(key);
      this.queue.push({ key, site, bucket, legal: [...legal], pick, op: call.op, args: shapesOf(call.args) });
    }
    return pick;
  }

  /** Starts running queued jobs, if any and none is running. */
  kick(): void {
    if (this.running || !this.queue.length) return;
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no job is queued or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Jobs still to run. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** `ts.tune`: from now on every (site, bucket) met is reported, and tuned whatever the mode. */
  begin(): void {
    this.collecting = new Map();
    this.failure = null;
  }

  /** Runs every job queued, then the table of the sites and buckets met since `begin`. */
  async end(onProgress?: (done: number, total: number) => void): Promise<TuneRow[]> {
    const met = this.collecting ?? new Map();
    const total = this.pending;
    const start = this.finished;
    this.progress = onProgress ? () => onProgress(Math.min(total, this.finished - start), total) : null;
    this.progress?.();
    this.kick();
    while (this.running) await this.running;
    this.progress = null;
    this.collecting = null;
    if (this.failure) throw new Error(`tune: ${this.failure}`);
    return [...met.entries()].map(([key, row]) => {
      const w = this.winners.get(key);
      return { ...row, winner: w?.winner ?? row.pick, ms: w?.ms ?? {}, from: w?.from ?? 'tuned' };
    });
  }

  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      try {
        const ms = await this.measure(job);
        let winner = job.pick;
        for (const v of job.legal) if (ms[v]! < ms[winner]! / TIE) winner = v;
        if (ms[winner]! > ms[job.pick]! / TIE) winner = job.pick;
        this.winners.set(job.key, { winner, ms, from: 'tuned' });
        if (winner !== job.pick) this.host.changed();
        await this.persist();
      } catch (e) {
        // A variant that fails to build or run is a kernel bug, not the user's: keep the pick.
        this.failure ??= `timing ${job.site} (${job.bucket}) failed: ${(e as Error).message}`;
      }
      this.finished++;
      this.progress?.();
    }
  }

  private async persist(): Promise<void> {
    if (this.mode === 'off') return;
    const winners: Record<string, TunedEntry> = {};
    for (const [k, { winner, ms }] of this.winners) winners[k] = { winner, ms };
    const value: StoredTuning = { kernels: this.kernels, winners };
    await this.store.save(this.adapter, value).catch(() => undefined);
  }

  /** Each legal variant's milliseconds per call, on buffers of the job's own. */
  private async measure(job: Job): Promise<Record<string, number>> {
    const { device } = this.host;
    const owned: GPUBuffer[] = [];
    const make = (bytes: number): GPUBuffer => {
      const b = device.createBuffer({ label: 'autotune', size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
      owned.push(b);
      return b;
    };
    const fill = (t: KernelTensor): KernelTensor => {
      const buf = make(t.size * 4);
      // Noise in [-1, 1) for floats; 0 for int32 (labels, argmax indices: always in range).
      const data = t.dtype === 'int32' ? new Int32Array(t.size) : Float32Array.from({ length: t.size }, (_, i) => ((i * 2654435761) % 2000) / 1000 - 1);
      if (t.size) device.queue.writeBuffer(buf, 0, data);
      return { ...t, buf };
    };
    try {
      const args: KernelArgs<unknown> = { inputs: job.args.inputs.map(fill), out: fill(job.args.out), aux: job.args.aux.map(fill), params: job.args.params };
      const ms: Record<string, number> = {};
      // The pick first: a variant far slower than the best so far is not sampled further.
      let best = Number.POSITIVE_INFINITY;
      for (const v of [job.pick, ...job.legal.filter((l) => l !== job.pick)]) {
        ms[v] = await this.time(this.host.build(job.op, args, v, make), owned, best);
        best = Math.min(best, ms[v]!);
      }
      return ms;
    } finally {
      await device.queue.onSubmittedWorkDone();
      for (const b of owned) b.destroy();
    }
  }

  /**
   * Milliseconds per run of `calls`: the best of a few samples, or a single run's time when
   * that is over twice `bound` (the best variant so far), which it cannot win.
   */
  private async time(calls: readonly AnyKernelCall[], owned: GPUBuffer[], bound: number): Promise<number> {
    const { device, pipelines } = this.host;
    const pipes = await Promise.all(calls.map((c) => pipelines.made(c.kernel, c.constants as Record<string, number> | undefined)));
    const uniforms = device.createBuffer({ label: 'autotune uniforms', size: calls.length * UNIFORM_SLOT, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    owned.push(uniforms);
    const bytes = new ArrayBuffer(calls.length * UNIFORM_SLOT);
    const groups = calls.map((c, i) => {
      const layout = uniformLayout(c.kernel);
      packUniforms(layout, c.uniforms as Record<string, number | readonly number[]>, new DataView(bytes), i * UNIFORM_SLOT);
      const named = c.buffers as Record<string, GPUBuffer>;
      return device.createBindGroup({
        layout: pipelines.layout(c.kernel),
        entries: [
          { binding: 0, resource: { buffer: uniforms, size: layout.size } },
          ...KERNELS[c.kernel].buffers.map((name, j) => ({ binding: j + 1, resource: { buffer: named[name]! } })),
        ],
      });
    });
    device.queue.writeBuffer(uniforms, 0, bytes);
    const query = this.timestamps ? this.queries(owned) : null;
    const run = async (reps: number): Promise<number> => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass(query ? { timestampWrites: { querySet: query.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
      for (let r = 0; r < reps; r++) {
        calls.forEach((c, i) => {
          pass.setPipeline(pipes[i]!);
          pass.setBindGroup(0, groups[i]!, [i * UNIFORM_SLOT]);
          pass.dispatchWorkgroups(...c.workgroups);
        });
      }
      pass.end();
      if (query) {
        encoder.resolveQuerySet(query.set, 0, 2, query.resolve, 0);
        encoder.copyBufferToBuffer(query.resolve, 0, query.read, 0, 16);
      }
      const t0 = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      const wall = performance.now() - t0;
      if (!query) return wall;
      await query.read.mapAsync(0x1);
      const [begin, end] = new BigUint64Array(query.read.getMappedRange().slice(0));
      query.read.unmap();
      // A device whose timestamps do not advance (or went backwards) is timed by the wall.
      const gpu = end! > begin! ? Number(end! - begin!) / 1e6 : 0;
      return gpu > 0 ? gpu : wall;
    };
    await run(1);
    const once = await run(1);
    if (once > 2 * bound) return once;
    const reps = Math.max(1, Math.min(MAX_REPS, Math.ceil(TARGET_MS / Math.max(once, 1e-3))));
    let best = Number.POSITIVE_INFINITY;
    for (let s = 0; s < SAMPLES; s++) best = Math.min(best, (await run(reps)) / reps);
    return best;
  }

  private queries(owned: GPUBuffer[]): { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } {
    const { device } = this.host;
    const resolve = device.createBuffer({ size: 16, usage: 0x200 /* QUERY_RESOLVE */ | BufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    owned.push(resolve, read);
    return { set: device.createQuerySet({ type: 'timestamp', count: 2 }), resolve, read };
  }
}

/** A call's arguments without its buffers: the shapes, dtypes and params a job replays. */
function shapesOf(args: KernelArgs<unknown>): KernelArgs<unknown> {
  const strip = (t: KernelTensor): KernelTensor => ({ ...t, buf: null as unknown as KernelTensor['buf'] });
  return { inputs: args.inputs.map(strip), out: strip(args.out), aux: args.aux.map(strip), params: args.params };
}

/**
 * A short hash of every kernel source (FNV-1a, 64 bits as two 32-bit halves): stored with the
 * winners, so that results measured with other kernels are not used.
 *
 * @example
 * kernelHash({ a: 'fn main() {}' }); // '9f1c…'
 */
export function kernelHash(sources: Readonly<Record<string, string>>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (const name of Object.keys(sources).sort()) {
    const text = `${name}\n${sources[name]}\n`;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x01000193 + 2) >>> 0;
    }
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}
