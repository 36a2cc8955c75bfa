// Every WGSL file compiles on the device, and each kernel's typed binding layout (KERNELS in
// core) agrees with its WGSL: the Params struct fields and the storage bindings.
import { beforeAll, describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { WGSL, WebGPUBackend } from '@tessera/webgpu';

beforeAll(async () => {
  await ts.init();
});

const WGSL_TYPE: Record<ts.UniformType, string> = { u32: 'u32', i32: 'i32', f32: 'f32', u32x8: 'array<vec4<u32>, 2>' };

describe('kernels', () => {
  it('every kernel file compiles without errors', async () => {
    for (const [file, code] of Object.entries(WGSL)) expect(code.length, file).toBeGreaterThan(0);
    // init() already compiled every module and would have thrown with file:line on an error;
    // compile again explicitly so this test fails on its own if that ever changes.
    const { createBackend } = await import('@tessera/webgpu');
    const b = (await createBackend()) as WebGPUBackend;
    await b.warmup();
    b.destroy();
  });

  it.each(Object.entries(ts.KERNELS))('%s: Params struct and bindings match the spec', (name, spec) => {
    const code = WGSL[spec.file];
    expect(code, `kernels/${spec.file}.wgsl exists`).toBeDefined();
    const body = /struct Params \{([^}]*)\}/.exec(code!)?.[1];
    expect(body, `kernels/${spec.file}.wgsl has a Params struct`).toBeDefined();
    const fields = body!.split('\n').map((l) => /^\s*(\w+)\s*:\s*(.+?),?\s*$/.exec(l)).filter((m) => m).map((m) => [m![1], m![2]]);
    expect(fields.map(([n]) => n)).toEqual(spec.uniforms.map(([n]) => n));
    expect(fields.map(([, t]) => t)).toEqual(spec.uniforms.map(([, t]) => WGSL_TYPE[t]));
    const bindings = [...code!.matchAll(/@binding\((\d+)\)\s*var<storage/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    expect(bindings, `${name}: storage bindings 1..${spec.buffers.length}`).toEqual(spec.buffers.map((_, i) => i + 1));
    expect(code).toMatch(new RegExp(`fn ${spec.entry}\\(`));
    for (const c of spec.constants) expect(code).toMatch(new RegExp(`override ${c}\\b`));
  });

  it('reports a WGSL error with the kernel file and line', async () => {
    const { formatCompileMessage } = await import('../../packages/webgpu/src/pipelines.js');
    const msg = formatCompileMessage('fill', { lineNum: 9, linePos: 3, type: 'error', message: 'bad thing' } as GPUCompilationMessage);
    expect(msg).toMatch(/^kernels\/fill\.wgsl:9:3: error: bad thing/);
    expect(msg).toContain('@group(0) @binding(1)');
  });
});
