// Fuzzing loadTorchStateDict's names and layouts against a small conv / BatchNorm / dense net:
// renamed modules with and without a nameMap, missing, extra, reshaped and retyped tensors,
// junk maps. Each load either succeeds with the file's values or fails with a clear error.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { checkLoadTorch, fuzzParams, torchCase } from './properties.js';

beforeAll(async () => {
  await ts.init({ backend: 'reference' });
});

describe('fuzz: loadTorchStateDict', () => {
  it('name maps, missing / extra / renamed tensors and wrong shapes: a clean error or the right values', async () => {
    const before = ts.memory();
    await fc.assert(
      fc.asyncProperty(torchCase, (c) => checkLoadTorch(c)),
      fuzzParams(60),
    );
    const after = ts.memory();
    if (after.tensors !== before.tensors || after.bytes !== before.bytes) throw new Error(`leaked ${after.tensors - before.tensors} tensors`);
  });
});
