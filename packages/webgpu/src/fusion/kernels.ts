/**
 * Building fused kernels for `ts.compile`: WGSL from the code generator, pipelines from
 * `PipelineCache.pipelineAsync` (created with `createComputePipelineAsync`, so a capture never
 * waits for a shader compiler, and cached by source, so equal chains share one pipeline).
 */
import type { FusedHandle, FusedKernel } from '@tessera/core';
import { ShaderStage } from '../flags.js';
import { WGSL } from '../kernels.generated.js';
import { storageAccess, type PipelineCache } from '../pipelines.js';
import { grid1d, KERNELS, type AnyKernelCall, type KernelName } from '../spec.js';
import { FUSED_ELEMENTS_PER_THREAD, renderEpilogue, renderFused } from './codegen.js';

/** A built (or building) fused kernel, as the backend's FusedHandle. */
export interface FusedPipeline {
  readonly id: number;
  readonly layout: GPUBindGroupLayout;
  /** Null until the asynchronous pipeline creation finishes. */
  pipeline: GPUComputePipeline | null;
  /** For a chain alone; an epilogue dispatches as its producer's call says. */
  readonly workgroups: readonly [number, number, number];
  /** For an epilogue: the producer's kernel and specialisation, which a replay's call must match. */
  readonly producer: { op: string; kernel: KernelName; constants: Readonly<Record<string, number>> } | null;
}

const uniformEntry: GPUBindGroupLayoutEntry = { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } };
const storageEntry = (binding: number, read: boolean): GPUBindGroupLayoutEntry => ({
  binding,
  visibility: ShaderStage.COMPUTE,
  buffer: { type: read ? 'read-only-storage' : 'storage' },
});

/** The fused kernels of one device. */
export class FusedKernels {
  private readonly built = new Map<string, { kernel: FusedPipeline; ready: Promise<void> }>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private nextId = 1;

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
  ) {}

  /** A bind group layout per form: the uniform arena, then storage buffers (true = read-only). */
  private layout(reads: readonly boolean[]): GPUBindGroupLayout {
    const key = reads.map((r) => (r ? 'r' : 'w')).join('');
    let l = this.layouts.get(key);
    if (!l) {
      l = this.device.createBindGroupLayout({ label: `fused ${key}`, entries: [uniformEntry, ...reads.map((r, j) => storageEntry(j + 1, r))] });
      this.layouts.set(key, l);
    }
    return l;
  }

  private start(
    source: string,
    layout: GPUBindGroupLayout,
    entry: string,
    constants: Record<string, number> | undefined,
    make: (id: number) => FusedPipeline,
  ): { kernel: FusedHandle; ready: Promise<void> } {
    const key = `${entry}|${JSON.stringify(constants ?? {})}|${source}`;
    let hit = this.built.get(key);
    if (!hit) {
      const kernel = make(this.nextId++);
      const ready = this.pipelines.pipelineAsync(`fused kernel ${kernel.id}`, source, [layout], entry, constants).then((p) => {
        kernel.pipeline = p;
      });
      hit = { kernel, ready };
      this.built.set(key, hit);
    }
    return { kernel: hit.kernel as FusedHandle, ready: hit.ready };
  }

  /** Starts building chain `k` as a kernel of its own. */
  build(k: FusedKernel): { kernel: FusedHandle; ready: Promise<void> } {
    const layout = this.layout([...k.inputs.map(() => true), ...k.outputs.map(() => false)]);
    return this.start(renderFused(k), layout, 'main', undefined, (id) => ({
      id,
      layout,
      pipeline: null,
      workgroups: grid1d(Math.ceil(k.size / FUSED_ELEMENTS_PER_THREAD)),
      producer: null,
    }));
  }

  /**
   * Starts building chain `k` as the epilogue of `call`, the producer's one dispatch; null
   * when its kernel has no epilogue hook.
   */
  buildEpilogue(k: FusedKernel, call: AnyKernelCall): { kernel: FusedHandle; ready: Promise<void> } | null {
    const spec = KERNELS[call.kernel];
    const own = spec.buffers.length;
    const source = renderEpilogue(k, WGSL[spec.file]!, own + 1);
    if (!source) return null;
    const access = storageAccess(spec.file);
    const reads = [...spec.buffers.map((_, j) => access.get(j + 1) === 'read'), ...k.inputs.map(() => true)];
    const layout = this.layout(reads);
    const constants = call.constants as Record<string, number> | undefined;
    return this.start(source, layout, spec.entry, constants, (id) => ({
      id,
      layout,
      pipeline: null,
      workgroups: call.workgroups,
      producer: { op: k.producer!, kernel: call.kernel, constants: constants ?? {} },
    }));
  }
}

/** Whether a replay's producer call is specialised as the one the epilogue was built from. */
export function sameSpecialisation(k: NonNullable<FusedPipeline['producer']>, call: AnyKernelCall): boolean {
  if (call.kernel !== k.kernel) return false;
  const c = (call.constants ?? {}) as Record<string, number>;
  let n = 0;
  for (const key in c) {
    if (c[key] !== k.constants[key]) return false;
    n++;
  }
  return n === Object.keys(k.constants).length;
}
