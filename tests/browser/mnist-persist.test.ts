/**
 * The MNIST page keeps its work (headless Chromium with WebGPU on SwiftShader, where
 * the page's 'auto' choice is WebAssembly SIMD): it saves the model,
 * the optimizer state, the step and the curves to IndexedDB every few seconds while training and
 * on `pagehide`; a reload offers "Resume saved training from step N?".
 *
 * The browser profile persists across reloads within one launch, as a visitor's does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, demoState, downloadBytes, useDemo } from './harness.js';

interface Persistence {
  savedStep: number | null;
  offeredStep: number | null;
  restoredStep: number | null;
  restoredOptimizer: boolean | null;
  error: string | null;
}
interface MnistState {
  state: string;
  steps: number;
  epoch: number;
  lastLoss: number | null;
  losses: { step: number; loss: number }[];
  accuracies: { step: number; accuracy: number }[];
  persistence: Persistence;
  errors: string[];
}
type Win = { __demo: MnistState };

describe.skipIf(!HAVE_CHROMIUM)('MNIST demo keeps its work across reloads', () => {
  const demo = useDemo('mnist');
  let url: string;

  beforeAll(() => {
    url = `${demo.server.url}?train=512&test=500&batch=32&opt=adam&lr=0.001`;
  });

  const state = () => demoState<MnistState>(demo.b.page);
  const until = (fn: (arg: number) => boolean, arg = 0, timeout = 60_000) => demo.b.page.waitForFunction(fn, arg, { timeout, polling: 100 });
  const loaded = async () => {
    await demo.b.page.locator('#ui').waitFor({ state: 'visible', timeout: 60_000 });
    await until(() => (window as unknown as Win).__demo.state === 'idle');
  };
  const pagehide = async () => {
    const at = (await state()).steps;
    await demo.b.page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })));
    await until((n) => (window as unknown as Win).__demo.persistence.savedStep === n, at, 30_000);
  };
  const offer = () => demo.b.page.locator('#resume-offer');

  it('saves while training and on pagehide; after a reload, Resume restores the step, the curves and the weights', async () => {
    await demo.b.page.goto(url);
    await loaded();
    expect(await offer().isVisible(), 'a first visit has nothing to resume').toBe(false);
    await demo.b.page.click('#start');
    // The periodic save, while training.
    await until(() => ((window as unknown as Win).__demo.persistence.savedStep ?? 0) > 0, 0, 60_000);
    await until(() => (window as unknown as Win).__demo.steps >= 20);
    await demo.b.page.click('#pause');
    await until(() => (window as unknown as Win).__demo.state === 'paused');
    await pagehide();
    const before = await state();
    // 512 images at batch 32: 16 steps an epoch, and the page counts epochs completed (a pause
    // right at an epoch's end once showed one less than the save held).
    expect(before.epoch, `epochs completed after ${before.steps} steps`).toBe(Math.floor(before.steps / 16));
    const weights = await downloadBytes(demo.b.page, '#download', 'persist-before.safetensors');

    await demo.b.page.reload();
    await loaded();
    await offer().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await offer().textContent()).toContain(`Resume saved training from step ${before.steps}?`);
    expect((await state()).persistence.offeredStep).toBe(before.steps);
    await demo.b.page.click('#resume-saved');
    await until((n) => (window as unknown as Win).__demo.persistence.restoredStep === n, before.steps, 30_000);
    const after = await state();
    expect(after.errors, demo.b.log.join('\n')).toEqual([]);
    expect(after.state).toBe('paused');
    expect(after.steps).toBe(before.steps);
    expect(after.epoch).toBe(before.epoch);
    expect(await demo.b.page.locator('#s-step').textContent()).toBe(String(before.steps));
    expect(after.losses.map((l) => [l.step, l.loss])).toEqual(before.losses.map((l) => [l.step, l.loss]));
    expect(after.accuracies).toEqual(before.accuracies);
    expect(after.persistence.restoredOptimizer, 'the Adam moments come back too').toBe(true);
    expect(await offer().isVisible()).toBe(false);
    const restored = await downloadBytes(demo.b.page, '#download', 'persist-after.safetensors');
    expect(restored.equals(weights), 'every parameter restored exactly').toBe(true);

    // Training goes on from there: a trained model's loss, not a fresh one's ln 10.
    await demo.b.page.click('#pause'); // Resume
    await until((n) => ((window as unknown as Win).__demo.losses.at(-1)?.step ?? 0) > n + 5, before.steps);
    const s = await state();
    expect(s.lastLoss!).toBeLessThan(2);
    expect(s.errors, demo.b.log.join('\n')).toEqual([]);
  }, 240_000);

  it('Start fresh discards the saved training', async () => {
    await demo.b.page.click('#pause');
    await until(() => (window as unknown as Win).__demo.state === 'paused');
    await pagehide();
    await demo.b.page.reload();
    await loaded();
    await offer().waitFor({ state: 'visible', timeout: 10_000 });
    await demo.b.page.click('#start-fresh');
    await offer().waitFor({ state: 'hidden', timeout: 10_000 });
    expect((await state()).steps).toBe(0);
    await demo.b.page.reload();
    await loaded();
    expect((await state()).persistence.offeredStep).toBeNull();
    expect(await offer().isVisible()).toBe(false);
  }, 120_000);

  it('leaves no errors in the console', async () => {
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
    expect((await state()).errors).toEqual([]);
  });
});
