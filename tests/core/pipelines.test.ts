// The WebGPU pipeline cache: asynchronous creation of generated kernels (`pipelineAsync`, which
// fusion uses), the warm set, and eager dispatches that meet a pipeline still being created
// (queued until a read, never duplicated; a synchronous flush makes it at once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { KERNELS, WARM_SET, createBackend, type WebGPUBackend } from '@tessera/webgpu';
import * as nn from '@tessera/nn';
import { PipelineCache, variantKey } from '../../packages/webgpu/src/pipelines.js';

const ADD_ONE = `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) g: vec3<u32>) { v[g.x] = v[g.x] + 1.0; }`;

let backend: WebGPUBackend;
let device: GPUDevice;

beforeAll(async () => {
  backend = (await createBackend({ warmPipelines: 'none' })) as WebGPUBackend;
  device = backend.device;
  await ts.init({ backend });
});

afterAll(() => {
  ts.shutdown();
});

describe('PipelineCache.pipelineAsync', () => {
  it('creates a generated pipeline once per source and layout, and it runs', async () => {
    const cache = new PipelineCache(device);
    const group = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'storage' } }] });
    const first = cache.pipelineAsync('add one', ADD_ONE, [group]);
    expect(cache.pipelineAsync('add one again', ADD_ONE, [group])).toBe(first); // same source: same promise
    expect(cache.readyPipeline(ADD_ONE, [group])).toBeNull(); // still in flight
    const pipeline = await first;
    expect(cache.readyPipeline(ADD_ONE, [group])).toBe(pipeline);
    // Another layout object, entry point or constant set is another pipeline.
    const other = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: 4, buffer: { type: 'storage' } }] });
    expect(cache.pipelineAsync('add one', ADD_ONE, [other])).not.toBe(first);
    expect(cache.stats.async).toBe(2);
    expect(cache.stats.sync).toBe(0);

    const buf = device.createBuffer({ size: 16, usage: 0x80 | 0x4 | 0x8 }); // STORAGE | COPY_SRC | COPY_DST
    device.queue.writeBuffer(buf, 0, new Float32Array([1, 2, 3, 4]));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: group, entries: [{ binding: 0, resource: { buffer: buf } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    const staging = device.createBuffer({ size: 16, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
    enc.copyBufferToBuffer(buf, 0, staging, 0, 16);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(1);
    expect([...new Float32Array(staging.getMappedRange())]).toEqual([2, 3, 4, 5]);
    staging.unmap();
    buf.destroy();
    staging.destroy();
  });

  it('rejects invalid WGSL with the label, line and source, and lets a later call try again', async () => {
    const cache = new PipelineCache(device);
    const bad = ADD_ONE.replace('v[g.x] + 1.0', 'v[g.x] + undefinedThing');
    device.pushErrorScope('validation');
    const err = await cache.pipelineAsync('fused bad', bad, []).then(
      () => null,
      (e: Error) => e,
    );
    await device.popErrorScope();
    expect(err?.message).toMatch(/^webgpu: creating pipeline 'fused bad' failed: fused bad:2:\d+: error: .*undefinedThing/s);
    expect(err?.message).toContain('v[g.x] = v[g.x] + undefinedThing');
    expect(cache.readyPipeline(bad, [])).toBeNull();
    expect(cache.size).toBe(0); // dropped: not cached as a failure
  });
});

describe('warm pipelines and eager dispatch', () => {
  it('the warm set names existing kernels and only constants they declare', () => {
    for (const variants of Object.values(WARM_SET)) {
      for (const [kernel, constants] of variants) {
        expect(KERNELS[kernel], kernel).toBeDefined();
        for (const c of Object.keys(constants ?? {})) expect(KERNELS[kernel].constants, `${kernel}.${c}`).toContain(c);
      }
    }
  });

  // The warm set is a list kept by hand: this fails, naming the variant, when kernel choices change.
  it.each(['cpu', 'gpu'] as const)('every %s warm variant is one a LeNet-5 step or batch-1 inference uses', async (kind) => {
    const b = (await createBackend({ warmPipelines: 'none', caps: { registerTiling: kind === 'cpu' } })) as WebGPUBackend;
    try {
      await ts.init({ backend: b });
      const net = nn.models.lenet5({ seed: 1 });
      const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
      const x = ts.rand([64, 1, 28, 28], { seed: 3 });
      const y = ts.tensor(
        Int32Array.from({ length: 64 }, (_, i) => i % 10),
        { dtype: 'int32' },
      );
      const loss = ts.tidy(() => nn.objectives.categoricalCrossentropy(nn.getOutput(net.out, x), y, { fromLogits: true }).mean());
      opt.step(loss);
      const one = ts.rand([1, 1, 28, 28], { seed: 4 });
      const out = ts.noGrad(() => nn.getOutput(net.out, one, { deterministic: true }));
      await out.data();
      const used = new Set((b as unknown as { pipelines: { pipelines: Map<string, unknown> } }).pipelines.pipelines.keys());
      for (const [kernel, constants] of WARM_SET[kind]) expect(used, 'a warm variant nothing used').toContain(variantKey(kernel, constants));
      ts.dispose([x, y, loss, one, out]);
    } finally {
      ts.shutdown();
      await ts.init({ backend });
    }
  });

  it('queues dispatches behind a pipeline in flight until the read, without a duplicate', async () => {
    const b = (await createBackend({ warmPipelines: 'none' })) as WebGPUBackend;
    try {
      await ts.init({ backend: b });
      const cache = (b as unknown as { pipelines: PipelineCache }).pipelines;
      // The variant `x.add(y)` on two float32 tensors of the same shape dispatches.
      const x = ts.tensor([1, 2, 3]);
      const y = ts.tensor([10, 20, 30]);
      await x.data();
      void cache.warm([['elementwise', { OP: 0, A_INT: 0, B_INT: 0, C_INT: 0, OUT_INT: 0, FLAT: 1 }]]);
      const before = { ...b.pipelineStats };
      const z = x.add(y).mul(2); // add waits for its pipeline; mul queues behind it, in order
      // A warm creation settles in a later tick at the earliest, so the add and what follows it (the scalar 2, the mul) are queued.
      expect((b as unknown as { deferred: unknown[] }).deferred.length).toBeGreaterThanOrEqual(2);
      expect(await z.data()).toEqual(new Float32Array([22, 44, 66]));
      expect(b.pipelineStats.forced).toBe(before.forced);
      ts.dispose([x, y, z]);
    } finally {
      ts.shutdown();
      await ts.init({ backend });
    }
  });

  it('a synchronous flush makes a pipeline still in flight at once', async () => {
    const b = (await createBackend({ warmPipelines: 'none' })) as WebGPUBackend;
    try {
      await ts.init({ backend: b });
      const cache = (b as unknown as { pipelines: PipelineCache }).pipelines;
      const x = ts.tensor([1, 2, 3]);
      await x.data();
      void cache.warm([['unary', { OP: 1, X_INT: 0, OUT_INT: 0 }]]); // x.exp()
      const z = x.exp();
      ts.flush();
      // The warm creation cannot have settled (no tick since), so the flush made the pipeline itself.
      expect(b.pipelineStats.forced).toBe(1);
      const got = await z.data();
      for (const [i, v] of [1, 2, 3].entries()) expect(got[i]).toBeCloseTo(Math.exp(v), 4);
      ts.dispose([x, z]);
    } finally {
      ts.shutdown();
      await ts.init({ backend });
    }
  });
});
