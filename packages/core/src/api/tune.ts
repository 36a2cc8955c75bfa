/**
 * `ts.tune`: pre-tune the kernels a function uses, ahead of time.
 */
import type { TuneRow } from '../backend.js';
import { engine } from '../engine.js';
import { collectTensors } from '../scope.js';
import { tidy } from './memory.js';

/** Options of `ts.tune`. */
export interface TuneOptions {
  /** Called as the timings go: `done` of `total` (op, shape) pairs timed. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs `fn` once (as usual: a training step takes its step) while the backend notes every op
 * whose kernels come in variants, then times the variants of each op and shape met, and
 * resolves to one row per op and shape bucket: the variant its heuristics pick, the winner and
 * each variant's milliseconds per call. The winners are kept (and, on WebGPU, stored for later
 * runs on this adapter), so the steps that follow, compiled or eager, use them from the start
 * instead of tuning in the background. Tensors `fn` returns are disposed. A backend without
 * kernel variants (wasm, reference) just runs `fn` and returns no rows.
 *
 * @example
 * const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
 * const train = nn.trainFunction((x, y) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt);
 * const rows = await ts.tune(() => train(x, y));
 * console.table(rows.map((r) => ({ op: r.site, shape: r.bucket, winner: r.winner })));
 */
export async function tune(fn: () => unknown, opts: TuneOptions = {}): Promise<readonly TuneRow[]> {
  const be = engine.backend;
  if (!be) throw new Error('tune: Tessera is not initialised. Call `await ts.init()` first');
  if (typeof fn !== 'function') throw new Error(`tune: expected a function to run, got ${fn === null ? 'null' : typeof fn}. Pass e.g. () => step(x, y)`);
  be.beginTuning?.();
  let rows: readonly TuneRow[] = [];
  try {
    const result = await tidy(() => fn());
    for (const t of collectTensors(result, new Set())) t.dispose();
  } finally {
    rows = (await be.endTuning?.(opts.onProgress)) ?? [];
  }
  return rows;
}
