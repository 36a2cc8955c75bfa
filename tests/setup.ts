// Mirrors packages/core/entry.js for tests that import the TypeScript sources.
import { setBackendLoader } from '@tessera/core';

setBackendLoader(() => import('@tessera/webgpu'));
