/**
 * The binding layout of every WGSL kernel in `kernels/`, declared once and typed.
 *
 * Each kernel binds its uniform block at binding 0 and then its storage buffers, in the order
 * listed in `buffers`, at bindings 1, 2, ... Uniform fields are packed in order with WGSL's
 * uniform layout: scalars take 4 bytes, a `u32x8` (eight sizes or strides, declared in WGSL as
 * `array<vec4<u32>, 2>`) is 16-byte aligned and takes 32. A test parses each WGSL `Params`
 * struct and checks it against this table, so the two cannot drift apart.
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
  readonly uniforms: readonly (readonly [string, UniformType])[];
  readonly constants: readonly string[];
}

const spec = <const S extends KernelSpec>(s: S): S => s;
const SHAPE = 'u32x8' as const;

export const KERNELS = {
  fill: spec({ file: 'fill', entry: 'main', buffers: ['out'], uniforms: [['size', 'u32'], ['bits', 'u32']], constants: [] }),
  arange: spec({ file: 'arange', entry: 'main', buffers: ['out'], uniforms: [['size', 'u32'], ['start', 'f32'], ['step', 'f32']], constants: ['OUT_INT'] }),
  random: spec({
    file: 'random', entry: 'main', buffers: ['out'],
    uniforms: [['size', 'u32'], ['seed', 'u32'], ['stream', 'u32'], ['a', 'f32'], ['b', 'f32']],
    constants: ['NORMAL'],
  }),
  unary: spec({
    file: 'unary', entry: 'main', buffers: ['x', 'out'],
    uniforms: [['size', 'u32'], ['alpha', 'f32']],
    constants: ['OP', 'X_INT', 'OUT_INT'],
  }),
  elementwise: spec({
    file: 'elementwise', entry: 'main', buffers: ['a', 'b', 'c', 'out'],
    uniforms: [['size', 'u32'], ['rank', 'u32'], ['shape', SHAPE], ['a_strides', SHAPE], ['b_strides', SHAPE], ['c_strides', SHAPE]],
    constants: ['OP', 'A_INT', 'B_INT', 'C_INT', 'OUT_INT'],
  }),
  reduce: spec({
    file: 'reduce', entry: 'main', buffers: ['x', 'out'],
    uniforms: [
      ['out_size', 'u32'], ['red_size', 'u32'], ['out_rank', 'u32'], ['red_rank', 'u32'],
      ['out_shape', SHAPE], ['out_strides', SHAPE], ['red_shape', SHAPE], ['red_strides', SHAPE],
    ],
    constants: ['OP', 'X_INT', 'OUT_INT'],
  }),
  copy: spec({
    file: 'copy', entry: 'main', buffers: ['x', 'out'],
    uniforms: [['size', 'u32'], ['rank', 'u32'], ['x_offset', 'u32'], ['out_offset', 'u32'], ['shape', SHAPE], ['x_strides', SHAPE], ['out_strides', SHAPE]],
    constants: [],
  }),
  matmul: spec({
    file: 'matmul', entry: 'main', buffers: ['a', 'b', 'bias', 'out'],
    uniforms: [
      ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['batch', 'u32'],
      ['a_rs', 'u32'], ['a_cs', 'u32'], ['b_rs', 'u32'], ['b_cs', 'u32'],
      ['batch_rank', 'u32'], ['batch_shape', SHAPE], ['a_bstrides', SHAPE], ['b_bstrides', SHAPE],
    ],
    constants: ['HAS_BIAS', 'ACT'],
  }),
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;
type Spec<K extends KernelName> = (typeof KERNELS)[K];

/** Values for a kernel's uniform block, keyed by field name; a `u32x8` takes up to 8 numbers. */
export type UniformValues<K extends KernelName> = {
  [F in Spec<K>['uniforms'][number] as F[0]]: F[1] extends 'u32x8' ? readonly number[] : number;
};

/** An opaque device buffer; only the backend that made it knows what it is. */
export type DeviceBuffer = object & { readonly __deviceBuffer?: never };

/** One compute dispatch, fully described, independent of any GPU API. */
export interface KernelCall<K extends KernelName = KernelName> {
  readonly kernel: K;
  readonly constants?: Partial<Record<Spec<K>['constants'][number], number>>;
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

/** Packs a typed call; exists so op code gets the field names checked by the compiler. */
export function kernelCall<K extends KernelName>(call: KernelCall<K>): KernelCall<K> {
  return call;
}
