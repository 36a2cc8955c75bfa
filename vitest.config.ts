import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests import the TypeScript sources directly (no build step); tests/setup.ts imports the
// backends, which register themselves with core as they do in production.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@tessera\/core$/, replacement: src('core') },
      { find: /^@tessera\/webgpu$/, replacement: src('webgpu') },
      { find: /^@tessera\/reference$/, replacement: src('reference') },
      { find: /^@tessera\/wasm$/, replacement: src('wasm') },
      { find: /^@tessera\/node$/, replacement: src('node') },
      { find: /^@tessera\/nn$/, replacement: src('nn') },
      { find: /^@tessera\/data$/, replacement: src('data') },
      { find: /^@tessera\/data\/node$/, replacement: fileURLToPath(new URL('./packages/data/src/node.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
