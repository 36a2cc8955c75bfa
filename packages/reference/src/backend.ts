import {
  evalFused,
  type Backend,
  type BackendInfo,
  type BackendStats,
  type DeviceBuffer,
  type FusedHandle,
  type FusedKernel,
  type KernelArgs,
  type OpName,
  type OpParams,
  type UpdateArgs,
} from '@tessera/core';
import { RefBuffer, refBuffer } from './buffer.js';
import { REFERENCE_KERNELS, referenceUpdate } from './kernels/index.js';
import { SCALAR_FNS } from './kernels/elementwise.js';
import { NonFiniteFlag } from './nonfinite.js';

export { RefBuffer } from './buffer.js';

/** Ops a fused chain may follow as an epilogue (compile/fuse.ts); the same as the WebGPU backend's. */
const EPILOGUE_OPS: ReadonlySet<string> = new Set(['matmul', 'conv2d', 'conv2dBackpropInput', 'maxPool2dBackward', 'sum', 'max', 'min']);

/** The one kernel signature every entry of REFERENCE_KERNELS has, whatever its op. */
type AnyKernel = (args: KernelArgs<unknown>) => void;

/**
 * A Backend in plain TypeScript: buffers are ArrayBuffers, and every primitive is a loop nest
 * in REFERENCE_KERNELS that accumulates in float64 and rounds to float32 once, when it stores.
 * Work runs synchronously when queued, so `flush` has nothing to do and `read` resolves at once.
 * Written to be obviously right rather than fast: it is the oracle of `ts.debug.shadow` and
 * runs the op tests on machines without a GPU.
 */
export class ReferenceBackend implements Backend {
  readonly info: BackendInfo = {
    backend: 'reference',
    adapter: 'Tessera reference (TypeScript, float64 accumulation)',
    vendor: 'tessera',
    architecture: 'reference',
    features: [],
    isCPU: true,
    limits: {},
  };

  private readonly live = new Set<RefBuffer>();
  /** Every buffer this backend made, to tell a double free from a buffer of another instance. */
  private readonly owned = new WeakSet<RefBuffer>();
  private allocatedBytes = 0;
  private buffersCreated = 0;
  private dispatches = 0;
  /** What `markNonFinite` has flagged since the last `takeNonFinite`. */
  private readonly nonFinite = new NonFiniteFlag();
  private destroyed = false;

  private check(what: string): void {
    if (this.destroyed) throw new Error(`${what}: the reference backend was destroyed`);
  }

  /** A zero-filled buffer of `bytes` rounded up to a multiple of 4 (at least 4). */
  alloc(bytes: number): DeviceBuffer {
    this.check('alloc');
    const buf = new RefBuffer(bytes);
    this.live.add(buf);
    this.owned.add(buf);
    this.allocatedBytes += buf.byteLength;
    this.buffersCreated++;
    return buf;
  }

  /**
   * Drops a buffer. Freeing one of this backend's buffers twice is an error; a buffer of another
   * (earlier, destroyed) backend is ignored, as tensors may outlive a shutdown.
   */
  free(buf: DeviceBuffer): void {
    if (!(buf instanceof RefBuffer)) return;
    const b = buf;
    if (this.live.delete(b)) {
      this.allocatedBytes -= b.byteLength;
    } else if (this.owned.has(b) && !this.destroyed) {
      throw new Error('free: this buffer was already freed');
    }
  }

  /** Copies the bytes of `data` to the start of `buf`. */
  write(buf: DeviceBuffer, data: ArrayBufferView): void {
    this.check('write');
    const b = refBuffer(buf, 'the buffer to write');
    if (data.byteLength > b.byteLength) {
      throw new Error(`write: ${data.byteLength} bytes do not fit a buffer of ${b.byteLength} bytes`);
    }
    b.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A copy of the first `bytes` bytes of `buf`. */
  read(buf: DeviceBuffer, bytes: number): Promise<ArrayBuffer> {
    try {
      this.check('data');
      return Promise.resolve(refBuffer(buf, 'the buffer to read').u8.slice(0, bytes).buffer);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs one primitive now, writing its output (and aux) buffers. */
  run<K extends OpName>(op: K, args: KernelArgs<OpParams[K]>): void {
    this.check(op);
    const kernel = REFERENCE_KERNELS[op] as AnyKernel | undefined;
    if (!kernel) throw new Error(`reference backend: no kernel for op '${op}'`);
    kernel(args);
    this.dispatches++;
  }

  /**
   * For `ts.compile`'s fusion: a fused kernel is interpreted from its expressions (evalFused,
   * the semantics every backend's rendering follows), ready at once. An epilogue runs its
   * producer's kernel into a scratch buffer first.
   */
  compileFused(kernel: FusedKernel): { kernel: FusedHandle; ready: Promise<void> } {
    return { kernel: { source: kernel } as FusedHandle, ready: Promise.resolve() };
  }

  /** The ops whose results a fused chain may follow as an epilogue: those the WebGPU backend extends. */
  fusesAfter(op: OpName): boolean {
    return EPILOGUE_OPS.has(op);
  }

  runFused(kernel: FusedHandle, inputs: readonly DeviceBuffer[], outputs: readonly DeviceBuffer[], producer?: KernelArgs<unknown>): boolean {
    this.check('compile');
    const k = (kernel as { source: FusedKernel }).source;
    let acc: Float32Array | undefined;
    if (producer) {
      const scratch = new RefBuffer(producer.out.size * 4);
      (REFERENCE_KERNELS[k.producer as OpName] as AnyKernel)({ ...producer, out: { ...producer.out, buf: scratch } });
      acc = scratch.f32;
    }
    evalFused(
      k,
      SCALAR_FNS,
      inputs.map((b, i) => (k.inputs[i] === 'int32' ? refBuffer(b).i32 : refBuffer(b).f32)),
      outputs.map((b) => refBuffer(b).f32),
      acc,
    );
    this.dispatches++;
    return true;
  }

  /** Copies `elements` 4-byte words from `src` to `dst`, bit for bit. */
  copy(src: DeviceBuffer, dst: DeviceBuffer, elements: number): void {
    this.check('copy');
    if (elements > 0) refBuffer(dst, 'the copy destination').u32.set(refBuffer(src, 'the copy source').u32.subarray(0, elements));
    this.dispatches++;
  }

  /** One in-place optimizer step (kernels/optim.ts). */
  update(args: UpdateArgs): void {
    this.check('applyUpdate');
    referenceUpdate(args);
    this.dispatches++;
  }

  flush(): void {}

  emptyCache(): number {
    return 0;
  }

  stats(): BackendStats {
    return { allocatedBytes: this.allocatedBytes, pooledBytes: 0, buffersCreated: this.buffersCreated, submits: 0, dispatches: this.dispatches };
  }

  destroy(): void {
    this.live.clear();
    this.allocatedBytes = 0;
    this.destroyed = true;
  }

  /** Flags `tag` if one of the first `size` values of `buf` is NaN or infinite (all-ones exponent). */
  markNonFinite(buf: DeviceBuffer, size: number, tag: number, dtype?: 'float32' | 'float16'): void {
    this.nonFinite.mark(refBuffer(buf, 'the buffer to check').u32, size, tag, dtype);
  }

  /** The smallest flagged tag since the last call, or -1; clears the flag. */
  takeNonFinite(): Promise<number> {
    return this.nonFinite.take();
  }
}
