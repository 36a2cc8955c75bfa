/**
 * @tessera/reference: a backend in plain TypeScript that computes every primitive with simple
 * loops and float64 accumulation. Importing it registers the backend under the name
 * 'reference' (never picked by `init({ backend: 'auto' })`). Use it to run Tessera without a
 * GPU, for tests, and as the oracle of `ts.debug.shadow`, which replays every GPU op on it.
 *
 * @example
 * import * as ts from '@tessera/core';
 * import '@tessera/reference';
 * await ts.init({ backend: 'reference' });
 * const x = ts.tensor([[1, 2], [3, 4]]);
 * console.log(await x.matmul(x).data());   // Float32Array [7, 10, 15, 22]
 */
import { registerBackend } from '@tessera/core';
import { ReferenceBackend } from './backend.js';

export { ReferenceBackend, RefBuffer } from './backend.js';
export { NonFiniteFlag } from './nonfinite.js';
export { REFERENCE_KERNELS, referenceUpdate } from './kernels/index.js';

/** A new reference backend, e.g. for `ts.init({ backend: createReferenceBackend() })`. */
export function createReferenceBackend(): ReferenceBackend {
  return new ReferenceBackend();
}

registerBackend('reference', { priority: 0, auto: false, create: async () => new ReferenceBackend() });
