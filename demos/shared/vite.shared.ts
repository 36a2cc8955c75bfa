/**
 * The Vite configuration every demo shares.
 *
 * The demos import `@tessera/*` from the TypeScript sources, as the tests do (vitest.config.ts),
 * rather than from `packages/*\/dist`: then `vite build` and `npm run demo` need no `tsc` build
 * first, and a demo always shows the code in the working tree. The WebGPU and WebAssembly
 * backends register themselves with core when `gpu-gate.ts` imports them, as in any application
 * (`@tessera/wasm` carries its kernel module inlined as base64, so there is no .wasm file to serve).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Plugin, PluginOption, UserConfig } from 'vite';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const at = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/** `@tessera/x` -> `packages/x/src/index.ts`. */
export function tesseraAliases(): { find: RegExp; replacement: string }[] {
  return [
    { find: /^@tessera\/core$/, replacement: at('packages/core/src/index.ts') },
    { find: /^@tessera\/webgpu$/, replacement: at('packages/webgpu/src/index.ts') },
    { find: /^@tessera\/wasm$/, replacement: at('packages/wasm/src/index.ts') },
    { find: /^@tessera\/reference$/, replacement: at('packages/reference/src/index.ts') },
    { find: /^@tessera\/nn$/, replacement: at('packages/nn/src/index.ts') },
    { find: /^@tessera\/data$/, replacement: at('packages/data/src/index.ts') },
  ];
}

/**
 * Regenerates `packages/webgpu/src/kernels.generated.ts` from `kernels/*.wgsl` before a build or
 * dev server starts, so a fresh clone (or an edited kernel) never bundles stale WGSL. The script
 * writes only when the text changed, so concurrent builds do not race on the file.
 */
function embedKernels(): Plugin {
  return {
    name: 'tessera-embed-kernels',
    buildStart() {
      execFileSync(process.execPath, [at('scripts/embed-kernels.mjs')], { cwd: repo, stdio: 'inherit' });
    },
  };
}

/**
 * Cross-origin isolation: with these, a page has SharedArrayBuffer, so the WebAssembly backend
 * runs its kernels on worker threads. A host that cannot send them (a plain static host) still
 * serves a working page, on one thread.
 */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/**
 * A demo's Vite config: relative asset paths (`base: './'`, so `dist/` works from any URL
 * prefix, e.g. GitHub Pages), the source aliases above, and modern output (browsers with WebGPU
 * or WebAssembly SIMD all run ES2022).
 *
 * @example
 * // demos/xor/vite.config.ts
 * export default demoConfig(import.meta.url);
 */
export function demoConfig(configUrl: string, opts: { plugins?: PluginOption[] } = {}): UserConfig {
  const root = fileURLToPath(new URL('.', configUrl));
  return {
    root,
    base: './',
    clearScreen: false,
    logLevel: 'warn',
    plugins: [embedKernels(), ...(opts.plugins ?? [])],
    resolve: { alias: tesseraAliases() },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      // The MNIST files are fetched at run time with progress; never inline anything big.
      assetsInlineLimit: 4096,
      reportCompressedSize: false,
      rolldownOptions: {
        // The per-plugin timing table only restates that gzipping MNIST takes a second.
        checks: { pluginTimings: false },
        // nn's saveParams/loadParams import Node's fs lazily, only for file paths; the chunk is
        // never loaded in a browser, so Vite's "externalized for browser compatibility" note
        // about it is noise. Every other log passes through.
        onLog(level, log, handler) {
          if (log.message.includes('externalized for browser compatibility') && log.message.includes('node-io')) return;
          handler(level, log);
        },
      },
    },
    server: { host: '127.0.0.1', fs: { allow: [repo] }, headers: ISOLATION_HEADERS },
    preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  };
}
