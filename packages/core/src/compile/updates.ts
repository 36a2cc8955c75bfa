/**
 * Grouped optimizer updates in a compiled step. An optimizer steps its parameters one
 * `backend.update` each, so a recording ends with a run of updates (ten for LeNet-5), one
 * dispatch apiece. A backend with `updateMany` takes several in one call; here a run of
 * consecutive updates becomes one `updates` entry, and each replay sends it in groups of
 * `updatesPerCall` whose members agree on the rule and every hyperparameter and have no gradient
 * scale (values that change between steps, like Adam's bias corrections, are compared at each
 * replay, so a group never mixes two settings).
 */
import type { Backend, KernelTensor, UpdateArgs } from '../backend.js';
import type { Entry, SlotTensor } from './recorder.js';

/** One recorded `backend.update`. */
export type UpdateEntry = Extract<Entry, { k: 'update' }>;

/** A run of consecutive updates on distinct parameters, replayed in groups. */
export interface UpdatesEntry {
  k: 'updates';
  list: UpdateEntry[];
}

/**
 * `entries` with every run of two or more consecutive updates that touch distinct buffers made
 * one `updates` entry, when `backend` groups updates; else `entries` as they are.
 *
 * @example
 * const [entries, backend] = [[], {}] as unknown as Parameters<typeof groupUpdates>;
 * groupUpdates(entries, backend);   // [..., { k: 'updates', list: [10 updates] }]
 */
export function groupUpdates(entries: readonly Entry[], backend: Backend): Entry[] {
  if (!backend.updateMany || (backend.updatesPerCall ?? 1) < 2) return [...entries];
  const out: Entry[] = [];
  let run: UpdateEntry[] = [];
  let written = new Set<number>();
  const end = () => {
    if (run.length > 1) out.push({ k: 'updates', list: run });
    else out.push(...run);
    run = [];
    written = new Set();
  };
  for (const e of entries) {
    if (e.k !== 'update') {
      end();
      out.push(e);
      continue;
    }
    // A member may not read or write what another writes: one dispatch has no order inside.
    const s = e.slots;
    const writes = [s.param, ...s.states].map((t) => t.slot);
    const reads = [s.grad, ...(s.scale ? [s.scale] : [])].map((t) => t.slot);
    if ([...writes, ...reads].some((x) => written.has(x)) || run.some((r) => touches(r, writes))) end();
    run.push(e);
    for (const w of writes) written.add(w);
  }
  end();
  return out;
}

/** Whether `e` reads or writes any of `slots`. */
function touches(e: UpdateEntry, slots: readonly number[]): boolean {
  const s = e.slots;
  return [s.param, s.grad, ...s.states, ...(s.scale ? [s.scale] : [])].some((t) => slots.includes(t.slot));
}

/**
 * Whether `b` can share a dispatch with `a`: the same rule and hyperparameters, no scale.
 *
 * @example
 * const [a, b] = [{}, {}] as Parameters<typeof canGroupUpdates>;
 * canGroupUpdates(a, b);   // true for two Adam updates of one optimizer step
 */
export function canGroupUpdates(a: UpdateArgs, b: UpdateArgs): boolean {
  return (
    a.scale === null &&
    b.scale === null &&
    a.rule === b.rule &&
    a.lr === b.lr &&
    a.beta1 === b.beta1 &&
    a.beta2 === b.beta2 &&
    a.eps === b.eps &&
    a.weightDecay === b.weightDecay &&
    a.momentum === b.momentum &&
    a.biasCorrection1 === b.biasCorrection1 &&
    a.biasCorrection2Sqrt === b.biasCorrection2Sqrt
  );
}

/** The arguments of one recorded update at this replay: its live values and this call's buffers. */
export function updateArgs(e: UpdateEntry, kt: (t: SlotTensor) => KernelTensor): UpdateArgs {
  const s = e.slots;
  const values = e.live ? e.live() : null;
  return { ...e.args, ...values, param: kt(s.param), grad: kt(s.grad), states: s.states.map(kt), scale: s.scale && kt(s.scale) };
}

/** Replays an `updates` entry: consecutive members that can share a dispatch go together. */
export function replayUpdates(e: UpdatesEntry, kt: (t: SlotTensor) => KernelTensor, b: Backend): void {
  const per = b.updatesPerCall ?? 1;
  let group: UpdateArgs[] = [];
  const send = () => {
    if (group.length > 1) b.updateMany!(group);
    else if (group.length === 1) b.update(group[0]!);
    group = [];
  };
  for (const member of e.list) {
    const args = updateArgs(member, kt);
    if (group.length === per || (group.length > 0 && !canGroupUpdates(group[0]!, args))) send();
    group.push(args);
  }
  send();
}
