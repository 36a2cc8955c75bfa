// Headless check of the browser bench page: builds it, serves it with `vite preview`, opens it in
// Chromium (SwiftShader WebGPU) with ?run=1 and prints the table the page produced.
//   node bench/web/smoke.mjs ['regex of ids, default matmul-128|softmax-64x10|dispatch']
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2] ?? 'matmul-128|softmax-64x10|dispatch';
const vite = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));
execFileSync(process.execPath, [vite, 'build', here, '--logLevel', 'warn'], { stdio: 'inherit' });
const port = 4000 + Math.floor(Math.random() * 1000);
const server = spawn(process.execPath, [vite, 'preview', here, '--port', String(port), '--strictPort'], { stdio: 'ignore' });
let browser;
try {
  await new Promise((r) => setTimeout(r, 1500));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader',
      '--disable-gpu-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`http://127.0.0.1:${port}/?run=1&only=${encodeURIComponent(only)}`);
  await page.waitForFunction(() => document.body.dataset.done, null, { timeout: 170_000 });
  console.log(await page.textContent('#adapter'));
  console.log(await page.textContent('#status'));
  console.log(await page.textContent('#md'));
  if ((await page.evaluate(() => document.body.dataset.done)) !== '1') process.exitCode = 1;
} finally {
  await browser?.close();
  server.kill();
}
