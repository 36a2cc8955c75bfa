import type { DType } from './dtype.js';
import type { FusedKernel } from './ops/expr.js';
import type { OpName, OpParams, TensorInfo } from './ops/registry.js';

/**
 * The boundary between the tensor runtime and a device. Core owns tensors, the op table's shape
 * and gradient rules, autograd and memory; a backend owns how each primitive runs. A backend
 * never sees a Tensor, only buffers with their shape and dtype, and core never sees a GPU API.
 */

/** What `ts.backendInfo()` reports about the device in use. */
export interface BackendInfo {
  /** The backend's registered name: 'webgpu', 'reference', ... */
  backend: string;
  adapter: string;
  vendor: string;
  architecture: string;
  features: string[];
  /** True for a CPU implementation of the GPU API (SwiftShader), where kernels are chosen differently. */
  isCPU: boolean;
  limits: Record<string, number>;
  /**
   * Why `init()` chose this backend, e.g. "auto: webgpu's adapter SwiftShader Device (Subzero)
   * is a CPU emulation; wasm runs on the CPU directly". Set by `init()`, not by the backend.
   */
  reason?: string;
}

/** Counters a backend keeps for benchmarks and leak checks. */
export interface BackendStats {
  /** Bytes in device buffers held by live tensors plus the pool. */
  allocatedBytes: number;
  /** Bytes in buffers that are free and waiting in the pool. */
  pooledBytes: number;
  /** Device buffers created so far (a pool miss creates one). */
  buffersCreated: number;
  /**
   * Device buffers that exist now: those of live tensors and the backend's own, plus the pooled
   * ones (created minus destroyed). Flat over a training loop when nothing leaks. Optional: a
   * backend without device buffers of its own may leave it out.
   */
  buffers?: number;
  submits: number;
  dispatches: number;
}

/** An opaque device buffer; only the backend that made it knows what it is. */
export type DeviceBuffer = object & { readonly __deviceBuffer?: never };

/** A tensor as a backend sees it: contiguous, with its buffer. */
export interface KernelTensor extends TensorInfo {
  readonly buf: DeviceBuffer;
  readonly size: number;
}

/** What a backend gets to run one primitive: inputs, the allocated output and aux outputs. */
export interface KernelArgs<P> {
  readonly inputs: readonly KernelTensor[];
  readonly out: KernelTensor;
  /** Extra outputs the shape rule declared (max-pool's argmax, cross-entropy's row statistics). */
  readonly aux: readonly KernelTensor[];
  readonly params: P;
}

/**
 * Each backend's implementation of every primitive, as a mapped type over the op table's names:
 * a backend that misses an op does not compile.
 */
export type OpKernels<R = void> = { [N in OpName]: (args: KernelArgs<OpParams[N]>) => R };

/**
 * The optimizer rules of `ts.applyUpdate`. Each follows torch.optim's formulas exactly:
 *
 * - `sgd`:      p -= lr * g
 * - `momentum`: buf = momentum * buf + g;  p -= lr * buf                    (SGD, momentum)
 * - `nesterov`: buf = momentum * buf + g;  p -= lr * (g + momentum * buf)  (SGD, nesterov)
 * - `rmsprop`:  sq = beta1 * sq + (1 - beta1) g²;  p -= lr * g / (sqrt(sq) + eps)
 *               (beta1 is PyTorch's alpha; with momentum > 0 the step goes through a buffer)
 * - `adam`:     Adam with bias correction, eps added after the corrected sqrt (PyTorch)
 * - `adamw`:    Adam with decoupled weight decay: p *= 1 - lr * weightDecay first
 * - `adagrad`:  sum += g²;  p -= lr * g / (sqrt(sum) + eps)
 *               (PyTorch's lr_decay is folded into `lr` by `ts.applyUpdate`)
 * - `adadelta`: sq = beta1 * sq + (1 - beta1) g²;  d = sqrt(acc + eps) / sqrt(sq + eps) * g;
 *               acc = beta1 * acc + (1 - beta1) d²;  p -= lr * d   (beta1 is PyTorch's rho)
 * - `adamax`:   m = beta1 * m + (1 - beta1) g;  u = max(beta2 * u, |g| + eps);
 *               p -= lr / (1 - beta1^t) * m / u
 *
 * For every rule but adamw, `weightDecay` is L2 added to the gradient, as in torch.optim.
 */
export type OptimRule = 'sgd' | 'momentum' | 'nesterov' | 'rmsprop' | 'adam' | 'adamw' | 'adagrad' | 'adadelta' | 'adamax';

/** One in-place optimizer step, every hyper-parameter resolved (see `ts.applyUpdate`). */
export interface UpdateArgs {
  readonly rule: OptimRule;
  readonly param: KernelTensor;
  readonly grad: KernelTensor;
  /** As many as the rule needs (`optimStateCount`), each shaped like the parameter. */
  readonly states: readonly KernelTensor[];
  /** The gradient is multiplied by `scale[0]`; a one-element float32 tensor. */
  readonly scale: KernelTensor | null;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  /** 1 - beta1^step and sqrt(1 - beta2^step), Adam's bias corrections. */
  readonly biasCorrection1: number;
  readonly biasCorrection2Sqrt: number;
}

/** A backend's prepared form of one `run` call (see `Backend.prepare`); opaque to core. */
export type PreparedRun = object & { readonly __preparedRun?: never };

/**
 * The narrow, private interface between the tensor runtime and a device. Work is queued by
 * `run`, `copy`, `update` and `write`, and only `read` waits. Buffers hold 4-byte elements.
 */
export interface Backend {
  readonly info: BackendInfo;
  alloc(bytes: number): DeviceBuffer;
  /** Returns a buffer to the pool once the work queued so far no longer needs it. */
  free(buf: DeviceBuffer): void;
  write(buf: DeviceBuffer, data: ArrayBufferView): void;
  read(buf: DeviceBuffer, bytes: number): Promise<ArrayBuffer>;
  /** Queues one primitive of the op table; the output (and aux) buffers are already allocated. */
  run<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): void;
  /** Copies `elements` 32-bit words from `src` to `dst` (both from this backend): a float16 tensor of n elements is `storageWords('float16', n)` words. */
  copy(src: DeviceBuffer, dst: DeviceBuffer, elements: number): void;
  /** One in-place optimizer step (`ts.applyUpdate`). */
  update(args: UpdateArgs): void;
  /**
   * Optional, for compiled steps: how many updates one `updateMany` call takes (1 or absent:
   * the backend has no grouped update).
   */
  readonly updatesPerCall?: number;
  /**
   * Optional: up to `updatesPerCall` in-place steps in one call, with one rule, the same
   * hyperparameters and no gradient scale (core checks: `canGroupUpdates`), on distinct
   * parameters. The same numbers as calling `update` for each.
   */
  updateMany?(list: readonly UpdateArgs[]): void;
  /** Submits everything queued so far. */
  flush(): void;
  /** Submits queued work, then destroys the pooled free buffers; returns the bytes given back. */
  emptyCache(): number;
  stats(): BackendStats;
  destroy(): void;
  /**
   * Optional, for `ts.debug.checkNumerics`: flags `tag` if `buf`'s first `size` values of `dtype`
   * (float32, or float16 halves two to a word) hold a NaN or an infinity. The check is queued like
   * any kernel; `takeNonFinite` reads the smallest flagged tag (or -1) at the next sync and clears
   * the flag.
   */
  markNonFinite?(buf: DeviceBuffer, size: number, tag: number, dtype?: 'float32' | 'float16'): void;
  takeNonFinite?(): Promise<number>;
  /**
   * Optional, for `ts.compile`: prepares `run(op, args)` to be queued again and again with the
   * same buffers and params (kernel choice, pipelines, bindings and uniform bytes resolved
   * once), or returns null where it cannot. Queues nothing. Core calls it only for calls
   * whose buffers stay alive as long as the preparation is used.
   */
  prepare?<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): PreparedRun | null;
  /** Queues a call `prepare` made, as `run` with its arguments would have. */
  runPrepared?(prepared: PreparedRun): void;
  /**
   * Optional, for `ts.compile`'s fusion: starts building one kernel for a chain of elementwise
   * ops (ops/expr.ts), without blocking. `ready` settles once `runFused` can run it; it
   * rejects if the backend cannot build it. Returns null for a kernel the backend declines.
   * With `kernel.producer`, `producer` is that op's arguments at capture (its output being
   * the chain's stored value) and the kernel is the op's own with the chain as epilogue.
   */
  compileFused?(kernel: FusedKernel, producer?: KernelArgs<unknown>): { kernel: FusedHandle; ready: Promise<void> } | null;
  /**
   * Optional: whether `compileFused` can apply a chain to the values `op`'s kernel stores (an
   * epilogue); only then does the fuser join a chain to the op before it.
   */
  fusesAfter?(op: OpName): boolean;
  /**
   * Queues a kernel from `compileFused` over `inputs` and `outputs` (one buffer per input and
   * output of the kernel, outputs never aliasing inputs), and for an epilogue the producer's
   * arguments of this call (`out` being outputs[0]). Returns false, queuing nothing, while
   * the kernel is still being built: the caller then runs the unfused ops.
   */
  runFused?(kernel: FusedHandle, inputs: readonly DeviceBuffer[], outputs: readonly DeviceBuffer[], producer?: KernelArgs<unknown>): boolean;
  /**
   * Whether this backend's kernel for `op` takes these operands, some float16, and writes a
   * float16 result itself. Where it says no (or has no such method), core runs the op in
   * float32 between casts (ops/half.ts); `cast` always takes float16.
   *
   * @example
   * const backend = {} as ts.Backend;
   * backend.takesHalf?.('relu', [{ shape: [4], dtype: 'float16' }], {}); // true on WebGPU
   */
  takesHalf?(op: OpName, inputs: readonly TensorInfo[], params: unknown): boolean;
  /**
   * Optional, for `ts.tune` (backends whose ops come in kernel variants): after `beginTuning`,
   * every op with variants that runs is noted and its variants are timed; `endTuning` waits for
   * the timings and reports one row per op and shape bucket.
   */
  beginTuning?(): void;
  endTuning?(onProgress?: (done: number, total: number) => void): Promise<readonly TuneRow[]>;
}

/**
 * One row of `ts.tune`'s report: an op with kernel variants (`site`), the shape bucket it was
 * tuned for, the variant the backend's heuristics pick, the winner, and the milliseconds per
 * call of each variant timed.
 */
export interface TuneRow {
  readonly site: string;
  readonly bucket: string;
  readonly pick: string;
  readonly winner: string;
  readonly ms: Readonly<Record<string, number>>;
  /** 'tuned': measured in this process; 'cache': an earlier run's result on this adapter. */
  readonly from: 'tuned' | 'cache';
}

/** A backend's built fused kernel (see `Backend.compileFused`); opaque to core. */
export type FusedHandle = object & { readonly __fusedHandle?: never };

/**
 * What a backend factory's `probe` found without starting a device, for `init()`'s 'auto'
 * choice.
 */
export interface BackendProbe {
  /** Whether `create` should succeed here. */
  readonly available: boolean;
  /**
   * True where the device is a CPU emulation of a GPU API (SwiftShader): 'auto' then prefers an
   * automatic backend that is not (one made for CPUs, such as 'wasm').
   */
  readonly emulated?: boolean;
  /** One line for `init()`'s reason: the adapter found, or why there is none. */
  readonly detail: string;
}

/** How `ts.init()` creates a backend it finds by name; backends register one when imported. */
export interface BackendFactory {
  /** Higher goes first when `init()` picks one by itself. */
  readonly priority: number;
  /** Whether `init({ backend: 'auto' })` may pick it; a slow debugging backend says no. */
  readonly auto: boolean;
  create(opts: BackendCreateOptions): Promise<Backend>;
  /**
   * Optional: looks at the device without starting it (a WebGPU adapter, not a device). 'auto'
   * calls it only when more than one automatic backend is registered, to order them.
   */
  probe?(opts: BackendCreateOptions): Promise<BackendProbe>;
}

/** Options `init()` passes through to a backend factory. */
export interface BackendCreateOptions {
  powerPreference?: 'low-power' | 'high-performance';
}

/** The dtype a backend reads a tensor's buffer as. */
export const isIntDType = (d: DType): boolean => d === 'int32';
