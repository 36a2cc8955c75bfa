/**
 * What every fuzz property shares: how many runs, which seed, and the check that a failure is a
 * clean one. Plain TypeScript with no test runner, so the nightly script (bench/fuzz.mjs, under
 * tsx) runs the same properties as `npm test` with more cases.
 */
import type fc from 'fast-check';

/** A broken promise of the library, with the input that broke it (fast-check prints both). */
export class FuzzViolation extends Error {
  override name = 'FuzzViolation';
}

export function violation(what: string): never {
  throw new FuzzViolation(what);
}

const env = (name: string): string | undefined => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];

/**
 * Cases per property: `TESSERA_FUZZ_RUNS` when set (the nightly run sets thousands), else the
 * property's own default, sized so that all fuzz files of `npm test` take well under 20 s.
 * `divisor` scales the env count down for a property whose cases are costlier (WebGPU ones).
 */
export function fuzzRuns(fallback: number, divisor = 1): number {
  const v = env('TESSERA_FUZZ_RUNS');
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`TESSERA_FUZZ_RUNS must be a positive integer, got '${v}'`);
  return Math.ceil(n / divisor);
}

/**
 * The seed: `TESSERA_FUZZ_SEED` when set, else a fixed one, so `npm test` explores the same cases
 * on every machine and a red CI run is reproducible; the nightly run passes a fresh seed.
 */
export function fuzzSeed(): number {
  const v = env('TESSERA_FUZZ_SEED');
  if (v === undefined || v === '') return 20261201;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`TESSERA_FUZZ_SEED must be an integer, got '${v}'`);
  return n;
}

/** fast-check's parameters for one property (shrinking stays on: a small failing case is the report). */
export function fuzzParams(runs: number, divisor = 1): fc.Parameters<unknown> {
  return { numRuns: fuzzRuns(runs, divisor), seed: fuzzSeed(), endOnFailure: false };
}

/** Longest error message accepted: a message that embeds a whole header or array is a bug too. */
export const MAX_MESSAGE = 2000;

/**
 * Asserts `err` is a plain, well-formed library error: an `Error` (not a TypeError or RangeError
 * from deep inside, not a thrown string), whose message starts with `prefix` and matches `pattern`.
 */
export function expectCleanError(err: unknown, prefix: string | readonly string[], pattern: RegExp | null, what: string, maxLength = MAX_MESSAGE): Error {
  if (!(err instanceof Error)) violation(`${what}: threw a non-Error ${typeof err}: ${String(err).slice(0, 200)}`);
  if (err instanceof FuzzViolation) throw err;
  if (err.constructor !== Error) violation(`${what}: threw a raw ${err.constructor.name}: ${err.message.slice(0, 300)}`);
  const prefixes = typeof prefix === 'string' ? [prefix] : prefix;
  if (!prefixes.some((p) => err.message.startsWith(`${p}: `))) {
    violation(`${what}: the error does not start with ${prefixes.map((p) => `'${p}: '`).join(' or ')}: ${err.message.slice(0, 300)}`);
  }
  if (pattern && !pattern.test(err.message)) violation(`${what}: the error does not match ${pattern}: ${err.message.slice(0, 300)}`);
  if (err.message.length > maxLength) violation(`${what}: a ${err.message.length}-character error message: ${err.message.slice(0, 200)}...`);
  return err;
}

/** A little-endian 64-bit write that also takes values above 2^53 exactly (as a bigint). */
export function setU64(view: DataView, at: number, value: bigint): void {
  view.setBigUint64(at, BigInt.asUintN(64, value), true);
}

/** Deterministic bytes from a seed (mulberry32), so cases shrink and replay exactly. */
export function seededBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** Counts of what the cases did, printed by the nightly run. */
export type Outcomes = Record<string, number>;

export function tally(outcomes: Outcomes | undefined, key: string): void {
  if (outcomes) outcomes[key] = (outcomes[key] ?? 0) + 1;
}
