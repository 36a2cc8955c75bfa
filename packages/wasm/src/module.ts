/**
 * The kernel module as the backend loads it: the SIMD check, the memory the module imports
 * (read from its binary, since the JS API does not say whether an imported memory is shared or
 * how large it must be), where its static data ends, and instantiation against the backend's
 * memory.
 */
import type { WasmRuntime } from './contract.js';
import { WASM_BYTES_BASE64 } from './kernel-module.generated.js';

/**
 * The smallest module that uses a SIMD instruction (`v128.const`), as wasm-feature-detect
 * checks: an engine that validates it runs the kernels.
 */
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version 1
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type section: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  ...new Array<number>(16).fill(0),
  0x0b, // code: v128.const 0; end
]);

/**
 * Throws unless this JavaScript engine runs WebAssembly with 128-bit SIMD, naming what to use
 * instead.
 *
 * @example
 * checkSimd();   // throws in an engine without WebAssembly SIMD
 */
export function checkSimd(): void {
  if (typeof WebAssembly !== 'object') {
    throw new Error("init: the 'wasm' backend needs WebAssembly, which this JavaScript engine lacks. Use init({ backend: 'webgpu' }) or 'reference'");
  }
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new Error(
      "init: the 'wasm' backend needs WebAssembly SIMD (128-bit), which this engine does not support. " +
        "Use Node 16.4+, Chrome 91+, Firefox 89+ or Safari 16.4+, or init({ backend: 'webgpu' }) or 'reference'",
    );
  }
}

/** The limits of the memory a module imports, as its binary declares them. */
export interface MemoryImport {
  /** Pages (64 KiB) the memory must have at least. */
  readonly initialPages: number;
  /** Pages the memory may grow to, if declared (a shared memory must declare it). */
  readonly maximumPages?: number;
  /** Whether the module wants a shared memory (built for threads). */
  readonly shared: boolean;
}

/** What the backend needs to know of a module before instantiating it. */
export interface ModuleLayout {
  /** The imported `env.memory`, or null when the module has its own. */
  readonly memory: MemoryImport | null;
  /** The first byte after the module's static data: the heap starts at or after it. */
  readonly dataEnd: number;
  /** Where the import section and the memory import's limits lie in the binary (see `withMemory`). */
  readonly limitsAt?: { readonly section: number; readonly content: number; readonly start: number; readonly end: number; readonly sectionEnd: number };
}

/** A reader of the LEB128 integers and bytes of a WebAssembly binary. */
class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('wasm backend: the kernel module is truncated');
    return this.bytes[this.at++]!;
  }
  u32(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  }
  i32(): number {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? v | (-1 << shift) : v;
  }
  name(): string {
    const n = this.u32();
    this.at += n;
    return new TextDecoder().decode(this.bytes.subarray(this.at - n, this.at));
  }
  limits(): { min: number; max?: number; shared: boolean } {
    const flags = this.byte();
    const min = this.u32();
    return { min, ...(flags & 1 ? { max: this.u32() } : {}), shared: (flags & 2) !== 0 };
  }
}

/**
 * Reads the memory import and the end of the active data segments from a module's binary
 * (sections 2 and 11 of the WebAssembly binary format).
 *
 * @example
 * readLayout(kernelModuleBytes());   // { memory: { initialPages: 1, shared: false }, dataEnd: 3072 }
 */
export function readLayout(bytes: Uint8Array): ModuleLayout {
  const r = new Reader(bytes, 8);
  let memory: MemoryImport | null = null;
  let dataEnd = 0;
  let limitsAt: ModuleLayout['limitsAt'];
  while (r.at < bytes.length) {
    const section = r.at;
    const id = r.byte();
    const end = r.u32() + r.at;
    const content = r.at;
    if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const where = `${r.name()}.${r.name()}`;
        const kind = r.byte();
        if (kind === 0) r.u32();
        else if (kind === 1) r.byte(), r.limits();
        else if (kind === 3) r.byte(), r.byte();
        else if (kind === 2) {
          const start = r.at;
          const l = r.limits();
          limitsAt = { section, content, start, end: r.at, sectionEnd: end };
          if (where !== 'env.memory') throw new Error(`wasm backend: the kernel module imports its memory as '${where}'; expected 'env.memory'`);
          memory = { initialPages: l.min, ...(l.max === undefined ? {} : { maximumPages: l.max }), shared: l.shared };
        } else throw new Error(`wasm backend: the kernel module imports '${where}' of unknown kind ${kind}`);
      }
    } else if (id === 11) {
      for (let n = r.u32(); n > 0; n--) {
        const flags = r.u32();
        let offset = -1;
        if (flags !== 1) {
          if (flags === 2) r.u32(); // memory index
          // AssemblyScript places its data at constant offsets: i32.const N; end.
          if (r.byte() === 0x41) offset = r.i32();
          if (offset < 0 || r.byte() !== 0x0b)
            throw new Error('wasm backend: a data segment of the kernel module has no constant offset; cannot place the heap after it');
        }
        const size = r.u32();
        r.at += size;
        if (offset >= 0) dataEnd = Math.max(dataEnd, offset + size);
      }
    }
    r.at = end;
  }
  return { memory, dataEnd, ...(limitsAt ? { limitsAt } : {}) };
}

/** The unsigned LEB128 encoding of `v`. */
function leb(v: number): number[] {
  const out: number[] = [];
  do {
    const b = v % 128;
    v = Math.floor(v / 128);
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
}

/**
 * The module with its memory import declared `shared` (or not) with at most `maximumPages`:
 * one build then serves Node's shared memory and a browser page without cross-origin isolation.
 * The kernels use no atomics, so the same code is valid against either memory.
 *
 * @example
 * const shared = withMemory(bytes, readLayout(bytes), true, 32768);
 */
export function withMemory(bytes: Uint8Array, layout: ModuleLayout, shared: boolean, maximumPages: number): Uint8Array {
  const at = layout.limitsAt;
  if (!at || !layout.memory) throw new Error("wasm backend: the kernel module does not import its memory as 'env.memory'; rebuild it with `npm run wasm`");
  const limits = [shared ? 3 : 1, ...leb(layout.memory.initialPages), ...leb(maximumPages)];
  const content = [...bytes.subarray(at.content, at.start), ...limits, ...bytes.subarray(at.end, at.sectionEnd)];
  const head = bytes.subarray(0, at.section);
  const out = new Uint8Array(head.length + 1 + leb(content.length).length + content.length + bytes.length - at.sectionEnd);
  out.set(head);
  out.set([2, ...leb(content.length), ...content], head.length);
  out.set(bytes.subarray(at.sectionEnd), out.length - (bytes.length - at.sectionEnd));
  return out;
}

/** The kernel module's bytes, decoded from the generated base64 (atob: Node 16+ and browsers). */
export function kernelModuleBytes(): Uint8Array {
  const text = atob(WASM_BYTES_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The instantiated module's exported functions, by name (the contract's `WasmRuntime.exports`). */
export type KernelExports = WasmRuntime['exports'];
type KernelFn = KernelExports[string];

/**
 * Compiles the kernel module (asynchronously: browsers refuse to compile modules over 4 KiB
 * synchronously on the main thread). The compiled module is what worker threads are sent, so
 * each instantiates the same code against the same memory.
 *
 * @example
 * const bytes = kernelModuleBytes();
 * const module = await compileKernels(withMemory(bytes, readLayout(bytes), false, 64));
 */
export function compileKernels(bytes: Uint8Array): Promise<WebAssembly.Module> {
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

/**
 * Instantiates the compiled kernel module against `memory` and returns its exported functions,
 * in the module's export order (the order worker threads number them in).
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 2, maximum: 64 });
 * const fns = await instantiate(module, memory);   // fns.gemm(...)
 */
export async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const abort = (msg: number, file: number, line: number, col: number) => {
    throw new Error(`wasm backend: a kernel aborted (message at ${msg}, file at ${file}, line ${line}:${col})`);
  };
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
  const fns: Record<string, KernelFn> = {};
  for (const [name, v] of Object.entries(instance.exports)) if (typeof v === 'function') fns[name] = v as KernelFn;
  return fns;
}
