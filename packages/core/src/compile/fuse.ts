/**
 * Fusion of a recording: consecutive elementwise kernels (ops whose op-table entry has an
 * `expr`) become one generated kernel, built by the backend from their expressions
 * (ops/expr.ts). Only values used outside such a chain are stored; the rest live in registers.
 * A chain right after a kernel the backend can extend (`Backend.fusesAfter`: a matmul, a
 * pooling gradient) becomes that kernel's epilogue when it only reads the kernel's value
 * element for element and stores one value.
 *
 * A value broadcast further along is recomputed per element where it is used, and stored (by
 * the threads of its own elements) only if something after the chain reads it. A chain is cut
 * where it would read or write more buffers than a kernel can bind, at MAX_NODES ops, and
 * where an op is not elementwise. Members stay
 * in the recording: until the backend has built the kernel (asynchronously), and wherever it
 * declines one, replays run them unfused.
 */
import type { Backend, DeviceBuffer } from '../backend.js';
import type { Expr, FusedKernel, IndexMap } from '../ops/expr.js';
import { OPS } from '../ops/table.js';
import { broadcastStrides, stridesOf } from '../shape.js';
import type { Entry, FusedEntry, RunEntry, Slot, SlotTensor } from './recorder.js';

/** Nodes of one fused kernel at most: long chains are cut, keeping generated code small. */
const MAX_NODES = 24;
/** WebGPU's guaranteed storage buffers per shader stage, when the backend reports no limit. */
const DEFAULT_MAX_BUFFERS = 8;

/** The slots an entry reads, and those it writes. */
export function access(e: Entry): { reads: number[]; writes: number[] } {
  switch (e.k) {
    case 'run':
      return { reads: e.inputs.map((t) => t.slot), writes: [e.out.slot, ...e.aux.map((t) => t.slot)] };
    case 'update': {
      const s = e.slots;
      const rw = [s.param.slot, ...s.states.map((t) => t.slot)];
      return { reads: [...rw, s.grad.slot, ...(s.scale ? [s.scale.slot] : [])], writes: rw };
    }
    case 'updates': {
      const all = e.list.map(access);
      return { reads: all.flatMap((a) => a.reads), writes: all.flatMap((a) => a.writes) };
    }
    case 'copy':
      return { reads: [e.src], writes: [e.dst] };
    case 'write':
      return { reads: [], writes: [e.dst] };
    case 'check':
      return { reads: [e.slot], writes: [] };
    case 'fused':
      // An epilogue's kernel also reads its producer's inputs.
      return { reads: [...e.inputs, ...(e.producer ? e.producer.inputs.map((t) => t.slot) : [])], writes: e.outputs };
    case 'host':
      return { reads: [], writes: [] };
  }
}

/** A run entry the fuser can take: an op with an expression, float32 out, float32 / int32 in. */
function fusible(e: Entry): e is RunEntry {
  if (e.k !== 'run' || !OPS[e.op].expr || e.aux.length || e.randomOffset !== null) return false;
  if (e.out.dtype !== 'float32' || e.out.size === 0 || e.out.shape.length > 8) return false;
  return e.inputs.every((t) => t.dtype === 'float32' || t.dtype === 'int32');
}

/** A run entry a chain may follow as the epilogue of its kernel (the backend says which ops). */
function producible(e: Entry, backend: Backend): e is RunEntry {
  return e.k === 'run' && !!backend.fusesAfter?.(e.op) && !e.aux.length && e.randomOffset === null && e.out.dtype === 'float32' && e.out.size > 0;
}

/**
 * How consumer `e` reads a value viewed as `view` for its output element: through the op's
 * gather map (transpose, slice, broadcastTo), else by broadcasting; null when element for element.
 */
function indexMap(view: SlotTensor, e: RunEntry): IndexMap | null {
  const out = e.out;
  const gather = OPS[e.op].gather?.(view, e.params as never);
  if (!gather && view.size === out.size) return null;
  const strides = gather ? gather.strides : broadcastStrides(view.shape, out.shape);
  const offset = gather?.offset ?? 0;
  if (offset === 0 && strides.every((s, d) => s === stridesOf(out.shape)[d])) return null;
  // Merge neighbouring dimensions that step through memory as one, and drop size-1 ones.
  const shape: number[] = [];
  const st: number[] = [];
  for (const [d, n] of out.shape.entries()) {
    if (n === 1) continue;
    const s = strides[d]!;
    const last = shape.length - 1;
    if (last >= 0 && st[last] === s * n) {
      shape[last]! *= n;
      st[last] = s;
    } else {
      shape.push(n);
      st.push(s);
    }
  }
  return { shape, strides: st, offset };
}

interface Plan {
  kernel: FusedKernel;
  inputs: number[];
  outputs: number[];
}

/**
 * The kernel for `group` (indices of consecutive entries: fusible ones, after the producer
 * when `withProducer`), or null when it cannot be one: too many ops or buffers, nothing
 * stored, or, with a producer, its value read elsewhere or at another element, or more than
 * one value stored.
 */
function plan(entries: readonly Entry[], group: readonly number[], readers: Map<number, number[]>, maxBuffers: number, withProducer: boolean): Plan | null {
  if (group.length > MAX_NODES) return null;
  const members = new Set(group);
  const head = withProducer ? (entries[group[0]!] as RunEntry) : null;
  const chain = head ? group.slice(1) : group;
  if (head && (readers.get(head.out.slot) ?? []).some((r) => !members.has(r))) return null;
  const produced = new Map<number, number>();
  /** Whether node n reads the producer's value, which exists at the producer's element only. */
  const usesAcc: boolean[] = [];
  const inputs: number[] = [];
  const dtypes: ('float32' | 'int32')[] = [];
  const nodes: { expr: Expr; size: number }[] = [];
  for (const [n, i] of chain.entries()) {
    const e = entries[i] as RunEntry;
    let acc = false;
    let ok = true;
    const args = e.inputs.map((t): Expr => {
      const index = indexMap(t, e);
      if (head && t.slot === head.out.slot) {
        acc = true;
        if (index) ok = false;
        return { k: 'acc' };
      }
      const node = produced.get(t.slot);
      if (node !== undefined) {
        acc ||= usesAcc[node]!;
        if (index && usesAcc[node]) ok = false;
        return { k: 'node', node, index };
      }
      let input = inputs.indexOf(t.slot);
      if (input < 0) {
        input = inputs.push(t.slot) - 1;
        dtypes.push(t.dtype as 'float32' | 'int32');
      }
      return { k: 'load', input, index };
    });
    if (!ok) return null;
    usesAcc.push(acc);
    nodes.push({ expr: OPS[e.op].expr!(args, e.params as never), size: e.out.size });
    produced.set(e.out.slot, n);
  }
  // Stored: values read after the chain (or returned, marked by reader -1).
  const outputs: number[] = [];
  const stored: number[] = [];
  for (const [n, i] of chain.entries()) {
    const slot = (entries[i] as RunEntry).out.slot;
    if ((readers.get(slot) ?? []).some((r) => !members.has(r))) {
      outputs.push(slot);
      stored.push(n);
    }
  }
  const buffers = inputs.length + outputs.length + (head ? head.inputs.length + 1 : 0);
  if (!stored.length || buffers > maxBuffers) return null;
  if (head) {
    if (stored.length !== 1 || nodes[stored[0]!]!.size !== head.out.size) return null;
    return { kernel: { size: head.out.size, inputs: dtypes, nodes, outputs: stored, producer: head.op }, inputs, outputs };
  }
  // The kernel runs the largest stored value's elements; a smaller one is stored by the threads
  // of its own elements (each node is a function of its own index).
  const size = Math.max(...stored.map((n) => nodes[n]!.size));
  return { kernel: { size, inputs: dtypes, nodes, outputs: stored }, inputs, outputs };
}

/**
 * Moves each producer whose one reader is an elementwise op further down (the gradient of a
 * matmul's input comes before its weight's, the ReLU's gradient after both) to just before
 * that reader, so the two can fuse, where nothing in between writes what it reads or touches
 * what it writes. Buffers are compared as they are at capture: the pool may have handed a
 * freed input's buffer to an entry in between.
 */
function sinkProducers(entries: readonly Entry[], slots: readonly Slot[], backend: Backend): Entry[] {
  const list = [...entries];
  const key = (s: number): unknown => (slots[s]!.kind === 'input' || slots[s]!.kind === 'output' ? s : slots[s]!.buf);
  for (let i = list.length - 1; i >= 0; i--) {
    const p = list[i]!;
    if (!producible(p, backend) || slots[p.out.slot]!.kind === 'output') continue;
    const readers = list.flatMap((e, j) => (j > i && access(e).reads.includes(p.out.slot) ? [j] : []));
    const j = readers[0];
    if (readers.length !== 1 || j === undefined || j === i + 1 || !fusible(list[j]!)) continue;
    const reads = new Set(p.inputs.map((t) => key(t.slot)));
    const out = key(p.out.slot);
    const clear = list.slice(i + 1, j).every((e) => {
      const a = access(e);
      return e.k !== 'host' && !a.writes.some((s) => reads.has(key(s)) || key(s) === out) && !a.reads.some((s) => key(s) === out);
    });
    if (!clear) continue;
    list.splice(i, 1);
    list.splice(j - 1, 0, p);
  }
  return list;
}

/**
 * Replaces chains of elementwise entries by fused entries. `alloc` gives a fresh buffer (owned
 * by the recording) to a stored value whose buffer the pool had handed on from one of the
 * chain's inputs, since a kernel must not write what another of its threads still reads.
 * Returns the new entry list and the kernels' readiness.
 */
export function fuse(
  entries: readonly Entry[],
  slots: Slot[],
  backend: Backend,
  alloc: (bytes: number) => DeviceBuffer,
): { entries: Entry[]; ready: Promise<void>[]; fused: number; ops: number } {
  if (!backend.compileFused || !backend.runFused) return { entries: [...entries], ready: [], fused: 0, ops: 0 };
  const maxBuffers = backend.info.limits.maxStorageBuffersPerShaderStage ?? DEFAULT_MAX_BUFFERS;
  entries = sinkProducers(entries, slots, backend);
  const readers = new Map<number, number[]>();
  const writers = new Map<number, number>();
  for (const [i, e] of entries.entries()) {
    const { reads, writes } = access(e);
    for (const s of reads) readers.set(s, [...(readers.get(s) ?? []), i]);
    for (const s of writes) writers.set(s, (writers.get(s) ?? 0) + 1);
  }
  for (const [i, s] of slots.entries()) if (s.kind === 'output') readers.set(i, [...(readers.get(i) ?? []), -1]);

  const out: Entry[] = [];
  const ready: Promise<void>[] = [];
  let fused = 0;
  let ops = 0;
  let group: number[] = [];
  let withProducer = false;
  let best: Plan | null = null;
  const close = () => {
    if (group.length >= 2 && best) emit(best, group);
    else for (const i of group) out.push(entries[i]!);
    group = [];
    best = null;
    withProducer = false;
  };
  const emit = (p: Plan, members: number[]) => {
    const head = withProducer ? (entries[members[0]!] as RunEntry) : null;
    // A kernel must not write what one of its threads may still read.
    const readBufs = new Set([...p.inputs, ...(head ? head.inputs.map((t) => t.slot) : [])].map((s) => slots[s]!.buf));
    for (const s of p.outputs) {
      const slot = slots[s]!;
      if (slot.kind === 'owned' && readBufs.has(slot.buf)) slot.buf = alloc(slot.bytes);
      readBufs.add(slot.buf);
    }
    const producer = head && {
      inputs: head.inputs.map((t) => ({ ...t, buf: slots[t.slot]!.buf })),
      out: { ...head.out, buf: slots[p.outputs[0]!]!.buf },
      aux: [],
      params: head.params,
    };
    const built = backend.compileFused!(p.kernel, producer ?? undefined);
    const entry: FusedEntry = {
      k: 'fused',
      kernel: null,
      source: p.kernel,
      inputs: p.inputs,
      outputs: p.outputs,
      members: members.map((i) => entries[i] as RunEntry),
      producer: head,
    };
    if (built) {
      ready.push(
        built.ready.then(
          () => {
            entry.kernel = built.kernel;
          },
          // A kernel the backend could not build stays unfused; it is a bug, so say so.
          (e: Error) => console.warn(`ts.compile: running ${members.length} ops unfused: ${e.message}`),
        ),
      );
      fused++;
      ops += members.length;
    }
    out.push(entry);
  };
  for (const [i, e] of entries.entries()) {
    const single = e.k === 'run' && (writers.get(e.out.slot) ?? 0) === 1;
    if (single && fusible(e)) {
      const next = plan(entries, [...group, i], readers, maxBuffers, withProducer);
      if (group.length && !next) {
        close();
        group = [i];
        best = plan(entries, group, readers, maxBuffers, false);
        continue;
      }
      group.push(i);
      best = next;
      continue;
    }
    close();
    if (single && producible(e, backend)) {
      group = [i];
      withProducer = true;
      continue;
    }
    out.push(e);
  }
  close();
  return { entries: out, ready, fused, ops };
}
