import { KERNELS, type KernelName } from './spec.js';
import { ShaderStage } from './flags.js';
import { WGSL, WGSL_LINES } from './kernels.generated.js';

/** Storage access per binding, read from the WGSL declarations so the layout can't disagree. */
function storageAccess(file: string): Map<number, 'read' | 'read_write'> {
  const out = new Map<number, 'read' | 'read_write'>();
  for (const m of WGSL[file]!.matchAll(/@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>/g)) out.set(Number(m[1]), m[2] as 'read' | 'read_write');
  return out;
}

/**
 * The source file and line of line `lineNum` (1-based) of kernel `file` as compiled, with the
 * #include lines that pulled it in, innermost first (none for the kernel's own lines).
 */
export function sourceLine(file: string, lineNum: number): { file: string; line: number; from: readonly (readonly [string, number])[] } {
  const runs = WGSL_LINES[file] ?? [];
  let run = runs[0];
  for (const r of runs) {
    if (r.at > lineNum) break;
    run = r;
  }
  if (!run || lineNum < 1) return { file, line: lineNum, from: [] };
  return { file: run.file, line: run.line + lineNum - run.at, from: run.from ?? [] };
}

/**
 * Formats a WGSL compile message with the file and line it comes from (a kernel, or a
 * kernels/lib file it includes), the offending source line and, for an included line, the
 * #include lines that pulled it in.
 */
export function formatCompileMessage(file: string, msg: GPUCompilationMessage): string {
  const line = WGSL[file]!.split('\n')[msg.lineNum - 1] ?? '';
  const at = sourceLine(file, msg.lineNum);
  let text = `kernels/${at.file}.wgsl:${at.line}:${msg.linePos}: ${msg.type}: ${msg.message}\n    ${line.trim()}`;
  if (at.from.length) text += `\n    (included from ${at.from.map(([f, l]) => `kernels/${f}.wgsl:${l}`).join(', from ')})`;
  return text;
}

/**
 * Shader modules, bind group layouts and specialised pipelines, each created once. Layouts are
 * explicit (not 'auto') so the uniform block can use a dynamic offset into one shared buffer.
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<KernelName, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  module(file: string): GPUShaderModule {
    let m = this.modules.get(file);
    if (!m) {
      const code = WGSL[file];
      if (code === undefined) throw new Error(`webgpu: no kernel file kernels/${file}.wgsl (run \`npm run kernels\`)`);
      m = this.device.createShaderModule({ label: `kernels/${file}.wgsl`, code });
      this.modules.set(file, m);
    }
    return m;
  }

  /** Compiles every kernel file and throws one error listing all WGSL errors with their lines. */
  async compileAll(): Promise<void> {
    const errors: string[] = [];
    for (const file of Object.keys(WGSL)) {
      const info = await this.module(file).getCompilationInfo();
      for (const msg of info.messages) if (msg.type === 'error') errors.push(formatCompileMessage(file, msg));
    }
    if (errors.length) throw new Error(`webgpu: WGSL compile errors:\n${errors.join('\n')}`);
  }

  layout(kernel: KernelName): GPUBindGroupLayout {
    let l = this.layouts.get(kernel);
    if (!l) {
      const spec = KERNELS[kernel];
      const access = storageAccess(spec.file);
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...spec.buffers.map((name, i): GPUBindGroupLayoutEntry => {
          const a = access.get(i + 1);
          if (!a) throw new Error(`webgpu: kernels/${spec.file}.wgsl declares no storage binding ${i + 1} for buffer '${name}' of kernel '${kernel}'`);
          return { binding: i + 1, visibility: ShaderStage.COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' } };
        }),
      ];
      l = this.device.createBindGroupLayout({ label: kernel, entries });
      this.layouts.set(kernel, l);
    }
    return l;
  }

  pipeline(kernel: KernelName, constants: Record<string, number> | undefined): { key: string; pipeline: GPUComputePipeline } {
    let key: string = kernel;
    if (constants) for (const k in constants) key += `,${k}=${constants[k]}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const spec = KERNELS[kernel];
      p = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
        compute: { module: this.module(spec.file), entryPoint: spec.entry, constants },
      });
      this.pipelines.set(key, p);
    }
    return { key, pipeline: p };
  }

  get size(): number {
    return this.pipelines.size;
  }
}
