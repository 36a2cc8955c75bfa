/**
 * The fuzz properties, shared by `npm test` (tests/fuzz/*.test.ts, a few hundred cases with a
 * fixed seed) and the nightly run (bench/fuzz.mjs, thousands with a fresh one).
 */
export * from './harness.js';
export * from './formats.js';
export * from './torch.js';
export * from './ops.js';
