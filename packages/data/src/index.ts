/**
 * `@tessera/data`: datasets and mini-batching for Tessera, as plain typed
 * arrays. Everything exported here is browser-safe (no Node APIs); the
 * Node-only loaders that read the npm-installed datasets live in
 * `@tessera/data/node`, which also re-exports all of this.
 *
 * `tensorBatches` yields mini-batches as tensors; `batches` as typed arrays, for your own
 * `ts.tensor(x, { shape })`.
 */

/**
 * IDX parsing (the MNIST file format), from bytes you already have.
 *
 * @example
 * const gz = await fetchBytes('/mnist/train-labels-idx1-ubyte.gz');
 * const bytes = await gunzipIfNeeded(gz); // .gz files, browser or Node; raw bytes pass through
 * const { dtype, dims, data } = parseIdx(bytes, { name: 'train-labels-idx1-ubyte' });
 * // dtype 'uint8', dims [60000], data: Uint8Array view of the labels
 */
export {
  parseIdx,
  encodeIdx,
  isGzip,
  gunzipIfNeeded,
  type IdxData,
  type IdxDtype,
  type IdxArray,
  type IdxParseOptions,
} from './idx.js';

/**
 * MNIST decoding: IDX bytes to NCHW floats and Int32 labels.
 *
 * @example
 * const imageBytes = await fetchBytes('/mnist/train-images-idx3-ubyte');   // IDX bytes, from anywhere
 * const labelBytes = await fetchBytes('/mnist/train-labels-idx1-ubyte');
 * const { images, count, height, width } = decodeImages(imageBytes, { normalize: 'standard' });
 * const labels = decodeLabels(labelBytes); // Int32Array, values 0..9
 * const train = decodeMnist(imageBytes, labelBytes, { limit: 1000 });
 * // train.shape = [1000, 1, 28, 28]; ts.tensor(train.images, { shape: train.shape })
 */
export {
  decodeImages,
  decodeLabels,
  decodeMnist,
  pixelsToFloat32,
  MNIST_MEAN,
  MNIST_STD,
  type Dataset,
  type DecodedImages,
  type DecodeOptions,
  type MnistNames,
  type Normalize,
} from './mnist.js';

/**
 * Browser loading of MNIST from URLs your app serves (raw or .gz IDX files).
 *
 * @example
 * const { train, test } = await loadMnistFromUrls(
 *   { trainImages: '/mnist/train-images-idx3-ubyte.gz', trainLabels: '/mnist/train-labels-idx1-ubyte.gz',
 *     testImages: '/mnist/t10k-images-idx3-ubyte.gz', testLabels: '/mnist/t10k-labels-idx1-ubyte.gz' },
 *   { onProgress: (p) => console.log(`${p.file}: ${p.loaded} of ${p.total ?? '?'} bytes`) },
 * );
 */
export {
  loadMnistFromUrls,
  type LoadFromUrlsOptions,
  type MnistFileKey,
  type MnistLoadProgress,
  type MnistUrls,
} from './mnist.js';

/**
 * Downloading bytes with progress (used by the URL loaders).
 *
 * @example
 * const bytes = await fetchBytes('/data/file.bin', { onProgress: ({ loaded, total }) => console.log(loaded, total) });
 */
export { fetchBytes, type FetchBytesOptions, type FetchLike, type FetchProgress } from './fetch.js';

/**
 * Fashion-MNIST decoding from the `fashion-mnist` package's per-class JSON.
 *
 * @example
 * // the fashion-mnist package's ten class files, src/clothes/<label>.json, served by your app
 * const classFiles = await Promise.all(FASHION_MNIST_CLASSES.map((_, label) => fetchBytes(`/fashion/${label}.json`)));
 * const test = decodeFashionMnist(classFiles, { split: 'test', limit: 100 });
 * FASHION_MNIST_CLASSES[test.labels[0]]; // 'T-shirt/top'
 */
export {
  decodeFashionMnist,
  decodeFashionClassJson,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_LAYOUT,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  type FashionClassRows,
  type FashionDecodeOptions,
} from './fashion.js';

/**
 * Seeded, reproducible mini-batches.
 *
 * @example
 * const images = new Float32Array(60000 * 784);   // NCHW pixels, e.g. decodeMnist(...).images
 * const labels = new Int32Array(60000);           // class ids, e.g. decodeMnist(...).labels
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const { x, y, size } of batches({ images, labels, sampleShape: [1, 28, 28], batchSize: 128, seed: 42, epoch })) {
 *     // x: Float32Array(size * 784), y: Int32Array(size)
 *   }
 * }
 * batchCount(60000, 128); // 469
 * // regression: float targets, any number per sample (here 2), batched like the images
 * const targets = new Float32Array(60000 * 2);
 * for (const { y } of batches({ images, labels: targets, sampleShape: [1, 28, 28], batchSize: 128 })) y.length;   // 256
 */
export {
  batches,
  batchCount,
  shuffledIndices,
  mulberry32,
  mixSeed,
  type Batch,
  type BatchOptions,
  type Targets,
} from './batches.js';

/**
 * Mini-batches as tensors of the right shape and dtype (float32 images, int32 labels).
 *
 * @example
 * const { images, labels } = decodeMnist(await fetchBytes('/mnist/train-images-idx3-ubyte'), await fetchBytes('/mnist/train-labels-idx1-ubyte'));
 * for (const b of tensorBatches({ images, labels, sampleShape: [1, 28, 28], batchSize: 64 })) b.dispose();
 */
export { tensorBatches, type TensorBatch } from './tensors.js';
