// Fuzzing the IDX parser (the MNIST file format): magic, dtype byte, rank and dims against the
// byte length. Each mutated file parses to what the spec says, or fails with an Error naming it.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkParseIdx, fuzzParams, idxCase } from './properties.js';

describe('fuzz: IDX', () => {
  it('parseIdx: mutated files parse as the spec reads them, or fail cleanly', () => {
    fc.assert(
      fc.property(idxCase, (c) => checkParseIdx(c)),
      fuzzParams(120),
    );
  });
});
