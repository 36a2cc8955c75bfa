// The browser bench page. It imports the BUILT packages (packages/*/dist, through the workspace
// links in node_modules), like bench/run.mjs: run `npm run build` at the repo root first.
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  clearScreen: false,
  build: { outDir: 'dist', target: 'es2022', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { fs: { allow: ['../..'] } },
});
