import { f32Of, i32Of } from '../buffer.js';
import { f32, f32ToI32, type KernelGroup } from './util.js';

/**
 * fill, arange and random. The random numbers are those of kernels/random.wgsl, bit for bit in
 * the integer hashing: element i of (seed, stream) is a pure function of (seed, stream, i).
 */

// ---- the counter-based generator of kernels/random.wgsl, in 32-bit unsigned arithmetic ----

/** PCG's output permutation (O'Neill) used as an integer hash: u32 -> u32. */
export function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The 32 random bits number `counter` of stream (seed, stream). */
export function draw(seed: number, stream: number, counter: number): number {
  const key = pcg((stream >>> 0) ^ pcg(seed >>> 0));
  return pcg((counter >>> 0) ^ key);
}

/** The top 24 bits of a hash, scaled into [0, 1); every value is exactly a float32. */
export const unit = (h: number): number => (h >>> 8) * (1 / 16777216);

/** The float32 value of the WGSL literal 6.283185307179586 (2 pi). */
const TWO_PI_F32 = f32(6.283185307179586);

/**
 * Element i of a uniform draw in [a, b): a + (b - a) * u in float32 arithmetic, rounding after
 * each operation as the WGSL is written (a GPU that fuses the multiply-add can differ by an ulp).
 */
export function uniformAt(seed: number, stream: number, i: number, a: number, b: number): number {
  const lo = f32(a);
  const width = f32(f32(b) - lo);
  return f32(lo + f32(width * unit(draw(seed, stream, i))));
}

/**
 * Element i of a normal draw with mean a and standard deviation b, by the Box-Muller formula of
 * the kernel: u1 = 1 - unit(draw(2i)) in (0, 1], u2 = unit(draw(2i + 1)),
 * z = sqrt(-2 ln u1) * cos(2 pi u2), evaluated in float64 and rounded to float32 at the end.
 */
export function normalAt(seed: number, stream: number, i: number, a: number, b: number): number {
  const u1 = 1 - unit(draw(seed, stream, 2 * i));
  const u2 = unit(draw(seed, stream, 2 * i + 1));
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI_F32 * u2);
  return f32(f32(a) + f32(b) * z);
}

export const creationKernels: KernelGroup<'fill' | 'arange' | 'random'> = {
  /** out[i] = value, stored in the output's dtype (an int32 fill wraps like Int32Array). */
  fill({ out, params }) {
    if (out.dtype === 'int32') i32Of(out).fill(params.value);
    else f32Of(out).fill(params.value);
  },

  /**
   * out[i] = start + i * step. int32: i32(start) + i * i32(step) in wrapping int32 arithmetic,
   * start and step first rounded to float32 (they are float32 uniforms in the kernel); float32:
   * start + f32(i) * step in float32 arithmetic, rounding after each operation like the WGSL.
   */
  arange({ out, params }) {
    if (out.dtype === 'int32') {
      const start = f32ToI32(params.start);
      const step = f32ToI32(params.step);
      const o = i32Of(out);
      for (let i = 0; i < out.size; i++) o[i] = (start + Math.imul(i, step)) | 0;
    } else {
      const start = f32(params.start);
      const step = f32(params.step);
      const o = f32Of(out);
      for (let i = 0; i < out.size; i++) o[i] = start + f32(f32(i) * step);
    }
  },

  /** Uniform in [a, b) or normal(mean a, std b) numbers of stream (seed, stream); see above. */
  random({ out, params }) {
    const { seed, stream, a, b } = params;
    const o = f32Of(out);
    for (let i = 0; i < out.size; i++) {
      o[i] = params.dist === 'normal' ? normalAt(seed, stream, i, a, b) : uniformAt(seed, stream, i, a, b);
    }
  },
};
