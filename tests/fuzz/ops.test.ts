// Fuzzing every public op's arguments (tests/fuzz/ops.ts): each call works or throws an Error
// that names the op; no leak, and the runtime still computes afterwards. Most cases run on the
// reference backend (fast); a few dozen on WebGPU, where a bad dispatch could poison the device.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { checkOpCase, checkRuntimeWorks, fuzzParams, fuzzedOps, NOT_OPS, OP_SPECS, opCase, unspecifiedOps } from './properties.js';

describe('fuzz: op arguments', () => {
  it('covers every function export of @tessera/core: an argument spec, generic arguments, or a reason it is not an op', () => {
    const ops = fuzzedOps();
    expect(ops.length).toBeGreaterThan(60);
    for (const op of Object.keys(OP_SPECS)) expect(op in NOT_OPS, `${op} is both fuzzed and excluded`).toBe(false);
    // A new export without a spec is still fuzzed, with generic arguments; say so.
    const generic = unspecifiedOps();
    if (generic.length) console.info(`fuzzing with generic arguments (no spec in tests/fuzz/ops.ts): ${generic.join(', ')}`);
  });

  describe('reference backend', () => {
    beforeAll(async () => {
      await ts.init({ backend: 'reference' });
    });
    it('each call works or throws an Error naming the op; memory back to baseline; the runtime still works', async () => {
      await fc.assert(
        fc.asyncProperty(opCase(), (c) => checkOpCase(c)),
        fuzzParams(300),
      );
    });
  });

  describe('webgpu backend', () => {
    beforeAll(async () => {
      await ts.init({ backend: 'webgpu' });
    });
    afterAll(() => ts.shutdown());
    it('the same property, fewer cases (SwiftShader is slow), the runtime checked every case', async () => {
      await fc.assert(
        fc.asyncProperty(opCase(), (c) => checkOpCase(c)),
        // A tenth of TESSERA_FUZZ_RUNS when set: a WebGPU case costs ~20x a reference one on SwiftShader.
        fuzzParams(40, 10),
      );
      await checkRuntimeWorks();
    });
  });
});
