import type { DeviceBuffer, KernelArgs, OpName, OpParams } from '@tessera/core';
import type { AnyKernelCall, DeviceCaps } from '../spec.js';
import type { TuneSite, VariantOf } from '../tune/sites.js';

/** What a kernel builder may use besides its arguments: the device's caps and scratch memory. */
export interface KernelContext {
  readonly caps: DeviceCaps;
  /**
   * A temporary buffer of at least `bytes`, valid for the dispatches this builder returns (it
   * goes back to the pool once they are recorded; later kernels run after them, in order).
   */
  scratch(bytes: number): DeviceBuffer;
  /**
   * Which variant of `site` to build (tune/sites.ts): a forced one, else autotune's winner for
   * `bucket` on this adapter, else `pick` (the builder's own heuristic), which also runs while
   * the bucket is being tuned. `legal` lists the variants these arguments allow (`pick` among
   * them); a winner or forced variant outside it is ignored.
   */
  variant<S extends TuneSite>(site: S, bucket: string, legal: readonly VariantOf<S>[], pick: VariantOf<S>): VariantOf<S>;
}

/** The dispatches that compute one primitive. */
export type Dispatches = AnyKernelCall | readonly AnyKernelCall[];

/** How one primitive becomes WGSL dispatches. */
export type KernelBuilder<N extends OpName> = (args: KernelArgs<OpParams[N]>, ctx: KernelContext) => Dispatches;

/** Kernel builders for a group of ops; `WEBGPU_KERNELS` joins them into a complete table. */
export type KernelBuilders<K extends OpName> = { [N in K]: KernelBuilder<N> };
