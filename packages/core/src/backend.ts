import type { AnyKernelCall, DeviceBuffer } from './kernels.js';

/** What `ts.backendInfo()` reports about the adapter in use. */
export interface BackendInfo {
  adapter: string;
  vendor: string;
  architecture: string;
  features: string[];
  /** True for a CPU implementation of the GPU API (SwiftShader), where kernels are chosen differently. */
  isCPU: boolean;
  limits: Record<string, number>;
}

/**
 * What kernels may assume about the device. Op kernels read this, and nothing else about the
 * adapter, so the choice between kernel variants happens in one place per op.
 */
export interface DeviceCaps {
  /** Prefer barrier-free kernels that keep their tile in registers (best on CPU adapters). */
  registerTiling: boolean;
  maxWorkgroupStorageBytes: number;
  maxStorageBufferBytes: number;
}

/** Counters a backend keeps for benchmarks and leak checks. */
export interface BackendStats {
  /** Bytes in device buffers held by live tensors plus the pool. */
  allocatedBytes: number;
  /** Bytes in buffers that are free and waiting in the pool. */
  pooledBytes: number;
  /** Device buffers created so far (a pool miss creates one). */
  buffersCreated: number;
  submits: number;
  dispatches: number;
}

/**
 * The narrow, private interface between the tensor runtime and a device. Work is queued by
 * `run` and `write`, and only `read` waits.
 */
export interface Backend {
  readonly info: BackendInfo;
  readonly caps: DeviceCaps;
  alloc(bytes: number): DeviceBuffer;
  /** Returns a buffer to the pool once the work queued so far no longer needs it. */
  free(buf: DeviceBuffer): void;
  write(buf: DeviceBuffer, data: ArrayBufferView): void;
  read(buf: DeviceBuffer, bytes: number): Promise<ArrayBuffer>;
  run(call: AnyKernelCall): void;
  /** Submits everything queued so far. */
  flush(): void;
  /** Submits queued work, then destroys the pooled free buffers; returns the bytes given back. */
  emptyCache(): number;
  stats(): BackendStats;
  destroy(): void;
}
