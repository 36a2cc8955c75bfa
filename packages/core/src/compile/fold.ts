/**
 * Constant folding for compiled steps. Some work of a step computes the same values at every
 * replay: it reads only constants, such as the gradient seed of a mean loss (1 / N, broadcast
 * to the batch) made from a cached scalar. Such an entry is run once, when the recording is
 * finalized, into a buffer of its own that nothing else writes, and dropped from the replay.
 *
 * A slot is constant when it is a cached scalar of core (`Storage.constant`: internal, never
 * handed to user code, so nothing can write it; freed, the recording is made again) or written
 * only by an entry folded before it. Randomness and anything reading an argument, a parameter
 * or state is never folded.
 */
import type { Backend, DeviceBuffer, KernelTensor } from '../backend.js';
import { access } from './fuse.js';
import type { Entry, RunEntry, Slot, SlotTensor } from './recorder.js';

/**
 * Runs the constant entries of `entries` once, each output into a new buffer from `alloc`, and
 * returns the rest (`slots` then point at those buffers).
 *
 * @example
 * const [entries, slots, backend, alloc] = [[], [], {}, () => ({})] as unknown as Parameters<typeof foldConstants>;
 * foldConstants(entries, slots, backend, alloc);   // the entries a replay still runs
 */
export function foldConstants(entries: readonly Entry[], slots: Slot[], backend: Backend, alloc: (bytes: number) => DeviceBuffer): Entry[] {
  const constant = new Set<number>();
  for (const [i, s] of slots.entries()) if (s.kind === 'external' && s.storage?.constant) constant.add(i);
  if (!constant.size) return [...entries];
  const writers = new Map<number, number>();
  for (const e of entries) for (const w of access(e).writes) writers.set(w, (writers.get(w) ?? 0) + 1);
  const kt = (t: SlotTensor): KernelTensor => ({ shape: t.shape, dtype: t.dtype, size: t.size, buf: slots[t.slot]!.buf });
  const run = (m: RunEntry) => backend.run(m.op, { inputs: m.inputs.map(kt), out: kt(m.out), aux: m.aux.map(kt), params: m.params } as never);
  const kept: Entry[] = [];
  for (const e of entries) {
    const { reads, writes } = access(e);
    const foldable =
      (e.k === 'run' || e.k === 'fused') &&
      !(e.k === 'run' ? [e] : e.members).some((m) => m.op === 'random') &&
      writes.length > 0 &&
      reads.every((r) => constant.has(r)) &&
      writes.every((w) => slots[w]!.kind === 'owned' && writers.get(w) === 1);
    if (!foldable) {
      kept.push(e);
      continue;
    }
    // Its own buffers: during the capture the pool may have handed the old ones on.
    for (const w of writes) slots[w]!.buf = alloc(slots[w]!.bytes);
    if (e.k === 'run') run(e);
    else for (const m of e.members) run(m);
    for (const w of writes) constant.add(w);
  }
  return kept;
}
