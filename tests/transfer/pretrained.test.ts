/**
 * The pretrained LeNet-5 shipped in models/ (made by
 * `npm start -- --epochs 3 --save models/lenet5-mnist.safetensors`) loads into
 * nn.models.lenet5() and classifies MNIST test digits well. CI checks the first 1000 test images
 * (>= 98%, about 3 s on SwiftShader); `TESSERA_FULL_TEST=1` checks all 10,000 (>= 98.5%, the
 * issue's bar, about 20 s).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { loadMnist } from '@tessera/data/node';
import { ts } from '../helpers/index.js';

const MODEL = fileURLToPath(new URL('../../models/lenet5-mnist.safetensors', import.meta.url));
const HAVE_MODEL = existsSync(MODEL);
const FULL = process.env['TESSERA_FULL_TEST'] === '1';
const [LIMIT, BAR] = FULL ? [10_000, 0.985] : [1000, 0.98];
if (!HAVE_MODEL)
  console.warn(
    `tests/transfer/pretrained.test.ts: skipped, ${MODEL} is missing (make it with \`npm start -- --epochs 3 --save models/lenet5-mnist.safetensors\`)`,
  );

/** Correct predictions of `net` on a dataset, in batches of 500, one readback. */
async function countCorrect(net: { out: nn.Layer }, images: Float32Array, labels: Int32Array): Promise<number> {
  const parts: ts.Tensor[] = [];
  for (let at = 0; at < labels.length; at += 500) {
    const n = Math.min(500, labels.length - at);
    parts.push(
      ts.tidy(() =>
        ts.noGrad(() => {
          const x = ts.tensor(images.subarray(at * 784, (at + n) * 784), { shape: [n, 1, 28, 28] });
          const y = ts.tensor(labels.subarray(at, at + n), { shape: [n] });
          return nn.getOutput(net.out, x, { deterministic: true }).argmax(1).eq(y).sum();
        }),
      ),
    );
  }
  let correct = 0;
  for (const p of parts) correct += await p.item();
  ts.dispose(parts);
  return correct;
}

describe.skipIf(!HAVE_MODEL)('pretrained LeNet-5 (models/lenet5-mnist.safetensors)', () => {
  beforeAll(async () => {
    await ts.init();
  });

  it(`has the names and shapes of nn.models.lenet5 and reaches >= ${BAR * 100}% on ${FULL ? 'all' : 'the first'} ${LIMIT} MNIST test images`, async () => {
    const file = nn.decodeSafetensors(new Uint8Array((await import('node:fs')).readFileSync(MODEL)));
    expect([...file.tensors.keys()]).toEqual(['conv1.W', 'conv1.b', 'conv2.W', 'conv2.b', 'fc1.W', 'fc1.b', 'fc2.W', 'fc2.b', 'out.W', 'out.b']);
    const net = nn.models.lenet5({ seed: 5 });
    await nn.loadParams(net, MODEL);
    const test = await loadMnist({ split: 'test', limit: LIMIT, normalize: 'standard' });
    const accuracy = (await countCorrect(net, test.images, test.labels)) / test.count;
    console.log(`pretrained LeNet-5: ${(accuracy * 100).toFixed(2)}% on ${test.count} MNIST test images`);
    expect(accuracy).toBeGreaterThanOrEqual(BAR);
    nn.disposeLayers(net);
  });
});
