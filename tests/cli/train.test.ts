// The CI smoke test of the main job: `tessera train --limit 2000` learns well above chance and
// leaves no tensor behind.
import { describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { train } from '../../packages/cli/src/train.js';

describe('tessera train (smoke)', () => {
  it('trains LeNet-5 on 2000 MNIST images to well above chance, without leaks', async () => {
    await ts.init();
    const before = ts.memory();
    const result = await train({
      epochs: 1,
      batchSize: 64,
      optimizer: 'adam',
      lr: 1e-3,
      limit: 2000,
      testLimit: 1000,
      dataset: 'mnist',
      seed: 1,
      json: true,
    });
    console.log(`smoke: ${JSON.stringify(result)}`);
    expect(result.trainImages).toBe(2000);
    expect(result.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(result.adapter).toBe(ts.backendInfo().adapter);
    const after = ts.memory();
    expect(after.tensors, 'live tensors after training').toBe(before.tensors);
    expect(after.bytes, 'live bytes after training').toBe(before.bytes);
  });

  it('rejects an unknown optimizer with the valid names', async () => {
    await expect(
      train({ epochs: 1, batchSize: 64, optimizer: 'adamm', lr: 1e-3, limit: 64, testLimit: 64, dataset: 'mnist', seed: 1, json: true }),
    ).rejects.toThrow(/adamm.*(sgd|adam)/s);
  });
});
