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
export {
  bytesPerElement,
  decodeHalf,
  decodeValues,
  encodeHalf,
  fromHalfBits,
  isFloatDType,
  roundHalf,
  storageBytes,
  storageWords,
  toHalfBits,
} from './dtype.js';
export type { Shape } from './shape.js';
export * from './functional.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { asyncLocalStorageContext, type AsyncContext, type ScopeState } from './context.js';
export { applyUpdate, optimStateCount, type OptimRule, type OptimHyper } from './api/optim.js';
export { compile, hostEffect, type CompiledFunction, type CompileOptions, type CompileInfo, type CompileResult } from './compile.js';
export { init, shutdown, backendInfo, flush, emptyCache, stats, registerBackend, registeredBackends, type InitOptions } from './runtime.js';
export * as debug from './api/debug.js';
export { tune, type TuneOptions } from './api/tune.js';
export { checkAtNextRead } from './debug/deferred.js';
export { fmtShape, opError } from './errors.js';

// For backends: the boundary (backend.ts), the op table and the shape helpers kernels share.
export type {
  Backend,
  BackendInfo,
  BackendStats,
  BackendFactory,
  BackendProbe,
  BackendCreateOptions,
  DeviceBuffer,
  KernelTensor,
  KernelArgs,
  OpKernels,
  UpdateArgs,
  PreparedRun,
  FusedHandle,
  TuneRow,
} from './backend.js';
export { evalFused, type ScalarFns, type Expr, type FusedKernel, type IndexMap, type UnaryFn, type BinaryFn } from './ops/expr.js';
export { OPS } from './ops/table.js';
export type { OpName, OpParams, Conv2dParams, Pool2dParams, ReduceParams, BatchNormParams, TensorInfo } from './ops/registry.js';
export { MAX_RANK, sizeOf, stridesOf, broadcastShapes, broadcastStrides, windowOutputSize } from './shape.js';
export { convGeometry, type ConvGeometry } from './ops/conv.js';
export { poolGeometry, type PoolGeometry } from './ops/pool.js';
export { softmaxRows } from './ops/softmax.js';
export { batchNormGeometry } from './ops/norm.js';
export { matmulDims } from './ops/matmul.js';
export { reducedShape } from './ops/reduce.js';
