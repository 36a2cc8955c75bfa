// The README's first TypeScript example, run as written: its import lines are dropped (the test
// passes `ts` in, and tests/setup.ts has imported the backends), the rest is stripped of its
// types by Vite's transformer and run as an async function. It must print what its comments say
// and leave no tensor behind.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformWithOxc } from 'vite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The `n`th ```ts block of README.md (0: the first), without its import lines. */
function readmeExample(n = 0): string {
  const block = [...readFileSync(README, 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)][n]?.[1];
  if (!block) throw new Error(`README.md has no ${n + 1}th \`\`\`ts block`);
  return block
    .split('\n')
    .filter((line) => !/^import\s/.test(line))
    .join('\n');
}

const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;

describe('README example', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('runs as written, prints the gradient it promises and leaks no tensor', async () => {
    const { code } = await transformWithOxc(readmeExample(), 'readme-example.ts', { lang: 'ts' });
    await ts.init();
    const before = ts.memory();
    const logged: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    await new AsyncFunction('ts', code)(ts);
    vi.restoreAllMocks();

    expect(logged.length, 'console.log calls').toBeGreaterThanOrEqual(2);
    const [loss, shape] = logged[0]!;
    expect(Number.isFinite(loss), 'the loss is a number').toBe(true);
    expect(shape).toEqual([784, 10]);
    expect(logged.at(-1)).toEqual([new Float32Array([2, 4, 6])]);
    const after = ts.memory();
    expect(after.tensors, 'live tensors after the example').toBe(before.tensors);
    expect(after.bytes, 'live bytes after the example').toBe(before.bytes);
  });

  it("Lasagne's five steps: the compiled training function lowers the loss and leaks no tensor", async () => {
    const { code } = await transformWithOxc(readmeExample(1), 'readme-five-steps.ts', { lang: 'ts' });
    await ts.init();
    const before = ts.memory();
    const logged: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    await new AsyncFunction('ts', 'nn', code)(ts, nn);
    vi.restoreAllMocks();
    expect(logged).toEqual([[true, 48]]);
    const after = ts.memory();
    expect(after.tensors, 'live tensors after the example').toBe(before.tensors);
    expect(after.bytes, 'live bytes after the example').toBe(before.bytes);
  });
});
