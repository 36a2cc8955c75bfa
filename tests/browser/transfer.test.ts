/**
 * End-to-end: the transfer demo in headless Chromium with WebGPU on SwiftShader, where the page's
 * 'auto' choice is WebAssembly SIMD (SwiftShader is a CPU emulation).
 *
 * A bounded run (40 steps of batch 32 for each network, evaluated every 10 steps on 500 test
 * images) must draw both curves, end with the fine-tuned network ahead of the one trained from
 * scratch at the same step, and leave the console free of errors. Freezing the convolutions
 * (a reset with the checkbox ticked) must leave fewer trainable parameters. Skipped, loudly,
 * without Chromium or without the pretrained model (models/lenet5-mnist.safetensors).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, REPO, demoState, screenshot, useDemo } from './harness.js';

interface TransferState {
  state: string;
  adapter: string;
  backend: string;
  steps: number;
  curves: Record<'finetuned' | 'scratch', { step: number; accuracy: number }[]>;
  losses: Record<'finetuned' | 'scratch', { step: number; loss: number }[]>;
  trainable: Record<'finetuned' | 'scratch', number> | null;
  bytesDownloaded: number;
  errors: string[];
}

const HAVE_MODEL = existsSync(join(REPO, 'models', 'lenet5-mnist.safetensors'));
if (!HAVE_MODEL) console.warn('tests/browser/transfer.test.ts: skipped, models/lenet5-mnist.safetensors is missing');
const STEPS = 40;

describe.skipIf(!HAVE_CHROMIUM || !HAVE_MODEL)('transfer demo in Chromium (wasm over WebGPU on SwiftShader)', () => {
  const demo = useDemo('transfer');

  const state = () => demoState<TransferState>(demo.b.page);

  it('fine-tunes and trains from scratch side by side: both curves, fine-tuned ahead at equal steps', async () => {
    await demo.b.page.goto(`${demo.server.url}?steps=${STEPS}&batch=32&evalEvery=10&test=500&autostart=1`);
    await demo.b.page.locator('#ui').waitFor({ state: 'visible', timeout: 60_000 });
    await demo.b.page.waitForFunction(
      () => {
        const d = (window as unknown as { __demo: TransferState }).__demo;
        return d.state === 'done' || d.errors.length > 0;
      },
      undefined,
      { timeout: 240_000, polling: 500 },
    );
    const s = await state();
    expect(s.errors, demo.b.log.join('\n')).toEqual([]);
    // 'auto' on SwiftShader (a CPU emulation of WebGPU) takes WebAssembly SIMD, and says why.
    expect(s.backend).toBe('wasm');
    expect(s.adapter).toMatch(/^WebAssembly SIMD on the CPU, \d+ threads? — the only WebGPU adapter is a CPU emulation$/);
    expect(s.steps).toBe(STEPS);
    // The pretrained model (250 KB) and the gzipped Fashion subset (1.3 MB), nothing else big.
    expect(s.bytesDownloaded).toBeGreaterThan(0.5e6);
    expect(s.bytesDownloaded).toBeLessThan(2e6);
    // Both curves, evaluated at the same steps: 0, 10, 20, 30, 40.
    const steps = [0, 10, 20, 30, 40];
    expect(s.curves.finetuned.map((p) => p.step)).toEqual(steps);
    expect(s.curves.scratch.map((p) => p.step)).toEqual(steps);
    const ft = s.curves.finetuned.at(-1)!.accuracy;
    const sc = s.curves.scratch.at(-1)!.accuracy;
    const curve = (c: { accuracy: number }[]) => c.map((p) => (p.accuracy * 100).toFixed(1)).join(' ');
    console.log(`transfer demo, accuracy at steps ${steps.join(' ')}: fine-tuned ${curve(s.curves.finetuned)}; from scratch ${curve(s.curves.scratch)}`);
    expect(ft, 'fine-tuned beats from scratch at equal steps').toBeGreaterThan(sc);
    expect(ft).toBeGreaterThan(0.5);
    // On average over the run too, not only at the end.
    const mean = (c: { accuracy: number }[]) => c.slice(1).reduce((a, p) => a + p.accuracy, 0) / (c.length - 1);
    expect(mean(s.curves.finetuned)).toBeGreaterThan(mean(s.curves.scratch));
    expect(s.losses.finetuned.length).toBeGreaterThan(3);
    expect(s.losses.scratch.length).toBe(s.losses.finetuned.length);
    // The charts draw two series each (uPlot's legend lists them) and the gallery shows guesses.
    expect(await demo.b.page.locator('#acc-chart .u-legend .u-series').count()).toBe(3); // step + 2 series
    expect(await demo.b.page.locator('#acc-chart canvas').count()).toBeGreaterThan(0);
    expect(await demo.b.page.locator('#gallery .guess.right').count()).toBeGreaterThan(10);
    await screenshot(demo.b.page, 'transfer-demo');
  }, 300_000);

  it('freezing the conv layers resets the race with fewer trainable parameters', async () => {
    const before = (await state()).trainable!;
    expect(before.finetuned).toBe(before.scratch); // 51,902 each (head on fc1): nothing frozen
    await demo.b.page.check('#freeze');
    await demo.b.page.waitForFunction(
      (n) => {
        const d = (window as unknown as { __demo: TransferState }).__demo;
        return d.trainable !== null && d.trainable.finetuned < n && d.curves.finetuned.length === 1;
      },
      before.finetuned,
      { timeout: 60_000 },
    );
    const s = await state();
    expect(s.trainable!.finetuned).toBe(before.finetuned - (6 * 25 + 6) - (16 * 6 * 25 + 16));
    expect(s.state).toBe('idle');
    expect(s.steps).toBe(0);
  }, 90_000);

  it('leaves no errors in the console', async () => {
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
    expect((await state()).errors).toEqual([]);
  });
});
