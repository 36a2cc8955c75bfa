/**
 * Starting Tessera in a page, and what to show when it cannot start.
 *
 * A demo that needs WebGPU must never leave a blank page behind: a browser without it gets one
 * clear message naming the browsers that have it, and the reason the check failed (no
 * `navigator.gpu`, no adapter, or an error from `ts.init()`), so the user knows what to change.
 */
import * as ts from '@tessera/core';
// Registers the WebGPU backend with core, so that ts.init() finds it.
import '@tessera/webgpu';

/** Browsers that ship WebGPU, for the message. Kept in one place so both demos say the same. */
export const WEBGPU_BROWSERS = 'Chrome or Edge 113+ (desktop; Android 121+), Safari 26+ (macOS, iOS, iPadOS), or Firefox 141+ on Windows';

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
 * Replaces `mount`'s content with the no-WebGPU message.
 *
 * @example
 * showNoWebGPU(document.querySelector('main')!, 'navigator.gpu is missing');
 */
export function showNoWebGPU(mount: HTMLElement, reason: string): void {
  const box = document.createElement('section');
  box.className = 'no-webgpu';
  box.id = 'no-webgpu';
  box.setAttribute('role', 'alert');
  const h = document.createElement('h2');
  h.textContent = 'This demo needs WebGPU';
  const p1 = document.createElement('p');
  p1.textContent = `Tessera trains the network on your GPU through WebGPU. Please open this page in ${WEBGPU_BROWSERS}.`;
  const p2 = document.createElement('p');
  p2.className = 'reason';
  p2.textContent = reason;
  const p3 = document.createElement('p');
  p3.textContent = 'If your browser should support it, check that hardware acceleration is turned on.';
  box.append(h, p1, p2, p3);
  mount.replaceChildren(box);
}

/**
 * Starts Tessera on the page's GPU. On success returns the adapter's description; otherwise
 * shows the no-WebGPU message in `mount` and returns null (it never throws).
 *
 * @example
 * const info = await startTessera(document.querySelector('main')!);
 * if (!info) return;
 */
export async function startTessera(mount: HTMLElement): Promise<ts.BackendInfo | null> {
  const problem = await webgpuProblem();
  if (problem) {
    showNoWebGPU(mount, problem);
    return null;
  }
  try {
    return await ts.init();
  } catch (err) {
    showNoWebGPU(mount, `Starting WebGPU failed: ${(err as Error).message}`);
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
