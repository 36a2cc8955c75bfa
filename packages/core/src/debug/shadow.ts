import type { Backend, DeviceBuffer, KernelArgs, KernelTensor, UpdateArgs } from '../backend.js';
import { decodeValues, storageBytes, storageWords } from '../dtype.js';
import { engine } from '../engine.js';
import { fmtShape } from '../errors.js';
import type { OpName } from '../ops/registry.js';
import { createRegisteredBackend, registeredBackends } from '../runtime.js';
import { callSite, debugAtSync, setDebugTool, type DebugTool } from './hooks.js';

/**
 * `ts.debug.shadow`: every op also runs on the reference backend, with the very inputs the
 * device saw, and the first op whose result differs beyond a tolerance, or that turns finite
 * inputs into NaN or Inf, is reported at the next read.
 *
 * Inputs are captured when the op is queued: each is copied on the device into a buffer that
 * the check owns (in-place optimizer updates and pooled-buffer reuse would otherwise change
 * them before the check). At the next sync the copies are read back, the op is replayed on the
 * reference backend, and the results are compared in order. Slow by design: a debugging tool.
 */

/** A copy of one tensor, taken on the device when its op was queued. */
interface Snapshot {
  readonly shape: readonly number[];
  readonly dtype: KernelTensor['dtype'];
  readonly size: number;
  readonly buf: DeviceBuffer;
}

type Pending =
  | { kind: 'op'; op: OpName; params: unknown; inputs: Snapshot[]; out: Snapshot[]; site: string }
  | { kind: 'update'; args: UpdateArgs; inputs: Snapshot[]; out: Snapshot[]; site: string };

/** Tolerances of the comparison: |device - reference| <= rtol * |reference| + atol * scale. */
export interface ShadowOptions {
  /** Relative to each element's reference value (default 1e-3). */
  rtol?: number;
  /** Relative to the largest magnitude in the op's reference output, its `scale` (default 1e-4). */
  atol?: number;
}

const describeInputs = (xs: readonly { shape: readonly number[]; dtype: string }[]): string =>
  xs.map((x) => `${fmtShape(x.shape)} ${x.dtype}`).join(', ') || 'none';

const finite = (v: Float32Array | Int32Array, dtype: string): boolean => dtype === 'int32' || v.every(Number.isFinite);

class ShadowCheck implements DebugTool {
  private pending: Pending[] = [];
  private twin: Backend | null = null;
  rtol = 1e-3;
  atol = 1e-4;
  /** Update hook state: the inputs captured before the in-place step. */
  private before: Snapshot[] | null = null;

  private snap(t: KernelTensor): Snapshot {
    const b = engine.backend!;
    const buf = b.alloc(storageBytes(t.dtype, t.size));
    b.copy(t.buf, buf, storageWords(t.dtype, t.size));
    return { shape: [...t.shape], dtype: t.dtype, size: t.size, buf };
  }

  afterOp(op: OpName, args: KernelArgs<unknown>): void {
    // The op reads its inputs and writes only its outputs, so copies queued after it still hold
    // the values it read.
    this.pending.push({
      kind: 'op',
      op,
      params: structuredClone(args.params),
      inputs: args.inputs.map((t) => this.snap(t)),
      out: [args.out, ...args.aux].map((t) => this.snap(t)),
      site: callSite(),
    });
  }

  private updateTensors(a: UpdateArgs): KernelTensor[] {
    return [a.param, a.grad, ...(a.scale ? [a.scale] : []), ...a.states];
  }

  beforeUpdate(a: UpdateArgs): void {
    this.before = this.updateTensors(a).map((t) => this.snap(t));
  }

  afterUpdate(a: UpdateArgs): void {
    const out = [a.param, ...a.states].map((t) => this.snap(t));
    this.pending.push({ kind: 'update', args: a, inputs: this.before!, out, site: callSite() });
    this.before = null;
  }

  async atSync(): Promise<void> {
    if (!this.pending.length) return;
    const work = this.pending;
    this.pending = [];
    this.twin ??= await createRegisteredBackend('reference');
    const main = engine.backend!;
    try {
      for (const rec of work) await this.check(main, this.twin, rec);
    } finally {
      for (const rec of work) for (const s of [...rec.inputs, ...rec.out]) main.free(s.buf);
    }
  }

  private async check(main: Backend, twin: Backend, rec: Pending): Promise<void> {
    const raw = (s: Snapshot) => main.read(s.buf, storageBytes(s.dtype, s.size));
    const ins = await Promise.all(rec.inputs.map(raw));
    const device = (await Promise.all(rec.out.map(raw))).map((bytes, i) => decodeValues(rec.out[i]!.dtype, bytes, rec.out[i]!.size));
    // Replay on the reference backend with the device's own input values.
    const upload = (s: Snapshot, bytes: ArrayBuffer | null): KernelTensor => {
      const buf = twin.alloc(storageBytes(s.dtype, s.size));
      if (s.size && bytes) twin.write(buf, new Uint8Array(bytes));
      return { shape: s.shape, dtype: s.dtype, size: s.size, buf };
    };
    const refIns = rec.inputs.map((s, i) => upload(s, ins[i]!));
    let refOuts: KernelTensor[];
    if (rec.kind === 'op') {
      refOuts = rec.out.map((s) => upload(s, null));
      twin.run(rec.op, { inputs: refIns, out: refOuts[0]!, aux: refOuts.slice(1), params: rec.params as never });
    } else {
      const a = rec.args;
      const [param, grad, ...rest] = refIns;
      const scale = a.scale ? rest.shift()! : null;
      twin.update({ ...a, param: param!, grad: grad!, scale, states: rest });
      refOuts = [param!, ...rest];
    }
    const reference = await Promise.all(
      refOuts.map(async (t) => {
        const bytes = await twin.read(t.buf, storageBytes(t.dtype, t.size));
        return decodeValues(t.dtype, bytes, t.size);
      }),
    );
    for (const t of [...refIns, ...(rec.kind === 'op' ? refOuts : [])]) twin.free(t.buf);
    const name = rec.kind === 'op' ? rec.op : `applyUpdate (${rec.args.rule})`;
    const params =
      rec.kind === 'op'
        ? rec.params
        : { lr: rec.args.lr, beta1: rec.args.beta1, beta2: rec.args.beta2, eps: rec.args.eps, momentum: rec.args.momentum, weightDecay: rec.args.weightDecay };
    const where = `\n  inputs: ${describeInputs(rec.inputs)}\n  params: ${JSON.stringify(params)}\n  called at ${rec.site}`;
    const inputsFinite = rec.inputs.every((s, i) => finite(decodeValues(s.dtype, ins[i]!, s.size), s.dtype));
    device.forEach((d, k) => {
      const what = k === 0 ? 'output' : rec.kind === 'op' ? `aux output ${k - 1}` : `state ${k - 1}`;
      const r = reference[k]!;
      if (inputsFinite && !finite(d, rec.out[k]!.dtype)) {
        const at = (d as Float32Array).findIndex((v) => !Number.isFinite(v));
        throw new Error(
          `shadow: '${name}' turned finite inputs into ${Number.isNaN(d[at]) ? 'NaN' : 'Inf'} (${what} ${fmtShape(rec.out[k]!.shape)}, index ${at}; reference ${r[at]})${where}`,
        );
      }
      const worst = this.worst(d, r);
      if (worst) {
        throw new Error(
          `shadow: '${name}' differs from the reference backend: largest error ${worst.err.toPrecision(3)} at index ${worst.at} of its ${what} ${fmtShape(rec.out[k]!.shape)} ` +
            `(device ${d[worst.at]}, reference ${r[worst.at]}; allowed ${worst.allowed.toPrecision(3)} = rtol ${this.rtol} x |reference| + atol ${this.atol} x scale ${worst.scale.toPrecision(3)})${where}`,
        );
      }
    });
  }

  /** The element that most exceeds its tolerance, or null when all are within it. */
  private worst(d: ArrayLike<number>, r: ArrayLike<number>) {
    let scale = 0;
    for (let i = 0; i < r.length; i++) if (Number.isFinite(r[i]!)) scale = Math.max(scale, Math.abs(r[i]!));
    let found: { at: number; err: number; allowed: number; scale: number } | null = null;
    let excess = 0;
    for (let i = 0; i < r.length; i++) {
      const a = d[i]!;
      const e = r[i]!;
      if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
      const err = Math.abs(a - e);
      const allowed = this.rtol * Math.abs(e) + this.atol * scale;
      const over = Number.isNaN(err) ? Infinity : err - allowed;
      if (over > 0 && over > excess) {
        excess = over;
        found = { at: i, err, allowed, scale };
      }
    }
    return found;
  }

  reset(): void {
    const main = engine.backend;
    for (const rec of this.pending) for (const s of [...rec.inputs, ...rec.out]) main?.free(s.buf);
    for (const s of this.before ?? []) main?.free(s.buf);
    this.pending = [];
    this.before = null;
    this.twin?.destroy();
    this.twin = null;
  }
}

const shadowCheck = new ShadowCheck();

/**
 * Re-runs every op on the reference backend (plain TypeScript, float64 accumulation) with the
 * same inputs, and compares. The next read of any tensor throws at the first op whose result
 * differs beyond the tolerance, or that turned finite inputs into NaN or Inf, naming the op, its
 * shapes and parameters, the largest error and the line of your code that called it. Needs
 * `@tessera/reference` imported; slow (every input is read back), so use it to find a bug.
 *
 * @example
 * import '@tessera/reference';
 * ts.debug.shadow(true);
 * const loss = step();
 * await loss.item();        // throws: shadow: 'conv2d' differs from the reference backend ...
 * ts.debug.shadow(false);
 */
export function shadow(on: boolean, opts: ShadowOptions = {}): void {
  if (on) {
    if (!engine.backend) throw new Error('debug.shadow: Tessera is not initialised. Call `await ts.init()` first');
    if (!registeredBackends().includes('reference')) {
      throw new Error("debug.shadow: the reference backend is not registered. Import it once: import '@tessera/reference'");
    }
    for (const [k, v] of Object.entries(opts)) {
      if (typeof v !== 'number' || !(v >= 0)) throw new Error(`debug.shadow: ${k} must be a non-negative number, got ${String(v)}`);
    }
    shadowCheck.rtol = opts.rtol ?? 1e-3;
    shadowCheck.atol = opts.atol ?? 1e-4;
  }
  setDebugTool(shadowCheck, on);
}

/**
 * Runs the pending checks now instead of at the next read; throws like a read would.
 *
 * @example
 * ts.debug.shadow(true);
 * step();
 * await ts.debug.check();
 */
export async function check(): Promise<void> {
  engine.backend?.flush();
  await debugAtSync();
}
