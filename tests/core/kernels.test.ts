// Every WGSL file compiles on the device, and each kernel's typed binding layout (KERNELS in
// @tessera/webgpu) agrees with its WGSL: the Params struct fields and the storage bindings.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ts } from '../helpers/index.js';
import { KERNELS, WGSL, type WebGPUBackend, type UniformType } from '@tessera/webgpu';

beforeAll(async () => {
  await ts.init();
});

const WGSL_TYPE: Record<UniformType, string> = { u32: 'u32', i32: 'i32', f32: 'f32', u32x8: 'array<vec4<u32>, 2>' };

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

  it.each(Object.entries(KERNELS))('%s: Params struct and bindings match the spec', (name, spec) => {
    const code = WGSL[spec.file];
    expect(code, `kernels/${spec.file}.wgsl exists`).toBeDefined();
    const body = /struct Params \{([^}]*)\}/.exec(code!)?.[1];
    expect(body, `kernels/${spec.file}.wgsl has a Params struct`).toBeDefined();
    const fields = body!
      .split('\n')
      .map((l) => /^\s*(\w+)\s*:\s*(.+?),?\s*$/.exec(l))
      .filter((m) => m)
      .map((m) => [m![1], m![2]]);
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
    expect(msg).not.toContain('included from');
  });

  it('reports a WGSL error in an included file at the lib file and line', async () => {
    const { formatCompileMessage } = await import('../../packages/webgpu/src/pipelines.js');
    const lines = (path: string) => readFileSync(new URL(`../../kernels/${path}`, import.meta.url), 'utf8').split('\n');
    const at = (code: string[], text: string) => code.indexOf(text) + 1;
    const resolved = WGSL['conv2d']!.split('\n');
    const kernel = lines('conv2d.wgsl');
    const include = at(kernel, '#include "lib/conv.wgsl"');
    expect(include).toBeGreaterThan(0);
    const error = (lineNum: number) => formatCompileMessage('conv2d', { lineNum, linePos: 3, type: 'error', message: 'bad thing' } as GPUCompilationMessage);
    // A line of kernels/lib/conv.wgsl, pulled into conv2d by its #include.
    const field = '  rows_per_chunk: u32,';
    expect(error(at(resolved, field))).toBe(
      `kernels/lib/conv.wgsl:${at(lines('lib/conv.wgsl'), field)}:3: error: bad thing\n    rows_per_chunk: u32,\n    (included from kernels/conv2d.wgsl:${include})`,
    );
    // A line of conv2d itself after the include keeps its own file's numbering.
    const override = 'override HAS_BIAS: u32 = 0u;';
    expect(at(kernel, override)).toBeGreaterThan(include);
    expect(error(at(resolved, override))).toBe(`kernels/conv2d.wgsl:${at(kernel, override)}:3: error: bad thing\n    ${override}`);
  });
});
