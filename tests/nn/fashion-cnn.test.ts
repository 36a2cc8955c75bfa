// nn.models.fashionCnn: the layer stack, output shape, parameter count and names, and one
// training step that lowers the loss on a tiny batch.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

describe('nn.models.fashionCnn', () => {
  it('maps [N, 1, 28, 28] to [N, 10] logits through three conv + BN + ReLU blocks and a global average pool', async () => {
    const net = nn.models.fashionCnn({ seed: 1 });
    expect(nn.getAllLayers(net.out).map((l) => `${l.name}:${l.constructor.name}`)).toEqual([
      'data:InputLayer',
      'conv1:Conv2DLayer',
      'conv1_bn:BatchNormLayer',
      'conv1_bn_nonlin:NonlinearityLayer',
      'conv2:Conv2DLayer',
      'conv2_bn:BatchNormLayer',
      'conv2_bn_nonlin:NonlinearityLayer',
      'conv3:Conv2DLayer',
      'conv3_bn:BatchNormLayer',
      'conv3_bn_nonlin:NonlinearityLayer',
      'pool:GlobalPoolLayer',
      'out:DenseLayer',
    ]);
    expect([net.block1, net.block2, net.block3].map((l) => l.outputShape)).toEqual([
      [null, 16, 28, 28],
      [null, 32, 14, 14],
      [null, 64, 7, 7],
    ]);
    expect(net.pool.outputShape).toEqual([null, 64]);
    expect((net.conv2 as nn.Conv2DLayer).b).toBeNull();
    // 3*3*(1*16 + 16*32 + 32*64) conv weights, 2*(16 + 32 + 64) gamma and beta, 64*10 + 10 dense.
    expect(nn.countParams(net.out, { trainable: true })).toBe(9 * (16 + 16 * 32 + 32 * 64) + 2 * 112 + 650);
    expect(nn.countParams(net.out, { trainable: true })).toBe(24058);
    expect(nn.countParams(net.out)).toBe(24058 + 2 * 112); // + running mean and var
    expect([...nn.paramNames(net.out).values()]).toEqual([
      ...[1, 2, 3].flatMap((k) => [`conv${k}.W`, ...['beta', 'gamma', 'mean', 'var'].map((p) => `conv${k}_bn.${p}`)]),
      'out.W',
      'out.b',
    ]);
    await expectNoLeak(async () => {
      const x = ts.randn([3, 1, 28, 28], { seed: 2 });
      const y = ts.noGrad(() => nn.getOutput(net.out, x, { deterministic: true }));
      expect([...y.shape]).toEqual([3, 10]);
      expect((await y.data()).every(Number.isFinite)).toBe(true);
      ts.dispose([x, y]);
    }, 'forward');
    // The same seed gives the same weights; another seed others.
    const twin = nn.models.fashionCnn({ seed: 1 });
    const other = nn.models.fashionCnn({ seed: 2 });
    const w = async (n: nn.models.FashionCnn) => Array.from(await (n.conv2 as nn.Conv2DLayer).W.data());
    expect(await w(twin)).toEqual(await w(net));
    expect(await w(other)).not.toEqual(await w(net));
    for (const n of [net, twin, other]) nn.disposeLayers(n.out);
  });

  it('one training step lowers the loss on a tiny batch', async () => {
    const net = nn.models.fashionCnn({ seed: 3 });
    const opt = nn.updates.adam(net.out, { learningRate: 1e-2 });
    await expectNoLeak(async () => {
      const x = ts.randn([8, 1, 28, 28], { seed: 4 });
      const y = ts.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
      const step = nn.trainStep({ net, optimizer: opt });
      const first = await step(x, y);
      const loss0 = await first.loss.item();
      const second = await step(x, y);
      const loss1 = await second.loss.item();
      expect(Number.isFinite(loss0)).toBe(true);
      expect(loss1).toBeLessThan(loss0);
      ts.dispose([x, y, first.loss, first.correct!, second.loss, second.correct!]);
      opt.dispose();
    }, 'training step');
    nn.disposeLayers(net.out);
  });
});
