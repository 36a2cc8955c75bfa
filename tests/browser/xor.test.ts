/**
 * End-to-end: the XOR demo in headless Chromium, on each backend the page can choose.
 *
 * The XOR page trains both models as soon as it loads; the MLP must classify all four points
 * right, the linear model must not (that is the lesson of the page), and the console must
 * stay clean. With WebGPU on SwiftShader (a CPU emulation) 'auto' takes WebAssembly SIMD and the
 * page says why; `?backend=webgpu` forces WebGPU. Without WebGPU the page trains on WebAssembly
 * and says so; only without WebAssembly SIMD too does it show the explanation, not a blank page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, HAVE_CHROMIUM, buildDemo, demoState, launch, screenshot, serveStatic, type StaticServer } from './harness.js';

interface ModelStats {
  loss: number | null;
  accuracy: number | null;
}
interface XorState {
  state: string;
  adapter: string;
  backend: string;
  reason: string;
  steps: number;
  linear: ModelStats;
  mlp: ModelStats;
  solvedAtStep: number | null;
  errors: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('XOR demo in Chromium (wasm, WebGPU on SwiftShader, neither)', () => {
  let server: StaticServer;

  beforeAll(async () => {
    server = await serveStatic(await buildDemo('xor'));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  /** Loads the page in `b` and checks that the MLP solves XOR and the linear model cannot. */
  async function solves(b: BrowserSession, query: string, shot: string): Promise<XorState> {
    await b.page.goto(`${server.url}${query}`);
    await b.page.waitForFunction(
      () => {
        const d = (window as unknown as { __demo?: XorState }).__demo;
        return d && (d.solvedAtStep !== null || d.state === 'done' || d.state === 'error' || d.state === 'no-backend');
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
    await screenshot(b.page, shot);
    expect(s.errors, b.log.join('\n')).toEqual([]);
    expect(s.solvedAtStep, 'step at which the MLP got all four right').not.toBeNull();
    expect(s.solvedAtStep!).toBeLessThanOrEqual(600);
    expect(s.mlp.accuracy).toBe(1);
    expect(s.mlp.loss!).toBeLessThan(0.3);
    expect(s.linear.accuracy!).toBeLessThan(1);
    expect(await b.page.locator('#mlp .acc').textContent()).toContain('4 / 4');
    expect(await b.page.locator('#adapter').textContent()).toBe(s.adapter);
    expect(b.errors, 'console errors').toEqual([]);
    return s;
  }

  it("the MLP reaches 100% on the four points while the linear model cannot ('auto': wasm over SwiftShader)", async () => {
    const b = await launch({ webgpu: true });
    try {
      const s = await solves(b, '', 'xor-demo');
      expect(s.backend).toBe('wasm');
      expect(s.reason).toMatch(/auto: wasm, because webgpu: .*CPU emulation/);
      expect(s.adapter).toMatch(/^WebAssembly SIMD on the CPU, \d+ threads? — the only WebGPU adapter is a CPU emulation$/);
    } finally {
      await b.close();
    }
  }, 90_000);

  it('?backend=webgpu trains on WebGPU (SwiftShader) and says so', async () => {
    const b = await launch({ webgpu: true });
    try {
      const s = await solves(b, '?backend=webgpu', 'xor-demo-webgpu');
      expect(s.backend).toBe('webgpu');
      expect(s.adapter.toLowerCase()).toContain('swiftshader');
      expect(s.adapter).toMatch(/^WebGPU on .* — chosen by \?backend=webgpu$/);
    } finally {
      await b.close();
    }
  }, 90_000);

  it('without WebGPU the page trains on WebAssembly SIMD and says so', async () => {
    const b = await launch({ webgpu: false });
    try {
      // Some Chromium builds expose a fallback adapter even with --disable-gpu; hiding
      // navigator.gpu makes the check independent of that, as on a browser without WebGPU.
      await b.context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
      });
      const s = await solves(b, '', 'xor-demo-no-webgpu');
      expect(s.backend).toBe('wasm');
      expect(s.reason).toMatch(/webgpu is unavailable/);
      expect(s.adapter).toMatch(/^WebAssembly SIMD on the CPU, \d+ threads? — this browser has no WebGPU$/);
      expect(await b.page.locator('#no-backend').count()).toBe(0);
    } finally {
      await b.close();
    }
  }, 90_000);

  it('without WebGPU and WebAssembly SIMD the page explains which browsers have them', async () => {
    const b = await launch({ webgpu: false });
    try {
      await b.context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
        // An engine without SIMD: the SIMD probe module does not validate.
        WebAssembly.validate = () => false;
      });
      await b.page.goto(server.url);
      const box = b.page.locator('#no-backend');
      await box.waitFor({ timeout: 20_000 });
      const text = (await box.textContent()) ?? '';
      expect(text).toContain('needs WebGPU or WebAssembly SIMD');
      expect(text).toMatch(/Chrome/);
      expect(text).toMatch(/Safari 26/);
      expect(text).toMatch(/Firefox 141/);
      expect(text).toMatch(/Safari 16\.4/);
      expect((await demoState<XorState>(b.page)).state).toBe('no-backend');
      await screenshot(b.page, 'no-backend');
      expect(b.errors, 'console errors').toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});
