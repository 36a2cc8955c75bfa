/**
 * The XOR page under a user's hands (headless Chromium, WebGPU on SwiftShader).
 *
 * Bug found by hand: a learning rate of -1 followed by Reset threw an uncaught error (the old
 * models were freed before the new ones failed to build), and Resume then failed with
 * "matmul: input 0 ... was already disposed" while the page said "running" with the step frozen.
 * An invalid setting must be reported on the page, and the models in use must keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, buildDemo, demoState, launch, serveStatic, type BrowserSession, type StaticServer } from './harness.js';

interface XorState {
  state: string;
  steps: number;
  errors: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('XOR demo controls in Chromium', () => {
  let server: StaticServer;
  let b: BrowserSession;

  beforeAll(async () => {
    server = await serveStatic(await buildDemo('xor'));
    b = await launch({ webgpu: true });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  const state = () => demoState<XorState>(b.page);
  const stepsAbove = (n: number) =>
    b.page.waitForFunction((k) => (window as unknown as { __demo: XorState }).__demo.steps > k, n, { timeout: 30_000, polling: 100 });

  it('a negative learning rate on Reset shows a settings error and the old models keep training', async () => {
    await b.page.goto(server.url);
    await stepsAbove(10);
    await b.page.fill('#lr', '-1');
    await b.page.click('#reset');
    const note = b.page.locator('#note');
    await note.filter({ hasText: 'learning rate' }).waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toMatch(/positive number/);
    // The old models are intact: pausing and resuming goes on stepping them.
    if ((await state()).state === 'running') {
      await b.page.click('#pause');
      await b.page.waitForFunction(() => (window as unknown as { __demo: XorState }).__demo.state === 'paused', undefined, { timeout: 10_000 });
    }
    const at = (await state()).steps;
    expect(at).toBeGreaterThan(10); // not reset
    await b.page.click('#pause'); // Resume
    await stepsAbove(at + 5);
    const s = await state();
    expect(s.state).toBe('running');
    expect(s.errors, b.log.join('\n')).toEqual([]);
    expect(b.errors, b.log.join('\n')).toEqual([]);
  }, 60_000);

  it('a valid learning rate then resets: the error goes, training starts over', async () => {
    await b.page.fill('#lr', '0.05');
    await b.page.click('#reset');
    await b.page.waitForFunction(
      () => {
        const d = (window as unknown as { __demo: XorState }).__demo;
        return d.state === 'running' && d.steps > 0 && d.steps < 50;
      },
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    expect(await b.page.locator('#note').textContent()).not.toMatch(/learning rate/);
    expect(b.errors, b.log.join('\n')).toEqual([]);
  }, 30_000);
});
