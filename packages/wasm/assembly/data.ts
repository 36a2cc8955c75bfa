/**
 * Data movement on raw 32-bit words (so one kernel serves float32 and int32 and keeps NaN
 * payloads), as the reference's shape kernels: a strided box copy (slice, transpose,
 * broadcastTo, pad, concat are each one or a few of them once the TypeScript wrapper has
 * collapsed the shapes), a word fill, and where's select.
 */

/**
 * Copies the box n0 x n1 x n2 x n3 from src (element (i0..i3) at sum i_d * s_d) to dst (at
 * sum i_d * t_d), strides in elements. An innermost level with unit strides is one
 * memory.copy; a broadcast one (s3 = 0, t3 = 1) is a fill with one word.
 * Example (x [4, 3] -> its transpose): copyBox(x, 0, 0, 1, 3, y, 0, 0, 4, 1, 1, 1, 3, 4).
 */
export function copyBox(
  src: usize,
  s0: i32,
  s1: i32,
  s2: i32,
  s3: i32,
  dst: usize,
  t0: i32,
  t1: i32,
  t2: i32,
  t3: i32,
  n0: i32,
  n1: i32,
  n2: i32,
  n3: i32,
): void {
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const from = src + ((<usize>(i0 * s0 + i1 * s1 + i2 * s2)) << 2);
        const to = dst + ((<usize>(i0 * t0 + i1 * t1 + i2 * t2)) << 2);
        if (s3 == 1 && t3 == 1) {
          memory.copy(to, from, (<usize>n3) << 2);
        } else if (s3 == 0 && t3 == 1) {
          fill32(to, load<u32>(from), n3);
        } else {
          for (let i3 = 0; i3 < n3; i3++) store<u32>(to + ((<usize>(i3 * t3)) << 2), load<u32>(from + ((<usize>(i3 * s3)) << 2)));
        }
      }
    }
  }
}

/** dst[i] = bits for n words (a float32 or int32 fill). Example: fill32(p, 0x3f800000, n) fills 1.0f. */
export function fill32(dst: usize, bits: u32, n: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + ((<usize>i) << 2), v);
  for (; i < n; i++) store<u32>(dst + ((<usize>i) << 2), bits);
}

/**
 * where: out[i0, i1, i2] = cond != 0 ? a : b (words; a NaN condition counts as true, as
 * NaN != 0), each operand read through its own 3 strides, out contiguous n0 x n1 x n2; cond is
 * float32. Example (all contiguous, n words): where(c, 0, 0, 1, a, 0, 0, 1, b, 0, 0, 1, out, 1, 1, n).
 */
export function where(
  cond: usize,
  c0: i32,
  c1: i32,
  c2: i32,
  a: usize,
  a0: i32,
  a1: i32,
  a2: i32,
  b: usize,
  b0: i32,
  b1: i32,
  b2: i32,
  out: usize,
  n0: i32,
  n1: i32,
  n2: i32,
): void {
  let o = out;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      const pc = cond + ((<usize>(i0 * c0 + i1 * c1)) << 2);
      const pa = a + ((<usize>(i0 * a0 + i1 * a1)) << 2);
      const pb = b + ((<usize>(i0 * b0 + i1 * b1)) << 2);
      let i = 0;
      if (c2 == 1 && a2 == 1 && b2 == 1) {
        const zero = f32x4.splat(0);
        for (; i + 4 <= n2; i += 4) {
          const off = (<usize>i) << 2;
          // ne is true for NaN lanes, so NaN takes a like the reference.
          const take = f32x4.ne(v128.load(pc + off), zero);
          v128.store(o + off, v128.bitselect(v128.load(pa + off), v128.load(pb + off), take));
        }
      }
      for (; i < n2; i++) {
        const take = load<f32>(pc + ((<usize>(i * c2)) << 2)) != 0;
        store<u32>(o + ((<usize>i) << 2), take ? load<u32>(pa + ((<usize>(i * a2)) << 2)) : load<u32>(pb + ((<usize>(i * b2)) << 2)));
      }
      o += (<usize>n2) << 2;
    }
  }
}
