import { convGeometry, type ConvGeometry, type DeviceBuffer, type KernelTensor, type OpParams } from '@tessera/core';
import { grid1d, kernelCall, type KernelCall } from '../spec.js';
import type { KernelBuilders, KernelContext } from './context.js';
import { bucketKey, type VariantOf } from '../tune/sites.js';

/**
 * conv2d, its two gradient primitives and the fused-ReLU gradient. The convolutions are direct
 * (no im2col buffer): each thread keeps a register tile (forward and input gradient: 4 channels
 * x 2 rows x 4 columns; filter gradient: a kernel row for up to 8 filters, or 8 filters x 4
 * taps, see `filterTile`) and needs no workgroup memory or barrier; see kernels/conv2d*.wgsl.
 * Two choices depend on the adapter (`caps.registerTiling`, true on CPU adapters): how far the
 * filter gradient's reduction is split (`filterChunks`), and whether the input gradient's
 * neighbouring threads take neighbouring images (BATCH_FASTEST: lockstep SIMD lanes on a CPU
 * then share their bounds; a GPU wants neighbouring columns, for coalesced loads).
 *
 * Each of the three also has an implicit-GEMM variant for GPUs, 'gemm' (kernels/conv2d_gemm*.wgsl:
 * 64x64 blocks staged through workgroup memory), legal for every argument but built only when
 * forced or chosen by autotune: the heuristics keep the direct kernels.
 */

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * The conv uniform block (kernels/lib/conv.wgsl's Params): the geometry, and the blocking fields
 * of one kernel in `own`; the other kernels' fields are 0.
 */
function convUniforms(
  g: ConvGeometry,
  total: number,
  own: Partial<Record<'fblocks' | 'owblocks' | 'cblocks' | 'iwblocks' | 'tblocks' | 'rows' | 'rows_per_chunk', number>>,
) {
  return {
    total,
    C: g.C,
    H: g.H,
    W: g.W,
    F: g.F,
    OH: g.OH,
    OW: g.OW,
    KH: g.KH,
    KW: g.KW,
    sh: g.sh,
    sw: g.sw,
    dh: g.dh,
    dw: g.dw,
    pt: g.pt,
    pl: g.pl,
    groups: g.groups,
    cpg: g.cpg,
    fpg: g.fpg,
    fblocks: 0,
    owblocks: 0,
    cblocks: 0,
    iwblocks: 0,
    tblocks: 0,
    rows: 0,
    rows_per_chunk: 0,
    ...own,
  };
}

/**
 * Channels (or filters) per thread in a vec4 register tile over `n` of them: of 4, 3 and 2, the
 * one that leaves the fewest lanes idle (ties to the larger), e.g. 3 for LeNet's 6. The kernels
 * compile the idle lanes away, and the FMAs bound a CPU adapter.
 */
export function lanesPerThread(n: number): number {
  if (n < 4) return n;
  const idle = (c: number) => ceilDiv(n, c) * c - n;
  return [3, 2].reduce((best, c) => (idle(c) < idle(best) ? c : best), 4);
}

/**
 * The lanes per thread of a stand-in pipeline (`KernelCall.quick`): 4 where that leaves the
 * blocks of `n` channels or filters as `lanes` made them (6 in 2 blocks of 3 or of 4), so that
 * layers differing only there share one stand-in; the per-output sums do not change.
 */
function standInLanes(n: number, lanes: number, blocks: number): number {
  return ceilDiv(n, 4) === blocks ? 4 : lanes;
}

/**
 * Dilation 1 along w lets the convolutions slide one register window across the taps, for any
 * stride: one window per phase of the stride (see kernels/conv2d.wgsl and conv2d_input.wgsl).
 */
const slide = (g: ConvGeometry): number => (g.dw === 1 ? 1 : 0);

/**
 * The filter gradient's register tile: with stride 1 and dilation 1 along w and a kernel at
 * most 8 wide, a whole kernel row of taps for up to 8 filters, split evenly (16 -> 8 + 8,
 * 6 -> 6) (kernels/conv2d_filter_rows.wgsl); otherwise 4 taps for 8 filters
 * (kernels/conv2d_filter.wgsl).
 */
export function filterTile(g: ConvGeometry): { rows: boolean; filters: number } {
  if (g.sw === 1 && g.dw === 1 && g.KW <= 8) return { rows: true, filters: ceilDiv(g.fpg, ceilDiv(g.fpg, 8)) };
  return { rows: false, filters: 8 };
}

/**
 * How many parallel partial sums the filter gradient splits its n*OH reduction into: `few`
 * (variant fewChunks) suits a CPU adapter, whose few cores, each running 4-wide SIMD, ~1k
 * threads fill, more only adding partial traffic; a GPU wants ~16k threads in flight. Each chunk keeps at least ~64 output
 * positions of work.
 */
export function filterChunks(g: ConvGeometry, few: boolean): number {
  const tile = filterTile(g);
  const threadsPerChunk = g.groups * ceilDiv(g.fpg, tile.filters) * (tile.rows ? g.cpg * g.KH : ceilDiv(g.cpg * g.KH * g.KW + 1, 4));
  const target = few ? (tile.rows ? 512 : 1024) : 16384;
  const rows = g.N * g.OH;
  if (rows === 0) return 1;
  const want = Math.min(ceilDiv(target, threadsPerChunk), ceilDiv(rows * g.OW, 64), rows);
  return Math.max(1, ceilDiv(rows, ceilDiv(rows, Math.max(1, want))));
}

/**
 * How the filter gradient's (n, oh) rows split into chunks: `chunks` may come out below the
 * count asked for, since every chunk but the last takes `rowsPerChunk` rows.
 */
export function rowSplit(g: ConvGeometry, p: OpParams['conv2dBackpropFilter'], few: boolean) {
  const rows = g.N * g.OH;
  const asked = p.chunks ?? filterChunks(g, few);
  const rowsPerChunk = Math.max(1, ceilDiv(rows, asked));
  return { rows, rowsPerChunk, chunks: rows === 0 ? 1 : ceilDiv(rows, rowsPerChunk) };
}

/** The tuning bucket of a convolution: sizes bucketed, the kernel window and strides exact. */
function convBucket(g: ConvGeometry): string {
  return bucketKey({ N: g.N, C: g.cpg, F: g.fpg, H: g.H, W: g.W }, { g: g.groups, k: g.KH * 100 + g.KW, s: g.sh * 100 + g.sw, d: g.dh * 100 + g.dw });
}

/** Threads per block of the implicit-GEMM kernels (16x16, each a 4x4 tile of a 64x64 block). */
const GEMM_THREADS = 256;
/** The output tile's side in the implicit-GEMM kernels. */
const GEMM_TILE = 64;

/** The workgroup grid and `total` of an implicit-GEMM kernel running `blocks` blocks. */
const gemmGrid = (blocks: number) => ({ total: blocks * GEMM_THREADS, workgroups: grid1d(blocks, 1) });

/**
 * The implicit-GEMM conv2d: C[n*OH*OW, fpg] = im2col(x) @ w^T per group (kernels/conv2d_gemm.wgsl).
 * Weights load as vec4 when their rows (cpg*KH*KW long) are a multiple of 4.
 */
function conv2dGemm(g: ConvGeometry, x: DeviceBuffer, w: DeviceBuffer, b: DeviceBuffer | undefined, out: DeviceBuffer, relu: boolean) {
  const fblocks = ceilDiv(g.fpg, GEMM_TILE);
  const rows = g.N * g.OH;
  const { total, workgroups } = gemmGrid(g.groups * fblocks * ceilDiv(rows * g.OW, GEMM_TILE));
  return kernelCall({
    kernel: 'conv2dGemm',
    constants: { HAS_BIAS: b ? 1 : 0, ACT: relu ? 1 : 0, VEC: (g.cpg * g.KH * g.KW) % 4 === 0 ? 1 : 0 },
    uniforms: convUniforms(g, total, { fblocks, rows }),
    buffers: { x, w, bias: b ?? w, out },
    workgroups,
  });
}

/**
 * The implicit-GEMM input gradient: C[n*H*W, cpg] = gather(dy) @ w per group
 * (kernels/conv2d_gemm_input.wgsl). Weights load as vec4 when KH*KW is a multiple of 4.
 */
function conv2dGemmInput(g: ConvGeometry, dy: DeviceBuffer, w: DeviceBuffer, dx: DeviceBuffer) {
  const cblocks = ceilDiv(g.cpg, GEMM_TILE);
  const rows = g.N * g.H;
  const { total, workgroups } = gemmGrid(g.groups * cblocks * ceilDiv(rows * g.W, GEMM_TILE));
  return kernelCall({
    kernel: 'conv2dGemmInput',
    constants: { VEC: (g.KH * g.KW) % 4 === 0 ? 1 : 0 },
    uniforms: convUniforms(g, total, { cblocks, rows }),
    buffers: { dy, w, dx },
    workgroups,
  });
}

/**
 * How the implicit-GEMM filter gradient splits its reduction over the (n, oh) rows: enough
 * chunks for ~512 blocks (a GPU's worth) with at least 256 positions (16 K steps) each, and,
 * where an image's OH*OW positions are a multiple of 4, chunks a multiple of 4 positions long,
 * so that dy loads as aligned vec4 (`vec`).
 */
function gemmFilterSplit(g: ConvGeometry, withBias: boolean) {
  const rows = g.N * g.OH;
  const blocks = g.groups * ceilDiv(g.fpg, GEMM_TILE) * ceilDiv(g.cpg * g.KH * g.KW + (withBias ? 1 : 0), GEMM_TILE);
  const want = Math.max(1, Math.min(ceilDiv(512, blocks), Math.floor((rows * g.OW) / 256), rows));
  let rowsPerChunk = ceilDiv(rows, want);
  const quads = (g.OH * g.OW) % 4 === 0;
  while (quads && (rowsPerChunk * g.OW) % 4 !== 0) rowsPerChunk++;
  const chunks = Math.max(1, ceilDiv(rows, Math.max(1, rowsPerChunk)));
  return { rows, rowsPerChunk, chunks, vec: quads };
}

/**
 * The implicit-GEMM filter gradient: dw[fpg, cpg*KH*KW (+1)] = dy @ im2col(x) per group and
 * chunk of rows (kernels/conv2d_gemm_filter.wgsl), chunks summed by a reduce.
 */
function conv2dGemmFilter(g: ConvGeometry, x: DeviceBuffer, dy: DeviceBuffer, out: KernelTensor, withBias: boolean, scratch: KernelContext['scratch']) {
  const { rows, rowsPerChunk, chunks, vec } = gemmFilterSplit(g, withBias);
  const BIAS = withBias ? 1 : 0;
  const fblocks = ceilDiv(g.fpg, GEMM_TILE);
  const tblocks = ceilDiv(g.cpg * g.KH * g.KW + BIAS, GEMM_TILE);
  const partial = chunks > 1 ? scratch(chunks * out.size * 4) : out.buf;
  const { total, workgroups } = gemmGrid(chunks * g.groups * fblocks * tblocks);
  const main = kernelCall({
    kernel: 'conv2dGemmFilter',
    constants: { BIAS, VEC: vec ? 1 : 0 },
    uniforms: convUniforms(g, total, { fblocks, tblocks, rows, rows_per_chunk: rowsPerChunk }),
    buffers: { x, dy, out: partial },
    workgroups,
  });
  return chunks > 1 ? [main, sumChunks(partial, out.buf, chunks, out.size)] : [main];
}

/** The reduce kernel summing `chunks` partial filter gradients laid out [chunks, size]. */
function sumChunks(partial: DeviceBuffer, out: DeviceBuffer, chunks: number, size: number): KernelCall<'reduce'> {
  return kernelCall({
    kernel: 'reduce',
    constants: { OP: 0, X_INT: 0, OUT_INT: 0 },
    uniforms: {
      out_size: size,
      red_size: chunks,
      out_rank: 1,
      red_rank: 1,
      out_shape: [size],
      out_strides: [1],
      red_shape: [chunks],
      red_strides: [size],
    },
    buffers: { x: partial, out },
    workgroups: grid1d(size),
  });
}

export const convKernels: KernelBuilders<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'reluBackward'> = {
  conv2d({ inputs: [x, w, b], out, params }, { variant }) {
    const g = convGeometry('conv2d', x!.shape, w!.shape, params);
    const pairs = slide(g) === 1 && g.cpg >= 2;
    const v: VariantOf<'conv2d'> = variant('conv2d', convBucket(g), pairs ? ['direct', 'single', 'gemm'] : ['direct', 'gemm'], 'direct');
    if (v === 'gemm') return conv2dGemm(g, x!.buf, w!.buf, b?.buf, out.buf, params.activation === 'relu');
    const fpt = lanesPerThread(g.fpg);
    const fblocks = ceilDiv(g.fpg, fpt);
    const owblocks = ceilDiv(g.OW, 4);
    const total = g.N * g.groups * fblocks * ceilDiv(g.OH, 2) * owblocks;
    const constants = {
      HAS_BIAS: b ? 1 : 0,
      ACT: params.activation === 'relu' ? 1 : 0,
      SLIDE: slide(g),
      SW: g.sw,
      FPT: fpt,
      KWC: g.KW,
      PAIR: pairs && v === 'direct' ? 1 : 0,
    };
    return kernelCall({
      kernel: 'conv2d',
      constants,
      quick: { ...constants, PAIR: 0, FPT: standInLanes(g.fpg, fpt, fblocks) },
      uniforms: convUniforms(g, total, { fblocks, owblocks }),
      buffers: { x: x!.buf, w: w!.buf, bias: (b ?? w!).buf, out: out.buf },
      workgroups: grid1d(total),
    });
  },

  // dx = the transposed convolution of dy with w (a gather: one thread per dx element).
  conv2dBackpropInput({ inputs: [dy, w], out, params }, { caps, variant }) {
    const g = convGeometry('conv2dBackpropInput', params.inputShape, w!.shape, params);
    const pairs = g.dw === 1 && g.fpg >= 2;
    const v: VariantOf<'conv2dBackpropInput'> = variant(
      'conv2dBackpropInput',
      convBucket(g),
      pairs ? ['direct', 'single', 'gemm'] : ['direct', 'gemm'],
      'direct',
    );
    if (v === 'gemm') return conv2dGemmInput(g, dy!.buf, w!.buf, out.buf);
    const cpt = lanesPerThread(g.cpg);
    const cblocks = ceilDiv(g.cpg, cpt);
    // With dilation 1, a thread's tile takes one phase of the stride (see the kernel's header).
    const SLIDE = g.dw === 1 ? 1 : 0;
    const MW = g.dw === 1 ? g.sw : 1;
    const MH = g.dh === 1 ? g.sh : 1;
    const iwblocks = ceilDiv(ceilDiv(g.W, MW), 4);
    const total = g.N * g.groups * cblocks * MH * MW * ceilDiv(ceilDiv(g.H, MH), 2) * iwblocks;
    const constants = {
      SLIDE,
      MW,
      MH,
      BATCH_FASTEST: caps.registerTiling && g.N >= 4 ? 1 : 0,
      CPT: cpt,
      PAIR: pairs && v === 'direct' ? 1 : 0,
    };
    return kernelCall({
      kernel: 'conv2dInput',
      constants,
      quick: { ...constants, PAIR: 0, CPT: standInLanes(g.cpg, cpt, cblocks) },
      uniforms: convUniforms(g, total, { cblocks, iwblocks }),
      buffers: { dy: dy!.buf, w: w!.buf, dx: out.buf },
      workgroups: grid1d(total),
    });
  },

  // dw = sum over the batch and output positions, split into `chunks` partial sums (in a
  // scratch buffer [chunks, F * taps]) then reduced.
  conv2dBackpropFilter({ inputs: [x, dy], out, params }, { caps, scratch, variant }) {
    const g = convGeometry('conv2dBackpropFilter', x!.shape, params.filterShape, params);
    // An explicit chunk count (tests of the split) leaves nothing to choose.
    const pick = caps.registerTiling ? 'fewChunks' : 'manyChunks';
    const v = params.chunks === undefined ? variant('conv2dBackpropFilter', convBucket(g), ['fewChunks', 'manyChunks', 'gemm'], pick) : pick;
    if (v === 'gemm') return conv2dGemmFilter(g, x!.buf, dy!.buf, out, params.withBias, scratch);
    const { rows, rowsPerChunk, chunks } = rowSplit(g, params, v === 'fewChunks');
    const partial = chunks > 1 ? scratch(chunks * out.size * 4) : out.buf;
    const buffers = { x: x!.buf, dy: dy!.buf, out: partial };
    const split = { rows, rows_per_chunk: rowsPerChunk };
    const BIAS = params.withBias ? 1 : 0;
    const tile = filterTile(g);
    const fblocks = ceilDiv(g.fpg, tile.filters);
    let main: KernelCall<'conv2dFilterRows'> | KernelCall<'conv2dFilter'>;
    if (tile.rows) {
      const total = chunks * g.groups * fblocks * g.cpg * g.KH;
      main = kernelCall({
        kernel: 'conv2dFilterRows',
        constants: { BIAS, KWT: g.KW, NF: tile.filters },
        // 8 filters a thread where the blocks stay as they are: LeNet's two layers share it.
        quick: { BIAS, KWT: g.KW, NF: ceilDiv(g.fpg, 8) === fblocks ? 8 : tile.filters },
        uniforms: convUniforms(g, total, { fblocks, ...split }),
        buffers,
        workgroups: grid1d(total),
      });
    } else {
      const tblocks = ceilDiv(g.cpg * g.KH * g.KW + BIAS, 4);
      const total = chunks * g.groups * fblocks * tblocks;
      main = kernelCall({
        kernel: 'conv2dFilter',
        constants: { BIAS },
        uniforms: convUniforms(g, total, { fblocks, tblocks, ...split }),
        buffers,
        workgroups: grid1d(total),
      });
    }
    return chunks > 1 ? [main, sumChunks(partial, out.buf, chunks, out.size)] : [main];
  },

  reluBackward: ({ inputs: [dy, y], out }) =>
    kernelCall({
      kernel: 'reluBackward',
      uniforms: { size: out.size },
      buffers: { dy: dy!.buf, y: y!.buf, dx: out.buf },
      workgroups: grid1d(ceilDiv(out.size, 4)),
    }),
};
