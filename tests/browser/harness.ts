/**
 * What the browser tests share: build a demo with Vite, serve it from 127.0.0.1, and drive
 * Debian's Chromium through playwright-core with WebGPU on SwiftShader (flags as in docs/design.md).
 *
 * The demo is built into test-artifacts/ (gitignored), not demos/<name>/dist, so a test run
 * never overwrites what `npm run build` produced. The server is a few lines of node:http rather
 * than `vite preview` so that it can count the bytes the page fetches.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ISOLATION_HEADERS } from '../../demos/shared/vite.shared.js';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots, builds and downloads of the browser tests. */
export const ARTIFACTS = join(REPO, 'test-artifacts');
/** Debian's Chromium, as docs/design.md prescribes. */
export const CHROMIUM = process.env['TESSERA_CHROMIUM'] ?? '/usr/bin/chromium';

/** Whether the browser tests can run here (they are skipped, loudly, where Chromium is missing). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Chromium flags for WebGPU on SwiftShader (docs/design.md; `--headless` comes from playwright). */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-gpu-sandbox'];
/** Flags every launch gets: no sandbox (root in CI), and no network chatter of the browser's own. */
export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Builds `demos/<name>` with Vite's API into test-artifacts/<name>-dist-w<worker> and returns that
 * folder. One folder per vitest worker: test files run two at a time, and a build empties its
 * folder, so two files building the same demo into one folder would pull it from under each
 * other's page (a 404 mid-load).
 *
 * @example
 * const dist = await buildDemo('xor');
 */
export async function buildDemo(name: 'mnist' | 'xor' | 'transfer'): Promise<string> {
  const { build } = await import('vite');
  const root = join(REPO, 'demos', name);
  const outDir = join(ARTIFACTS, `${name}-dist-w${process.env['VITEST_POOL_ID'] ?? '0'}`);
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.gz': 'application/octet-stream',
  '.svg': 'image/svg+xml',
};

/** A running static server and what it has sent. */
export interface StaticServer {
  url: string;
  /** Bytes sent per path, in request order. */
  served: Map<string, number>;
  totalBytes(): number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 at a free port. Unknown paths get 404; nothing outside `dir` is
 * reachable.
 *
 * @example
 * const server = await serveStatic(dist); await page.goto(server.url);
 */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const served = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    // Cross-origin isolated, as the demos' Vite servers are: the wasm backend gets its threads.
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      ...ISOLATION_HEADERS,
    });
    res.end(body);
    served.set(path, (served.get(path) ?? 0) + body.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    served,
    totalBytes: () => [...served.values()].reduce((a, b) => a + b, 0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A browser with one page, and everything the page reported as an error. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console messages of type error, and uncaught exceptions. */
  errors: string[];
  /** Every console message, for diagnosing a failure. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile, with or without WebGPU.
 *
 * @example
 * const b = await launch({ webgpu: true });
 * await b.page.goto(server.url);
 */
export async function launch({
  webgpu,
  viewport = { width: 1280, height: 900 },
}: {
  webgpu: boolean;
  viewport?: { width: number; height: number };
}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const args = [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : ['--disable-gpu'])];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const log: string[] = [];
  page.on('console', (m) => {
    log.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return {
    context,
    page,
    errors,
    log,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a full-page screenshot as test-artifacts/<name>.png and returns its path.
 *
 * @example
 * await screenshot(page, 'xor');
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Reads `window.__demo` (both demos expose their state there).
 *
 * @example
 * const { steps } = await demoState<{ steps: number }>(page);
 */
export async function demoState<T>(page: Page): Promise<T> {
  return page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __demo: unknown }).__demo)) as T);
}

/**
 * Draws a polyline with the mouse on an element, in coordinates relative to its box (0..1).
 *
 * @example
 * await drawStroke(page, '#draw', [[0.3, 0.2], [0.7, 0.2], [0.45, 0.85]]);   // a 7
 */
export async function drawStroke(page: Page, selector: string, points: readonly (readonly [number, number])[]): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`drawStroke: ${selector} is not visible`);
  const at = ([x, y]: readonly [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  const [sx, sy] = at(points[0]!);
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  for (const p of points.slice(1)) {
    const [x, y] = at(p);
    await page.mouse.move(x, y, { steps: 8 });
  }
  await page.mouse.up();
}

/**
 * Clicks a control that makes the page download a file, saves it under test-artifacts/ and
 * returns its bytes.
 *
 * @example
 * const weights = await downloadBytes(page, '#download', 'weights-before.safetensors');
 */
export async function downloadBytes(page: Page, selector: string, saveAs: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, saveAs);
  await download.saveAs(file);
  return readFileSync(file);
}

/** A demo built, served and open in one browser for a whole describe block (see `useDemo`). */
export interface DemoSession {
  readonly server: StaticServer;
  readonly b: BrowserSession;
}

/**
 * Builds and serves a demo and launches Chromium with WebGPU before the enclosing describe
 * block's tests, and closes both after them: the set-up every page test shares.
 *
 * @example
 * const demo = useDemo('mnist');
 * it('loads', async () => { await demo.b.page.goto(demo.server.url); });
 */
export function useDemo(name: 'mnist' | 'xor' | 'transfer'): DemoSession {
  let server: StaticServer | undefined;
  let b: BrowserSession | undefined;
  beforeAll(async () => {
    server = await serveStatic(await buildDemo(name));
    b = await launch({ webgpu: true });
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error(`useDemo('${name}'): used before its beforeAll ran`);
    return v;
  };
  return {
    get server() {
      return ready(server);
    },
    get b() {
      return ready(b);
    },
  };
}
