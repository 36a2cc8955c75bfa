/**
 * @tessera/core: eager GPU tensors with a tape-based autograd.
 *
 * @example
 * import * as ts from '@tessera/core';
 * await ts.init();
 * const p = ts.tensor([1, 2, 3], { requiresGrad: true });
 * p.mul(p).sum().backward();
 * console.log(await p.grad!.data());   // Float32Array [2, 4, 6]
 */
export { Tensor, type NestedArray } from './tensor.js';
export type { DType } from './dtype.js';
export type { Shape } from './shape.js';
export * from './functional.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { applyUpdate, optimStateCount, type OptimRule, type OptimHyper } from './api/optim.js';
export { init, shutdown, backendInfo, flush, emptyCache, stats, setBackendLoader, type InitOptions } from './runtime.js';
export type { Backend, BackendInfo, BackendStats, DeviceCaps } from './backend.js';
export { KERNELS, grid1d, WG_1D, type KernelName, type KernelCall, type AnyKernelCall, type KernelSpec, type UniformType, type DeviceBuffer } from './kernels.js';
export { OPS } from './ops/table.js';
export type { OpName, OpParams } from './ops/registry.js';
export { fmtShape } from './errors.js';
