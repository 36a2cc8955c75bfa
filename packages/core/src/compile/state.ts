/**
 * The little state `ts.compile` shares with the rest of core, in a module that imports nothing
 * but errors.ts, so that tensor.ts, runtime.ts and api/optim.ts can use it without import cycles.
 * While a compiled function records its first call, `capture.active` holds the hooks that
 * the recorder installs; everywhere else it is null and these helpers cost one comparison.
 */
import { opError } from '../errors.js';

/** The resolved numbers of one optimizer update, recomputed at every replay. */
export interface LiveUpdateValues {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  biasCorrection1: number;
  biasCorrection2Sqrt: number;
}

/** What a recording in progress wants to hear about from outside the backend boundary. */
export interface CaptureHooks {
  /** A host callback to run again at this point of every replay (`hostEffect`). */
  host(fn: () => void): void;
  /** Attaches a live getter to the next `backend.update` the recorder sees. */
  liveUpdate(resolve: () => LiveUpdateValues): void;
}

export const capture = { active: null as CaptureHooks | null };

/** Throws when a tensor's values are read while a compiled function is being recorded. */
export function guardRead(op: string): void {
  if (capture.active) {
    throw opError(
      'compile',
      `${op}() was called inside a function being compiled; a compiled step cannot wait for the device or branch on values`,
      'Return the tensor from the function and read it after the call (or use ts.compile only for the part that does not read)',
    );
  }
}

/** Throws when `ts.init` is called while a compiled function is being recorded. */
export function guardInit(): void {
  if (capture.active) {
    throw opError('compile', 'ts.init() was called inside a function being compiled', 'Call `await ts.init()` once, before compiling and calling the function');
  }
}

/**
 * Runs `fn` now and, when a compiled function (`ts.compile`) is recording this call, again at
 * this point of every replay. For host-side bookkeeping that must advance with each step, such
 * as an optimizer's step counter; `fn` must not create tensors or run ops.
 *
 * @example
 * let steps = 0;
 * const step = ts.compile((x: ts.Tensor) => {
 *   ts.hostEffect(() => steps++);
 *   return x.mul(2);
 * });
 */
export function hostEffect(fn: () => void): void {
  if (typeof fn !== 'function')
    throw opError('hostEffect', `expected a function, got ${fn === null ? 'null' : typeof fn}`, 'Pass the host-side work as () => { ... }');
  fn();
  capture.active?.host(fn);
}
