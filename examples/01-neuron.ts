/**
 * 01 · One neuron.
 *
 * A neuron computes y = f(wᵀx + b): a weighted sum of its inputs plus a bias, passed through a
 * nonlinearity f. This example computes it twice for a small batch of inputs:
 *
 * 1. by hand, with tensor ops: `x.mul(w).sum(1)` is wᵀx for each row of x, then `+ b`, then f;
 * 2. with a Lasagne-style `DenseLayer` of one unit, given the same W and b.
 *
 * and checks that both agree, for the sigmoid, tanh and rectify (ReLU) nonlinearities.
 *
 * Prints, per nonlinearity, both outputs for the three inputs and their largest difference
 * (0 here; at most float rounding, about 1e-7):
 *
 *   sigmoid  by hand [0.5744, 0.3486, 0.5000]  DenseLayer [0.5744, 0.3486, 0.5000]  max |diff| 0
 *   tanh     by hand [0.2913, -0.5546, 0.0000]  DenseLayer [0.2913, -0.5546, 0.0000]  max |diff| 0
 *   rectify  by hand [0.3000, 0.0000, 0.0000]  DenseLayer [0.3000, 0.0000, 0.0000]  max |diff| 0
 *
 * Run: npm run example -- 01-neuron
 */
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import * as nn from '@tessera/nn';
import { isMain, runMain, type ExampleOptions } from './util.js';

/** What `main` returns: the outputs per nonlinearity, both ways, and the largest difference. */
export interface NeuronResult {
  inputs: number[][];
  w: number[];
  b: number;
  byHand: Record<string, number[]>;
  dense: Record<string, number[]>;
  maxDiff: number;
}

export async function main(opts: ExampleOptions = {}): Promise<NeuronResult> {
  const log = opts.log ?? console.log;
  await ts.init();

  // Three inputs of three features each, one per row; the neuron's weights and bias.
  const inputs = [
    [1, 2, 3],
    [-1, 0.5, 0],
    [0, 0, 0],
  ];
  const w = [0.5, -0.25, 0.1];
  const b = 0;
  log(`inputs x (one per row): ${JSON.stringify(inputs)}`);
  log(`weights w = ${JSON.stringify(w)}, bias b = ${b}`);

  const x = ts.tensor(inputs);
  const wT = ts.tensor(w);
  const data = new nn.InputLayer([null, 3]);
  const fs = { sigmoid: nn.nonlinearities.sigmoid, tanh: nn.nonlinearities.tanh, rectify: nn.nonlinearities.rectify };
  const byHand: Record<string, number[]> = {};
  const dense: Record<string, number[]> = {};
  let maxDiff = 0;
  const fmt = (v: number[]) => `[${v.map((a) => a.toFixed(4)).join(', ')}]`;
  for (const [name, f] of Object.entries(fs)) {
    // 1. By hand: z = wᵀx + b for each row, then the nonlinearity.
    const yHand = ts.tidy(() => f(x.mul(wT).sum(1).add(b)));
    // 2. A DenseLayer with one unit and the same parameters: W is [inputs, units] = [3, 1].
    const layer = new nn.DenseLayer(data, { numUnits: 1, W: w, b: [b], nonlinearity: f });
    const yLayer = ts.tidy(() => nn.getOutput(layer, x).reshape([inputs.length]));
    byHand[name] = [...(await yHand.data())];
    dense[name] = [...(await yLayer.data())];
    const diff = Math.max(...byHand[name]!.map((v, i) => Math.abs(v - dense[name]![i]!)));
    maxDiff = Math.max(maxDiff, diff);
    log(`${name.padEnd(8)} by hand ${fmt(byHand[name]!)}  DenseLayer ${fmt(dense[name]!)}  max |diff| ${diff}`);
    ts.dispose([yHand, yLayer]);
    layer.dispose();
  }
  ts.dispose([x, wT]);
  log(maxDiff < 1e-6 ? 'the same neuron, two ways: they agree' : `they differ by ${maxDiff}`);
  return { inputs, w, b, byHand, dense, maxDiff };
}

if (isMain(import.meta.url)) await runMain({ main }, undefined, '01-neuron');
