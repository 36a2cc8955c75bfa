/**
 * @tessera/webgpu: the WebGPU backend of Tessera. `ts.init()` loads it; use it directly only to
 * wrap a GPUDevice you already have.
 *
 * @example
 * import * as ts from '@tessera/core';
 * import { backendFromDevice } from '@tessera/webgpu';
 * await ts.init({ backend: await backendFromDevice(adapter, device) });
 */
import type { Backend } from '@tessera/core';
import { WebGPUBackend, describeAdapter } from './backend.js';

export { WebGPUBackend } from './backend.js';
export { WGSL } from './kernels.generated.js';
export { sizeClass } from './pool.js';
export { uniformLayout } from './uniforms.js';

/** Where a GPU comes from: the browser's `navigator.gpu`, or Dawn through `@tessera/node`. */
async function findGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process !== 'undefined' && process.versions?.node) {
    const spec = '@tessera/node';
    const mod = (await import(/* @vite-ignore */ spec)) as { nodeGPU(): Promise<GPU> };
    return mod.nodeGPU();
  }
  throw new Error('init: this browser has no WebGPU (navigator.gpu is missing). Use a current Chrome, Edge or Safari 26+, or Firefox 141+ on Windows');
}

/** Wraps an adapter and device you created yourself. @example await backendFromDevice(adapter, device) */
export async function backendFromDevice(adapter: GPUAdapter, device: GPUDevice): Promise<Backend> {
  const b = new WebGPUBackend(device, describeAdapter(adapter, device));
  await b.warmup();
  return b;
}

/**
 * Creates the backend on the best adapter, asking for the adapter's full buffer and workgroup
 * limits (the defaults are far lower than most devices allow).
 *
 * @example
 * const backend = await createBackend({ powerPreference: 'high-performance' });
 */
export async function createBackend(opts: { powerPreference?: GPUPowerPreference } = {}): Promise<Backend> {
  const gpu = await findGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('init: no WebGPU adapter is available. In Node, run `bash scripts/ensure-webgpu`; in a browser, check that WebGPU is enabled');
  const want = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  return backendFromDevice(adapter, device);
}
