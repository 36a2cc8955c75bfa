import type { DeviceBuffer } from '@tessera/core';

/**
 * The binding layout of every WGSL kernel in `kernels/`, declared once and typed.
 *
 * Each kernel binds its uniform block at binding 0 and then its storage buffers, in the order
 * listed in `buffers`, at bindings 1, 2, ... Uniform fields are packed in order with WGSL's
 * uniform layout: scalars take 4 bytes, a `u32x8` (eight sizes or strides, declared in WGSL as
 * `array<vec4<u32>, 2>`) is 16-byte aligned and takes 32. A test parses each WGSL `Params`
 * struct and checks it against this table, so the two cannot drift apart. Kernels that share
 * one Params struct (the conv kernels, kernels/lib/conv.wgsl) share its field list too, and a
 * call passes every field (0 for those its kernel does not read).
 *
 * `constants` are WGSL `override` constants: they pick a variant at pipeline creation, so a
 * kernel is specialised (by op, dtype, tile shape) without splicing WGSL strings.
 */
export type UniformType = 'u32' | 'i32' | 'f32' | 'u32x8';

export interface KernelSpec {
  /** WGSL file in `kernels/`, without `.wgsl`. */
  readonly file: string;
  readonly entry: string;
  readonly buffers: readonly string[];
  readonly uniforms: readonly (readonly [name: string, type: UniformType])[];
  readonly constants: readonly string[];
}

const spec = <const S extends KernelSpec>(s: S): S => s;
const SHAPE = 'u32x8' as const;
/**
 * The Params of the conv kernels (kernels/lib/conv.wgsl): the geometry, then the blocking
 * and chunking fields of the separate kernels (each reads only its own).
 */
const CONV = [
  ['total', 'u32'],
  ['C', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ['F', 'u32'],
  ['OH', 'u32'],
  ['OW', 'u32'],
  ['KH', 'u32'],
  ['KW', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['dh', 'u32'],
  ['dw', 'u32'],
  ['pt', 'u32'],
  ['pl', 'u32'],
  ['groups', 'u32'],
  ['cpg', 'u32'],
  ['fpg', 'u32'],
  ['fblocks', 'u32'],
  ['owblocks', 'u32'],
  ['cblocks', 'u32'],
  ['iwblocks', 'u32'],
  ['tblocks', 'u32'],
  ['rows', 'u32'],
  ['rows_per_chunk', 'u32'],
] as const;
const POOL = [
  ['total', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ['OH', 'u32'],
  ['OW', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['ph', 'u32'],
  ['pw', 'u32'],
] as const;
/** Shared by the matmul kernels (kernels/lib/matmul.wgsl). */
const MATMUL = [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['batch', 'u32'],
  ['a_rs', 'u32'],
  ['a_cs', 'u32'],
  ['b_rs', 'u32'],
  ['b_cs', 'u32'],
  ['batch_rank', 'u32'],
  ['batch_shape', SHAPE],
  ['a_bstrides', SHAPE],
  ['b_bstrides', SHAPE],
  // Bit 0 bias, bit 1 ReLU (uniforms: one pipeline serves every form).
  ['flags', 'u32'],
] as const;
const SOFTMAX = [
  ['rows', 'u32'],
  ['D', 'u32'],
  ['inner', 'u32'],
] as const;
const XENT = [
  ['N', 'u32'],
  ['C', 'u32'],
] as const;
/** Shared by the batch-norm kernels (kernels/lib/batch_norm.wgsl); each reads the fields it needs. */
const BN = [
  ['rows', 'u32'],
  ['C', 'u32'],
  ['inner', 'u32'],
  ['R', 'u32'],
  ['block', 'u32'],
  ['blocks', 'u32'],
  ['var_off', 'u32'],
  ['eps', 'f32'],
  ['momentum', 'f32'],
  ['scale', 'f32'],
] as const;
/** The hyperparameters of the optimizer kernels (kernels/lib/optim.wgsl), after their sizes. */
const OPTIM_HYPER = [
  ['lr', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  ['weight_decay', 'f32'],
  ['momentum', 'f32'],
  ['bias_correction1', 'f32'],
  ['bias_correction2_sqrt', 'f32'],
] as const;
const BN_STATS = ['x', 'mean', 'var', 'dy', 'part', 'out'] as const;
const BN_PASS = ['x', 'mean', 'var', 'gamma', 'beta', 'dy', 'sums', 'out'] as const;

export const KERNELS = {
  fill: spec({
    file: 'fill',
    entry: 'main',
    buffers: ['out'],
    uniforms: [
      ['size', 'u32'],
      ['bits', 'u32'],
    ],
    constants: [],
  }),
  arange: spec({
    file: 'arange',
    entry: 'main',
    buffers: ['out'],
    uniforms: [
      ['size', 'u32'],
      ['start', 'f32'],
      ['step', 'f32'],
    ],
    constants: ['OUT_INT'],
  }),
  random: spec({
    file: 'random',
    entry: 'main',
    buffers: ['out'],
    uniforms: [
      ['size', 'u32'],
      ['seed', 'u32'],
      ['stream', 'u32'],
      ['a', 'f32'],
      ['b', 'f32'],
    ],
    constants: ['NORMAL'],
  }),
  unary: spec({
    file: 'unary',
    entry: 'main',
    buffers: ['x', 'out'],
    uniforms: [
      ['size', 'u32'],
      ['alpha', 'f32'],
    ],
    constants: ['OP', 'X_INT', 'OUT_INT', 'X_HALF', 'OUT_HALF'],
  }),
  /** float32 / int32 -> float16 (packed two to a word), and back. */
  castToHalf: spec({ file: 'cast_half', entry: 'to_half', buffers: ['x', 'out'], uniforms: [['size', 'u32']], constants: ['X_INT'] }),
  castFromHalf: spec({ file: 'cast_half', entry: 'from_half', buffers: ['x', 'out'], uniforms: [['size', 'u32']], constants: ['OUT_INT'] }),
  elementwise: spec({
    file: 'elementwise',
    entry: 'main',
    buffers: ['a', 'b', 'c', 'out'],
    uniforms: [
      ['size', 'u32'],
      ['rank', 'u32'],
      ['shape', SHAPE],
      ['a_strides', SHAPE],
      ['b_strides', SHAPE],
      ['c_strides', SHAPE],
    ],
    constants: ['OP', 'A_INT', 'B_INT', 'C_INT', 'OUT_INT', 'FLAT', 'A_HALF', 'B_HALF', 'OUT_HALF'],
  }),
  reduce: spec({
    file: 'reduce',
    entry: 'main',
    buffers: ['x', 'out'],
    uniforms: [
      ['out_size', 'u32'],
      ['red_size', 'u32'],
      ['out_rank', 'u32'],
      ['red_rank', 'u32'],
      ['out_shape', SHAPE],
      ['out_strides', SHAPE],
      ['red_shape', SHAPE],
      ['red_strides', SHAPE],
    ],
    constants: ['OP', 'X_INT', 'OUT_INT'],
  }),
  copy: spec({
    file: 'copy',
    entry: 'main',
    buffers: ['x', 'out'],
    uniforms: [
      ['size', 'u32'],
      ['rank', 'u32'],
      ['x_offset', 'u32'],
      ['out_offset', 'u32'],
      ['shape', SHAPE],
      ['x_strides', SHAPE],
      ['out_strides', SHAPE],
    ],
    constants: [],
  }),
  // CNN ops (ops/conv.ts, ops/pool.ts, ops/softmax.ts in this package).
  conv2d: spec({
    file: 'conv2d',
    entry: 'main',
    buffers: ['x', 'w', 'bias', 'out'],
    uniforms: CONV,
    constants: ['HAS_BIAS', 'ACT', 'SLIDE', 'SW', 'FPT', 'KWC', 'PAIR'],
  }),
  conv2dInput: spec({
    file: 'conv2d_input',
    entry: 'main',
    buffers: ['dy', 'w', 'dx'],
    uniforms: CONV,
    constants: ['SLIDE', 'MW', 'MH', 'BATCH_FASTEST', 'CPT', 'PAIR'],
  }),
  conv2dFilter: spec({
    file: 'conv2d_filter',
    entry: 'main',
    buffers: ['x', 'dy', 'out'],
    uniforms: CONV,
    constants: ['BIAS'],
  }),
  conv2dFilterRows: spec({
    file: 'conv2d_filter_rows',
    entry: 'main',
    buffers: ['x', 'dy', 'out'],
    uniforms: CONV,
    constants: ['BIAS', 'KWT', 'NF'],
  }),
  // The implicit-GEMM variants of the three conv kernels (ops/conv.ts, 'gemm'), for GPUs.
  conv2dGemm: spec({
    file: 'conv2d_gemm',
    entry: 'main',
    buffers: ['x', 'w', 'bias', 'out'],
    uniforms: CONV,
    constants: ['HAS_BIAS', 'ACT', 'VEC'],
  }),
  conv2dGemmInput: spec({ file: 'conv2d_gemm_input', entry: 'main', buffers: ['dy', 'w', 'dx'], uniforms: CONV, constants: ['VEC'] }),
  conv2dGemmFilter: spec({ file: 'conv2d_gemm_filter', entry: 'main', buffers: ['x', 'dy', 'out'], uniforms: CONV, constants: ['BIAS', 'VEC'] }),
  reluBackward: spec({ file: 'relu_backward', entry: 'main', buffers: ['dy', 'y', 'dx'], uniforms: [['size', 'u32']], constants: [] }),
  maxPool2d: spec({ file: 'max_pool2d', entry: 'forward', buffers: ['x', 'out', 'arg'], uniforms: POOL, constants: ['K2'] }),
  maxPool2dBackward: spec({ file: 'max_pool2d', entry: 'backward', buffers: ['dy', 'dx', 'arg'], uniforms: POOL, constants: ['NONOVERLAP', 'TILE2'] }),
  avgPool2d: spec({ file: 'avg_pool2d', entry: 'forward', buffers: ['x', 'out'], uniforms: POOL, constants: ['K2'] }),
  avgPool2dBackward: spec({ file: 'avg_pool2d', entry: 'backward', buffers: ['dy', 'dx'], uniforms: POOL, constants: ['NONOVERLAP'] }),
  softmax: spec({ file: 'softmax', entry: 'forward', buffers: ['x', 'out'], uniforms: SOFTMAX, constants: ['LOG'] }),
  softmaxRows: spec({ file: 'softmax', entry: 'forward_rows', buffers: ['x', 'out'], uniforms: SOFTMAX, constants: ['LOG'] }),
  softmaxBackward: spec({ file: 'softmax_backward', entry: 'backward', buffers: ['y', 'dy', 'dx'], uniforms: SOFTMAX, constants: ['LOG'] }),
  crossEntropy: spec({ file: 'cross_entropy', entry: 'forward', buffers: ['x', 'labels', 'out', 'stats'], uniforms: XENT, constants: ['LABEL_INT'] }),
  crossEntropyBackward: spec({
    file: 'cross_entropy_backward',
    entry: 'backward',
    buffers: ['x', 'labels', 'stats', 'dy', 'dx'],
    uniforms: XENT,
    constants: ['LABEL_INT'],
  }),
  // Batch normalization (ops/norm.ts): every kernel of a file binds all of its buffers.
  batchNormPartial: spec({ file: 'batch_norm_stats', entry: 'partial', buffers: BN_STATS, uniforms: BN, constants: ['GRAD'] }),
  batchNormCombine: spec({ file: 'batch_norm_stats', entry: 'combine', buffers: BN_STATS, uniforms: BN, constants: ['GRAD'] }),
  batchNormCombineRows: spec({ file: 'batch_norm_stats', entry: 'combine_rows', buffers: BN_STATS, uniforms: BN, constants: ['GRAD'] }),
  batchNorm: spec({ file: 'batch_norm', entry: 'forward', buffers: BN_PASS, uniforms: BN, constants: ['HAS_GAMMA', 'HAS_BETA'] }),
  batchNormBackward: spec({ file: 'batch_norm', entry: 'backward', buffers: BN_PASS, uniforms: BN, constants: ['HAS_GAMMA', 'TRAINING'] }),
  batchNormRunning: spec({ file: 'batch_norm', entry: 'running', buffers: BN_PASS, uniforms: BN, constants: [] }),
  matmul: spec({
    file: 'matmul',
    entry: 'main',
    buffers: ['a', 'b', 'bias', 'out'],
    uniforms: MATMUL,
    constants: ['TM'],
  }),
  /** The register kernel on float16 halves (A, B, bias and C), for products with an even N. */
  matmulHalf: spec({ file: 'matmul_half', entry: 'main', buffers: ['a', 'b', 'bias', 'out'], uniforms: MATMUL, constants: ['TM', 'A_PAIRS', 'B_PAIRS'] }),
  matmulTiled: spec({
    file: 'matmul',
    entry: 'tiled',
    buffers: ['a', 'b', 'bias', 'out'],
    uniforms: MATMUL,
    constants: [],
  }),
  matmulTiled128: spec({
    file: 'matmul_tiled128',
    entry: 'main',
    buffers: ['a', 'b', 'bias', 'out'],
    uniforms: MATMUL,
    constants: ['VEC_A', 'VEC_B'],
  }),
  matmulSplitK: spec({
    file: 'matmul_splitk',
    entry: 'main',
    buffers: ['a', 'b', 'bias', 'out'],
    uniforms: MATMUL,
    constants: ['CELLS_M'],
  }),
  matmulSubgroup: spec({
    file: 'matmul_subgroup',
    entry: 'main',
    buffers: ['a', 'b', 'bias', 'out'],
    uniforms: MATMUL,
    constants: [],
  }),
  // One in-place optimizer step per parameter (ops/optim.ts); RULE picks sgd ... adamax.
  optim: spec({
    file: 'optim',
    entry: 'main',
    buffers: ['param', 'grad', 's1', 's2', 'scale'],
    uniforms: [['size', 'u32'], ...OPTIM_HYPER],
    constants: ['RULE'],
  }),
  // Three in-place optimizer steps in one dispatch (ops/optim.ts, for compiled steps' groups).
  optimMulti: spec({
    file: 'optim_multi',
    entry: 'main',
    buffers: ['param0', 'grad0', 's10', 's20', 'param1', 'grad1', 's11', 's21', 'param2', 'grad2', 's12', 's22'],
    uniforms: [['size0', 'u32'], ['size1', 'u32'], ['size2', 'u32'], ...OPTIM_HYPER],
    constants: ['RULE'],
  }),
  // ts.debug.checkNumerics: flags an output holding NaN or Inf (webgpu backend's markNonFinite).
  checkFinite: spec({
    file: 'check_finite',
    entry: 'main',
    buffers: ['x', 'flag'],
    uniforms: [
      ['size', 'u32'],
      ['tag', 'u32'],
    ],
    constants: ['HALF'],
  }),
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;
type Spec<K extends KernelName> = (typeof KERNELS)[K];

/** Values for a kernel's uniform block, keyed by field name; a `u32x8` takes up to 8 numbers. */
export type UniformValues<K extends KernelName> = {
  [F in Spec<K>['uniforms'][number] as F[0]]: F[1] extends 'u32x8' ? readonly number[] : number;
};

/** One compute dispatch, fully described, independent of any GPU API. */
export interface KernelCall<K extends KernelName = KernelName> {
  readonly kernel: K;
  readonly constants?: Partial<Record<Spec<K>['constants'][number], number>>;
  /**
   * The constants of a stand-in (see `PipelineEntry.standIn`): a variant of the same kernel that
   * computes the same values (up to the order of float additions) with these bindings, uniforms
   * and workgroups, and compiles much faster; on CPU adapters it serves the first steps while
   * the costly variant waits its turn.
   */
  readonly quick?: Partial<Record<Spec<K>['constants'][number], number>>;
  readonly uniforms: UniformValues<K>;
  readonly buffers: Record<Spec<K>['buffers'][number], DeviceBuffer>;
  readonly workgroups: readonly [number, number, number];
}

/** Any one kernel's call (a union over kernels, so each call keeps its own field types). */
export type AnyKernelCall = { [K in KernelName]: KernelCall<K> }[KernelName];

/** Threads per workgroup of every 1-D kernel (`@workgroup_size(64)` in WGSL). */
export const WG_1D = 64;
/** The per-dimension dispatch limit every WebGPU device guarantees. */
const MAX_GROUPS = 65535;

/**
 * Workgroup counts that cover `threads` 1-D threads; above 65535 groups the grid folds into y,
 * and kernels rebuild the flat index as `gid.x + gid.y * num_workgroups.x * 64`.
 */
export function grid1d(threads: number, perGroup = WG_1D): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / perGroup));
  if (groups <= MAX_GROUPS) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * What kernels may assume about the device. Kernel builders read the caps they are handed, and
 * nothing else about the adapter, so the choice between variants happens in one place per op.
 */
export interface DeviceCaps {
  /** Prefer barrier-free kernels that keep their tile in registers (best on CPU adapters). */
  readonly registerTiling: boolean;
  /** The device was created with the 'subgroups' feature: kernels that `enable subgroups` may run. */
  readonly subgroups: boolean;
  readonly maxWorkgroupStorageBytes: number;
  readonly maxStorageBufferBytes: number;
}

/** Packs a typed call; exists so op code gets the field names checked by the compiler. */
export function kernelCall<K extends KernelName>(call: KernelCall<K>): KernelCall<K> {
  return call;
}
