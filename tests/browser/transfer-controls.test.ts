/**
 * The transfer page under a user's hands (headless Chromium with WebGPU on SwiftShader, where
 * the page's 'auto' choice is WebAssembly SIMD).
 *
 * Bug found by hand: the page showed an enabled "Train both" button while it was still building
 * and evaluating both networks, and attached the button's handler only afterwards, so the first
 * click was silently lost. The button must say it is loading (disabled) until the race is ready,
 * and a click as soon as it is enabled must start the race.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, REPO, demoState, useDemo } from './harness.js';

interface TransferState {
  state: string;
  steps: number;
  errors: string[];
}

const HAVE_MODEL = existsSync(join(REPO, 'models', 'lenet5-mnist.safetensors'));

describe.skipIf(!HAVE_CHROMIUM || !HAVE_MODEL)('transfer demo controls in Chromium', () => {
  const demo = useDemo('transfer');

  it('the first "Train both" click, made as soon as the button can be clicked, starts the race', async () => {
    await demo.b.page.goto(`${demo.server.url}?steps=10&batch=16&evalEvery=5&test=200`);
    await demo.b.page.locator('#ui').waitFor({ state: 'visible', timeout: 60_000 });
    // What the page says at the moment it appears: loading (button disabled), or ready.
    const start = demo.b.page.locator('#start');
    const enabledAtFirst = await start.isEnabled();
    const shownState = await demo.b.page.locator('#s-state').textContent();
    const hookState = (await demoState<TransferState>(demo.b.page)).state;
    // playwright clicks as soon as the button is visible and enabled: the user's first click.
    await start.click({ timeout: 60_000 });
    await demo.b.page.waitForFunction(
      () => {
        const d = (window as unknown as { __demo: TransferState }).__demo;
        return d.steps > 0 || d.errors.length > 0;
      },
      undefined,
      { timeout: 20_000, polling: 250 },
    );
    // An enabled button is only honest once the race is ready; until then it says "loading".
    if (enabledAtFirst) expect(hookState).toBe('idle');
    else expect(shownState).toMatch(/loading/);
    const s = await demoState<TransferState>(demo.b.page);
    expect(s.errors, demo.b.log.join('\n')).toEqual([]);
    expect(s.steps).toBeGreaterThan(0);
  }, 150_000);

  it('leaves no errors in the console', () => {
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
  });
});
