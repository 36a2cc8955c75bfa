import { Conv2DLayer } from '../layers/conv.js';
import { DenseLayer } from '../layers/dense.js';
import { InputLayer } from '../layers/input.js';
import { MaxPool2DLayer } from '../layers/pool.js';
import type { Layer } from '../layers/base.js';
import * as init from '../init.js';
import * as nonlinearities from '../nonlinearities.js';

/** The layers of LeNet-5 by name, as Lasagne keeps a net: a plain object, the last layer `out`. */
export type LeNet = Record<'data' | 'conv1' | 'pool1' | 'conv2' | 'pool2' | 'fc1' | 'fc2' | 'out', Layer>;

/**
 * LeNet-5 for 28x28 grey images: conv 6@5x5 pad 2, max-pool 2, conv 16@5x5, max-pool 2, dense
 * 120, 84 and `numClasses`, ReLU. The output layer is linear (logits): `ts.crossEntropy` fuses
 * the softmax, which is faster and more stable than a softmax layer followed by a log.
 * Parameter names are `conv1.W`, `conv1.b`, ..., `out.b` in saved files.
 *
 * @example
 * const net = nn.models.lenet5({ seed: 1 });
 * const loss = ts.crossEntropy(nn.getOutput(net.out, x), labels);
 */
export function lenet5({ seed = 0, numClasses = 10 }: { seed?: number; numClasses?: number } = {}): LeNet {
  const W = (k: number) => init.GlorotUniform({ seed: seed * 100 + k });
  const net = {} as LeNet;
  net.data = new InputLayer([null, 1, 28, 28], { name: 'data' });
  net.conv1 = new Conv2DLayer(net.data, { numFilters: 6, filterSize: 5, pad: 2, W: W(1), name: 'conv1' });
  net.pool1 = new MaxPool2DLayer(net.conv1, { poolSize: 2, name: 'pool1' });
  net.conv2 = new Conv2DLayer(net.pool1, { numFilters: 16, filterSize: 5, W: W(2), name: 'conv2' });
  net.pool2 = new MaxPool2DLayer(net.conv2, { poolSize: 2, name: 'pool2' });
  net.fc1 = new DenseLayer(net.pool2, { numUnits: 120, W: W(3), name: 'fc1' });
  net.fc2 = new DenseLayer(net.fc1, { numUnits: 84, W: W(4), name: 'fc2' });
  net.out = new DenseLayer(net.fc2, { numUnits: numClasses, W: W(5), nonlinearity: nonlinearities.linear, name: 'out' });
  return net;
}
