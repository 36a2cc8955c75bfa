import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The committed kernel module must be exactly what `npm run wasm` builds from assembly/ with the
// pinned AssemblyScript: `build.mjs --check` rebuilds it in a temp dir and compares the bytes.

const script = fileURLToPath(new URL('../../packages/wasm/scripts/build.mjs', import.meta.url));

function toolchain(): boolean {
  try {
    createRequire(fileURLToPath(new URL('../../packages/wasm/package.json', import.meta.url))).resolve('assemblyscript/package.json');
    return true;
  } catch {
    return false;
  }
}

const hasToolchain = toolchain();
if (!hasToolchain) console.log('skipping the wasm build check: assemblyscript is not installed (npm install)');

describe('wasm kernel module build', () => {
  it.skipIf(!hasToolchain)('is reproducible and matches the committed kernel-module.generated.ts', () => {
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });
});
