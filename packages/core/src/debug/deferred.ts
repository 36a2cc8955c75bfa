import { engine } from '../engine.js';
import { capture } from '../compile/state.js';
import { opError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { setDebugTool, type DebugTool } from './hooks.js';

/**
 * Checks computed on the device and reported at the next read, so that validating a value that
 * lives on the GPU (labels in range, probabilities in [0, 1]) never stalls a training step: the
 * check is a few small kernels now, and its one-element verdict is read together with whatever
 * the user reads next.
 */

interface Pending {
  /** An internal handle on a one-element float32 tensor: nonzero means the check failed. */
  readonly flag: Tensor;
  readonly op: string;
  readonly message: string;
}

class DeferredChecks implements DebugTool {
  pending: Pending[] = [];

  afterOp(): void {}
  beforeUpdate(): void {}
  afterUpdate(): void {}

  async atSync(): Promise<void> {
    if (!this.pending.length) return;
    const list = this.pending;
    this.pending = [];
    setDebugTool(this, false);
    const backend = engine.backend!;
    try {
      const values = await Promise.all(list.map((p) => backend.read(p.flag._use('checkAtNextRead').buf, 4)));
      const bad = list.findIndex((_, i) => new Float32Array(values[i]!)[0] !== 0);
      if (bad >= 0) throw opError(list[bad]!.op, list[bad]!.message);
    } finally {
      release(list);
    }
  }

  reset(): void {
    release(this.pending);
    this.pending = [];
  }
}

function release(list: readonly Pending[]): void {
  for (const p of list) {
    if (!p.flag.disposed) engine.cachedBytes -= 4;
    p.flag.dispose();
  }
}

const deferred = new DeferredChecks();

/**
 * Queues a check of a value on the device: if any element of `bad` is nonzero when the next
 * tensor read happens (`data()`, `item()`, `array()`), that read throws `<op>: <message>`.
 * `bad` is typically a comparison reduced with `.max()`, or a function that makes it; the check
 * takes it over (it is disposed here, the check keeps its own handle until the read). Nothing
 * waits now. Pass a function where the flag costs kernels: inside a step that `ts.compile` is
 * recording, the check is skipped and the function never runs, so replays carry no dead work.
 *
 * @example
 * // flag probabilities outside [0, 1] without reading them back
 * ts.checkAtNextRead(() => ts.noGrad(() => p.lt(0).add(p.gt(1)).max()), 'myLoss', 'predictions must be probabilities');
 */
export function checkAtNextRead(flag: Tensor | (() => Tensor), op: string, message: string): void {
  // A step being recorded by ts.compile replays without its host-side bookkeeping, and a flag
  // held until a read that a compiled loop may never make would pin a buffer of the recording:
  // compiled steps skip these checks (validate the data with an eager step or ts.checkLabels).
  if (capture.active) {
    if (flag instanceof Tensor) flag.dispose();
    return;
  }
  const bad = typeof flag === 'function' ? flag() : flag;
  if (!(bad instanceof Tensor) || bad.size !== 1)
    throw opError('checkAtNextRead', `the flag must be a one-element Tensor, got ${bad instanceof Tensor ? `shape [${bad.shape}]` : typeof bad}`);
  const f32 = bad.dtype === 'float32' ? bad : bad.cast('float32');
  const held = f32._internalView([1]);
  f32.dispose();
  bad.dispose();
  // Held until the next read, like the scalar cache: reported apart from the user's tensors.
  engine.cachedBytes += 4;
  deferred.pending.push({ flag: held, op, message });
  setDebugTool(deferred, true);
}
