// Fuzzing the safetensors reader (decodeSafetensors, and loadParams on top of it): every
// mutated file either decodes to exactly what the spec says it holds, or throws an Error that
// names the file and the problem. See tests/fuzz/formats.ts for the cases and the oracle.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { checkDecodeSafetensors, checkLoadParams, fuzzParams, loadCase, stCase, stValidCase } from './properties.js';

beforeAll(async () => {
  await ts.init({ backend: 'reference' });
});

describe('fuzz: safetensors', () => {
  it('decodeSafetensors: mutated files decode as the spec reads them, or fail cleanly', () => {
    fc.assert(
      fc.property(stCase, (c) => checkDecodeSafetensors(c)),
      fuzzParams(150),
    );
  });
  it('decodeSafetensors: valid files (zero-size tensors, any data order, padding) always decode', () => {
    fc.assert(
      fc.property(stValidCase, (c) => checkDecodeSafetensors(c)),
      fuzzParams(40),
    );
  });
  it('loadParams from bytes: loads exactly when names, shapes and dtypes fit, writes nothing otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(loadCase, (c) => checkLoadParams(c)),
      fuzzParams(50),
    );
  });
});
