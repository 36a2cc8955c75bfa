/**
 * Measurements of the MNIST demo in Chromium on SwiftShader, for the issue's closing note:
 * in-page training throughput of LeNet-5 at batch 64, bytes the page fetches, and the time to
 * the first training step. Skipped unless TESSERA_MEASURE=1 (timing belongs in reports, never
 * in a test assertion):
 *
 *   TESSERA_MEASURE=1 npx vitest run tests/browser/measure.test.ts
 *   TESSERA_MEASURE=1 TESSERA_MEASURE_BACKEND=webgpu npx vitest run tests/browser/measure.test.ts
 *
 * (the second names the page's backend; by default the page chooses, WebAssembly on SwiftShader)
 * Writes test-artifacts/mnist-measure.json and prints it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, HAVE_CHROMIUM, buildDemo, demoState, launch, serveStatic } from './harness.js';

interface Hook {
  steps: number;
  losses: { step: number; loss: number; t: number }[];
  bytesDownloaded: number;
  timings: { webgpuReady?: number; dataLoaded?: number; firstStep?: number };
  errors: string[];
  adapter: string;
}

const BATCH = 64;
/** Steps timed, after WARMUP steps that include pipeline compilation. */
const STEPS = 100;
const WARMUP = 10;

const MEASURE = HAVE_CHROMIUM && process.env['TESSERA_MEASURE'] === '1';
if (!MEASURE) {
  console.info('skipped: MNIST demo measurements run only with TESSERA_MEASURE=1 (they report timings, which tests never assert)');
}

describe.skipIf(!MEASURE)('MNIST demo measurements', () => {
  it('measures images/s at batch 64, bytes fetched and time to first step', async () => {
    const server = await serveStatic(await buildDemo('mnist'));
    const b = await launch({ webgpu: true });
    try {
      // All 60,000 images: an epoch is 938 steps, so no evaluation interrupts the timed steps.
      const backend = process.env['TESSERA_MEASURE_BACKEND'];
      await b.page.goto(`${server.url}?train=60000&test=500&batch=${BATCH}&autostart=1${backend ? `&backend=${backend}` : ''}`);
      await b.page.waitForFunction((n) => (window as unknown as { __demo: Hook }).__demo.losses.some((l) => l.step >= n), WARMUP + STEPS, {
        timeout: 300_000,
        polling: 1000,
      });
      const s = await demoState<Hook>(b.page);
      expect(s.errors).toEqual([]);
      const a = s.losses.find((l) => l.step >= WARMUP)!;
      const z = s.losses.find((l) => l.step >= WARMUP + STEPS)!;
      const bytes = [...server.served.entries()];
      const sum = (f: (p: string) => boolean) => bytes.filter(([p]) => f(p)).reduce((n, [, v]) => n + v, 0);
      const result = {
        adapter: s.adapter,
        batchSize: BATCH,
        stepsTimed: z.step - a.step,
        imagesPerSecond: Math.round(((z.step - a.step) * BATCH * 1000) / (z.t - a.t)),
        msPerStep: Number(((z.t - a.t) / (z.step - a.step)).toFixed(1)),
        bytes: {
          total: server.totalBytes(),
          data: sum((p) => p.endsWith('.gz')),
          js: sum((p) => p.endsWith('.js')),
          css: sum((p) => p.endsWith('.css')),
          html: sum((p) => p.endsWith('.html') || p.endsWith('/')),
        },
        ms: {
          webgpuReady: Math.round(s.timings.webgpuReady!),
          dataLoaded: Math.round(s.timings.dataLoaded!),
          firstStep: Math.round(s.timings.firstStep!),
        },
      };
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'mnist-measure.json'), `${JSON.stringify(result, null, 2)}\n`);
      console.log(JSON.stringify(result, null, 2));
    } finally {
      await b.close();
      await server.close();
    }
  }, 330_000);
});
