/**
 * Freezing and head replacement: frozen layers keep their weights bit for bit through Adam
 * steps while the rest learns; getAllParams(net, { trainable: true }) leaves them out; and
 * replaceHead builds a new output layer on the pretrained body.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';

const TORCH = new Uint8Array(readFileSync(fileURLToPath(new URL('../fixtures/torch_lenet.safetensors', import.meta.url))));

beforeAll(async () => {
  await ts.init();
});

/** A LeNet-5 with trained features (the PyTorch fixture) and a new 5-class head. */
async function pretrained() {
  const body = nn.models.lenet5({ seed: 1 });
  await nn.loadTorchStateDict(body, TORCH, { nameMap: { fc3: 'out' } });
  return nn.replaceHead(body, { numClasses: 5, seed: 3 });
}

const bytesOf = async (t: ts.Tensor): Promise<Uint8Array> => {
  const d = (await t.data()) as Float32Array;
  return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
};

/** A few Adam steps on a fixed random batch of 8 images. */
async function train(net: { out: nn.Layer }, steps: number): Promise<void> {
  const opt = nn.updates.adam(nn.getAllParams(net.out, { trainable: true }), { learningRate: 1e-2 });
  const x = ts.randn([8, 1, 28, 28], { seed: 11 });
  const y = ts.tensor(new Int32Array([0, 1, 2, 3, 4, 0, 1, 2]), { shape: [8] });
  for (let i = 0; i < steps; i++) await opt.step(ts.tidy(() => ts.crossEntropy(nn.getOutput(net.out, x), y)));
  opt.dispose();
  ts.dispose([x, y]);
}

describe('freezing', () => {
  it('frozen conv weights stay bit-identical through Adam steps while the head and dense layers change', async () => {
    const net = await pretrained();
    const frozen = nn.freeze(net, ['conv1', 'conv2']);
    const conv1 = net.conv1 as nn.Conv2DLayer;
    const conv2 = net.conv2 as nn.Conv2DLayer;
    expect(frozen).toEqual([conv1.W, conv1.b, conv2.W, conv2.b]);
    // Lasagne's tags: trainable false on the frozen ones; the optimizer's list leaves them out.
    expect(conv1.params.get(conv1.W)).toEqual({ trainable: false, regularizable: true });
    const trainable = nn.getAllParams(net.out, { trainable: true });
    for (const p of frozen) expect(trainable).not.toContain(p);
    expect(trainable).toHaveLength(6); // fc1, fc2, out: W and b each
    expect(nn.getAllParams(net.out, { trainable: false })).toEqual(frozen);
    expect(nn.countParams(net.out, { trainable: true })).toBe(400 * 120 + 120 + 120 * 84 + 84 + 84 * 5 + 5);

    const before = await Promise.all([...frozen, (net.out as nn.DenseLayer).W, (net.fc1 as nn.DenseLayer).W].map(bytesOf));
    await train(net, 4);
    const after = await Promise.all([...frozen, (net.out as nn.DenseLayer).W, (net.fc1 as nn.DenseLayer).W].map(bytesOf));
    frozen.forEach((_, i) => {
      expect(Buffer.from(after[i]!).equals(Buffer.from(before[i]!)), `frozen param ${i} is bit-identical`).toBe(true);
    });
    expect(Buffer.from(after[4]!).equals(Buffer.from(before[4]!)), 'the new head learned').toBe(false);
    expect(Buffer.from(after[5]!).equals(Buffer.from(before[5]!)), 'fc1 learned').toBe(false);
    // Backward never made gradients for the frozen weights.
    for (const p of frozen) expect(p.grad).toBeNull();
    nn.disposeLayers(net);
  });

  it('freezeThrough freezes the whole body; unfreeze and trainableSummary report it', async () => {
    const net = await pretrained();
    nn.freezeThrough(net.fc2!);
    expect(nn.getAllParams(net.out, { trainable: true })).toEqual([(net.out as nn.DenseLayer).W, (net.out as nn.DenseLayer).b]);
    expect(nn.trainableSummary(net).map((r) => [r.layer, r.trainable])).toEqual([
      ['conv1', false],
      ['conv2', false],
      ['fc1', false],
      ['fc2', false],
      ['out', true],
    ]);
    const fc2 = await bytesOf((net.fc2 as nn.DenseLayer).W);
    await train(net, 2);
    expect(Buffer.from(await bytesOf((net.fc2 as nn.DenseLayer).W)).equals(Buffer.from(fc2))).toBe(true);
    nn.unfreeze(net, ['fc1', 'fc2']);
    expect(
      nn
        .trainableSummary(net)
        .filter((r) => r.trainable)
        .map((r) => r.layer),
    ).toEqual(['fc1', 'fc2', 'out']);
    expect(nn.trainableSummary(net)[0]).toEqual({ layer: 'conv1', params: 156, trainable: false });
    expect(() => nn.freeze(net, ['conv9'])).toThrow("freeze: the net has no layer 'conv9'; it has data, conv1, pool1, conv2, pool2, fc1, fc2, out");
    nn.disposeLayers(net);
  });
});

describe('replaceHead', () => {
  it('builds a new linear head on fc2, shares the body, and frees the old head', async () => {
    const body = nn.models.lenet5({ seed: 1 });
    const oldHead = body.out as nn.DenseLayer;
    const net = nn.replaceHead(body, { numClasses: 3, seed: 2 });
    expect(net.out).toBeInstanceOf(nn.DenseLayer);
    expect(net.out.W.shape).toEqual([84, 3]);
    expect(net.out.inputLayer).toBe(body.fc2);
    expect(net.conv1).toBe(body.conv1);
    expect(oldHead.W.disposed).toBe(true);
    expect(nn.getOutput(net.out, ts.zeros([2, 1, 28, 28])).shape).toEqual([2, 3]);
    // Saved files name the new head 'out', so a fine-tuned model saves and loads like any LeNet.
    expect([...nn.paramNames(net).values()].slice(-2)).toEqual(['out.W', 'out.b']);
    // Seeded: the same seed gives the same head.
    const again = nn.replaceHead(nn.models.lenet5(), { numClasses: 3, seed: 2 });
    expect(await again.out.W.data()).toEqual(await net.out.W.data());
    const onFc1 = nn.replaceHead(net, { numClasses: 4, on: 'fc1', name: 'head', disposeOld: false });
    expect(onFc1.out.W.shape).toEqual([120, 4]);
    expect(onFc1.out.name).toBe('head');
    expect(net.out.W.disposed).toBe(false);
    // fc2 is no longer part of the network: left out of the record (and kept, as asked).
    expect(Object.keys(onFc1)).toEqual(['data', 'conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'out']);
    expect((net.fc2 as nn.DenseLayer).W.disposed).toBe(false);
    // By default the layers it drops are freed.
    const shallow = nn.replaceHead(nn.models.lenet5(), { numClasses: 4, on: 'fc1' });
    const dropped = nn.models.lenet5();
    const fc2 = dropped.fc2 as nn.DenseLayer;
    nn.replaceHead(dropped, { numClasses: 4, on: 'fc1' }).out.dispose();
    expect(fc2.W.disposed).toBe(true);
    expect([...nn.paramNames(shallow).keys()].length).toBe(8); // conv1, conv2, fc1, out: W and b
    nn.disposeLayers([net.out, again.out, onFc1.out, shallow.out, dropped.fc1!]);
  });

  it('rejects bad options with clear errors', () => {
    const net = nn.models.lenet5();
    expect(() => nn.replaceHead(net, { numClasses: 0 })).toThrow('replaceHead: numClasses must be a positive integer, got 0');
    expect(() => nn.replaceHead(net, { numClasses: 2, on: 'fc9' })).toThrow(
      "replaceHead: the net has no layer 'fc9' to build on; it has data, conv1, pool1, conv2, pool2, fc1, fc2, out",
    );
    expect(() => nn.replaceHead(net.out as never, { numClasses: 2 })).toThrow(
      'replaceHead: expected a net record of layers (like models.lenet5() returns), got a Layer',
    );
    nn.disposeLayers(net);
  });
});
