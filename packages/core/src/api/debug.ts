/**
 * Numerical debugging: which op first went wrong. `ts.debug.shadow(true)` re-runs every op on
 * the reference backend and compares; `ts.debug.checkNumerics(true)` flags the first NaN or
 * infinity on the device. Both report at the next read of a tensor's values, naming the op,
 * its shapes and parameters, and the line of your code that called it. See docs/debugging.md.
 *
 * @example
 * ts.debug.checkNumerics(true);
 * await loss.item();     // throws if some op since the last read produced NaN or Inf
 */
export { checkNumerics } from '../debug/numerics.js';
export { shadow, check, type ShadowOptions } from '../debug/shadow.js';
