/**
 * What `packages/core/entry.js` does for the published package, for the demos, which build from
 * the TypeScript sources: re-export core and tell `ts.init()` where the WebGPU backend is. The
 * literal dynamic import lets Vite split the backend into its own chunk and still bundle it.
 */
import { setBackendLoader } from '../../packages/core/src/index.js';

setBackendLoader(() => import('@tessera/webgpu'));

export * from '../../packages/core/src/index.js';
