/**
 * Records what one call of a function sends to the backend, and replays it.
 *
 * Recording happens at the backend boundary: `engine.backend` is swapped for a proxy for the
 * duration of the call, so everything core does (shape rules, autograd, tidy, optimizers)
 * runs as usual and only its effects on the device are kept. Each buffer the call touches gets
 * a slot: an input of the call, an external buffer made before it (parameters, optimizer
 * state, cached scalars), an intermediate made and freed during it, or an output. Replay
 * re-issues the recorded `run` / `update` / `copy` / `write` calls with the slots resolved to
 * the buffers of this call; no shape rule, tape or Tensor is involved until the outputs.
 */
import type { Backend, DeviceBuffer, FusedHandle, KernelArgs, KernelTensor, PreparedRun, UpdateArgs } from '../backend.js';
import type { FusedKernel } from '../ops/expr.js';
import { type DType, storageBytes, storageWords } from '../dtype.js';
import { engine, Storage } from '../engine.js';
import { opError } from '../errors.js';
import type { OpName, OpParams } from '../ops/registry.js';
import { Tensor } from '../tensor.js';
import { capture, type CaptureHooks, type LiveUpdateValues } from './state.js';
import { foldConstants } from './fold.js';
import { fuse } from './fuse.js';
import { groupUpdates, replayUpdates, updateArgs, type UpdatesEntry } from './updates.js';

type SlotKind = 'input' | 'external' | 'owned' | 'output';

export interface Slot {
  kind: SlotKind;
  /** The buffer at capture; for owned slots the one replays use (possibly swapped at finalize). */
  buf: DeviceBuffer;
  bytes: number;
  /** For inputs: which argument. */
  input?: number;
  /** For externals: the storage seen through Tensor._use, to tell when it has been freed. */
  storage?: Storage;
  shape?: readonly number[];
}

/** A KernelTensor whose buffer is a slot index. */
export interface SlotTensor {
  shape: readonly number[];
  dtype: DType;
  size: number;
  slot: number;
}

/** One recorded kernel. */
export interface RunEntry {
  k: 'run';
  op: OpName;
  inputs: SlotTensor[];
  out: SlotTensor;
  aux: SlotTensor[];
  params: unknown;
  randomOffset: number | null;
  fixed?: KernelArgs<unknown>;
  /** The backend's prepared form of `fixed` (Backend.prepare), when it has one. */
  prepared?: PreparedRun | null;
}

/** A chain of elementwise kernels run as one (compile/fuse.ts). */
export interface FusedEntry {
  k: 'fused';
  /** The backend's kernel once built; until then (or if never) the members run. */
  kernel: FusedHandle | null;
  source: FusedKernel;
  inputs: number[];
  outputs: number[];
  /** The entries it stands for, run while the kernel is not built (the producer first, if any). */
  members: RunEntry[];
  /** The kernel the chain is the epilogue of, or null for a chain alone. */
  producer: RunEntry | null;
}

export type Entry =
  | RunEntry
  | FusedEntry
  | {
      k: 'update';
      args: UpdateArgs;
      slots: { param: SlotTensor; grad: SlotTensor; states: SlotTensor[]; scale: SlotTensor | null };
      live: (() => LiveUpdateValues) | null;
    }
  | UpdatesEntry
  | { k: 'copy'; src: number; dst: number; elements: number }
  | { k: 'write'; dst: number; data: ArrayBufferView; flushBefore: boolean }
  | { k: 'check'; slot: number; size: number; tag: number; dtype: 'float32' | 'float16' | undefined }
  | { k: 'host'; fn: () => void };

/** One returned tensor: the slot it lives in, or a copy of an input or external one. */
interface OutputSpec {
  slot: number;
  shape: readonly number[];
  dtype: DType;
  /** True when the returned tensor was made before the call: replay copies it. */
  copy: boolean;
}

/** The result of a capture: everything a replay needs, and the buffers it owns. */
export class Recording {
  entries: Entry[] = [];
  readonly slots: Slot[] = [];
  outputs: OutputSpec[] = [];
  /** How far the unseeded random counter advanced during the call. */
  randomDraws = 0;
  /** Settles when every fused kernel is built (or given up); replays before run the ops unfused. */
  ready: Promise<void> = Promise.resolve();
  /** Fused kernels in the recording, and the kernels they stand for. */
  fused = { kernels: 0, ops: 0 };
  /** Buffers this recording owns (intermediates), freed by dispose. */
  owned: DeviceBuffer[] = [];
  ownedBytes = 0;
  disposed = false;

  constructor(readonly backend: Backend) {}

  /** The external slots whose storage is known, checked before each replay. */
  externals: Slot[] = [];

  /** A shape of an external tensor that was freed since capture, or null if all are alive. */
  freedExternal(): readonly number[] | null {
    for (const s of this.externals) if (s.storage!.refs <= 0) return s.shape ?? [];
    return null;
  }

  /** Re-issues the recorded calls with `inputs`' buffers; returns the outputs as new tensors. */
  replay(inputs: readonly Tensor[]): Tensor[] {
    const b = this.backend;
    const bufs: DeviceBuffer[] = this.slots.map((s) => s.buf);
    for (const [i, s] of this.slots.entries()) {
      if (s.kind === 'input') bufs[i] = inputs[s.input!]!._use('compile', `argument ${s.input}`).buf;
      else if (s.kind === 'output') bufs[i] = b.alloc(s.bytes);
    }
    const kt = (t: SlotTensor): KernelTensor => ({ shape: t.shape, dtype: t.dtype, size: t.size, buf: bufs[t.slot]! });
    const randomBase = engine.randomCounter;
    engine.randomCounter += this.randomDraws;
    const run = (e: RunEntry) => {
      if (e.prepared) b.runPrepared!(e.prepared);
      else if (e.fixed) b.run(e.op, e.fixed as never);
      else {
        const params = e.randomOffset === null ? e.params : { ...(e.params as OpParams['random']), stream: randomBase + e.randomOffset };
        b.run(e.op, { inputs: e.inputs.map(kt), out: kt(e.out), aux: e.aux.map(kt), params } as never);
      }
    };
    for (const e of this.entries) {
      switch (e.k) {
        case 'run':
          run(e);
          break;
        case 'fused': {
          const p = e.producer;
          // The producer's arguments, its output being the chain's stored value.
          const args = p && { inputs: p.inputs.map(kt), out: { ...kt(p.out), buf: bufs[e.outputs[0]!]! }, aux: [], params: p.params };
          const ins = e.inputs.map((s) => bufs[s]!);
          if (
            !e.kernel ||
            !b.runFused!(
              e.kernel,
              ins,
              e.outputs.map((s) => bufs[s]!),
              args ?? undefined,
            )
          )
            for (const m of e.members) run(m);
          break;
        }
        case 'update':
          b.update(updateArgs(e, kt));
          break;
        case 'updates':
          replayUpdates(e, kt, b);
          break;
        case 'copy':
          b.copy(bufs[e.src]!, bufs[e.dst]!, e.elements);
          break;
        case 'write':
          if (e.flushBefore) b.flush();
          b.write(bufs[e.dst]!, e.data);
          break;
        case 'check':
          b.markNonFinite?.(bufs[e.slot]!, e.size, e.tag, e.dtype);
          break;
        case 'host':
          e.fn();
          break;
      }
    }
    const storages = new Map<number, Storage>();
    return this.outputs.map((o) => {
      const slot = this.slots[o.slot]!;
      let st = storages.get(o.slot);
      if (st) st.retain();
      else {
        st = new Storage(bufs[o.slot]!, slot.bytes);
        storages.set(o.slot, st);
      }
      return new Tensor(st, o.shape, o.dtype);
    });
  }

  /** Frees the intermediates; the recording cannot replay afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // A backend replaced since (shutdown, init) took its buffers with it.
    if (engine.backend === this.backend) for (const b of this.owned) this.backend.free(b);
    this.owned = [];
  }
}

/**
 * Runs `fn` with the backend swapped for a recording proxy. Returns fn's result and the
 * recording, or, when the call went fine but cannot be replayed, the result and why not (the
 * caller may try again at the next call). If `fn` throws, frees what the capture owns and
 * rethrows.
 */
export function record<R>(
  inputs: readonly Tensor[],
  fn: () => R,
  outputsOf: (r: R) => readonly Tensor[],
  opts: { fuse: boolean } = { fuse: true },
): { result: R; copies: boolean[] } & ({ recording: Recording; escape: null } | { recording: null; escape: string }) {
  const real = engine.backend!;
  const rec = new Recording(real);
  const slotOf = new Map<DeviceBuffer, number>();
  /** Buffers allocated during the call and still held by the runtime. */
  const live = new Set<DeviceBuffer>();
  /** Buffers allocated during the call and freed again: reused like a pool, owned afterwards. */
  const freed = new Map<number, DeviceBuffer[]>();
  const allFreed = new Set<DeviceBuffer>();
  const reused = new Set<DeviceBuffer>();
  /** Targets of `write`: never reused for anything else, and owned once freed. */
  const written = new Set<DeviceBuffer>();
  const retired: DeviceBuffer[] = [];
  const byteSize = new Map<DeviceBuffer, number>();
  const seen = new Map<DeviceBuffer, { storage: Storage; shape: readonly number[] }>();
  const externalFrees: DeviceBuffer[] = [];
  let externalFreeCount = 0;
  let pendingLive: (() => LiveUpdateValues) | null = null;

  const newSlot = (s: Slot): number => rec.slots.push(s) - 1;
  for (const [i, t] of inputs.entries()) {
    const buf = t._use('compile', `argument ${i}`).buf;
    if (!slotOf.has(buf)) slotOf.set(buf, newSlot({ kind: 'input', buf, bytes: 0, input: i }));
  }
  const slot = (buf: DeviceBuffer): number => {
    let s = slotOf.get(buf);
    if (s === undefined) {
      const info = seen.get(buf);
      s = newSlot({ kind: 'external', buf, bytes: 0, storage: info?.storage, shape: info?.shape });
      slotOf.set(buf, s);
    }
    return s;
  };
  const st = (t: KernelTensor): SlotTensor => ({ shape: [...t.shape], dtype: t.dtype, size: t.size, slot: slot(t.buf) });

  const proxy: Backend = {
    info: real.info,
    alloc(bytes) {
      const buf = freed.get(bytes)?.pop() ?? real.alloc(bytes);
      if (allFreed.has(buf)) reused.add(buf);
      byteSize.set(buf, bytes);
      live.add(buf);
      slotOf.set(buf, newSlot({ kind: 'owned', buf, bytes }));
      return buf;
    },
    free(buf) {
      if (!live.delete(buf)) {
        // Freed by the call, made before it: replays could not repeat that (see compile.ts).
        externalFrees.push(buf);
        externalFreeCount++;
        return;
      }
      slotOf.delete(buf);
      allFreed.add(buf);
      if (written.has(buf)) {
        retired.push(buf);
        return;
      }
      const bytes = byteSize.get(buf)!;
      const list = freed.get(bytes) ?? [];
      list.push(buf);
      freed.set(bytes, list);
    },
    write(buf, data) {
      // queue.writeBuffer (WebGPU) jumps ahead of kernels not yet submitted: flush first when
      // they may use the buffer for something else (a reused one; a buffer made before the
      // call, which last replay's kernels may still update). A buffer written once is kept for
      // that constant alone, so rewriting the same bytes at the next replay is harmless.
      const flushBefore = reused.has(buf) || !live.has(buf);
      written.add(buf);
      const copy = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      rec.entries.push({ k: 'write', dst: slot(buf), data: copy, flushBefore });
      if (flushBefore) real.flush();
      real.write(buf, data);
    },
    read() {
      return Promise.reject(opError('compile', 'a tensor was read inside a function being compiled', 'Read it after the call'));
    },
    run(op, args) {
      const p = args.params as { stream?: number };
      const randomOffset = op === 'random' && p.stream ? p.stream - randomStart : null;
      rec.entries.push({ k: 'run', op, inputs: args.inputs.map(st), out: st(args.out), aux: args.aux.map(st), params: args.params, randomOffset });
      real.run(op, args);
    },
    copy(src, dst, elements) {
      rec.entries.push({ k: 'copy', src: slot(src), dst: slot(dst), elements });
      real.copy(src, dst, elements);
    },
    update(args) {
      const slots = { param: st(args.param), grad: st(args.grad), states: args.states.map(st), scale: args.scale && st(args.scale) };
      rec.entries.push({ k: 'update', args, slots, live: pendingLive });
      pendingLive = null;
      real.update(args);
    },
    flush: () => real.flush(),
    emptyCache: () => real.emptyCache(),
    stats: () => real.stats(),
    destroy: () => {
      throw opError('compile', 'ts.shutdown() was called inside a function being compiled', 'Shut down after the call');
    },
    markNonFinite: real.markNonFinite
      ? (buf, size, tag, dtype) => {
          rec.entries.push({ k: 'check', slot: slot(buf), size, tag, dtype });
          real.markNonFinite!(buf, size, tag, dtype);
        }
      : undefined,
    takeNonFinite: real.takeNonFinite?.bind(real),
  };
  const hooks: CaptureHooks = {
    host: (fn) => rec.entries.push({ k: 'host', fn }),
    liveUpdate: (resolve) => {
      pendingLive = resolve;
    },
  };

  // Tensor._use is how every op reaches a tensor's storage: watching it tells which storages
  // the external slots belong to, so a replay can tell a disposed parameter from a live one.
  const use = Object.getOwnPropertyDescriptor(Tensor.prototype, '_use')!.value as Tensor['_use'];
  Tensor.prototype._use = function (this: Tensor, op: string, what?: string): Storage {
    const s = use.call(this, op, what);
    if (!seen.has(s.buf)) seen.set(s.buf, { storage: s, shape: this.shape });
    return s;
  };
  const randomStart = engine.randomCounter;
  const outerActive = capture.active;
  engine.backend = proxy;
  capture.active = hooks;
  let result: R;
  let outputs: readonly Tensor[];
  try {
    result = fn();
    outputs = outputsOf(result);
  } catch (e) {
    restore();
    giveBack();
    throw e;
  }
  restore();
  rec.randomDraws = engine.randomCounter - randomStart;

  // Outputs: a buffer made during the call becomes an output slot (fresh each replay); one
  // made before (an input, a parameter) is copied into a fresh buffer at each replay.
  const outSlots = new Set<number>();
  for (const t of outputs) {
    const buf = t._use('compile', 'output').buf;
    let s = slot(buf);
    const copy = !live.has(buf);
    if (copy) {
      const src = s;
      s = newSlot({ kind: 'output', buf, bytes: storageBytes(t.dtype, t.size) });
      rec.entries.push({ k: 'copy', src, dst: s, elements: storageWords(t.dtype, t.size) });
    } else {
      rec.slots[s]!.kind = 'output';
      outSlots.add(s);
      live.delete(buf);
    }
    rec.outputs.push({ slot: s, shape: [...t.shape], dtype: t.dtype, copy });
  }
  if (externalFreeCount || live.size) {
    const why = externalFreeCount
      ? `it disposed ${externalFreeCount} tensor(s) made before the call`
      : `it left ${live.size} tensor(s) it made alive after returning (stored outside the function, a .grad left set, state created on first use)`;
    giveBack();
    return { result, copies: rec.outputs.map((o) => o.copy), recording: null, escape: why };
  }

  // Intermediates that shared a buffer with an output (the pool handed it on) need their own.
  const swap = new Map<DeviceBuffer, DeviceBuffer>();
  for (const s of outSlots) swap.set(rec.slots[s]!.buf, null as never);
  for (const s of rec.slots) {
    if (s.kind !== 'owned' || !swap.has(s.buf)) continue;
    let b = swap.get(s.buf);
    if (!b) {
      b = real.alloc(byteSize.get(s.buf)!);
      swap.set(s.buf, b);
      rec.owned.push(b);
    }
    s.buf = b;
  }
  for (const list of freed.values()) rec.owned.push(...list);
  rec.owned.push(...retired);
  rec.externals = rec.slots.filter((x) => x.kind === 'external' && x.storage);
  /** A buffer of the recording's own, for fused stores and folded constants. */
  const own = (bytes: number): DeviceBuffer => {
    const b = real.alloc(bytes);
    byteSize.set(b, bytes);
    rec.owned.push(b);
    return b;
  };
  if (opts.fuse) {
    const f = fuse(rec.entries, rec.slots, real, own);
    rec.entries.splice(0, rec.entries.length, ...f.entries);
    rec.ready = Promise.all(f.ready).then(() => {});
    rec.fused = { kernels: f.fused, ops: f.ops };
  }
  rec.entries = groupUpdates(foldConstants(rec.entries, rec.slots, real, own), real);
  for (const b of rec.owned) rec.ownedBytes += byteSize.get(b) ?? 0;
  // Entries that touch neither inputs, outputs nor the random stream are rebuilt once, here.
  const fixedSlot = (t: SlotTensor) => rec.slots[t.slot]!.kind === 'owned' || rec.slots[t.slot]!.kind === 'external';
  for (const e of rec.entries.flatMap((x) => (x.k === 'fused' ? x.members : [x]))) {
    if (e.k !== 'run' || e.randomOffset !== null || ![...e.inputs, e.out, ...e.aux].every(fixedSlot)) continue;
    const kt = (t: SlotTensor): KernelTensor => ({ shape: t.shape, dtype: t.dtype, size: t.size, buf: rec.slots[t.slot]!.buf });
    e.fixed = { inputs: e.inputs.map(kt), out: kt(e.out), aux: e.aux.map(kt), params: e.params };
    // Its buffers live as long as the recording: the backend may resolve the encoding once.
    if (real.prepare && real.runPrepared) e.prepared = real.prepare(e.op, e.fixed as never);
  }
  return { result, copies: rec.outputs.map((o) => o.copy), recording: rec, escape: null };

  function restore(): void {
    engine.backend = real;
    capture.active = outerActive;
    Tensor.prototype._use = use;
    // Frees of tensors made before the call were held back while recording; they happen now.
    for (const b of externalFrees.splice(0)) real.free(b);
  }
  function giveBack(): void {
    for (const list of freed.values()) for (const b of list) real.free(b);
    for (const b of retired.splice(0)) real.free(b);
    freed.clear();
  }
}
