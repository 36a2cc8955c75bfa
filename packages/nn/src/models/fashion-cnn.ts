import { Conv2DLayer } from '../layers/conv.js';
import { DenseLayer } from '../layers/dense.js';
import { InputLayer } from '../layers/input.js';
import { batchNorm } from '../layers/normalization.js';
import { GlobalPoolLayer } from '../layers/pool.js';
import type { Layer } from '../layers/base.js';
import * as init from '../init.js';
import * as nonlinearities from '../nonlinearities.js';

/**
 * The layers of `fashionCnn` by name, the last one `out`. `conv1` .. `conv3` are the
 * convolutions (no bias); `block1` .. `block3` the ReLU after each one's batch normalization
 * (named `conv1_bn_nonlin`, ...; the BatchNormLayers themselves are `conv1_bn`, ...).
 *
 * @example
 * const net: nn.models.FashionCnn = nn.models.fashionCnn({ seed: 1 });
 * net.block3.outputShape;   // [null, 64, 7, 7]
 */
export type FashionCnn = Record<'data' | 'conv1' | 'block1' | 'conv2' | 'block2' | 'conv3' | 'block3' | 'pool' | 'out', Layer>;

/**
 * A small all-convolutional net for 28x28 grey images (Fashion-MNIST): three 3x3 convolution
 * blocks of 16, 32 and 64 filters (padding 1; the second and third with stride 2, so 28 -> 28
 * -> 14 -> 7), each a convolution without bias, batch normalization and ReLU
 * (`batchNorm(new Conv2DLayer(...))`), then global average pooling and a dense layer of
 * `numClasses` logits. 24,058 trainable parameters (24,282 with the batch-norm running
 * statistics). Convolution and dense weights are GlorotUniform (seeded from `seed`), the batch
 * norm's gamma 1 and beta 0, the dense bias 0. Parameter names are `conv1.W`, `conv1_bn.gamma`,
 * `conv1_bn.beta`, `conv1_bn.mean`, `conv1_bn.var`, ..., `out.W`, `out.b`.
 *
 * Train it in training mode (`getOutput(net.out, x)`, which updates the running statistics) and
 * evaluate with `{ deterministic: true }`; `nn.fit` and `nn.evaluate` do both.
 *
 * @example
 * const net = nn.models.fashionCnn({ seed: 1 });
 * const logits = nn.getOutput(net.out, ts.randn([8, 1, 28, 28]));   // [8, 10]
 */
export function fashionCnn({ seed = 0, numClasses = 10 }: { seed?: number; numClasses?: number } = {}): FashionCnn {
  const W = (k: number) => init.GlorotUniform({ seed: seed * 100 + k });
  const block = (incoming: Layer, numFilters: number, stride: number, k: number): [Layer, Layer] => {
    const conv = new Conv2DLayer(incoming, { numFilters, filterSize: 3, stride, pad: 1, W: W(k), b: null, name: `conv${k}` });
    return [conv, batchNorm(conv)];
  };
  const net = {} as FashionCnn;
  net.data = new InputLayer([null, 1, 28, 28], { name: 'data' });
  [net.conv1, net.block1] = block(net.data, 16, 1, 1);
  [net.conv2, net.block2] = block(net.block1, 32, 2, 2);
  [net.conv3, net.block3] = block(net.block2, 64, 2, 3);
  net.pool = new GlobalPoolLayer(net.block3, { name: 'pool' });
  net.out = new DenseLayer(net.pool, { numUnits: numClasses, W: W(4), nonlinearity: nonlinearities.linear, name: 'out' });
  return net;
}
