/**
 * 06 · A convolution by hand: local connections and weight sharing.
 *
 * A 3x3 input X and a 2x2 kernel w, no padding, stride 1, give a 2x2 output Y. Each output
 * is a weighted sum of one 2x2 patch of the input, with the same four weights everywhere:
 *
 *   y11 = X11 w11 + X12 w12 + X21 w21 + X22 w22
 *   y12 = X12 w11 + X13 w12 + X22 w21 + X23 w22
 *   y21 = X21 w11 + X22 w12 + X31 w21 + X32 w22
 *   y22 = X22 w11 + X23 w12 + X32 w21 + X33 w22
 *
 * This example computes Y by hand (plain numbers, the formulas above) and with `ts.conv2d`,
 * and checks they are equal. `ts.conv2d`, like PyTorch and like the formula above, does not
 * flip the kernel (a cross-correlation; Lasagne's Conv2DLayer with flip_filters=False).
 *
 * Then it shows the two properties that make a convolution cheaper than a dense layer, with
 * autograd:
 *
 * - local connections: y11 depends on the top-left 2x2 patch of X only, so dy11/dX is w in
 *   that patch and 0 elsewhere;
 * - weight sharing: w11 is used at every output position, so for a loss L = Σ g_ij y_ij the
 *   gradient dL/dw11 is the sum over all four positions, g11 X11 + g12 X12 + g21 X21 + g22 X22.
 *   Autograd's dW[0,0,0,0] equals that hand sum.
 *
 * Prints Y both ways, dy11/dX, and dL/dw11 both ways, e.g.
 *
 *   y11 = 1·0.5 + 2·(-1) + 4·2 + 5·0.25 = 7.75
 *   by hand [7.75, 9.5, 13, 14.75]   ts.conv2d [7.75, 9.5, 13, 14.75]   equal
 *   dL/dw11 = 1·1 + 2·2 + 4·3 + 5·4 = 37   autograd dW[0,0,0,0] = 37   equal
 *
 * Run: npm run example -- 06-convolution-by-hand
 */
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import { isMain, runMain, type ExampleOptions } from './util.js';

/** What `main` returns. */
export interface ConvolutionResult {
  /** Y row by row: y11, y12, y21, y22. */
  byHand: number[];
  conv2d: number[];
  /** dy11/dX, 3x3 row by row. */
  dy11dX: number[];
  dW00: { byHand: number; autograd: number };
  /** The whole kernel gradient from autograd, and by hand. */
  dW: { byHand: number[]; autograd: number[] };
  equal: boolean;
}

const X = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
];
const W = [
  [0.5, -1],
  [2, 0.25],
];
/** The upstream gradient dL/dY of the loss L = Σ g_ij y_ij. */
const G = [
  [1, 2],
  [3, 4],
];

const num = (v: number) => (v < 0 ? `(${v})` : `${v}`);

export async function main(opts: ExampleOptions = {}): Promise<ConvolutionResult> {
  const log = opts.log ?? console.log;
  await ts.init();
  log(`X = ${JSON.stringify(X)}   (3x3 input)`);
  log(`w = ${JSON.stringify(W)}   (2x2 kernel; no padding, stride 1: Y is 2x2)`);

  // By hand: y_ij = Σ_ab X[i+a][j+b] · w[a][b].
  const byHand: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      const terms = [0, 1].flatMap((a) => [0, 1].map((b) => [X[i + a]![j + b]!, W[a]![b]!] as const));
      const y = terms.reduce((s, [x, w]) => s + x * w, 0);
      byHand.push(y);
      log(`y${i + 1}${j + 1} = ${terms.map(([x, w]) => `${x}·${num(w)}`).join(' + ')} = ${y}`);
    }
  }

  // With ts.conv2d: NCHW input [1, 1, 3, 3] and weights [filters, channels, 2, 2] = [1, 1, 2, 2].
  const x = ts.tensor([[X]]);
  const w = ts.tensor([[W]]);
  const y = ts.conv2d(x, w);
  const conv = [...(await y.data())];
  const fmt = (v: number[]) => `[${v.join(', ')}]`;
  const sameY = conv.every((v, i) => Math.abs(v - byHand[i]!) < 1e-5);
  log(`Y by hand ${fmt(byHand)}   ts.conv2d ${fmt(conv)}   ${sameY ? 'equal' : 'DIFFERENT'}`);

  // Local connections: the gradient of y11 alone with respect to the input.
  const [dx] = ts.grad((xx: ts.Tensor) => ts.conv2d(xx, w).slice([0, 0, 0, 0], [1, 1, 1, 1]).sum())(x);
  const dy11dX = [...(await dx!.data())];
  log('local connections: dy11/dX (y11 sees only the top-left 2x2 patch, through w):');
  for (let r = 0; r < 3; r++)
    log(
      `  [${dy11dX
        .slice(3 * r, 3 * r + 3)
        .map((v) => String(v).padStart(5))
        .join(' ')}]`,
    );

  // Weight sharing: dL/dw for L = Σ g_ij y_ij sums over every output position using the weight.
  const g = ts.tensor([[G]]);
  const [dw] = ts.grad((ww: ts.Tensor) => ts.conv2d(x, ww).mul(g).sum())(w);
  const autograd = [...(await dw!.data())];
  const handGrad: number[] = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      let s = 0;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) s += G[i]![j]! * X[i + a]![j + b]!;
      handGrad.push(s);
    }
  }
  const terms00 = [0, 1].flatMap((i) => [0, 1].map((j) => `${G[i]![j]}·${X[i]![j]}`));
  const sameW = autograd.every((v, i) => Math.abs(v - handGrad[i]!) < 1e-4);
  log(`weight sharing: with L = Σ g_ij y_ij, g = ${JSON.stringify(G)}, w11 is used at all four output positions, so`);
  log(`  dL/dw11 = g11·X11 + g12·X12 + g21·X21 + g22·X22 = ${terms00.join(' + ')} = ${handGrad[0]}`);
  log(`  autograd dW[0,0,0,0] = ${autograd[0]}   ${Math.abs(autograd[0]! - handGrad[0]!) < 1e-4 ? 'equal' : 'DIFFERENT'}`);
  log(`  the whole kernel: by hand ${fmt(handGrad)}   autograd ${fmt(autograd)}   ${sameW ? 'equal' : 'DIFFERENT'}`);

  ts.dispose([x, w, y, dx, g, dw]);
  return {
    byHand,
    conv2d: conv,
    dy11dX,
    dW00: { byHand: handGrad[0]!, autograd: autograd[0]! },
    dW: { byHand: handGrad, autograd },
    equal: sameY && sameW,
  };
}

if (isMain(import.meta.url)) await runMain({ main }, undefined, '06-convolution-by-hand');
