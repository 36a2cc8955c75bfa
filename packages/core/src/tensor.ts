import { type DType, decodeValues, storageBytes } from './dtype.js';
import { engine, type Storage, trackInScope, untrackFromScopes } from './engine.js';
import { fmtShape, opError } from './errors.js';
import { sizeOf } from './shape.js';
import type { GradNode } from './autograd.js';
import type { OpName, OpParams } from './ops/registry.js';
import { runOp } from './ops/run.js';
import * as F from './functional.js';
import { debugAtSync } from './debug/hooks.js';
import { guardRead } from './compile/state.js';

// Node 20.4+ and current browsers define Symbol.dispose; older runtimes get the registered symbol
// that TypeScript's `using` lowering also looks up.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

/** A nested JS array of numbers, as `tensor()` takes and `array()` returns. */
export type NestedArray = number | NestedArray[];
type Operand = Tensor | number;

/**
 * An n-dimensional array on the GPU. Ops return new tensors at once and queue their GPU work;
 * only `data()`, `array()` and `item()` wait.
 *
 * @example
 * const x = ts.tensor([[1, 2], [3, 4]]);
 * const y = x.mul(x).sum(1);      // queued
 * console.log(await y.data());    // Float32Array [5, 25]
 */
export class Tensor {
  readonly id = engine.nextId++;
  readonly size: number;
  /** Set when this tensor was produced by a recorded op; the gradient flows through it. */
  _node: GradNode | null = null;
  /** Accumulated gradient after `backward()`; it belongs to this tensor and dies with it. */
  grad: Tensor | null = null;
  private _storage: Storage | null;

  /** @internal Use `ts.tensor`, `ts.zeros` and the ops; this wraps an existing device buffer. */
  constructor(
    storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** Whether gradients are tracked for this tensor. */
    public requiresGrad = false,
    private readonly internal = false,
  ) {
    this._storage = storage;
    this.size = sizeOf(shape);
    if (!internal) {
      engine.liveTensors++;
      trackInScope(this);
    }
  }

  /** @internal Runs a primitive op from the op table. */
  static _fromOp<K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K]): Tensor {
    return runOp(op, inputs, params);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  /** @internal The device storage; throws a clear error if this tensor was disposed. */
  _use(op: string, what = 'input'): Storage {
    if (!this._storage) {
      throw opError(
        op,
        `${what} of shape ${fmtShape(this.shape)} (tensor #${this.id}) was already disposed`,
        'Keep it alive (return it from tidy, or ts.keep it) until its last use',
      );
    }
    return this._storage;
  }

  /** @internal Another handle on the same storage, invisible to scopes and memory counts. */
  _internalView(shape: readonly number[] = this.shape): Tensor {
    return new Tensor(this._use('autograd').retain(), shape, this.dtype, false, true);
  }

  /** @internal A user-visible handle on the same storage (reshape is free this way). */
  _view(shape: readonly number[]): Tensor {
    return new Tensor(this._use('reshape').retain(), shape, this.dtype);
  }

  /** @internal Whether this is one of core's cached scalars (a JS number an op was given). */
  _isConstant(): boolean {
    return this._storage?.constant ?? false;
  }

  /** @internal Removes this tensor from every tidy scope, so it outlives them. */
  _keep(): this {
    untrackFromScopes(this);
    return this;
  }

  /** Frees this tensor's GPU memory (once its last view is gone). Safe to call twice. */
  dispose(): void {
    if (!this._storage) return;
    this._storage.release();
    this._storage = null;
    this._node?.release();
    this._node = null;
    this.grad?.dispose();
    this.grad = null;
    if (!this.internal) {
      engine.liveTensors--;
      untrackFromScopes(this);
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Reads the values back (waits for the GPU). */
  data(): Promise<Float32Array | Int32Array> {
    // Synchronous, so that a read inside a function being compiled throws at the call.
    guardRead('data');
    return this.readData();
  }

  private async readData(): Promise<Float32Array | Int32Array> {
    const storage = this._use('data').retain();
    let bytes: ArrayBuffer;
    try {
      // Checks pending since the last read (ts.debug, checkAtNextRead) read their verdicts
      // alongside this value, in the same round trip to the device.
      [bytes] = await Promise.all([engine.backend!.read(storage.buf, storageBytes(this.dtype, this.size)), debugAtSync()]);
    } finally {
      storage.release();
    }
    return decodeValues(this.dtype, bytes, this.size);
  }

  /** Reads the values back as a nested array of this tensor's shape. */
  array(): Promise<NestedArray> {
    guardRead('array');
    return this.readArray();
  }

  private async readArray(): Promise<NestedArray> {
    const flat = await this.data();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return flat[offset]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Reads a one-element tensor back as a number. */
  item(): Promise<number> {
    guardRead('item');
    return this.readItem();
  }

  private async readItem(): Promise<number> {
    if (this.size !== 1)
      throw opError('item', `expected a tensor with one element, got shape ${fmtShape(this.shape)}`, 'Reduce it first, e.g. .sum() or .mean()');
    return (await this.data())[0]!;
  }

  /** Backpropagates from this tensor (a scalar unless `grad` is given) into every `.grad`. */
  backward(grad?: Tensor): void {
    F.backwardFrom(this, grad);
  }

  /** A new tensor with the same values, cut from the autograd graph. */
  detach(): Tensor {
    return F.detach(this);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // --- elementwise
  add(b: Operand): Tensor {
    return F.add(this, b);
  }
  sub(b: Operand): Tensor {
    return F.sub(this, b);
  }
  mul(b: Operand): Tensor {
    return F.mul(this, b);
  }
  div(b: Operand): Tensor {
    return F.div(this, b);
  }
  pow(b: Operand): Tensor {
    return F.pow(this, b);
  }
  maximum(b: Operand): Tensor {
    return F.maximum(this, b);
  }
  minimum(b: Operand): Tensor {
    return F.minimum(this, b);
  }
  eq(b: Operand): Tensor {
    return F.eq(this, b);
  }
  ne(b: Operand): Tensor {
    return F.ne(this, b);
  }
  gt(b: Operand): Tensor {
    return F.gt(this, b);
  }
  ge(b: Operand): Tensor {
    return F.ge(this, b);
  }
  lt(b: Operand): Tensor {
    return F.lt(this, b);
  }
  le(b: Operand): Tensor {
    return F.le(this, b);
  }
  neg(): Tensor {
    return F.neg(this);
  }
  exp(): Tensor {
    return F.exp(this);
  }
  log(): Tensor {
    return F.log(this);
  }
  sqrt(): Tensor {
    return F.sqrt(this);
  }
  abs(): Tensor {
    return F.abs(this);
  }
  sign(): Tensor {
    return F.sign(this);
  }
  square(): Tensor {
    return F.square(this);
  }
  relu(): Tensor {
    return F.relu(this);
  }
  sigmoid(): Tensor {
    return F.sigmoid(this);
  }
  tanh(): Tensor {
    return F.tanh(this);
  }
  cast(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }
  // --- reductions
  sum(axis?: number | number[], keepdims = false): Tensor {
    return F.sum(this, axis, keepdims);
  }
  mean(axis?: number | number[], keepdims = false): Tensor {
    return F.mean(this, axis, keepdims);
  }
  max(axis?: number | number[], keepdims = false): Tensor {
    return F.max(this, axis, keepdims);
  }
  min(axis?: number | number[], keepdims = false): Tensor {
    return F.min(this, axis, keepdims);
  }
  argmax(axis: number): Tensor {
    return F.argmax(this, axis);
  }
  argmin(axis: number): Tensor {
    return F.argmin(this, axis);
  }
  // --- shape
  reshape(shape: readonly number[]): Tensor {
    return F.reshape(this, shape);
  }
  transpose(perm?: readonly number[]): Tensor {
    return F.transpose(this, perm);
  }
  flatten(startDim = 1): Tensor {
    return F.flatten(this, startDim);
  }
  slice(begin: readonly number[], size?: readonly number[]): Tensor {
    return F.slice(this, begin, size);
  }
  broadcastTo(shape: readonly number[]): Tensor {
    return F.broadcastTo(this, shape);
  }
  matmul(b: Tensor): Tensor {
    return F.matmul(this, b);
  }
  // --- CNN ops (from the functional layer)
  softmax(axis = -1): Tensor {
    return F.softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return F.logSoftmax(this, axis);
  }
}
