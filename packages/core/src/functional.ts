/** The free-function API; Tensor's methods delegate here. */
export * from './api/creation.js';
export * from './api/math.js';
export * from './api/reduce.js';
export * from './api/shape.js';
export * from './api/linalg.js';
export * from './api/nnops.js';
export * from './api/cnn.js';
export * from './api/norm.js';
export * from './api/grad.js';
export * from './api/memory.js';
export * from './api/assign.js';
