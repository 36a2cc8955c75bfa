/**
 * The XOR page under a user's hands (headless Chromium with WebGPU on SwiftShader, where
 * the page's 'auto' choice is WebAssembly SIMD).
 *
 * Bug found by hand: a learning rate of -1 followed by Reset threw an uncaught error (the old
 * models were freed before the new ones failed to build), and Resume then failed with
 * "matmul: input 0 ... was already disposed" while the page said "running" with the step frozen.
 * An invalid setting must be reported on the page, and the models in use must keep working.
 */
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, demoState, useDemo } from './harness.js';

interface XorState {
  state: string;
  steps: number;
  errors: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('XOR demo controls in Chromium', () => {
  const demo = useDemo('xor');

  const state = () => demoState<XorState>(demo.b.page);
  const stepsAbove = (n: number) =>
    demo.b.page.waitForFunction((k) => (window as unknown as { __demo: XorState }).__demo.steps > k, n, { timeout: 30_000, polling: 100 });

  it('a negative learning rate on Reset shows a settings error and the old models keep training', async () => {
    await demo.b.page.goto(demo.server.url);
    await stepsAbove(10);
    await demo.b.page.fill('#lr', '-1');
    await demo.b.page.click('#reset');
    const note = demo.b.page.locator('#note');
    await note.filter({ hasText: 'learning rate' }).waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toMatch(/positive number/);
    // The old models are intact: pausing and resuming goes on stepping them.
    if ((await state()).state === 'running') {
      await demo.b.page.click('#pause');
      await demo.b.page.waitForFunction(() => (window as unknown as { __demo: XorState }).__demo.state === 'paused', undefined, { timeout: 10_000 });
    }
    const at = (await state()).steps;
    expect(at).toBeGreaterThan(10); // not reset
    await demo.b.page.click('#pause'); // Resume
    await stepsAbove(at + 5);
    const s = await state();
    expect(s.state).toBe('running');
    expect(s.errors, demo.b.log.join('\n')).toEqual([]);
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
  }, 60_000);

  it('a valid learning rate then resets: the error goes, training starts over', async () => {
    await demo.b.page.fill('#lr', '0.05');
    await demo.b.page.click('#reset');
    await demo.b.page.waitForFunction(
      () => {
        const d = (window as unknown as { __demo: XorState }).__demo;
        return d.state === 'running' && d.steps > 0 && d.steps < 50;
      },
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    expect(await demo.b.page.locator('#note').textContent()).not.toMatch(/learning rate/);
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
  }, 30_000);
});
