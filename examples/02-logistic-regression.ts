/**
 * 02 · Logistic regression, by hand.
 *
 * The first model of the course, written the way it is in Theano before Lasagne enters: the
 * parameters are plain tensors, the model is one expression, the gradient comes from autograd.
 *
 *   p = sigmoid(X w + b)                                  P(class 1 | x), X is [N, 2]
 *   loss = mean(-(y log p + (1 - y) log(1 - p)))          binary cross-entropy
 *   w -= lr · dloss/dw,  b -= lr · dloss/db               SGD (full batch: every point, every step)
 *
 * The data: 200 seeded points in the square [-2, 2]², labelled by which side of the line
 * 2 x1 - x2 - 0.5 = 0 they lie on, and kept only where they are at least 0.1 away from it, so
 * a line separates them exactly (linearly separable). Logistic regression learns such a line.
 *
 * Prints the loss (computed by each step, before its update) and the accuracy (after it)
 * every few steps, the learned line next to the true one, and the training accuracy, which
 * reaches 100% (the test suite checks >= 95%):
 *
 *   step    0  (w = 0, b = 0: p = 0.5 everywhere, every point called class 1)  accuracy 42.0%
 *   step    1  loss 0.6931  accuracy 99.5%
 *   step  200  loss 0.0546  accuracy 100.0%
 *   learned boundary: 5.86 x1 - 2.71 x2 - 1.51 = 0, i.e. 2.00 x1 - 0.93 x2 - 0.52 = 0   (true: 2 x1 - x2 - 0.5 = 0)
 *
 * Run: npm run example -- 02-logistic-regression     (a few seconds; --quick: 100 steps)
 */
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import * as nn from '@tessera/nn';
import { isMain, pct, runMain, uniform, type ExampleOptions, type OptionHelp } from './util.js';

export const OPTIONS: OptionHelp = {
  points: { type: 'number', help: 'number of points (default 200)' },
  steps: { type: 'number', help: 'SGD steps (default 200; --quick 100)' },
  lr: { type: 'number', help: 'learning rate (default 1)' },
  seed: { type: 'number', help: 'seed of the data (default 1)' },
};

export interface LogisticOptions extends ExampleOptions {
  points?: number;
  steps?: number;
  lr?: number;
  seed?: number;
}

/** What `main` returns. */
export interface LogisticResult {
  points: number;
  steps: number;
  losses: { step: number; loss: number }[];
  w: number[];
  b: number;
  accuracy: number;
}

/**
 * N points uniform in the square [-2, 2]², labelled 1 where 2 x1 - x2 - 0.5 > 0, and kept only
 * at distance >= margin from that line.
 */
export function separableData(n: number, seed: number, margin = 0.1): { x: Float32Array; y: Float32Array } {
  const u = uniform(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ) {
    const p1 = 4 * u() - 2;
    const p2 = 4 * u() - 2;
    const side = 2 * p1 - p2 - 0.5;
    if (Math.abs(side) / Math.sqrt(5) < margin) continue;
    x[2 * i] = p1;
    x[2 * i + 1] = p2;
    y[i] = side > 0 ? 1 : 0;
    i++;
  }
  return { x, y };
}

/** `a x1 + b x2 + c` with signs written out: `2.00 x1 - 0.93 x2 - 0.52`. */
const line = (a: number, b: number, c: number) =>
  `${a.toFixed(2)} x1 ${b < 0 ? '-' : '+'} ${Math.abs(b).toFixed(2)} x2 ${c < 0 ? '-' : '+'} ${Math.abs(c).toFixed(2)}`;

export async function main(opts: LogisticOptions = {}): Promise<LogisticResult> {
  const log = opts.log ?? console.log;
  const n = opts.points ?? 200;
  const steps = opts.steps ?? (opts.quick ? 100 : 200);
  const lr = opts.lr ?? 1;
  await ts.init();

  const data = separableData(n, opts.seed ?? 1);
  const positives = data.y.reduce((a, v) => a + v, 0);
  log(`data: ${n} points in 2-D, ${positives} of class 1 (2 x1 - x2 - 0.5 > 0) and ${n - positives} of class 0, margin 0.1`);
  const X = ts.tensor(data.x, { shape: [n, 2] });
  const y = ts.tensor(data.y, { shape: [n, 1] });

  // The parameters: leaves that require grad. Zeros are fine here (one layer, no symmetry to break).
  const w = ts.zeros([2, 1], { requiresGrad: true });
  const b = ts.zeros([1], { requiresGrad: true });
  const model = (x: ts.Tensor) => x.matmul(w).add(b).sigmoid();
  // SGD on a list of tensors: `step(loss)` runs backward, updates w and b in place, frees the grads.
  const opt = nn.updates.sgd([w, b], { learningRate: lr });
  const accuracyNow = () => ts.tidy(() => ts.noGrad(() => model(X).ge(0.5).eq(y).mean()));

  const acc0 = accuracyNow();
  log(`step    0  (w = 0, b = 0: p = 0.5 everywhere, every point called class 1)  accuracy ${pct(await acc0.item(), 1)}`);
  acc0.dispose();
  const losses: LogisticResult['losses'] = [];
  const every = Math.max(1, Math.floor(steps / 5));
  for (let step = 1; step <= steps; step++) {
    const loss = ts.tidy(() => nn.objectives.binaryCrossentropy(model(X), y).mean());
    await opt.step(loss);
    if (step === 1 || step % every === 0 || step === steps) {
      // Reading a value waits for the GPU, so it is done every few steps only.
      const acc = accuracyNow();
      const [l, a] = [await loss.item(), await acc.item()];
      losses.push({ step, loss: l });
      log(`step ${String(step).padStart(4)}  loss ${l.toFixed(4)}  accuracy ${pct(a, 1)}`);
      acc.dispose();
    }
    loss.dispose();
  }

  const acc = accuracyNow();
  const accuracy = await acc.item();
  const wv = [...(await w.data())];
  const bv = (await b.data())[0]!;
  const k = 2 / wv[0]!; // the line is the same at any scale: show it with the x1 coefficient at 2, like the true one
  log(`learned boundary: ${line(wv[0]!, wv[1]!, bv)} = 0, i.e. ${line(2, wv[1]! * k, bv * k)} = 0   (true: 2 x1 - x2 - 0.5 = 0)`);
  log(`training accuracy after ${steps} steps of SGD (lr ${lr}): ${pct(accuracy, 1)}`);
  opt.dispose();
  ts.dispose([X, y, w, b, acc]);
  return { points: n, steps, losses, w: wv, b: bv, accuracy };
}

if (isMain(import.meta.url)) await runMain({ main, OPTIONS }, undefined, '02-logistic-regression');
