/**
 * End-to-end: the XOR demo in headless Chromium on SwiftShader, and the no-WebGPU message.
 *
 * The XOR page trains both models as soon as it loads; the MLP must classify all four points
 * right, the linear model must not (that is the lesson of the page), and the console must
 * stay clean. A second launch without the WebGPU flags must show the explanation, not a blank
 * page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, buildDemo, demoState, launch, screenshot, serveStatic, type StaticServer } from './harness.js';

interface ModelStats {
  loss: number | null;
  accuracy: number | null;
}
interface XorState {
  state: string;
  steps: number;
  linear: ModelStats;
  mlp: ModelStats;
  solvedAtStep: number | null;
  errors: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('XOR demo in Chromium (WebGPU on SwiftShader)', () => {
  let server: StaticServer;

  beforeAll(async () => {
    server = await serveStatic(await buildDemo('xor'));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('the MLP reaches 100% on the four points while the linear model cannot', async () => {
    const b = await launch({ webgpu: true });
    try {
      await b.page.goto(server.url);
      await b.page.waitForFunction(
        () => {
          const d = (window as unknown as { __demo?: XorState }).__demo;
          return d && (d.solvedAtStep !== null || d.state === 'done' || d.state === 'error' || d.state === 'no-webgpu');
        },
        undefined,
        { timeout: 60_000, polling: 250 },
      );
      // Let it train on a little so the picture shows a settled boundary, then stop it.
      await b.page.waitForFunction(
        () => (window as unknown as { __demo: XorState }).__demo.steps >= 150 || (window as unknown as { __demo: XorState }).__demo.state !== 'running',
        undefined,
        { timeout: 30_000 },
      );
      await b.page.click('#pause');
      const s = await demoState<XorState>(b.page);
      await screenshot(b.page, 'xor-demo');
      expect(s.errors, b.log.join('\n')).toEqual([]);
      expect(s.solvedAtStep, 'step at which the MLP got all four right').not.toBeNull();
      expect(s.solvedAtStep!).toBeLessThanOrEqual(600);
      expect(s.mlp.accuracy).toBe(1);
      expect(s.mlp.loss!).toBeLessThan(0.3);
      expect(s.linear.accuracy!).toBeLessThan(1);
      expect(await b.page.locator('#mlp .acc').textContent()).toContain('4 / 4');
      expect(b.errors, 'console errors').toEqual([]);
    } finally {
      await b.close();
    }
  }, 90_000);

  it('without WebGPU the page explains which browsers have it', async () => {
    const b = await launch({ webgpu: false });
    try {
      // Some Chromium builds expose a fallback adapter even with --disable-gpu; hiding
      // navigator.gpu makes the check independent of that, as on a browser without WebGPU.
      await b.context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
      });
      await b.page.goto(server.url);
      const box = b.page.locator('#no-webgpu');
      await box.waitFor({ timeout: 20_000 });
      const text = (await box.textContent()) ?? '';
      expect(text).toContain('needs WebGPU');
      expect(text).toMatch(/Chrome/);
      expect(text).toMatch(/Safari 26/);
      expect(text).toMatch(/Firefox 141/);
      expect((await demoState<XorState>(b.page)).state).toBe('no-webgpu');
      await screenshot(b.page, 'no-webgpu');
      expect(b.errors, 'console errors').toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});
