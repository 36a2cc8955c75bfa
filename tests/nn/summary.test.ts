// nn.summary: the layer table of a network (Keras's model.summary(), torchinfo), on LeNet-5.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';

describe('nn.summary', () => {
  beforeAll(async () => {
    await ts.init({ backend: 'reference' });
  });

  const nets: nn.LayerSource[] = [];
  afterEach(() => {
    for (const n of nets.splice(0)) nn.disposeLayers(n);
  });

  it('lists the layers of LeNet-5 with output shapes, parameter counts and totals', () => {
    const net = nn.models.lenet5({ seed: 1 });
    nets.push(net);
    const s = nn.summary(net.out);
    expect(s.rows.map((r) => [r.name, r.type, r.outputShape, r.params, r.trainable])).toEqual([
      ['data', 'InputLayer', [null, 1, 28, 28], 0, null],
      ['conv1', 'Conv2DLayer', [null, 6, 28, 28], 156, true],
      ['pool1', 'MaxPool2DLayer', [null, 6, 14, 14], 0, null],
      ['conv2', 'Conv2DLayer', [null, 16, 10, 10], 2416, true],
      ['pool2', 'MaxPool2DLayer', [null, 16, 5, 5], 0, null],
      ['fc1', 'DenseLayer', [null, 120], 48120, true],
      ['fc2', 'DenseLayer', [null, 84], 10164, true],
      ['out', 'DenseLayer', [null, 10], 850, true],
    ]);
    expect([s.totalParams, s.trainableParams, s.nonTrainableParams]).toEqual([61706, 61706, 0]);
    expect(s.totalParams).toBe(nn.countParams(net.out));
    expect(s.text).toBe(
      [
        'Layer (type)             Output shape         Param #   Trainable',
        '=================================================================',
        'data (InputLayer)        [null, 1, 28, 28]          0   --',
        'conv1 (Conv2DLayer)      [null, 6, 28, 28]        156   yes',
        'pool1 (MaxPool2DLayer)   [null, 6, 14, 14]          0   --',
        'conv2 (Conv2DLayer)      [null, 16, 10, 10]     2,416   yes',
        'pool2 (MaxPool2DLayer)   [null, 16, 5, 5]           0   --',
        'fc1 (DenseLayer)         [null, 120]           48,120   yes',
        'fc2 (DenseLayer)         [null, 84]            10,164   yes',
        'out (DenseLayer)         [null, 10]               850   yes',
        '=================================================================',
        'Total params: 61,706',
        'Trainable params: 61,706',
        'Non-trainable params: 0',
        '',
      ].join('\n'),
    );
  });

  it('counts frozen layers as non-trainable, and a partly frozen layer as partial', () => {
    const net = nn.models.lenet5({ seed: 1 });
    nets.push(net);
    nn.freeze([net.conv1, net.conv2]);
    const fc1 = net.fc1 as nn.DenseLayer;
    fc1.params.get(fc1.b!)!.trainable = false;
    const s = nn.summary(net);
    expect([s.totalParams, s.trainableParams, s.nonTrainableParams]).toEqual([61706, 61706 - 156 - 2416 - 120, 156 + 2416 + 120]);
    expect(s.rows.find((r) => r.name === 'conv1')).toMatchObject({ trainable: false, trainableParams: 0 });
    expect(s.rows.find((r) => r.name === 'fc1')).toMatchObject({ trainable: 'partial', params: 48120, trainableParams: 48000 });
    expect(s.text).toMatch(/^conv2 \(Conv2DLayer\) .* 2,416 {3}no$/m);
    expect(s.text).toMatch(/^fc1 \(DenseLayer\) .* 48,120 {3}partial$/m);
    expect(s.text).toContain('Non-trainable params: 2,692\n');
  });

  it('names unnamed layers by record key or type, shows connections of a graph, and counts shared weights once', () => {
    const a = new nn.InputLayer([null, 4]);
    const b = new nn.InputLayer([null, 4]);
    const da = new nn.DenseLayer(a, { numUnits: 3 });
    const db = new nn.DenseLayer(b, { numUnits: 3, W: da.W, b: da.b! }); // shares da's weights
    const sum = new nn.ElemwiseSumLayer([da, db]);
    nets.push([sum]);
    const s = nn.summary({ left: a, right: b, sum });
    expect(s.rows.map((r) => r.name)).toEqual(['left', 'right', 'dense0', 'dense1', 'sum']);
    expect(s.rows.map((r) => r.inputs)).toEqual([[], [], ['left'], ['right'], ['dense0', 'dense1']]);
    expect(s.rows.map((r) => r.params)).toEqual([0, 0, 15, 15, 0]);
    expect(s.totalParams).toBe(15);
    expect(s.text.split('\n')[0]).toMatch(/Trainable {3}Connected to$/);
    expect(s.text).toMatch(/^sum \(ElemwiseSumLayer\) .* -- {2,}dense0, dense1$/m);
    expect(a.name, 'summary does not rename layers').toBeNull();
  });

  it('rejects what is not a network', () => {
    expect(() => nn.summary(42 as never)).toThrow(/expected a Layer, an array of layers or an object of layers, got number/);
  });
});
