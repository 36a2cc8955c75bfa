/**
 * A Vite plugin that serves the transfer demo's two assets, from the repository rather than
 * from copies in `public/`:
 *
 * - `lenet5-mnist.safetensors`: the pretrained LeNet-5 committed in `models/` (250 KB);
 * - `fashion/*.gz`: a small Fashion-MNIST subset (2,000 training and 1,000 test images,
 *   class-balanced) as four gzipped IDX files, the format the MNIST demo already reads.
 *
 * Why a build-time subset: the `fashion-mnist` package ships 154 MB of JSON (one file per
 * class); the page needs 3,000 images, 2.4 MB raw and 1.3 MB gzipped. The plugin decodes
 * the JSON once per process with @tessera/data's decoder (same split: the first 1,000 rows of
 * each class are test, the rest train) and keeps the bytes in memory for the dev server;
 * `vite build` writes them into `dist/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Connect, Plugin } from 'vite';
import { decodeFashionClassJson, FASHION_MNIST_CLASSES, FASHION_MNIST_LAYOUT } from '../../packages/data/src/fashion.js';
import { encodeIdx } from '../../packages/data/src/idx.js';

/** Images per split in the served subset (a multiple of 10 keeps the classes balanced). @example SUBSET.train   // 2000 */
export const SUBSET = { train: 2000, test: 1000 } as const;

/** The pretrained weights, relative to the repository root. @example join(repo, MODEL_PATH) */
export const MODEL_PATH = 'models/lenet5-mnist.safetensors';

/** Served file names (relative to the page) and what they hold. @example new URL(FILES.model, document.baseURI) */
export const FILES = {
  model: 'lenet5-mnist.safetensors',
  trainImages: 'fashion/train-images-idx3-ubyte.gz',
  trainLabels: 'fashion/train-labels-idx1-ubyte.gz',
  testImages: 'fashion/t10k-images-idx3-ubyte.gz',
  testLabels: 'fashion/t10k-labels-idx1-ubyte.gz',
} as const;

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The pretrained model's bytes, or an error that says how to make it. */
function modelBytes(): Buffer {
  const file = join(repo, MODEL_PATH);
  if (!existsSync(file)) {
    throw new Error(`transfer demo: ${MODEL_PATH} is missing. Make it with \`npm start -- --epochs 3 --save ${MODEL_PATH}\``);
  }
  return readFileSync(file);
}

/** One split of the subset as uint8 pixels and labels, classes interleaved (0, 1, ..., 9, 0, ...). */
function decodeSplit(split: 'train' | 'test'): { pixels: Uint8Array; labels: Uint8Array } {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  const classes = FASHION_MNIST_CLASSES.length;
  const count = SUBSET[split];
  const perClass = count / classes;
  const rows = FASHION_MNIST_CLASSES.map(
    (_, label) =>
      decodeFashionClassJson(readFileSync(join(dir, `${label}.json`)), {
        start: FASHION_MNIST_LAYOUT[split].start,
        count: perClass,
        name: `fashion-mnist class ${label}`,
      }).pixels,
  );
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const label = k % classes;
    const row = (k - label) / classes;
    pixels.set(rows[label]!.subarray(row * 784, (row + 1) * 784), k * 784);
    labels[k] = label;
  }
  return { pixels, labels };
}

let fashion: Map<string, Buffer> | null = null;

/**
 * Every served file. The Fashion subset is built once per process (decoding the JSON takes a
 * few seconds); the model is read each time, so a retrained model shows up without a restart.
 *
 * @example
 * transferFiles().get(FILES.trainImages)!.length;   // about 876 KB
 */
export function transferFiles(): Map<string, Buffer> {
  if (!fashion) {
    const gz = (b: Uint8Array) => gzipSync(b, { level: 9 });
    const train = decodeSplit('train');
    const test = decodeSplit('test');
    fashion = new Map([
      [FILES.trainImages, gz(encodeIdx('uint8', [SUBSET.train, 28, 28], train.pixels))],
      [FILES.trainLabels, gz(encodeIdx('uint8', [SUBSET.train], train.labels))],
      [FILES.testImages, gz(encodeIdx('uint8', [SUBSET.test, 28, 28], test.pixels))],
      [FILES.testLabels, gz(encodeIdx('uint8', [SUBSET.test], test.labels))],
    ]);
  }
  return new Map([[FILES.model, modelBytes()], ...fashion]);
}

/** Answers `GET <base><file>` for the files above, as opaque bytes (the page gunzips itself). */
function middleware(): Connect.NextHandleFunction {
  const served = new Set<string>(Object.values(FILES));
  return (req, res, next) => {
    const path = (req.url ?? '').split('?')[0]!;
    const name = [...served].find((f) => path.endsWith(`/${f}`));
    if (!name) return next();
    const bytes = transferFiles().get(name)!;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(bytes.length));
    res.end(bytes);
  };
}

/**
 * The plugin: a dev / preview server route plus five build assets.
 *
 * @example
 * // vite.config.ts
 * export default demoConfig(import.meta.url, { plugins: [transferAssets()] });
 */
export function transferAssets(): Plugin {
  return {
    name: 'tessera-transfer-assets',
    configureServer(server) {
      server.middlewares.use(middleware());
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware());
    },
    buildStart() {
      modelBytes(); // fail early, with the command that makes the model
    },
    generateBundle() {
      for (const [fileName, source] of transferFiles()) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}
