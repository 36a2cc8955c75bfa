/**
 * Parameter initializers, as in `lasagne.init`. Each is a factory: `init.GlorotUniform()` (or
 * `new init.GlorotUniform()`) returns an object whose `sample(shape)` makes a tensor.
 *
 * Seeding: an initializer given `{ seed }` draws its k-th sample from stream (seed, k), so the
 * same program builds the same weights on any device, and one seeded initializer shared by two
 * layers still gives them different weights. Unseeded initializers draw from a module-wide
 * counter (reset with `init.setSeed`), so a run that seeds nothing still repeats itself.
 */
import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';

/**
 * Makes a parameter tensor of a given shape; any object with `sample` can be passed as a
 * layer's W or b.
 *
 * @example
 * const ones: Initializer = { sample: (shape) => ts.ones(shape) };
 */
export interface Initializer {
  sample(shape: readonly number[]): Tensor;
}

/** An initializer factory that works with and without `new`, like a Lasagne class. @example new init.Normal(0.1) */
export interface InitFactory<A extends unknown[]> {
  (...args: A): Initializer;
  new (...args: A): Initializer;
}

/** Options shared by the random initializers. @example init.Normal(0.1, 0, { seed: 1 }) */
export interface SeedOptions {
  /** Makes the draws reproducible and independent of other random calls. */
  seed?: number;
}

/** `gain` of the Glorot / He initializers: a number, or 'relu' for sqrt(2). @example init.HeNormal('relu') */
export type Gain = number | 'relu';

/** Options of the Glorot and He initializers. @example init.GlorotUniform({ gain: 'relu', seed: 1 }) */
export interface GainOptions extends SeedOptions {
  gain?: Gain;
}

function factory<A extends unknown[]>(make: (...args: A) => Initializer): InitFactory<A> {
  // A plain function (not an arrow) can be called with `new`; returning an object makes
  // `new F()` yield that object, so both spellings behave the same.
  return function (this: unknown, ...args: A) {
    return make(...args);
  } as unknown as InitFactory<A>;
}

/** Integer hash of two 32-bit values (murmur3 finalizer), to derive per-sample seeds. */
function mix(a: number, b: number): number {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul((h ^ b) >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

let globalSeed = 0x1a5a6e;
let globalDraws = 0;

/**
 * Restarts the stream that unseeded initializers draw from, like `lasagne.random.set_rng`.
 *
 * @example
 * init.setSeed(42);   // the next network built without seeds gets the same weights each run
 */
export function setSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new Error(`init.setSeed: seed must be an integer, got ${seed}`);
  globalSeed = seed >>> 0;
  globalDraws = 0;
}

/** Hands out the seed of each sample: per-initializer when seeded, else module-wide. */
function seeder(name: string, opts: SeedOptions = {}): () => number {
  const { seed } = opts;
  if (seed === undefined) return () => mix(globalSeed, globalDraws++);
  if (!Number.isInteger(seed)) throw new Error(`init.${name}: seed must be an integer, got ${seed}`);
  let k = 0;
  return () => mix(seed >>> 0, k++);
}

function checkShape(name: string, shape: readonly number[], minRank = 0): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`init.${name}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape.length < minRank) {
    throw new Error(`init.${name}: needs a shape with at least ${minRank} dimensions ([in, out] or [F, C, KH, KW]), got ${ts.fmtShape(shape)}`);
  }
  return [...shape];
}

function gainOf(name: string, g: Gain | undefined): number {
  if (g === undefined) return 1;
  if (g === 'relu') return Math.SQRT2;
  if (typeof g !== 'number' || !Number.isFinite(g) || g <= 0)
    throw new Error(`init.${name}: gain must be a positive number or 'relu', got ${JSON.stringify(g)}`);
  return g;
}

/** Accepts `Glorot(gain)` (Lasagne's positional form) as well as `Glorot({ gain, seed })`. */
const gainOpts = (a: Gain | GainOptions | undefined): GainOptions =>
  typeof a === 'object' && a !== null ? (a as GainOptions) : { gain: a as Gain | undefined };

/**
 * Fan-in and fan-out as Lasagne computes them: for a dense weight [in, out] they are in and
 * out; for a convolution weight [F, C, KH, KW] they are C*KH*KW and F*KH*KW.
 *
 * @example
 * init.computeFans([16, 6, 5, 5]);   // { fanIn: 150, fanOut: 400 }
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const s = checkShape('computeFans', shape, 2);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return s.length === 2 ? { fanIn: s[0]!, fanOut: s[1]! } : { fanIn: s[1]! * receptive, fanOut: s[0]! * receptive };
}

const uniformIn = (shape: readonly number[], lo: number, hi: number, seed: number): Tensor => ts.rand(shape, { seed, low: lo, high: hi });
const normalWith = (shape: readonly number[], mean: number, std: number, seed: number): Tensor => ts.randn(shape, { seed, mean, std });

/**
 * Every value `val` (Lasagne's default for biases, 0).
 *
 * @example
 * new DenseLayer(l, { numUnits: 10, b: init.Constant(0.1) });
 */
export const Constant = factory((val: number = 0): Initializer => {
  if (!Number.isFinite(val)) throw new Error(`init.Constant: val must be a finite number, got ${val}`);
  return { sample: (shape) => ts.full(checkShape('Constant', shape), val) };
});

/**
 * Normal samples with standard deviation `std` and mean `mean`.
 *
 * @example
 * init.Normal(0.01).sample([784, 10]);
 */
export const Normal = factory((std: number = 0.01, mean: number = 0, opts: SeedOptions = {}): Initializer => {
  if (!Number.isFinite(std) || std < 0 || !Number.isFinite(mean))
    throw new Error(`init.Normal: std must be >= 0 and mean finite, got std ${std}, mean ${mean}`);
  const next = seeder('Normal', opts);
  return { sample: (shape) => normalWith(checkShape('Normal', shape), mean, std, next()) };
});

/** Options of `Uniform`. @example init.Uniform(0, { std: 0.1, mean: 1 }) */
export interface UniformOptions extends SeedOptions {
  /** When given, samples uniformly with this standard deviation around `mean` (ignores range). */
  std?: number;
  mean?: number;
}

/**
 * Uniform samples in [-range, range], in [lo, hi] for a pair, or with a given std (Lasagne's
 * `Uniform(range, std, mean)`).
 *
 * @example
 * init.Uniform(0.05).sample([10, 10]);
 * init.Uniform([0, 1], { seed: 3 }).sample([4]);
 */
export const Uniform = factory((range: number | readonly [number, number] = 0.01, opts: UniformOptions = {}): Initializer => {
  let lo: number;
  let hi: number;
  if (opts.std !== undefined) {
    const mean = opts.mean ?? 0;
    [lo, hi] = [mean - Math.sqrt(3) * opts.std, mean + Math.sqrt(3) * opts.std];
  } else if (typeof range === 'number') [lo, hi] = [-range, range];
  else if (Array.isArray(range) && range.length === 2) [lo, hi] = range as [number, number];
  else throw new Error(`init.Uniform: range must be a number or a [low, high] pair, got ${JSON.stringify(range)}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`init.Uniform: invalid interval [${lo}, ${hi}]`);
  const next = seeder('Uniform', opts);
  return { sample: (shape) => uniformIn(checkShape('Uniform', shape), lo, hi, next()) };
});

/** Glorot / He in one place: the std from the fans, then a normal or a uniform of that std. */
function scaled(
  name: string,
  a: Gain | GainOptions | undefined,
  dist: 'normal' | 'uniform',
  stdOf: (f: { fanIn: number; fanOut: number }) => number,
): Initializer {
  const opts = gainOpts(a);
  const gain = gainOf(name, opts.gain);
  const next = seeder(name, opts);
  return {
    sample(shape) {
      checkShape(name, shape, 2);
      const std = gain * stdOf(computeFans(shape));
      if (dist === 'normal') return normalWith(shape, 0, std, next());
      const limit = Math.sqrt(3) * std;
      return uniformIn(shape, -limit, limit, next());
    },
  };
}

/**
 * Glorot (Xavier) uniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). The default
 * weight initializer of DenseLayer and Conv2DLayer, as in Lasagne.
 *
 * @example
 * new DenseLayer(l, { numUnits: 100, W: init.GlorotUniform({ gain: 'relu', seed: 1 }) });
 */
export const GlorotUniform = factory((gain?: Gain | GainOptions) => scaled('GlorotUniform', gain, 'uniform', (f) => Math.sqrt(2 / (f.fanIn + f.fanOut))));

/**
 * Glorot (Xavier) normal: N(0, std²) with std = gain * sqrt(2 / (fanIn + fanOut)).
 *
 * @example
 * init.GlorotNormal({ seed: 1 }).sample([100, 10]);
 */
export const GlorotNormal = factory((gain?: Gain | GainOptions) => scaled('GlorotNormal', gain, 'normal', (f) => Math.sqrt(2 / (f.fanIn + f.fanOut))));

/**
 * He (Kaiming) normal: N(0, std²) with std = gain * sqrt(1 / fanIn). Lasagne's default gain
 * is 1; pass 'relu' for PyTorch's kaiming_normal_ (sqrt(2)).
 *
 * @example
 * new Conv2DLayer(l, { numFilters: 32, filterSize: 3, W: init.HeNormal('relu') });
 */
export const HeNormal = factory((gain?: Gain | GainOptions) => scaled('HeNormal', gain, 'normal', (f) => Math.sqrt(1 / f.fanIn)));

/**
 * He (Kaiming) uniform: U(-a, a) with a = gain * sqrt(3 / fanIn).
 *
 * @example
 * init.HeUniform({ gain: 'relu', seed: 2 }).sample([64, 32, 3, 3]);
 */
export const HeUniform = factory((gain?: Gain | GainOptions) => scaled('HeUniform', gain, 'uniform', (f) => Math.sqrt(1 / f.fanIn)));
