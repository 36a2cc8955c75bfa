/**
 * The two contenders of the page, built the way `tessera finetune --task fashion` builds them:
 *
 * - fine-tuned: LeNet-5 with the MNIST-pretrained weights, its digit head replaced by a new,
 *   randomly initialised 10-way head (`nn.replaceHead`) on fc1 (dropping fc2, the layer most
 *   specific to digits) or on fc2, the convolutions optionally frozen (`nn.freeze`);
 * - from scratch: the same architecture (head on the same layer, seeded alike), freshly
 *   initialised, so that the starting weights are the only difference.
 *
 * Both use Adam with the same learning rate and see the same batches. As in the MNIST demo,
 * computations run in synchronous `ts.tidy` blocks and only the awaits (readbacks) are outside.
 */
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { SwitchableStep } from '../../shared/step.js';
import { gather, type Split } from './data.js';

/** Which network: the pretrained one with a new head, or a fresh one. @example const k: Kind = 'finetuned'; */
export type Kind = 'finetuned' | 'scratch';

/** The layer the new head is built on. @example const on: HeadLayer = 'fc1'; */
export type HeadLayer = 'fc1' | 'fc2';

/** Test images per forward pass when evaluating. */
const EVAL_BATCH = 250;

/** One network and its optimizer. @example const c = await Contender.create('scratch', opts); */
export class Contender {
  private constructor(
    readonly kind: Kind,
    readonly net: { readonly out: nn.Layer } & Readonly<Record<string, nn.Layer>>,
    private readonly opt: nn.updates.Optimizer,
  ) {
    const out = net.out;
    this.trainer = new SwitchableStep((x: ts.Tensor, y: ts.Tensor) => ts.crossEntropy(nn.getOutput(out, x, { deterministic: false }), y), opt);
  }

  /** The training step, compiled by default (the "Compiled steps" checkbox switches it between steps). */
  readonly trainer: SwitchableStep<[ts.Tensor, ts.Tensor]>;

  /**
   * Builds a contender. `pretrained` is the safetensors file of the MNIST LeNet-5.
   *
   * @example
   * const tuned = await Contender.create('finetuned', { seed: 1, learningRate: 1e-3, freeze: false, pretrained });
   */
  static async create(kind: Kind, o: { seed: number; learningRate: number; freeze: boolean; headOn: HeadLayer; pretrained: Uint8Array }): Promise<Contender> {
    const body = nn.models.lenet5({ seed: o.seed });
    if (kind === 'finetuned') await nn.loadParams(body, o.pretrained);
    // The same seed for both heads, so the heads start equal too.
    const net = nn.replaceHead(body, { numClasses: 10, seed: o.seed * 100 + 5, on: o.headOn });
    if (kind === 'finetuned' && o.freeze) nn.freeze(net, ['conv1', 'conv2']);
    const opt = nn.updates.adam(nn.getAllParams(net.out, { trainable: true }), { learningRate: o.learningRate });
    return new Contender(kind, net, opt);
  }

  /** Parameters that learn (fewer when the convolutions are frozen). */
  get trainableParams(): number {
    return nn.countParams(this.net.out, { trainable: true });
  }

  /**
   * One Adam step; returns the loss as a GPU scalar the caller reads (or not) and disposes.
   *
   * @example
   * const loss = await tuned.trainStep(x, y);
   */
  async trainStep(x: Float32Array, y: Int32Array): Promise<ts.Tensor> {
    const n = y.length;
    const xt = ts.tensor(x, { shape: [n, 1, 28, 28] });
    const yt = ts.tensor(y, { shape: [n], dtype: 'int32' });
    try {
      return await this.trainer.run(xt, yt);
    } finally {
      ts.dispose([xt, yt]);
    }
  }

  /**
   * Accuracy on the first `count` images of a split, with one readback at the end.
   *
   * @example
   * const acc = await tuned.accuracy(assets.test, 500);
   */
  async accuracy(split: Split, count: number): Promise<number> {
    const order = Uint32Array.from({ length: count }, (_, i) => i);
    const parts: ts.Tensor[] = [];
    for (let start = 0; start < count; start += EVAL_BATCH) {
      const size = Math.min(EVAL_BATCH, count - start);
      const { x, y } = gather(split, order, start, size);
      parts.push(
        ts.tidy(() =>
          ts.noGrad(() => {
            const logits = nn.getOutput(this.net.out, ts.tensor(x, { shape: [size, 1, 28, 28] }), { deterministic: true });
            return logits
              .argmax(1)
              .eq(ts.tensor(y, { shape: [size], dtype: 'int32' }))
              .sum();
          }),
        ),
      );
    }
    try {
      let right = 0;
      for (const p of parts) right += await p.item();
      return count ? right / count : 0;
    } finally {
      ts.dispose(parts);
    }
  }

  /** Predicted classes of a few images (for the gallery). */
  async predict(split: Split, indices: readonly number[]): Promise<Int32Array> {
    const { x } = gather(split, indices, 0, indices.length);
    const p = ts.tidy(() =>
      ts.noGrad(() => nn.getOutput(this.net.out, ts.tensor(x, { shape: [indices.length, 1, 28, 28] }), { deterministic: true }).argmax(1)),
    );
    try {
      return Int32Array.from(await p.data());
    } finally {
      p.dispose();
    }
  }

  /** Frees the weights and the optimizer state. */
  dispose(): void {
    this.trainer.dispose();
    this.opt.dispose();
    nn.disposeLayers(this.net.out);
  }
}
