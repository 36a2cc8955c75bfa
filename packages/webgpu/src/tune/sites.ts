/**
 * The ops whose kernels come in variants, and the variants of each: the table autotune times
 * against each other (tune/tuner.ts) and tests force one by one. A kernel builder asks its
 * context for the variant to run (`KernelContext.variant`), giving the variants legal for its
 * arguments and the one its heuristics pick; it then builds that variant's dispatches.
 *
 * Every variant of a site computes the same values (up to the order of float additions, never
 * more than a few ulps apart); tests/cnn/autotune.test.ts runs each one against the reference.
 */
export const TUNE_SITES = {
  /**
   * register: a register tile of 4 or 8 rows x 4 columns per thread, no workgroup memory
   * (CPU adapters; the small dense products of GPUs); tiled64: 64x64 blocks through workgroup
   * memory, 4x4 per thread; tiled128: 128x128 blocks, 8x8 per thread, vec4 loads; splitK: the
   * reduction split over a workgroup, for few outputs and a long K (LeNet's dense layers);
   * subgroup: splitK's reduction by subgroupAdd (devices with the 'subgroups' feature).
   */
  matmul: ['register4', 'register8', 'tiled64', 'tiled128', 'splitK', 'subgroup'],
  /** direct: kernels/conv2d.wgsl with channel pairs; single: one channel per pass; gemm: implicit GEMM. */
  conv2d: ['direct', 'single', 'gemm'],
  conv2dBackpropInput: ['direct', 'single', 'gemm'],
  /**
   * The filter gradient's reduction over (n, oh) rows split into few (CPU-sized: ~1k threads)
   * or many (GPU-sized: ~16k threads) partial sums, or an implicit GEMM.
   */
  conv2dBackpropFilter: ['fewChunks', 'manyChunks', 'gemm'],
  /** thread: a thread per row; workgroup: a workgroup of 64 per row (rows of 64 or more). */
  softmax: ['thread', 'workgroup'],
  /** window: a thread per 2x2 window scatters its gradient; gather: a thread per input element. */
  maxPool2dBackward: ['window', 'gather'],
} as const;

/** An op with variants. */
export type TuneSite = keyof typeof TUNE_SITES;
/** The variants of one site. */
export type VariantOf<S extends TuneSite> = (typeof TUNE_SITES)[S][number];
/** A variant forced per site (tests, `createBackend({ variants })`). */
export type ForcedVariants = { readonly [S in TuneSite]?: VariantOf<S> };

/**
 * The shape bucket of a size: the power of two at or above it, so that shapes that differ
 * only a little share a tuning result (a batch of 60 tunes like one of 64).
 *
 * @example
 * bucketOf(60); // 64
 */
export function bucketOf(n: number): number {
  return n <= 1 ? n : 2 ** Math.ceil(Math.log2(n));
}

/**
 * A bucket key from named sizes (bucketed) and named exact values (kept), in order:
 * `M64,N128,K512,tA0`.
 *
 * @example
 * bucketKey({ M: 60, N: 120 }, { tA: 0 }); // 'M64,N128,tA0'
 */
export function bucketKey(sizes: Readonly<Record<string, number>>, exact: Readonly<Record<string, number>> = {}): string {
  const parts: string[] = [];
  for (const k in sizes) parts.push(`${k}${bucketOf(sizes[k]!)}`);
  for (const k in exact) parts.push(`${k}${exact[k]}`);
  return parts.join(',');
}

/** Checks a `variants` option: every site and variant must exist. */
export function checkForced(forced: Readonly<Record<string, string>>): ForcedVariants {
  for (const [site, v] of Object.entries(forced)) {
    const list = (TUNE_SITES as Record<string, readonly string[]>)[site];
    if (!list) throw new Error(`createBackend: unknown variants site '${site}'. Sites with variants: ${Object.keys(TUNE_SITES).join(', ')}`);
    if (!list.includes(v)) throw new Error(`createBackend: '${site}' has no variant '${v}'. Its variants: ${list.join(', ')}`);
  }
  return forced as ForcedVariants;
}
