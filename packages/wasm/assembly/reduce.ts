/**
 * Float32 sums over one contiguous run of axes, seen as x [outer, red, inner] -> out [outer,
 * inner]. Accumulation is float64 in the reference's order (r = 0, 1, ...), so the rounded
 * results equal the reference's exactly.
 */

/**
 * out[o, i] = sum_r x[o, r, i]; `acc` is scratch for `inner` float64 values.
 * Example (column sums of [64, 120]): sumAxis(x, out, 1, 64, 120, acc).
 */
export function sumAxis(x: usize, out: usize, outer: i32, red: i32, inner: i32, acc: usize): void {
  for (let o = 0; o < outer; o++) {
    const base = x + ((<usize>(o * red * inner)) << 2);
    if (inner == 1) {
      let s: f64 = 0;
      for (let r = 0; r < red; r++) s += <f64>load<f32>(base + ((<usize>r) << 2));
      store<f32>(out + ((<usize>o) << 2), <f32>s);
      continue;
    }
    memory.fill(acc, 0, (<usize>inner) << 3);
    for (let r = 0; r < red; r++) {
      const row = base + ((<usize>(r * inner)) << 2);
      let i = 0;
      for (; i + 2 <= inner; i += 2) {
        const at = acc + ((<usize>i) << 3);
        v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(v128.load64_zero(row + ((<usize>i) << 2)))));
      }
      for (; i < inner; i++) {
        const at = acc + ((<usize>i) << 3);
        store<f64>(at, load<f64>(at) + <f64>load<f32>(row + ((<usize>i) << 2)));
      }
    }
    const dst = out + ((<usize>(o * inner)) << 2);
    for (let i = 0; i < inner; i++) store<f32>(dst + ((<usize>i) << 2), <f32>load<f64>(acc + ((<usize>i) << 3)));
  }
}

/**
 * max, min, argmax, argmin over x [outer, red, inner] -> out [outer, inner], the reference's
 * rule: the first element starts, a strictly better one replaces it, and the first NaN wins
 * (nothing replaces a NaN). mode: 0 max, 1 min, 2 argmax, 3 argmin (int32 indices r).
 * Example (argmax over the classes of [64, 10]): extremeAxis(x, out, 64, 10, 1, 2).
 */
export function extremeAxis(x: usize, out: usize, outer: i32, red: i32, inner: i32, mode: i32): void {
  const wantsMin = mode & 1;
  const step = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = x + ((<usize>(o * red * inner + i)) << 2);
      let best: f32 = load<f32>(p);
      let at = 0;
      for (let r = 1; r < red; r++) {
        p += step;
        const v = load<f32>(p);
        const better = wantsMin ? v < best : v > best;
        if (better || (v != v && best == best)) {
          best = v;
          at = r;
        }
      }
      const dst = out + ((<usize>(o * inner + i)) << 2);
      if (mode >= 2) store<i32>(dst, at);
      else store<f32>(dst, best);
    }
  }
}
