/**
 * The tutorial examples (examples/*.ts) in their quick mode: each runs end to end on the WebGPU
 * backend, prints what its header says, returns the numbers it printed, and frees every tensor
 * it made. The full runs (minutes on a CPU) are measured in examples/README.md.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, ts } from '../helpers/index.js';
import * as ex01 from '../../examples/01-neuron.js';
import * as ex02 from '../../examples/02-logistic-regression.js';
import * as ex03 from '../../examples/03-xor.js';
import * as ex04 from '../../examples/04-lasagne-five-steps.js';
import * as ex05 from '../../examples/05-mlp-mnist.js';
import * as ex06 from '../../examples/06-convolution-by-hand.js';
import * as ex07 from '../../examples/07-lenet-mnist.js';
import * as ex08 from '../../examples/08-transfer.js';

/** Runs an example's quick mode under a leak check; returns its result and printed lines. */
async function run<R>(name: string, main: (o: { quick: boolean; log: (l: string) => void }) => Promise<R>): Promise<{ r: R; text: string }> {
  const lines: string[] = [];
  let r!: R;
  await expectNoLeak(async () => {
    r = await main({ quick: true, log: (l) => lines.push(l) });
  }, name);
  return { r, text: lines.join('\n') };
}

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

describe('examples (quick mode)', () => {
  it('01-neuron: wᵀx + b by hand equals DenseLayer', async () => {
    const { r, text } = await run('01-neuron', ex01.main);
    for (const f of ['sigmoid', 'tanh', 'rectify']) {
      expect(r.byHand[f]).toHaveLength(3);
      expectClose(r.dense[f]!, r.byHand[f]!, { what: f });
    }
    // sigmoid(0.5 - 0.5 + 0.3) for x = [1, 2, 3]
    expect(r.byHand.sigmoid![0]).toBeCloseTo(1 / (1 + Math.exp(-0.3)), 6);
    expect(r.maxDiff).toBeLessThan(1e-6);
    expect(text).toContain('they agree');
  });

  it('02-logistic-regression: separable data, accuracy >= 95%', async () => {
    const { r, text } = await run('02-logistic-regression', ex02.main);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.losses.at(-1)!.loss).toBeLessThan(r.losses[0]!.loss);
    expect(text).toMatch(/training accuracy after \d+ steps/);
  });

  it('03-xor: linear < 76%, two-layer network 100%, linear on x1·x2 100%', async () => {
    const { r, text } = await run('03-xor', ex03.main);
    expect(r.linear.accuracy).toBeLessThan(0.76);
    expect(r.mlp.accuracy).toBe(1);
    expect(r.featureLinear.accuracy).toBe(1);
    expect(text).toContain('x1·x2');
  });

  it('04-lasagne-five-steps: both curves fall, mini-batches further; step 4 compiles the training function', async () => {
    const { r, text } = await run('04-lasagne-five-steps', ex04.main);
    for (const c of [r.fullBatch, r.miniBatch]) {
      expect(c.losses.length).toBeGreaterThanOrEqual(2);
      expect(c.losses.at(-1)!.loss).toBeLessThan(c.losses[0]!.loss);
    }
    expect(r.fullBatch.steps).toBe(r.epochs);
    expect(r.miniBatch.steps).toBeGreaterThan(r.epochs);
    expect(r.miniBatch.losses.at(-1)!.loss).toBeLessThan(r.fullBatch.losses.at(-1)!.loss);
    expect(text).toMatch(/compiles the training function \(nn\.trainFunction\)/);
  });

  it('05-mlp-mnist: the MLP learns above chance on a few hundred images', async () => {
    const { r, text } = await run('05-mlp-mnist', ex05.main);
    expect(r.trainImages).toBe(400);
    expect(r.testAccuracy).toBeGreaterThan(0.25); // chance is 0.1
    expect(text).toMatch(/test accuracy \d+\.\d\d%/);
  });

  it('06-convolution-by-hand: conv2d equals the hand formula; dW[0,0,0,0] is the sum over positions', async () => {
    const { r, text } = await run('06-convolution-by-hand', ex06.main);
    expect(r.byHand).toEqual([7.75, 9.5, 13, 14.75]);
    expectClose(r.conv2d, r.byHand, { what: 'Y' });
    expect(r.dW00.byHand).toBe(37);
    expect(r.dW00.autograd).toBeCloseTo(37, 4);
    expectClose(r.dW.autograd, r.dW.byHand, { rtol: 1e-5, atol: 1e-4, what: 'dW' });
    expect(r.dy11dX).toEqual([0.5, -1, 0, 2, 0.25, 0, 0, 0, 0]);
    expect(r.equal).toBe(true);
    expect(text).toContain('y11 = 1·0.5 + 2·(-1) + 4·2 + 5·0.25 = 7.75');
  });

  it('07-lenet-mnist: LeNet-5 learns above chance with small limits', async () => {
    const { r } = await run('07-lenet-mnist', ex07.main);
    expect(r.trainImages).toBe(640);
    expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1
  });

  it('08-transfer: fine-tuned and scratch networks both above chance, evaluated at the same steps', async () => {
    const { r, text } = await run('08-transfer', ex08.main);
    expect(r.curves.scratch.map((p) => p.step)).toEqual(r.curves.finetuned.map((p) => p.step));
    expect(r.final.scratch).toBeGreaterThan(0.2); // chance is 0.1
    expect(r.final.finetuned).toBeGreaterThan(0.2);
    expect(text).toContain('fine-tuned');
  });
});
