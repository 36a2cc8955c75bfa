import * as ts from '@tessera/core';
import { batches, type BatchOptions, type Targets } from './batches.js';

/** One mini-batch as tensors: dispose it (or declare it with `using`) after the step. */
export interface TensorBatch {
  /** float32 [size, ...sampleShape], e.g. [64, 1, 28, 28]. */
  readonly x: ts.Tensor;
  /** int32 class ids [size], or float32 targets [size, ...targetShape] (Float32Array labels). */
  readonly y: ts.Tensor;
  /** Samples in this batch (the last one may be smaller unless dropLast). */
  readonly size: number;
  /** Position of this batch in the epoch, from 0. */
  readonly index: number;
  /** Frees `x` and `y`. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * One epoch of mini-batches, like `batches`, as tensors of the right shape and dtype: images
 * float32 [size, ...sampleShape], labels int32 [size] (or, for Float32Array labels, float32
 * [size, ...targetShape]: [size, k] by default). Each batch owns its two tensors; dispose it
 * after the step (a `tidy` around the step does too).
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const train = await loadMnist({ split: 'train', limit: 1000 });
 * for (const b of tensorBatches({ images: train.images, labels: train.labels, sampleShape: [1, 28, 28], batchSize: 64, seed: 1 })) {
 *   console.log(b.x.shape, b.y.dtype);   // [64, 1, 28, 28] 'int32'
 *   b.dispose();
 * }
 */
export function tensorBatches<L extends Targets = Int32Array>(options: BatchOptions<L>): Generator<TensorBatch, void, undefined> {
  // Validated on the call, as `batches` does, not at the first step.
  const source = batches(options);
  const float = options.labels instanceof Float32Array;
  const n = options.images.length / options.sampleShape.reduce((a, b) => a * b, 1);
  const targetShape = options.targetShape ?? (float ? [n > 0 ? options.labels.length / n : 1] : []);
  return toTensors(source, [...options.sampleShape], [...targetShape], float);
}

function* toTensors(
  source: Iterable<{ x: Float32Array; y: Targets; size: number; index: number }>,
  shape: number[],
  targetShape: number[],
  float: boolean,
): Generator<TensorBatch, void, undefined> {
  for (const b of source) {
    const x = ts.tensor(b.x, { shape: [b.size, ...shape] });
    const y = ts.tensor(b.y, { shape: [b.size, ...targetShape], dtype: float ? 'float32' : 'int32' });
    const dispose = (): void => {
      x.dispose();
      y.dispose();
    };
    yield { x, y, size: b.size, index: b.index, dispose, [Symbol.dispose]: dispose };
  }
}
