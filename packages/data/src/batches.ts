/**
 * Seeded, reproducible mini-batch iteration over (images, labels) typed
 * arrays (browser-safe, no dependencies).
 *
 * Reproducibility is the point: the same (seed, epoch) always gives the same
 * order on every machine and runtime, so a training run can be replayed and
 * two backends can be compared batch for batch. That rules out Math.random,
 * hence the small hand-written PRNG below.
 */

/** Finalizer of MurmurHash3: a cheap bijective scrambler of 32-bit ints. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Mulberry32: a 32-bit-state PRNG returning uint32s. Statistically fine for
 * shuffling (passes gjrand's 13 GB test) and tiny; not for cryptography.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Combines a user seed and an epoch index into one 32-bit PRNG seed. Hashing
 * (rather than `seed + epoch`) keeps seed 1 / epoch 0 from replaying seed 0 /
 * epoch 1. Both halves of a large integer seed contribute.
 */
export function mixSeed(seed: number, epoch: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  const e = fmix32((epoch + 0x9e3779b9) >>> 0);
  return fmix32(lo ^ fmix32(hi ^ e) ^ e);
}

/** A permutation of `0..n-1`, determined by (seed, epoch). Fisher–Yates. */
export function shuffledIndices(n: number, seed: number, epoch = 0): Uint32Array {
  checkInteger('n', n, 0);
  checkInteger('seed', seed);
  checkInteger('epoch', epoch, 0);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const next = mulberry32(mixSeed(seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    // Scaling a uint32 to [0, i] is biased by at most (i+1)/2^32, which is
    // negligible for dataset sizes; rejection sampling would cost a branch.
    const j = Math.floor((next() / 0x100000000) * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * What `batches` accepts as targets: int32 class ids (classification) or float32 values
 * (regression targets, soft labels), any number per sample.
 *
 * @example
 * const ids: Targets = new Int32Array([3, 1, 4]);
 * const values: Targets = new Float32Array([0.5, -1.25, 2]);
 */
export type Targets = Int32Array | Float32Array;

/** Options for `batches`. */
export interface BatchOptions<L extends Targets = Int32Array> {
  /** `N * prod(sampleShape)` floats, sample-major. */
  images: Float32Array;
  /**
   * The targets, sample-major: `N` int32 class ids, or float32 values, `N * prod(targetShape)`
   * of them (e.g. regression targets).
   */
  labels: L;
  /** Shape of one sample, e.g. `[1, 28, 28]`; only its product is used. */
  sampleShape: readonly number[];
  /**
   * Shape of one sample's targets. Default: `[]` (one value per sample) for Int32Array labels,
   * `[labels.length / N]` for Float32Array ones (one row of values per sample, so that
   * `tensorBatches` gives [size, k] targets, the shape of a dense layer's output).
   */
  targetShape?: readonly number[] | undefined;
  /**
   * Samples per batch. Undefined or `>= N` selects full-batch mode: one batch
   * holding all of the data, as the input arrays themselves (no copy, no
   * shuffle: order cannot change a full-batch step), regardless of dropLast.
   */
  batchSize?: number | undefined;
  /** Permute the samples each epoch (default true). */
  shuffle?: boolean | undefined;
  /** Integer seed of the permutation (default 0). */
  seed?: number | undefined;
  /** Epoch index, mixed into the seed so every epoch gets a new order (default 0). */
  epoch?: number | undefined;
  /** Skip a final batch smaller than batchSize (default false). */
  dropLast?: boolean | undefined;
}

/** One mini-batch. */
export interface Batch<L extends Targets = Int32Array> {
  /** `size * prod(sampleShape)` floats. */
  x: Float32Array;
  /** `size * prod(targetShape)` targets (`size` labels for class ids), the type of `labels`. */
  y: L;
  /** Samples in this batch (the last one may be smaller unless dropLast). */
  size: number;
  /** Position of this batch in the epoch, from 0. */
  index: number;
}

/** Number of batches `batches` yields for `n` samples. */
export function batchCount(n: number, batchSize?: number, dropLast = false): number {
  checkInteger('n', n, 0);
  if (n === 0) return 0;
  if (batchSize === undefined || batchSize >= n) return 1;
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Iterates over one epoch of mini-batches. Validation happens on the call,
 * not on the first `next()`, so mistakes surface where they are made.
 *
 * Shuffled batches are fresh copies; unshuffled ones are zero-copy views
 * (`subarray`) of `images` / `labels`, so do not mutate them. Float32Array
 * `labels` (regression targets, any number per sample) are batched like the
 * images; Int32Array class ids one per sample.
 */
export function batches<L extends Targets = Int32Array>(options: BatchOptions<L>): Generator<Batch<L>, void, undefined> {
  const { images, labels, sampleShape, batchSize } = options;
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const dropLast = options.dropLast ?? false;

  if (!(images instanceof Float32Array)) throw new Error('batches: images must be a Float32Array');
  const floatTargets = labels instanceof Float32Array;
  if (!(labels instanceof Int32Array) && !floatTargets) {
    throw new Error('batches: labels must be an Int32Array (class ids) or a Float32Array (regression targets)');
  }
  checkShape('sampleShape', sampleShape, '[1, 28, 28]', false);
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  if (images.length % sampleSize !== 0) {
    throw new Error(
      `batches: images has ${images.length} values, not a multiple of the sample size ${sampleSize} ` + `(sampleShape [${sampleShape.join(', ')}])`,
    );
  }
  const n = images.length / sampleSize;
  let targetSize = 1;
  if (options.targetShape !== undefined) {
    checkShape('targetShape', options.targetShape, '[] or [3]', true);
    targetSize = options.targetShape.reduce((a, b) => a * b, 1);
  } else if (floatTargets && n > 0) targetSize = labels.length / n;
  if (labels.length !== n * targetSize || !Number.isInteger(targetSize) || (floatTargets && n > 0 && targetSize === 0)) {
    const per =
      options.targetShape !== undefined ? ` of shape [${options.targetShape.join(', ')}]` : floatTargets ? ' (a whole number of values per sample)' : '';
    throw new Error(
      `batches: mismatched lengths: images hold ${n} samples of shape [${sampleShape.join(', ')}] ` + `but labels has ${labels.length} entries${per}`,
    );
  }
  if (batchSize !== undefined) checkBatchSize(batchSize);
  checkInteger('seed', seed);
  checkInteger('epoch', epoch, 0);

  return iterate(images, labels, sampleSize, targetSize, n, batchSize, shuffle, seed, epoch, dropLast);
}

function* iterate<L extends Targets>(
  images: Float32Array,
  labels: L,
  sampleSize: number,
  targetSize: number,
  n: number,
  batchSize: number | undefined,
  shuffle: boolean,
  seed: number,
  epoch: number,
  dropLast: boolean,
): Generator<Batch<L>, void, undefined> {
  if (n === 0) return;
  if (batchSize === undefined || batchSize >= n) {
    yield { x: images, y: labels, size: n, index: 0 };
    return;
  }
  const order = shuffle ? shuffledIndices(n, seed, epoch) : undefined;
  const count = batchCount(n, batchSize, dropLast);
  for (let b = 0; b < count; b++) {
    const from = b * batchSize;
    const size = Math.min(batchSize, n - from);
    if (order === undefined) {
      yield {
        x: images.subarray(from * sampleSize, (from + size) * sampleSize),
        y: labels.subarray(from * targetSize, (from + size) * targetSize) as L,
        size,
        index: b,
      };
      continue;
    }
    const x = new Float32Array(size * sampleSize);
    const y = (labels instanceof Float32Array ? new Float32Array(size * targetSize) : new Int32Array(size * targetSize)) as L;
    for (let k = 0; k < size; k++) {
      const s = order[from + k]!;
      x.set(images.subarray(s * sampleSize, (s + 1) * sampleSize), k * sampleSize);
      if (targetSize === 1) y[k] = labels[s]!;
      else y.set(labels.subarray(s * targetSize, (s + 1) * targetSize), k * targetSize);
    }
    yield { x, y, size, index: b };
  }
}

function checkShape(what: string, shape: readonly number[], example: string, allowEmpty: boolean): void {
  if (!Array.isArray(shape) || (!allowEmpty && shape.length === 0)) {
    throw new Error(`batches: ${what} must be a ${allowEmpty ? '' : 'non-empty '}array such as ${example}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d <= 0) {
      throw new Error(`batches: ${what} entries must be positive integers, got [${shape.join(', ')}]`);
    }
  }
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new Error(`batches: batchSize must be a positive integer (or undefined for full batch), got ${batchSize}`);
  }
}

function checkInteger(what: string, value: number, min = Number.MIN_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`batches: ${what} must be an integer${min === 0 ? ' >= 0' : ''}, got ${value}`);
  }
}
