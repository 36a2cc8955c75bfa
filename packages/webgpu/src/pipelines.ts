import { KERNELS, type KernelName } from './spec.js';
import { ShaderStage } from './flags.js';
import { WGSL, WGSL_LINES } from './kernels.generated.js';

/** Storage access per binding, read from the WGSL declarations so the layout can't disagree. */
export function storageAccess(file: string): Map<number, 'read' | 'read_write'> {
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

/** A kernel variant: the kernel and its override constants (none: the WGSL defaults). */
export type PipelineVariant = readonly [kernel: KernelName, constants?: Readonly<Record<string, number>>];

/**
 * The variants a typical small CNN's first training step and inference dispatch: those a LeNet-5
 * step (forward, backward, Adam; batch 16 to 128) and MNIST inference at batch 1 and 100
 * created on SwiftShader, with the adapter's own kernel choices (`cpu`: register tiles, `gpu`:
 * `{ registerTiling: false }`). Only the costly ones are listed (convolutions and matmuls:
 * most of the time SwiftShader spends creating pipelines); the rest take 7-30 ms each and are
 * made on first use. A variant missing here costs only its creation at first use;
 * one listed but unused costs a background compile. tests/core/pipelines.test.ts checks that a
 * LeNet-5 step uses every one, so a change of kernel choices shows up there.
 *
 * @example
 * import { createBackend } from '@tessera/webgpu';
 * await ts.init({ backend: await createBackend({ warmPipelines: 'await' }) }); // WARM_SET made at init
 */
export const WARM_SET: Readonly<Record<'cpu' | 'gpu', readonly PipelineVariant[]>> = {
  cpu: [
    ['conv2dInput', { SLIDE: 1, MW: 1, MH: 1, BATCH_FASTEST: 1, CPT: 3, PAIR: 1 }],
    ['conv2d', { HAS_BIAS: 1, ACT: 1, SLIDE: 1, SW: 1, FPT: 4, KWC: 5, PAIR: 1 }],
    ['conv2d', { HAS_BIAS: 1, ACT: 1, SLIDE: 1, SW: 1, FPT: 3, KWC: 5, PAIR: 0 }],
    ['matmul', { TM: 8 }],
    ['conv2dFilterRows', { BIAS: 1, KWT: 5, NF: 8 }],
    ['conv2dFilterRows', { BIAS: 1, KWT: 5, NF: 6 }],
    ['matmul', { TM: 4 }],
  ],
  gpu: [
    ['conv2dInput', { SLIDE: 1, MW: 1, MH: 1, BATCH_FASTEST: 0, CPT: 3, PAIR: 1 }],
    ['conv2d', { HAS_BIAS: 1, ACT: 1, SLIDE: 1, SW: 1, FPT: 4, KWC: 5, PAIR: 1 }],
    ['conv2d', { HAS_BIAS: 1, ACT: 1, SLIDE: 1, SW: 1, FPT: 3, KWC: 5, PAIR: 0 }],
    ['matmulTiled'],
    ['conv2dFilterRows', { BIAS: 1, KWT: 5, NF: 8 }],
    ['conv2dFilterRows', { BIAS: 1, KWT: 5, NF: 6 }],
    ['matmul', { TM: 4 }],
  ],
};

/**
 * A cached pipeline: made, or still being made by `createComputePipelineAsync` (`pipeline` is
 * null until `ready` settles). The eager dispatch path is synchronous and cannot wait for it, so
 * the backend queues a dispatch of a pipeline in flight and encodes it when `ready` settles (at
 * the next read), or calls `PipelineCache.force` when a synchronous flush cannot wait.
 */
export interface PipelineEntry {
  readonly key: string;
  pipeline: GPUComputePipeline | null;
  /** Settles (never rejects) when the asynchronous creation ends; null for a synchronous one. */
  ready: Promise<void> | null;
  readonly descriptor: GPUComputePipelineDescriptor;
  /**
   * The quick-compiling stand-in (`KernelCall.quick`) that runs until `pipeline` is made
   * (`PipelineCache.upgradeAtRead`): set when the variant was first asked for synchronously and
   * a stand-in exists.
   */
  standIn?: PipelineEntry;
}

/** The pipeline to run for an entry now: its own, else its stand-in's, else none yet. */
export function currentPipeline(e: PipelineEntry): GPUComputePipeline | null {
  return e.pipeline ?? e.standIn?.pipeline ?? null;
}

/** Counts of `PipelineCache.stats`. */
export interface PipelineStats {
  /** Pipelines made by the synchronous `createComputePipeline`, and the ms it took in all. */
  sync: number;
  syncMs: number;
  /** Asynchronous creations started, and how many of them a synchronous flush had to duplicate. */
  async: number;
  forced: number;
  /** Variants first run as a stand-in, and how many of them have replaced it since. */
  standIns: number;
  upgraded: number;
}

/** The key of a variant in the pipeline cache, and its label: `conv2d,HAS_BIAS=1,ACT=1`. */
export function variantKey(kernel: string, constants: Readonly<Record<string, number>> | undefined): string {
  let key = kernel;
  if (constants) for (const k in constants) key += `,${k}=${constants[k]}`;
  return key;
}

/**
 * Shader modules, bind group layouts and specialised pipelines, each created once. Layouts are
 * explicit (not 'auto') so the uniform block can use a dynamic offset into one shared buffer.
 *
 * Pipelines of the fixed kernels come from `lookup` (made synchronously on first use, since
 * the eager dispatch path cannot await) unless `warm` started them asynchronously first.
 * Generated kernels (fusion) come from `pipelineAsync`, cached by their source.
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<KernelName, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly generated = new Map<string, { pipeline: GPUComputePipeline | null; promise: Promise<GPUComputePipeline> }>();
  /** Identities of the layouts generated pipelines were made with (part of their cache key). */
  private readonly layoutIds = new WeakMap<object, number>();
  private nextLayoutId = 1;
  readonly stats: PipelineStats = { sync: 0, syncMs: 0, async: 0, forced: 0, standIns: 0, upgraded: 0 };
  /** Variants running as their stand-in since the last read, and since the read before (`upgradeAtRead`). */
  private upgrades: PipelineEntry[] = [];
  private due: PipelineEntry[] = [];

  /** `standIns`: whether a costly variant's first use may run a quick stand-in (`KernelCall.quick`). */
  constructor(
    private readonly device: GPUDevice,
    private readonly standIns = true,
  ) {}

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

  /**
   * Compiles every kernel file and throws one error listing all WGSL errors with their lines.
   * The modules' compilation infos are awaited together: one by one, each is a round trip to
   * the GPU process in a browser. A file that enables a WGSL extension (`enable subgroups;`)
   * is skipped on a device without that feature; its kernels are never chosen there.
   */
  async compileAll(features: ReadonlySet<string> = new Set()): Promise<void> {
    const files = Object.keys(WGSL).filter((file) => requiredFeatures(WGSL[file]!).every((f) => features.has(f)));
    const infos = await Promise.all(files.map((file) => this.module(file).getCompilationInfo()));
    const errors: string[] = [];
    files.forEach((file, i) => {
      for (const msg of infos[i]!.messages) if (msg.type === 'error') errors.push(formatCompileMessage(file, msg));
    });
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

  private entry(kernel: KernelName, constants: Readonly<Record<string, number>> | undefined, key: string): PipelineEntry {
    const spec = KERNELS[kernel];
    const descriptor: GPUComputePipelineDescriptor = {
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
      compute: { module: this.module(spec.file), entryPoint: spec.entry, constants: constants as Record<string, number> | undefined },
    };
    const e: PipelineEntry = { key, pipeline: null, ready: null, descriptor };
    this.pipelines.set(key, e);
    return e;
  }

  /**
   * The cache entry of a variant, created synchronously if it is new; its `pipeline` is null
   * only while a `warm` creation is in flight (see `PipelineEntry`).
   */
  lookup(kernel: KernelName, constants: Readonly<Record<string, number>> | undefined, quick?: Readonly<Record<string, number>>): PipelineEntry {
    const key = variantKey(kernel, constants);
    let e = this.pipelines.get(key);
    if (!e) {
      e = this.entry(kernel, constants, key);
      if (this.standIns && quick && variantKey(kernel, quick) !== key) {
        e.standIn = this.lookup(kernel, quick);
        this.stats.standIns++;
        this.upgrades.push(e);
      }
    }
    if (!e.pipeline && !e.ready && !e.standIn) this.createSync(e);
    return e;
  }

  /**
   * Called by the backend at each read, once the work before it is submitted: makes the
   * variants whose stand-ins have served since before the previous read, so that they take
   * over from the next dispatch on. A stand-in thus serves a first training step and the one
   * after it, and the variants compile while the GPU runs the second. The hand-over falls at
   * the same read in every run of a program (the same bits each time), and the creation is
   * synchronous: an asynchronous one, still running when a script exits or overlapping the
   * synchronous creations of later ops, made SwiftShader emit corrupt SPIR-V in about one run
   * in ten.
   */
  upgradeAtRead(): void {
    for (const e of this.due) {
      if (e.pipeline) continue;
      this.createSync(e);
      this.stats.upgraded++;
    }
    this.due = this.upgrades;
    this.upgrades = [];
  }

  /** Makes every variant still served by its stand-in now (tests, benchmarks). */
  upgradeAll(): void {
    this.upgradeAtRead();
    this.upgradeAtRead();
  }

  /**
   * A variant's own pipeline (never a stand-in), created asynchronously if it is new: for
   * autotune, which must not stall the dispatching thread.
   */
  async made(kernel: KernelName, constants: Readonly<Record<string, number>> | undefined): Promise<GPUComputePipeline> {
    const key = variantKey(kernel, constants);
    if (!this.pipelines.has(key)) await this.warm([[kernel, constants]]);
    const e = this.pipelines.get(key)!;
    if (!e.pipeline && e.ready) await e.ready;
    if (!e.pipeline) this.createSync(e);
    return e.pipeline!;
  }

  /** The pipeline of a variant, made now if need be (duplicating a creation in flight). */
  pipeline(kernel: KernelName, constants: Readonly<Record<string, number>> | undefined): { key: string; pipeline: GPUComputePipeline } {
    const e = this.lookup(kernel, constants);
    return { key: e.key, pipeline: this.force(e) };
  }

  /**
   * The entry's pipeline now: a creation still in flight is duplicated synchronously (its
   * asynchronous result is then dropped). Only a flush that cannot wait comes here.
   */
  force(e: PipelineEntry): GPUComputePipeline {
    if (!e.pipeline && e.standIn) return this.force(e.standIn);
    if (!e.pipeline) {
      this.stats.forced++;
      this.createSync(e);
    }
    return e.pipeline!;
  }

  private createSync(e: PipelineEntry): void {
    const t = performance.now();
    e.pipeline = this.device.createComputePipeline(e.descriptor);
    this.stats.sync++;
    this.stats.syncMs += performance.now() - t;
  }

  /**
   * Starts creating `variants` with `createComputePipelineAsync`, all at once, and resolves when
   * they are made. Variants already cached are skipped. A failed creation is reported as the
   * synchronous one would be, when the variant is next used (the entry is made synchronously).
   */
  warm(variants: readonly PipelineVariant[]): Promise<void> {
    const started: Promise<void>[] = [];
    for (const [kernel, constants] of variants) {
      const key = variantKey(kernel, constants);
      if (this.pipelines.has(key)) continue;
      const e = this.entry(kernel, constants, key);
      this.stats.async++;
      e.ready = this.device.createComputePipelineAsync(e.descriptor).then(
        (p) => {
          e.pipeline ??= p;
        },
        () => {
          // Lost device or an invalid variant: the next use creates it synchronously, which
          // reports the error through the usual uncaptured-error path.
          e.ready = null;
        },
      );
      started.push(e.ready);
    }
    return Promise.all(started).then(() => undefined);
  }

  /**
   * A compute pipeline for generated WGSL (fused kernels), created with
   * `createComputePipelineAsync` and cached by source: the same `code`, `entryPoint`,
   * `constants` and `layout` object give the same promise, so callers need no cache of their
   * own and may call this on every use. The eager dispatch path is synchronous: a caller that
   * cannot wait checks `readyPipeline` with the same arguments and falls back to its unfused
   * kernels until the promise has settled. The promise rejects with the WGSL errors formatted as
   * `<label>:<line>:<col>: error: ...` and the offending line, and a rejected source is dropped
   * from the cache so a later call tries again.
   *
   * `layout` is a pipeline layout, or the list of bind group layouts of groups 0, 1, ... (the
   * fixed kernels use one group: the uniforms at binding 0 with a dynamic offset, then storage
   * buffers). Layout objects are compared by identity: reuse them to hit the cache.
   *
   * Usage (in the backend, whose `pipelines` is the cache):
   *
   *     const group = device.createBindGroupLayout({ entries });
   *     const pipeline = await this.pipelines.pipelineAsync('fused add-relu', wgsl, [group]);
   *     pass.setPipeline(pipeline);
   */
  pipelineAsync(
    label: string,
    code: string,
    layout: GPUPipelineLayout | readonly GPUBindGroupLayout[],
    entryPoint = 'main',
    constants?: Readonly<Record<string, number>>,
  ): Promise<GPUComputePipeline> {
    const key = this.generatedKey(code, layout, entryPoint, constants);
    const hit = this.generated.get(key);
    if (hit) return hit.promise;
    const module = this.device.createShaderModule({ label, code });
    const pipelineLayout = isLayoutList(layout) ? this.device.createPipelineLayout({ bindGroupLayouts: [...layout] }) : layout;
    const slot: { pipeline: GPUComputePipeline | null; promise: Promise<GPUComputePipeline> } = { pipeline: null, promise: null! };
    this.stats.async++;
    slot.promise = this.device
      .createComputePipelineAsync({
        label,
        layout: pipelineLayout,
        compute: { module, entryPoint, constants: constants as Record<string, number> | undefined },
      })
      .then(
        (p) => (slot.pipeline = p),
        async (e: Error) => {
          this.generated.delete(key);
          const info = await module.getCompilationInfo().catch(() => null);
          const lines = code.split('\n');
          const errors = (info?.messages ?? [])
            .filter((m) => m.type === 'error')
            .map((m) => `${label}:${m.lineNum}:${m.linePos}: error: ${m.message}\n    ${(lines[m.lineNum - 1] ?? '').trim()}`);
          throw new Error(`webgpu: creating pipeline '${label}' failed: ${errors.length ? errors.join('\n') : e.message}`);
        },
      );
    this.generated.set(key, slot);
    return slot.promise;
  }

  /**
   * The pipeline `pipelineAsync` made for these arguments, or null while it is being made (or
   * if it was never asked for): the synchronous check of a dispatch path that cannot wait.
   * `this.pipelines.readyPipeline(wgsl, [group])` is null: dispatch the unfused kernels.
   */
  readyPipeline(
    code: string,
    layout: GPUPipelineLayout | readonly GPUBindGroupLayout[],
    entryPoint = 'main',
    constants?: Readonly<Record<string, number>>,
  ): GPUComputePipeline | null {
    return this.generated.get(this.generatedKey(code, layout, entryPoint, constants))?.pipeline ?? null;
  }

  private generatedKey(
    code: string,
    layout: GPUPipelineLayout | readonly GPUBindGroupLayout[],
    entryPoint: string,
    constants: Readonly<Record<string, number>> | undefined,
  ): string {
    const ids = (isLayoutList(layout) ? layout : [layout]).map((l) => {
      let id = this.layoutIds.get(l);
      if (id === undefined) this.layoutIds.set(l, (id = this.nextLayoutId++));
      return id;
    });
    return `${variantKey(`${isLayoutList(layout) ? 'g' : 'p'}${ids.join('/')}:${entryPoint}`, constants)}\n${code}`;
  }

  get size(): number {
    return this.pipelines.size + this.generated.size;
  }
}

/** The device features a kernel's `enable` directives need (`enable f16;` needs 'shader-f16'). */
export function requiredFeatures(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*enable\s+([\w, ]+);/gm)) {
    for (const ext of m[1]!.split(',')) out.push(ext.trim() === 'f16' ? 'shader-f16' : ext.trim());
  }
  return out;
}

function isLayoutList(l: GPUPipelineLayout | readonly GPUBindGroupLayout[]): l is readonly GPUBindGroupLayout[] {
  return Array.isArray(l);
}
