import type { KernelArgs, UpdateArgs } from '../backend.js';
import type { OpName } from '../ops/registry.js';

/**
 * The runtime's only contact with the debugging tools (`ts.debug`): op and update hooks, and a
 * check at every sync. When no tool is on, each hook is one boolean test, so the hot path pays
 * nothing measurable.
 */
export interface DebugTool {
  afterOp(op: OpName, args: KernelArgs<unknown>): void;
  beforeUpdate(args: UpdateArgs): void;
  afterUpdate(args: UpdateArgs): void;
  /** Runs at every read of tensor values; throws to report a problem found since the last. */
  atSync(): Promise<void>;
  /** Drops what the tool holds (on shutdown, or when it is switched off). */
  reset(): void;
}

const tools = new Set<DebugTool>();
let active = false;

/** @internal Switches a debugging tool on or off. */
export function setDebugTool(tool: DebugTool, on: boolean): void {
  if (on) tools.add(tool);
  else if (tools.delete(tool)) tool.reset();
  active = tools.size > 0;
}

/** @internal Whether a tool is on. */
export const debugActive = (): boolean => active;

export function debugAfterOp(op: OpName, args: KernelArgs<unknown>): void {
  if (active) for (const t of tools) t.afterOp(op, args);
}

export function debugBeforeUpdate(args: UpdateArgs): void {
  if (active) for (const t of tools) t.beforeUpdate(args);
}

export function debugAfterUpdate(args: UpdateArgs): void {
  if (active) for (const t of tools) t.afterUpdate(args);
}

/** Called after every read; the first tool that finds a problem throws. */
export async function debugAtSync(): Promise<void> {
  if (active) for (const t of [...tools]) await t.atSync();
}

/** Switches every tool off (ts.shutdown). */
export function resetDebug(): void {
  for (const t of tools) t.reset();
  tools.clear();
  active = false;
}

/**
 * The user's line that led to the op: the first stack frame outside Tessera's own packages
 * (core and nn), so an error points at the model code rather than at the runtime.
 */
export function callSite(): string {
  // An op is called from deep inside the runtime (layers, tidy, the op table): keep enough
  // frames to reach the user's code. Only paid while a debugging tool is on.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
  const own = /[\\/](packages[\\/](core|nn)[\\/]|@tessera[\\/](core|nn)[\\/]|node_modules[\\/])|node:internal|\(native\)/;
  const user = frames.find((f) => !own.test(f));
  return user ? user.replace(/^at\s+/, '') : 'unknown (no caller outside Tessera in the stack)';
}
