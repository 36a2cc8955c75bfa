/**
 * Softmax cross-entropy over rows of logits [N, C], forward and backward, in float64 like the
 * reference: per row m = the first maximum, rest = sum over the other entries of exp(x - m),
 * l = log1p(rest), and the loss is (m - x[label]) + l. Labels are int32 class ids
 * (labelsAreIds = 1) or float32 target rows [N, C].
 */

/** m, rest of one row (the first strict maximum from -infinity; NaNs never win). */
// @ts-expect-error: decorator
@inline
function rowMax(row: usize, C: i32): i32 {
  let m: f32 = -Infinity;
  let top = 0;
  for (let c = 0; c < C; c++) {
    const v = load<f32>(row + (<usize>c << 2));
    if (v > m) {
      m = v;
      top = c;
    }
  }
  return top;
}

/**
 * out[n] = the loss of row n; stats[n] = (m, l, target sum). A class id outside [0, C) gives a
 * NaN loss. Example: softmaxCrossEntropy(x, labels, 1, out, stats, 64, 10).
 */
export function softmaxCrossEntropy(x: usize, labels: usize, labelsAreIds: i32, out: usize, stats: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const row = x + (<usize>(n * C) << 2);
    const top = rowMax(row, C);
    const m = <f64>load<f32>(row + (<usize>top << 2));
    let rest: f64 = 0;
    for (let c = 0; c < C; c++) if (c != top) rest += Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - m);
    const l = Math.log1p(rest);
    const s = stats + (<usize>(3 * n) << 2);
    store<f32>(s, <f32>m);
    store<f32>(s, <f32>l, 4);
    if (labelsAreIds) {
      const label = load<i32>(labels + (<usize>n << 2));
      const loss = label >= 0 && label < C ? m - <f64>load<f32>(row + (<usize>label << 2)) + l : NaN;
      store<f32>(out + (<usize>n << 2), <f32>loss);
      store<f32>(s, 1, 8);
    } else {
      const t = labels + (<usize>(n * C) << 2);
      let loss: f64 = 0;
      let targetSum: f64 = 0;
      for (let c = 0; c < C; c++) {
        const tc = <f64>load<f32>(t + (<usize>c << 2));
        if (tc != 0) loss += tc * (m - <f64>load<f32>(row + (<usize>c << 2)) + l);
        targetSum += tc;
      }
      store<f32>(out + (<usize>n << 2), <f32>loss);
      store<f32>(s, <f32>targetSum, 8);
    }
  }
}

/**
 * dx[n, c] = (exp(x - m - l) * targetSum - t[n, c]) * dy[n], from the forward's stats; a row
 * with an invalid class id is NaN. Example: softmaxCrossEntropyBackward(x, labels, 1, stats, dy, dx, 64, 10).
 */
export function softmaxCrossEntropyBackward(
  x: usize,
  labels: usize,
  labelsAreIds: i32,
  stats: usize,
  dy: usize,
  dx: usize,
  N: i32,
  C: i32,
): void {
  for (let n = 0; n < N; n++) {
    const s = stats + (<usize>(3 * n) << 2);
    const m = <f64>load<f32>(s);
    const l = <f64>load<f32>(s, 4);
    const targetSum = <f64>load<f32>(s, 8);
    const g = <f64>load<f32>(dy + (<usize>n << 2));
    const label = labelsAreIds ? load<i32>(labels + (<usize>n << 2)) : -1;
    const valid = !labelsAreIds || (label >= 0 && label < C);
    const row = x + (<usize>(n * C) << 2);
    const out = dx + (<usize>(n * C) << 2);
    for (let c = 0; c < C; c++) {
      const p = Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - m - l) * targetSum;
      const t: f64 = labelsAreIds ? (label == c ? 1 : 0) : <f64>load<f32>(labels + (<usize>(n * C + c) << 2));
      store<f32>(out + (<usize>c << 2), valid ? <f32>((p - t) * g) : NaN);
    }
  }
}
