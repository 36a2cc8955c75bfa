// The package entry: the compiled core plus the one line that lets `ts.init()` find the WebGPU
// backend. It lives outside src/ because core's TypeScript must not depend on @tessera/webgpu
// (which depends on core); a literal import here still lets bundlers such as Vite follow it.
import { setBackendLoader } from './dist/index.js';

setBackendLoader(() => import('@tessera/webgpu'));

export * from './dist/index.js';
