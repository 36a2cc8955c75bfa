import type { KernelArgs, UpdateArgs } from '../backend.js';
import { engine } from '../engine.js';
import { fmtShape } from '../errors.js';
import type { OpName } from '../ops/registry.js';
import { callSite, setDebugTool, type DebugTool } from './hooks.js';

/**
 * `ts.debug.checkNumerics`: after every op with a float output the backend queues a tiny
 * kernel that flags the op's sequence number if the output holds a NaN or an infinity. The flag
 * keeps the smallest number, so the op that first produced a bad value is named, not the many
 * that carried it on. It is read at the next sync (a `data()`), so no step stalls for it.
 */

interface OpRecord {
  op: string;
  shapes: string;
  params: unknown;
  site: string;
}

class NumericsCheck implements DebugTool {
  private readonly records = new Map<number, OpRecord>();
  private nextTag = 0;

  afterOp(op: OpName, args: KernelArgs<unknown>): void {
    // float16 overflows (beyond ±65504) are what a half computation most needs caught.
    const dtype = args.out.dtype;
    if (dtype === 'int32') return;
    this.mark(op, args.inputs.map((t) => fmtShape(t.shape)).join(', '), args.params, args.out.buf, args.out.size, dtype);
  }

  beforeUpdate(): void {}

  afterUpdate(a: UpdateArgs): void {
    this.mark(`applyUpdate (${a.rule})`, `parameter ${fmtShape(a.param.shape)}`, { lr: a.lr }, a.param.buf, a.param.size);
  }

  private mark(
    op: string,
    shapes: string,
    params: unknown,
    buf: KernelArgs<unknown>['out']['buf'],
    size: number,
    dtype: 'float32' | 'float16' = 'float32',
  ): void {
    const backend = engine.backend!;
    const tag = this.nextTag++;
    this.records.set(tag, { op, shapes, params, site: callSite() });
    backend.markNonFinite!(buf, size, tag, dtype);
  }

  async atSync(): Promise<void> {
    const backend = engine.backend;
    if (!backend?.takeNonFinite || this.records.size === 0) return;
    const tag = await backend.takeNonFinite();
    const rec = this.records.get(tag);
    this.records.clear();
    if (tag < 0) return;
    throw new Error(
      `checkNumerics: '${rec?.op ?? `op #${tag}`}' produced NaN or Inf` +
        (rec ? ` (inputs ${rec.shapes}; params ${JSON.stringify(rec.params)})\n  called at ${rec.site}` : '') +
        '\n  It is the first op since the last read whose output was not finite. Check its inputs (a learning rate too high, log of 0, division by 0)',
    );
  }

  reset(): void {
    this.records.clear();
  }
}

const numerics = new NumericsCheck();

/**
 * Flags the first op whose float32 output holds a NaN or an infinity; the next read of any
 * tensor (`data()`, `item()`) throws an error naming the op, its shapes and parameters and the
 * line of your code that called it. Cheap: one small kernel per op, nothing read per step.
 *
 * @example
 * ts.debug.checkNumerics(true);
 * const loss = step();                 // ... a NaN appears in some op
 * await loss.item();                   // throws: checkNumerics: 'log' produced NaN or Inf ...
 */
export function checkNumerics(on: boolean): void {
  if (on) {
    const b = engine.backend;
    if (!b) throw new Error('debug.checkNumerics: Tessera is not initialised. Call `await ts.init()` first');
    if (!b.markNonFinite || !b.takeNonFinite)
      throw new Error(`debug.checkNumerics: the '${b.info.backend}' backend cannot flag non-finite values. Use the webgpu or reference backend`);
  }
  setDebugTool(numerics, on);
}
