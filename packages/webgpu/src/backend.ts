import type {
  Backend,
  BackendInfo,
  BackendStats,
  DeviceBuffer,
  FusedHandle,
  FusedKernel,
  KernelArgs,
  OpName,
  OpParams,
  PreparedRun,
  TensorInfo,
  TuneRow,
  UpdateArgs,
} from '@tessera/core';
import { FusedKernels, sameSpecialisation, type FusedPipeline } from './fusion/kernels.js';
import { BufferUsage, MapMode } from './flags.js';
import { WEBGPU_KERNELS, type KernelContext } from './ops/index.js';
import { UPDATES_PER_MULTI, updateCall, updateManyCall, type UpdateBuffers } from './ops/optim.js';
import { elementwiseTakesHalf } from './ops/elementwise.js';
import { matmulTakesHalf } from './ops/matmul.js';
import { copyCall } from './ops/shape.js';
import { KERNELS, grid1d, kernelCall, type AnyKernelCall, type DeviceCaps } from './spec.js';
import { BufferPool, sizeClass } from './pool.js';
import { PipelineCache, WARM_SET, currentPipeline, type PipelineEntry } from './pipelines.js';
import { packUniforms, uniformLayout } from './uniforms.js';
import { ReadWait, pollingSlowsDevice, sleep } from './readwait.js';
import type { ForcedVariants, TuneSite, VariantOf } from './tune/sites.js';
import { Tuner, kernelHash, type AutotuneMode } from './tune/tuner.js';
import { defaultStore, type TuneStore } from './tune/store.js';
import { WGSL } from './kernels.generated.js';

/** Dispatches queued before an automatic submit; bounds latency and the uniform arena's size. */
const MAX_PENDING_DISPATCHES = 1024;
const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 on every device
const ARENA_BYTES = MAX_PENDING_DISPATCHES * UNIFORM_SLOT;

/** One dispatch of a prepared run (`prepare`): everything but the uniform arena offset resolved. */
interface PreparedDispatch {
  pipeline: PipelineEntry;
  bindGroup: GPUBindGroup;
  uniforms: Uint8Array;
  /** Arena bytes the dispatch takes (its uniforms rounded up to UNIFORM_SLOT). */
  slotBytes: number;
  workgroups: readonly [number, number, number];
}

/** A prepared run: its dispatches, rebuilt when autotune has changed a winner since (`generation`). */
interface Prepared {
  generation: number;
  list: PreparedDispatch[];
  readonly op: OpName;
  readonly args: KernelArgs<unknown>;
}

/** A dispatch queued behind a pipeline still being created (see `PipelineEntry`). */
interface DeferredDispatch {
  pipeline: PipelineEntry | GPUComputePipeline;
  bindGroup: GPUBindGroup;
  offset: number;
  workgroups: readonly [number, number, number];
}

/**
 * What `warmup` does with the warm set (`WARM_SET`): 'background' starts it and returns (init
 * stays fast; a first step that needs a variant still in flight queues its dispatches until the
 * read that waits anyway), 'await' waits for it, 'none' leaves every pipeline to first use.
 *
 * @example
 * import { createBackend } from '@tessera/webgpu';
 * await ts.init({ backend: await createBackend({ warmPipelines: 'none' }) }); // a script that adds two numbers
 */
export type WarmPipelines = 'background' | 'await' | 'none';

/**
 * Ops whose kernels send their stores through kernels/lib/epilogue.wgsl, so that a fused chain
 * can follow them (the reduce kernel's float path only: int32 results do not fuse).
 */
const EPILOGUE_OPS: ReadonlySet<OpName> = new Set<OpName>(['matmul', 'conv2d', 'conv2dBackpropInput', 'maxPool2dBackward', 'sum', 'max', 'min']);

/** No op flagged by `checkFinite` (the flag keeps the smallest tag, so it starts at the largest). */
const NO_FLAG = 0xffffffff;

/**
 * The WebGPU backend. Dispatches are recorded into one compute pass of one command encoder and
 * submitted together on a flush (a readback, 1024 queued dispatches, or `flush()`). Uniforms of
 * all queued dispatches live in one buffer, written once per submit and bound at dynamic offsets.
 */
export class WebGPUBackend implements Backend {
  readonly caps: DeviceCaps;
  private readonly pipelines: PipelineCache;
  private readonly pool = new BufferPool();
  private readonly stagingPool = new BufferPool();
  /** Buffers freed while commands were still being recorded; see `write`. */
  private recycled = new Set<GPUBuffer>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline last set in the open pass: consecutive dispatches of one kernel skip setPipeline. */
  private passPipeline: GPUComputePipeline | null = null;
  /** One reused dynamic-offset array, so a dispatch allocates none. */
  private readonly dynOffset = new Uint32Array(1);
  private readonly arena: GPUBuffer;
  private readonly arenaCpu = new ArrayBuffer(ARENA_BYTES);
  private readonly arenaView = new DataView(this.arenaCpu);
  private readonly arenaBytes = new Uint8Array(this.arenaCpu);
  private arenaUsed = 0;
  private pendingDispatches = 0;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private failure: string | null = null;
  /** Set by `destroy()`: a device destroyed by anyone else (or lost) is a failure, ours is not. */
  private destroying = false;
  private counters = { buffersCreated: 0, submits: 0, dispatches: 0, allocatedBytes: 0 };
  /** Generated kernels of `ts.compile`'s fusion, made on first use. */
  private fused: FusedKernels | null = null;
  /** Long-lived buffers of the update kernel (placeholders, a 1.0 scale). */
  private readonly own: UpdateBuffers;
  /** How many updates one `updateMany` call takes: 3 where the device binds 12 storage buffers, else 1. */
  readonly updatesPerCall: number;
  /** The checkNumerics flag, made on first use. */
  private flag: GPUBuffer | null = null;
  /** Scratch buffers of the op being recorded; back to the pool once its dispatches are queued. */
  private readonly scratchBufs: DeviceBuffer[] = [];
  private readonly ctx: KernelContext;
  /** Dispatches waiting for a pipeline in flight, in order; later dispatches queue behind them. */
  private deferred: DeferredDispatch[] = [];
  /** Paces readbacks on CPU adapters in Node (see readwait.ts); null maps at once. */
  readWait: ReadWait | null;

  /** How often each variant of each site was built (`variantUse`), for tests and `tessera tune`. */
  private readonly used = new Map<string, number>();
  private readonly forced: ForcedVariants;
  /** The op whose kernel builder is running: what a tuning job replays. */
  private building: { op: OpName; args: KernelArgs<unknown> } | null = null;
  /** Autotune (tune/tuner.ts); null when off. */
  readonly tuner: Tuner | null;
  /** Bumped whenever autotune finds a winner, so prepared runs rebuild their dispatches. */
  private generation = 0;

  /**
   * `caps` overrides what the adapter's description implies (tests force GPU variants this way);
   * `variants` forces a variant per site wherever it is legal (tune/sites.ts);
   * `quickPipelines: false` makes every pipeline as asked, never through a stand-in.
   */
  constructor(
    readonly device: GPUDevice,
    readonly info: BackendInfo,
    caps: Partial<DeviceCaps> = {},
    opts: { variants?: ForcedVariants; quickPipelines?: boolean; autotune?: AutotuneMode; tuneStore?: TuneStore } = {},
  ) {
    this.forced = opts.variants ?? {};
    // Stand-ins pay off where pipelines compile one at a time on the dispatching cores (CPU
    // adapters: SwiftShader); a GPU driver compiles in parallel, off that thread.
    this.pipelines = new PipelineCache(device, opts.quickPipelines ?? info.isCPU);
    const host = {
      device,
      pipelines: this.pipelines,
      build: (op: OpName, args: KernelArgs<unknown>, variant: string, scratch: (bytes: number) => GPUBuffer) => this.buildWith(op, args, variant, scratch),
      changed: () => this.generation++,
    };
    const adapterKey = [info.vendor, info.architecture, info.adapter, info.limits?.maxComputeWorkgroupStorageSize].join('|');
    // A CPU adapter's timing runs would take the cores from the work itself: there it only
    // uses winners stored by `ts.tune` / `tessera tune`.
    this.tuner = new Tuner(host, opts.autotune ?? (info.isCPU ? 'cached' : 'background'), opts.tuneStore ?? defaultStore(), adapterKey, kernelHash(WGSL));
    this.readWait = pollingSlowsDevice(info.isCPU) ? new ReadWait() : null;
    this.arena = device.createBuffer({ label: 'uniform arena', size: ARENA_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.caps = {
      registerTiling: info.isCPU,
      subgroups: device.features.has('subgroups'),
      maxWorkgroupStorageBytes: device.limits.maxComputeWorkgroupStorageSize,
      maxStorageBufferBytes: device.limits.maxStorageBufferBindingSize,
      ...caps,
    };
    this.ctx = {
      caps: this.caps,
      scratch: (bytes) => {
        const b = this.alloc(bytes);
        this.scratchBufs.push(b);
        return b;
      },
      variant: (site, bucket, legal, pick) => this.chooseVariant(site, bucket, legal, pick),
    };
    const one = this.alloc(4);
    this.write(one, new Float32Array([1]));
    this.own = { dummy1: this.alloc(4), dummy2: this.alloc(4), one, spare: Array.from({ length: 9 }, () => this.alloc(4)) };
    // optimMulti binds 12 storage buffers; a device that allows fewer steps parameters one by one.
    this.updatesPerCall = device.limits.maxStorageBuffersPerShaderStage >= 4 * UPDATES_PER_MULTI ? UPDATES_PER_MULTI : 1;
    device.addEventListener('uncapturederror', (e) => {
      this.failure ??= `WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`;
    });
    void device.lost.then((lost) => {
      // 'destroyed' is also the reason when other code calls device.destroy() (a shared device, a
      // test simulating a loss): only our own destroy() is a normal end.
      if (lost.reason !== 'destroyed' || !this.destroying)
        this.failure = `the WebGPU device was lost (${lost.reason}: ${lost.message || 'no message'}). Tensors on it are gone; call ts.shutdown() and ts.init() to start again`;
    });
  }

  /**
   * Compiles all kernels up front so WGSL errors surface at init with file and line, and starts
   * creating the pipelines a typical CNN step uses (`WARM_SET`) as `pipelines` says.
   */
  async warmup(pipelines: WarmPipelines = 'background'): Promise<void> {
    await Promise.all([this.pipelines.compileAll(this.device.features), this.tuner?.load()]);
    if (pipelines === 'none') return;
    const warm = this.pipelines.warm(WARM_SET[this.caps.registerTiling ? 'cpu' : 'gpu']);
    if (pipelines === 'await') await warm;
  }

  /** The variant of `site` to build; see `KernelContext.variant`. */
  private chooseVariant<S extends TuneSite>(site: S, bucket: string, legal: readonly VariantOf<S>[], pick: VariantOf<S>): VariantOf<S> {
    const forced = this.forced[site] as VariantOf<S> | undefined;
    const v =
      forced !== undefined && legal.includes(forced)
        ? forced
        : ((this.tuner?.choose(site, bucket, legal, pick, this.building) as VariantOf<S> | undefined) ?? pick);
    const key = `${site}:${v}`;
    this.used.set(key, (this.used.get(key) ?? 0) + 1);
    return v;
  }

  /**
   * How many times each variant was built since the backend was made, keyed `site:variant`
   * (e.g. `matmul:register4`): tests check that a forced variant really ran.
   *
   * @example
   * import { createBackend } from '@tessera/webgpu';
   * const b = (await createBackend({ variants: { matmul: 'tiled64' } })) as WebGPUBackend;
   * b.variantUse.get('matmul:tiled64'); // > 0 after a large matmul
   */
  get variantUse(): ReadonlyMap<string, number> {
    return this.used;
  }

  /** Pipeline creation counts (sync, async, forced) and sync ms, for benchmarks. */
  get pipelineStats(): Readonly<PipelineCache['stats']> {
    return this.pipelines.stats;
  }

  private check(op: string): void {
    if (this.failure) throw new Error(`${op}: ${this.failure}`);
  }

  alloc(bytes: number): DeviceBuffer {
    this.check('alloc');
    const size = sizeClass(bytes);
    const limit = this.caps.maxStorageBufferBytes;
    if (size > limit) {
      throw new Error(
        `alloc: a tensor of ${bytes} bytes exceeds this device's largest storage buffer (${limit} bytes). Use smaller batches or split the tensor`,
      );
    }
    let buf = this.pool.acquire(size);
    if (!buf) {
      this.device.pushErrorScope('out-of-memory');
      buf = this.device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
      void this.device.popErrorScope().then((err) => {
        if (err) this.failure ??= `out of GPU memory while allocating ${size} bytes (${err.message}). Free tensors, use smaller batches, or call ts.shutdown()`;
      });
      this.bufferIds.set(buf, this.nextBufferId++);
      this.counters.buffersCreated++;
      this.counters.allocatedBytes += size;
    }
    return buf;
  }

  /**
   * A freed buffer is reusable at once by later kernels: they are recorded after the kernels
   * that read it, and the GPU runs one pass in order. Only `queue.writeBuffer` jumps ahead of
   * the commands still being recorded, so `write` flushes first when it targets such a buffer.
   */
  free(buf: DeviceBuffer): void {
    // A tensor made before ts.shutdown() / ts.init() (after a lost device, say) frees a buffer of
    // the old device: it must not enter this pool, where a later alloc would hand it out.
    if (!this.bufferIds.has(buf as GPUBuffer)) return;
    this.pool.release(buf as GPUBuffer);
    if (this.encoder || this.deferred.length) this.recycled.add(buf as GPUBuffer);
  }

  write(buf: DeviceBuffer, data: ArrayBufferView): void {
    this.check('write');
    if (this.recycled.has(buf as GPUBuffer)) this.flush();
    this.device.queue.writeBuffer(buf as GPUBuffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  run<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): void {
    this.check(op);
    const calls = this.build(op, args as KernelArgs<unknown>, this.ctx);
    if (Array.isArray(calls)) for (const c of calls) this.dispatch(c);
    else this.dispatch(calls as AnyKernelCall);
    while (this.scratchBufs.length) this.free(this.scratchBufs.pop()!);
  }

  /**
   * For `ts.compile`: runs the kernel builder once and keeps each dispatch's pipeline, bind
   * group and uniform bytes, so a replay only copies uniforms and encodes. Kernels that need
   * scratch buffers are not prepared (their scratch would have to live as long as the recording).
   */
  prepare<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): PreparedRun | null {
    this.check(op);
    const list = this.prepareList(op, args as KernelArgs<unknown>);
    if (!list) return null;
    const prepared: Prepared = { generation: this.generation, list, op, args: args as KernelArgs<unknown> };
    return prepared;
  }

  /** The prepared dispatches of one call, or null where it needs scratch buffers. */
  private prepareList(op: OpName, args: KernelArgs<unknown>): PreparedDispatch[] | null {
    const { calls: list, scratch } = this.callsOf(op, args);
    if (scratch) return null;
    return list.map((call): PreparedDispatch => {
      const pipeline = this.pipelines.lookup(
        call.kernel,
        call.constants as Record<string, number> | undefined,
        call.quick as Record<string, number> | undefined,
      );
      const layout = uniformLayout(call.kernel);
      const uniforms = new Uint8Array(layout.size);
      packUniforms(layout, call.uniforms as Record<string, number | readonly number[]>, new DataView(uniforms.buffer), 0);
      const named = call.buffers as Record<string, GPUBuffer>;
      const bindGroup = this.bindGroup(
        call.kernel,
        pipeline.key,
        KERNELS[call.kernel].buffers.map((name) => named[name]!),
        layout.size,
      );
      return { pipeline, bindGroup, uniforms, slotBytes: Math.ceil(layout.size / UNIFORM_SLOT) * UNIFORM_SLOT, workgroups: call.workgroups };
    });
  }

  /** Queues a run from `prepare`. */
  runPrepared(prepared: PreparedRun): void {
    this.check('compile');
    const p = prepared as Prepared;
    if (p.generation !== this.generation) {
      // Autotune found a winner since: rebuild, which may pick another variant (never one
      // needing scratch: every variant of a site that prepared once prepares again).
      p.list = this.prepareList(p.op, p.args) ?? p.list;
      p.generation = this.generation;
    }
    for (const d of p.list) {
      if (this.arenaUsed + UNIFORM_SLOT > ARENA_BYTES) this.flush();
      const offset = this.arenaUsed;
      this.arenaBytes.set(d.uniforms, offset);
      this.arenaUsed += d.slotBytes;
      this.encode(d.pipeline, d.bindGroup, offset, d.workgroups);
    }
  }

  /**
   * For `ts.compile`: starts building a generated kernel for a chain of elementwise ops, alone
   * or as the epilogue of its producer's kernel (fusion/). Null for a producer that does not
   * run as one dispatch of a kernel with an epilogue hook.
   */
  compileFused(kernel: FusedKernel, producer?: KernelArgs<unknown>): { kernel: FusedHandle; ready: Promise<void> } | null {
    this.check('compile');
    this.fused ??= new FusedKernels(this.device, this.pipelines);
    if (!kernel.producer) return this.fused.build(kernel);
    const call = producer && this.singleCall(kernel.producer as OpName, producer);
    return call ? this.fused.buildEpilogue(kernel, call) : null;
  }

  /** The ops whose kernels take an epilogue (they include kernels/lib/epilogue.wgsl). */
  /** The elementwise kernels and the matmul of two halves read and write halves themselves. */
  takesHalf(op: OpName, inputs: readonly TensorInfo[], params: unknown): boolean {
    return op === 'matmul' ? matmulTakesHalf(inputs, params as OpParams['matmul']) : elementwiseTakesHalf(op, inputs);
  }

  fusesAfter(op: OpName): boolean {
    return EPILOGUE_OPS.has(op);
  }

  /** Queues a fused kernel; false while its pipeline is still being created. */
  runFused(kernel: FusedHandle, inputs: readonly DeviceBuffer[], outputs: readonly DeviceBuffer[], producer?: KernelArgs<unknown>): boolean {
    const k = kernel as FusedPipeline;
    if (!k.pipeline) return false;
    this.check('compile');
    let buffers: GPUBuffer[];
    let uniformSize = 16;
    let offset = 0;
    let workgroups = k.workgroups;
    if (k.producer) {
      const call = producer && this.singleCall(k.producer.op as OpName, producer);
      if (!call || !sameSpecialisation(k.producer, call)) return false;
      const layout = uniformLayout(call.kernel);
      if (this.arenaUsed + UNIFORM_SLOT > ARENA_BYTES) this.flush();
      offset = this.arenaUsed;
      packUniforms(layout, call.uniforms as Record<string, number | readonly number[]>, this.arenaView, offset);
      this.arenaUsed += Math.ceil(layout.size / UNIFORM_SLOT) * UNIFORM_SLOT;
      uniformSize = layout.size;
      workgroups = call.workgroups;
      const named = call.buffers as Record<string, GPUBuffer>;
      buffers = [...KERNELS[call.kernel].buffers.map((name) => named[name]!), ...(inputs as GPUBuffer[])];
    } else buffers = [...inputs, ...outputs] as GPUBuffer[];
    let key = `fused${k.id}`;
    for (const b of buffers) key += `|${this.bufferIds.get(b)}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: k.layout,
        entries: [
          { binding: 0, resource: { buffer: this.arena, size: uniformSize } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(key, bg);
    }
    this.encode(k.pipeline, bg, offset, workgroups);
    return true;
  }

  /** `op`'s kernel call for `args` when it is one dispatch that needs no scratch buffer, else null. */
  private singleCall(op: OpName, args: KernelArgs<unknown>): AnyKernelCall | null {
    const { calls, scratch } = this.callsOf(op, args);
    return !scratch && calls.length === 1 ? calls[0]! : null;
  }

  /** Runs `op`'s kernel builder without dispatching; says whether it asked for scratch buffers (freed again). */
  private callsOf(op: OpName, args: KernelArgs<unknown>): { calls: readonly AnyKernelCall[]; scratch: boolean } {
    let scratch = false;
    const ctx: KernelContext = {
      caps: this.caps,
      scratch: (bytes) => {
        scratch = true;
        return this.ctx.scratch(bytes);
      },
      variant: this.ctx.variant,
    };
    const calls = this.build(op, args, ctx);
    while (this.scratchBufs.length) this.free(this.scratchBufs.pop()!);
    return { calls: Array.isArray(calls) ? calls : [calls as AnyKernelCall], scratch };
  }

  /** Runs `op`'s kernel builder with `ctx`, noting the op for a tuning job its variant may queue. */
  private build(op: OpName, args: KernelArgs<unknown>, ctx: KernelContext): AnyKernelCall | readonly AnyKernelCall[] {
    this.building = { op, args };
    try {
      return (WEBGPU_KERNELS[op] as (a: KernelArgs<unknown>, c: KernelContext) => AnyKernelCall | readonly AnyKernelCall[])(args, ctx);
    } finally {
      this.building = null;
    }
  }

  /** `op`'s dispatches with `variant` forced for its site (autotune's timing runs). */
  private buildWith(op: OpName, args: KernelArgs<unknown>, variant: string, scratch: (bytes: number) => GPUBuffer): readonly AnyKernelCall[] {
    const ctx: KernelContext = {
      caps: this.caps,
      scratch,
      variant: (_site, _bucket, legal, pick) => ((legal as readonly string[]).includes(variant) ? (variant as typeof pick) : pick),
    };
    const calls = this.build(op, args, ctx);
    return Array.isArray(calls) ? calls : [calls as AnyKernelCall];
  }

  /**
   * Makes the variants still served by stand-ins, and resolves once autotune's timing jobs
   * have run: the steady state tests and benchmarks wait for.
   *
   * @example
   * import { createBackend } from '@tessera/webgpu';
   * const backend = (await createBackend()) as WebGPUBackend;
   * await backend.settle();
   */
  async settle(): Promise<void> {
    this.pipelines.upgradeAll();
    this.tuner?.kick();
    await this.tuner?.idle();
  }

  /** `ts.tune`: note every op with variants from now on, and tune it. */
  beginTuning(): void {
    this.tuner?.begin();
  }

  /** `ts.tune`: waits for the timings; one row per (site, bucket) met since `beginTuning`. */
  async endTuning(onProgress?: (done: number, total: number) => void): Promise<readonly TuneRow[]> {
    this.flush();
    return this.tuner ? this.tuner.end(onProgress) : [];
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer, elements: number): void {
    this.check('copy');
    if (elements > 0) this.dispatch(copyCall(src, dst, [elements], [1], 0, [1], 0));
  }

  update(args: UpdateArgs): void {
    this.check('applyUpdate');
    if (args.param.size > 0) this.dispatch(updateCall(args, this.own));
  }

  /** Up to `updatesPerCall` updates of one rule and one set of hyperparameters, no scale, in one dispatch. */
  updateMany(list: readonly UpdateArgs[]): void {
    this.check('applyUpdate');
    if (list.length === 1) this.update(list[0]!);
    else if (list.length > 1) this.dispatch(updateManyCall(list, this.own));
  }

  markNonFinite(buf: DeviceBuffer, size: number, tag: number, dtype?: 'float32' | 'float16'): void {
    if (!this.flag) {
      this.flag = this.device.createBuffer({ label: 'checkNumerics flag', size: 16, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
      this.bufferIds.set(this.flag, this.nextBufferId++);
      this.device.queue.writeBuffer(this.flag, 0, new Uint32Array([NO_FLAG, 0, 0, 0]));
    }
    if (size > 0) {
      const constants = dtype === 'float16' ? { HALF: 1 } : undefined;
      this.dispatch(kernelCall({ kernel: 'checkFinite', constants, uniforms: { size, tag }, buffers: { x: buf, flag: this.flag }, workgroups: grid1d(size) }));
    }
  }

  async takeNonFinite(): Promise<number> {
    if (!this.flag) return -1;
    const tag = new Uint32Array(await this.read(this.flag, 4))[0]!;
    if (tag === NO_FLAG) return -1;
    this.device.queue.writeBuffer(this.flag, 0, new Uint32Array([NO_FLAG]));
    return tag;
  }

  /** Records one dispatch into the open compute pass. */
  dispatch(call: AnyKernelCall): void {
    const pipeline = this.pipelines.lookup(call.kernel, call.constants as Record<string, number> | undefined, call.quick as Record<string, number> | undefined);
    const layout = uniformLayout(call.kernel);
    if (this.arenaUsed + UNIFORM_SLOT > ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    packUniforms(layout, call.uniforms as Record<string, number | readonly number[]>, this.arenaView, offset);
    this.arenaUsed += Math.ceil(layout.size / UNIFORM_SLOT) * UNIFORM_SLOT;
    // Bind in the order the kernel's spec lists its buffers, never the call's key order.
    const named = call.buffers as Record<string, GPUBuffer>;
    const buffers = KERNELS[call.kernel].buffers.map((name) => named[name]!);
    this.encode(pipeline, this.bindGroup(call.kernel, pipeline.key, buffers, layout.size), offset, call.workgroups);
  }

  /**
   * Records one dispatch whose uniforms are at `offset` in the arena, or queues it (in order)
   * while its pipeline, or that of a dispatch queued before it, is still being created.
   */
  private encode(p: PipelineEntry | GPUComputePipeline, bg: GPUBindGroup, offset: number, workgroups: readonly [number, number, number]): void {
    const pipeline = isEntry(p) ? currentPipeline(p) : p;
    this.readWait?.queued(workgroups[0] * workgroups[1] * workgroups[2]);
    if (this.deferred.length || !pipeline) this.deferred.push({ pipeline: p, bindGroup: bg, offset, workgroups });
    else this.record(pipeline, bg, offset, workgroups);
    this.counters.dispatches++;
    if (++this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.flush();
  }

  /** The creation a queued dispatch waits for, if any. */
  private inFlight(): Promise<void> | null {
    for (const { pipeline: p } of this.deferred) if (isEntry(p) && !currentPipeline(p) && p.ready) return p.ready;
    return null;
  }

  /** Records the queued dispatches; a pipeline still in flight is made synchronously now. */
  private recordDeferred(): void {
    const list = this.deferred;
    this.deferred = [];
    for (const d of list) this.record(isEntry(d.pipeline) ? this.pipelines.force(d.pipeline) : d.pipeline, d.bindGroup, d.offset, d.workgroups);
  }

  private record(pipeline: GPUComputePipeline, bg: GPUBindGroup, offset: number, workgroups: readonly [number, number, number]): void {
    if (!this.pass) {
      this.pass = (this.encoder ??= this.device.createCommandEncoder()).beginComputePass();
      this.passPipeline = null;
    }
    if (this.passPipeline !== pipeline) {
      this.pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    this.dynOffset[0] = offset;
    this.pass.setBindGroup(0, bg, this.dynOffset, 0, 1);
    const [x, y, z] = workgroups;
    this.pass.dispatchWorkgroups(x, y, z);
  }

  private bindGroup(kernel: AnyKernelCall['kernel'], key: string, buffers: GPUBuffer[], uniformSize: number): GPUBindGroup {
    let bgKey = key;
    for (const b of buffers) bgKey += `|${this.bufferIds.get(b)}`;
    let bg = this.bindGroups.get(bgKey);
    if (!bg) {
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        layout: this.pipelines.layout(kernel),
        entries: [
          { binding: 0, resource: { buffer: this.arena, size: uniformSize } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(bgKey, bg);
    }
    return bg;
  }

  flush(): void {
    if (this.deferred.length) this.recordDeferred();
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    if (this.arenaUsed) this.device.queue.writeBuffer(this.arena, 0, this.arenaCpu, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.counters.submits++;
    this.encoder = null;
    this.arenaUsed = 0;
    this.pendingDispatches = 0;
    this.recycled.clear();
  }

  async read(buf: DeviceBuffer, bytes: number): Promise<ArrayBuffer> {
    this.check('data');
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const cls = sizeClass(size);
    // A read waits anyway: let the pipelines that queued dispatches wait for finish being made
    // (without duplicating them), then record those dispatches ahead of the copy.
    for (let d = this.inFlight(); d; d = this.inFlight()) await d;
    if (this.deferred.length) this.recordDeferred();
    const staging = this.stagingPool.acquire(cls) ?? this.device.createBuffer({ size: cls, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.pass?.end();
    this.pass = null;
    (this.encoder ??= this.device.createCommandEncoder()).copyBufferToBuffer(buf as GPUBuffer, 0, staging, 0, size);
    this.flush();
    // While the GPU runs what was just submitted.
    this.pipelines.upgradeAtRead();
    const wait = this.readWait?.begin();
    if (wait?.sleep) await sleep(wait.sleep);
    const mapStart = performance.now();
    try {
      await staging.mapAsync(MapMode.READ, 0, size);
      if (wait) this.readWait?.end(wait.key, wait.sleep, performance.now() - mapStart);
      this.tuner?.kick();
    } catch (e) {
      // A lost device rejects the map, possibly before `device.lost` settles: wait for it a
      // moment, so that the error says the device is gone rather than just "failed".
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
      this.check('data');
      throw new Error(`data: reading back ${bytes} bytes failed: ${(e as Error).message}`);
    }
    this.check('data');
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.stagingPool.release(staging);
    return copy;
  }

  emptyCache(): number {
    // Buffers freed while the pass is open may still be bound in it: submit before destroying.
    this.flush();
    this.bindGroups.clear(); // they hold the buffers about to be destroyed
    const freed = this.pool.drain();
    this.counters.allocatedBytes -= freed;
    return freed + this.stagingPool.drain();
  }

  stats(): BackendStats {
    return { ...this.counters, pooledBytes: this.pool.pooledBytes, buffers: this.counters.buffersCreated - this.pool.destroyed };
  }

  destroy(): void {
    this.destroying = true;
    this.flush();
    this.flag?.destroy();
    this.pool.drain();
    this.stagingPool.drain();
    this.bindGroups.clear();
    this.device.destroy();
  }
}

function isEntry(p: PipelineEntry | GPUComputePipeline): p is PipelineEntry {
  return 'descriptor' in p;
}

/** Reads an adapter's identity into the shape `ts.backendInfo()` reports. */
export function describeAdapter(adapter: GPUAdapter, device: GPUDevice): BackendInfo {
  const i = adapter.info;
  const { name, isCPU } = adapterIdentity(adapter);
  const limits: Record<string, number> = {};
  for (const k of [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    limits[k] = device.limits[k];
  }
  return {
    backend: 'webgpu',
    adapter: name,
    vendor: i.vendor,
    architecture: i.architecture,
    features: [...adapter.features].sort(),
    isCPU,
    limits,
  };
}

/**
 * An adapter's display name, and whether it is a CPU implementation of WebGPU (SwiftShader, or
 * any fallback adapter), from its info alone: what init()'s probe needs before any device exists.
 */
export function adapterIdentity(adapter: GPUAdapter): { name: string; isCPU: boolean } {
  const i = adapter.info;
  const name = [i.description, i.device].find((s) => s) || i.vendor || 'unknown adapter';
  const text = `${i.vendor} ${i.architecture} ${i.description} ${i.device}`.toLowerCase();
  return { name, isCPU: text.includes('swiftshader') || (i as { isFallbackAdapter?: boolean }).isFallbackAdapter === true };
}
