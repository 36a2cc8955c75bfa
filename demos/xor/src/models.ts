/**
 * The two XOR models side by side: logistic regression (one dense unit, sigmoid) and a
 * two-layer MLP (a tanh or ReLU hidden layer, sigmoid output), trained full-batch on the four
 * points with binary cross-entropy.
 *
 * The point of the demo is the contrast: a linear model draws one straight line through the
 * plane and XOR's classes cannot be split by one line, so it stalls at 50-75 %; one hidden
 * layer bends the boundary and reaches 100 %.
 */
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { SwitchableStep } from '../../shared/step.js';

/** The four XOR inputs. */
export const POINTS: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
/** Their labels: x1 xor x2. */
export const LABELS: readonly number[] = [0, 1, 1, 0];

/** The square of the plane shown in the heat maps: [-0.5, 1.5] on both axes. */
export const PLANE = { min: -0.5, max: 1.5 } as const;

/** How a model is built. */
export interface ModelOptions {
  kind: 'linear' | 'mlp';
  hiddenUnits: number;
  activation: 'tanh' | 'relu';
  learningRate: number;
  seed: number;
}

/** One model with its data, optimizer and the grid of plane points it is probed on. */
export class XorModel {
  readonly out: nn.Layer;
  private readonly opt: nn.Optimizer;
  private readonly x: ts.Tensor;
  private readonly y: ts.Tensor;
  private grid: { n: number; t: ts.Tensor } | null = null;
  /** The training step, compiled by default (the "Compiled steps" checkbox). */
  readonly trainer: SwitchableStep<[ts.Tensor, ts.Tensor]>;

  /**
   * Builds the model (seeded weights) and uploads the four points.
   *
   * @example
   * const mlp = new XorModel({ kind: 'mlp', hiddenUnits: 8, activation: 'tanh', learningRate: 0.05, seed: 1 });
   */
  constructor(readonly opts: ModelOptions) {
    const W = (k: number) => nn.init.GlorotUniform({ seed: opts.seed * 100 + k });
    const input = new nn.InputLayer([null, 2], { name: 'input' });
    if (opts.kind === 'linear') {
      this.out = new nn.DenseLayer(input, { numUnits: 1, W: W(1), nonlinearity: nn.nonlinearities.sigmoid, name: 'out' });
    } else {
      const act = opts.activation === 'relu' ? nn.nonlinearities.rectify : nn.nonlinearities.tanh;
      const hidden = new nn.DenseLayer(input, { numUnits: opts.hiddenUnits, W: W(1), nonlinearity: act, name: 'hidden' });
      this.out = new nn.DenseLayer(hidden, { numUnits: 1, W: W(2), nonlinearity: nn.nonlinearities.sigmoid, name: 'out' });
    }
    this.opt = nn.updates.adam(nn.getAllParams(this.out, { trainable: true }), { learningRate: opts.learningRate });
    this.x = ts.tensor(POINTS.map((p) => [...p]));
    this.y = ts.tensor(LABELS.map((l) => [l]));
    const out = this.out;
    this.trainer = new SwitchableStep((x: ts.Tensor, y: ts.Tensor) => nn.objectives.binaryCrossentropy(nn.getOutput(out, x), y).mean(), this.opt);
  }

  /**
   * One full-batch step. Returns the loss as a GPU scalar (read it or not, then dispose it).
   *
   * @example
   * const loss = await model.step(); console.log(await loss.item()); loss.dispose();
   */
  async step(): Promise<ts.Tensor> {
    return this.trainer.run(this.x, this.y);
  }

  /** P(class 1) at the four points, as a GPU tensor [4] (no readback here). */
  pointProbabilities(): ts.Tensor {
    return ts.tidy(() => ts.noGrad(() => nn.getOutput(this.out, this.x, { deterministic: true }).reshape([4])));
  }

  /**
   * P(class 1) over an n x n grid covering `PLANE`, row-major with y growing downwards in the
   * picture (row 0 is y = PLANE.max), read back.
   */
  async planeProbabilities(n: number): Promise<Float32Array> {
    if (!this.grid || this.grid.n !== n) {
      this.grid?.t.dispose();
      const xy = new Float32Array(n * n * 2);
      const at = (i: number) => PLANE.min + ((i + 0.5) / n) * (PLANE.max - PLANE.min);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++) {
          xy[(r * n + c) * 2] = at(c);
          xy[(r * n + c) * 2 + 1] = at(n - 1 - r);
        }
      this.grid = { n, t: ts.tensor(xy, { shape: [n * n, 2] }) };
    }
    const grid = this.grid.t;
    const p = ts.tidy(() => ts.noGrad(() => nn.getOutput(this.out, grid, { deterministic: true }).reshape([n * n])));
    try {
      return Float32Array.from(await p.data());
    } finally {
      p.dispose();
    }
  }

  /** Frees weights, optimizer state and data. */
  dispose(): void {
    this.trainer.dispose();
    this.opt.dispose();
    nn.disposeLayers(this.out);
    this.x.dispose();
    this.y.dispose();
    this.grid?.t.dispose();
  }
}

/** Fraction of the four points a model gets right, from its probabilities (threshold 0.5). */
export function accuracyOf(probs: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < LABELS.length; i++) if ((probs[i]! > 0.5 ? 1 : 0) === LABELS[i]) right++;
  return right / LABELS.length;
}
