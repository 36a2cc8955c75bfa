/**
 * Starting Tessera in a page: which backend it runs on, why, and what to show when none starts.
 *
 * The pages register both browser backends and let `ts.init()` ('auto') choose, as an
 * application would: WebGPU on a real GPU; WebAssembly SIMD on the CPU where the only WebGPU
 * adapter is a CPU emulation (SwiftShader, which is slower than the wasm kernels) or where the
 * browser has no WebGPU. `?backend=webgpu` or `?backend=wasm` in the URL forces one. The page
 * says which backend runs and why (`backendText`, from `ts.backendInfo().reason`).
 *
 * A page must never be left blank: only a browser with neither WebGPU nor WebAssembly SIMD (or a
 * forced backend that cannot start) gets the explanation instead of the demo, naming the
 * browsers that have them and the reason each failed, so the user knows what to change.
 */
import * as ts from '@tessera/core';
// Each registers its backend with core, so that ts.init() finds them.
import '@tessera/webgpu';
import '@tessera/wasm';

/** Browsers that ship WebGPU, for the message. Kept in one place so all demos say the same. */
export const WEBGPU_BROWSERS = 'Chrome or Edge 113+ (desktop; Android 121+), Safari 26+ (macOS, iOS, iPadOS), or Firefox 141+ on Windows';
/** Browsers with WebAssembly SIMD, the CPU fallback. */
export const WASM_SIMD_BROWSERS = 'Chrome or Edge 91+, Firefox 89+, or Safari 16.4+';

/** The backends a page can run on: 'auto' lets `ts.init()` choose. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

/**
 * The backend the URL asks for (`?backend=webgpu|wasm`), 'auto' without one. An unknown value
 * is ignored, with a note for the page.
 *
 * @example
 * backendParam('?backend=wasm');   // { choice: 'wasm', note: null }
 */
export function backendParam(search: string = globalThis.location?.search ?? ''): { choice: BackendChoice; note: string | null } {
  const v = new URLSearchParams(search).get('backend');
  if (v === null || v === '' || v === 'auto') return { choice: 'auto', note: null };
  if (v === 'webgpu' || v === 'wasm') return { choice: v, note: null };
  return { choice: 'auto', note: `?backend=${v} is not a backend (webgpu or wasm); chose automatically` };
}

/** Why WebGPU is unavailable, or null when `navigator.gpu` gives an adapter. */
export async function webgpuProblem(): Promise<string | null> {
  if (!globalThis.isSecureContext) return 'WebGPU needs a secure context: open the page over https:// or from localhost.';
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return 'This browser does not expose WebGPU (navigator.gpu is missing).';
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'The browser has WebGPU, but it offered no GPU adapter (WebGPU may be disabled, or the GPU blocklisted).';
  } catch (err) {
    return `Asking for a WebGPU adapter failed: ${(err as Error).message}`;
  }
  return null;
}

/**
 * Replaces `mount`'s content with the message for a browser where no backend starts.
 *
 * @example
 * showNoBackend(document.querySelector('main')!, 'auto', 'navigator.gpu is missing; no WebAssembly SIMD');
 */
export function showNoBackend(mount: HTMLElement, choice: BackendChoice, reason: string): void {
  const box = document.createElement('section');
  box.className = 'no-backend';
  box.id = 'no-backend';
  box.setAttribute('role', 'alert');
  const h = document.createElement('h2');
  const p1 = document.createElement('p');
  if (choice === 'webgpu') {
    h.textContent = 'WebGPU is not available here';
    p1.textContent = `The address asks for WebGPU (?backend=webgpu). Open it in ${WEBGPU_BROWSERS}, or leave out ?backend to train on the CPU.`;
  } else if (choice === 'wasm') {
    h.textContent = 'WebAssembly SIMD is not available here';
    p1.textContent = `The address asks for WebAssembly SIMD (?backend=wasm). Open it in ${WASM_SIMD_BROWSERS}, or leave out ?backend.`;
  } else {
    h.textContent = 'This demo needs WebGPU or WebAssembly SIMD';
    p1.textContent = `Tessera trains the network on your GPU through WebGPU, or on the CPU with WebAssembly SIMD; this browser has neither. Please open this page in ${WEBGPU_BROWSERS} (WebGPU), or ${WASM_SIMD_BROWSERS} (WebAssembly SIMD).`;
  }
  const p2 = document.createElement('p');
  p2.className = 'reason';
  p2.textContent = reason;
  const p3 = document.createElement('p');
  p3.textContent = 'If your browser should support them, check that hardware acceleration and WebAssembly are turned on.';
  box.append(h, p1, p2, p3);
  mount.replaceChildren(box);
}

/**
 * Starts Tessera on the backend the URL forces, or the one 'auto' chooses. On success returns
 * the backend's info (with `reason`); otherwise shows the no-backend message in `mount` and
 * returns null (it never throws).
 *
 * @example
 * const info = await startTessera(document.querySelector('main')!);
 * if (!info) return;
 * adapterElement.textContent = backendText(info);
 */
export async function startTessera(mount: HTMLElement): Promise<ts.BackendInfo | null> {
  const { choice } = backendParam();
  if (choice === 'webgpu') {
    const problem = await webgpuProblem();
    if (problem) {
      showNoBackend(mount, choice, problem);
      return null;
    }
  }
  try {
    return await ts.init({ backend: choice });
  } catch (err) {
    showNoBackend(mount, choice, (err as Error).message);
    return null;
  }
}

/**
 * A one-line adapter label such as "google · swiftshader (CPU emulation)". Browsers often hide
 * the device name for privacy, leaving vendor and architecture, so repeated parts are dropped.
 */
export function adapterLabel(info: ts.BackendInfo): string {
  const parts = [...new Set([info.adapter, info.vendor, info.architecture].filter((s) => s && s.length > 0))];
  const label = parts.join(' · ') || 'unknown adapter';
  return info.isCPU ? `${label} (CPU emulation)` : label;
}

/**
 * Why the backend in `info` runs, in words for the page, from `info.reason` (core's account of
 * what 'auto' chose) and the URL's choice.
 *
 * @example
 * backendWhy(ts.backendInfo());   // 'the only WebGPU adapter is a CPU emulation'
 */
export function backendWhy(info: ts.BackendInfo, choice: BackendChoice = backendParam().choice): string {
  const reason = info.reason ?? '';
  if (choice !== 'auto') return `chosen by ?backend=${choice}`;
  if (info.backend === 'wasm') {
    if (/webgpu: .*CPU emulation/.test(reason)) return 'the only WebGPU adapter is a CPU emulation';
    if (/webgpu is unavailable|failed to start webgpu/.test(reason)) return 'this browser has no WebGPU';
    return 'chosen automatically';
  }
  if (info.backend === 'webgpu') {
    if (/failed to start wasm|wasm is unavailable/.test(reason)) return 'this browser has no WebAssembly SIMD';
    return info.isCPU ? 'the only backend here' : 'this browser has a GPU';
  }
  return 'chosen automatically';
}

/**
 * The one line a page shows for its backend: which one runs, on what, and why, e.g.
 * "WebAssembly SIMD on the CPU, 2 threads — the only WebGPU adapter is a CPU emulation" or
 * "WebGPU on nvidia · hopper — this browser has a GPU".
 *
 * @example
 * document.querySelector('#adapter')!.textContent = backendText(ts.backendInfo());
 */
export function backendText(info: ts.BackendInfo, choice: BackendChoice = backendParam().choice): string {
  const what =
    info.backend === 'wasm' ? `WebAssembly SIMD on the CPU${wasmThreads(info)}` : info.backend === 'webgpu' ? `WebGPU on ${adapterLabel(info)}` : info.backend;
  const note = backendParam().note;
  return `${what} — ${backendWhy(info, choice)}${note ? ` (${note})` : ''}`;
}

/**
 * ", N threads" from the wasm backend's adapter name: threads run only in a cross-origin
 * isolated page (the demo servers send COOP and COEP), so the page says how many it got.
 */
function wasmThreads(info: ts.BackendInfo): string {
  const n = /\((\d+) threads?\)/.exec(info.adapter)?.[1];
  return n ? `, ${n} thread${n === '1' ? '' : 's'}` : '';
}
