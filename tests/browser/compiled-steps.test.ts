/**
 * The "Compiled steps" checkbox of the demos (headless Chromium with WebGPU on SwiftShader, where
 * the page's 'auto' choice is WebAssembly SIMD): the pages train with compiled steps by default,
 * unchecking it switches to eager steps at the next step (the compiled step is freed between two
 * steps), checking it again records anew, and training goes on in both modes with finite losses
 * and no page error.
 */
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, demoState, useDemo } from './harness.js';

interface ModesState {
  state: string;
  steps: number;
  modes: { compiled: number; eager: number; last: 'compiled' | 'eager' | null };
  errors: string[];
}

for (const [name, query, lossOf] of [
  ['xor', '', (s: Record<string, unknown>) => (s as { mlp: { loss: number | null } }).mlp.loss],
  ['mnist', '?train=512&test=500&batch=16&autostart=1', (s: Record<string, unknown>) => (s as { lastLoss: number | null }).lastLoss],
  [
    'transfer',
    // A budget that outlasts the test: on WebAssembly SIMD 200 steps end within seconds.
    '?steps=5000&batch=16&evalEvery=100&test=200&autostart=1',
    (s: Record<string, unknown>) => (s as { losses: { scratch: { loss: number }[] } }).losses.scratch.at(-1)?.loss ?? null,
  ],
] as const) {
  describe.skipIf(!HAVE_CHROMIUM)(`${name} demo: compiled and eager steps`, () => {
    const demo = useDemo(name);
    const state = () => demoState<ModesState & Record<string, unknown>>(demo.b.page);
    /** Waits until `k` more steps ran in `mode` than `from`, the last of them in that mode. */
    const moreSteps = (mode: 'compiled' | 'eager', from: number, k: number) =>
      demo.b.page.waitForFunction(
        ([m, n]) => {
          // (undefined until the page's script has run: the first polls may come before it)
          const d = (window as unknown as { __demo?: ModesState }).__demo;
          return !!d?.modes && d.modes[m as 'compiled' | 'eager'] >= (n as number) && d.modes.last === m;
        },
        [mode, from + k] as const,
        { timeout: 120_000, polling: 100 },
      );

    it('trains compiled by default; the checkbox switches to eager and back at the next step, training going on', async () => {
      await demo.b.page.goto(`${demo.server.url}${query}`);
      expect(await demo.b.page.locator('#compiled').isChecked()).toBe(true);
      await moreSteps('compiled', 0, 6);
      let s = await state();
      expect(s.modes.eager).toBe(0);
      await demo.b.page.click('#compiled'); // unchecked: eager from the next step
      await moreSteps('eager', 0, 6);
      s = await state();
      const stepsEager = s.steps;
      await demo.b.page.click('#compiled'); // checked again: a new compiled step
      await moreSteps('compiled', s.modes.compiled, 6);
      s = await state();
      expect(s.steps).toBeGreaterThan(stepsEager);
      expect(s.modes.compiled + s.modes.eager).toBe(s.steps);
      const loss = lossOf(s);
      expect(loss === null || Number.isFinite(loss), `loss ${loss}`).toBe(true);
      expect(s.errors, demo.b.log.join('\n')).toEqual([]);
      expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
    }, 300_000);
  });
}
