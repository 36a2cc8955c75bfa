import type { DeviceBuffer, KernelArgs, OpName, OpParams } from '@tessera/core';
import type { AnyKernelCall, DeviceCaps } from '../spec.js';

/** What a kernel builder may use besides its arguments: the device's caps and scratch memory. */
export interface KernelContext {
  readonly caps: DeviceCaps;
  /**
   * A temporary buffer of at least `bytes`, valid for the dispatches this builder returns (it
   * goes back to the pool once they are recorded; later kernels run after them, in order).
   */
  scratch(bytes: number): DeviceBuffer;
}

/** The dispatches that compute one primitive. */
export type Dispatches = AnyKernelCall | readonly AnyKernelCall[];

/** How one primitive becomes WGSL dispatches. */
export type KernelBuilder<N extends OpName> = (args: KernelArgs<OpParams[N]>, ctx: KernelContext) => Dispatches;

/** Kernel builders for a group of ops; `WEBGPU_KERNELS` joins them into a complete table. */
export type KernelBuilders<K extends OpName> = { [N in K]: KernelBuilder<N> };
