// Lasagne's positional constructor forms beside the options objects: each positional form
// builds the same layer as its options form (shape, parameters, output), the tutorial snippet
// runs end to end, and ambiguous or ill-typed arguments get errors naming layer and argument.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { DenseLayer, InputLayer, getOutput, nonlinearities } from '@tessera/nn';
import { expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

/** What a layer was configured with: its own fields, without identity, graph and tensors. */
function config(layer: nn.Layer): Record<string, unknown> {
  const skip = new Set(['uid', 'name', 'params', 'paramNames', 'owned', 'cachedShape', 'inputLayers', 'plan', 'calls']);
  return Object.fromEntries(Object.entries(layer).filter(([k, v]) => !skip.has(k) && !(v instanceof ts.Tensor)));
}

/**
 * Builds both forms from the same initializer stream (`init.setSeed`) and checks they are the
 * same layer: class, configuration, output shape, parameter names, shapes and values, and the
 * output for `inputs` (training mode unless `deterministic`). Frees everything it made.
 */
async function expectSameLayer(
  positional: () => nn.Layer,
  options: () => nn.Layer,
  inputs: () => nn.OutputInputs,
  { deterministic = false }: { deterministic?: boolean } = {},
): Promise<void> {
  await expectNoLeak(async () => {
    nn.init.setSeed(1234);
    const a = positional();
    nn.init.setSeed(1234);
    const b = options();
    expect(a.constructor).toBe(b.constructor);
    expect(a.name).toBe(b.name);
    expect(config(a)).toEqual(config(b));
    expect(a.outputShape).toEqual(b.outputShape);
    const pa = [...a.params];
    const pb = [...b.params];
    expect(pa.map(([p, tags]) => [a.paramName(p), p.shape, tags])).toEqual(pb.map(([p, tags]) => [b.paramName(p), p.shape, tags]));
    for (let i = 0; i < pa.length; i++) expect(Array.from(await pa[i]![0].data())).toEqual(Array.from(await pb[i]![0].data()));
    const x = inputs();
    const [ya, yb] = [getOutput(a, x, { deterministic }), getOutput(b, x, { deterministic })];
    expect(ya.shape).toEqual(yb.shape);
    expect(nn.shapeFits(ya.shape, a.outputShape)).toBe(true);
    expect(Array.from(await ya.data())).toEqual(Array.from(await yb.data()));
    const tensors = x instanceof ts.Tensor ? [x] : x instanceof Map ? [...x.values()] : Object.values(x);
    ts.dispose([...new Set([ya, yb, ...tensors])]);
    a.dispose();
    b.dispose();
  }, `${positional.toString()}`);
}

const flat = new InputLayer([null, 6]);
const image = new InputLayer([null, 2, 6, 6]);
const left = new InputLayer([null, 2, 3], { name: 'left' });
const right = new InputLayer([null, 2, 3], { name: 'right' });
const rand = (shape: number[], seed: number) => () => ts.randn(shape, { seed });
const both = () => ({ left: ts.randn([2, 2, 3], { seed: 1 }), right: ts.randn([2, 2, 3], { seed: 2 }) });

describe('positional forms build the same layer as the options form', () => {
  it('DenseLayer(incoming, numUnits, opts?)', async () => {
    await expectSameLayer(
      () => new nn.DenseLayer(flat, 4),
      () => new nn.DenseLayer(flat, { numUnits: 4 }),
      rand([3, 6], 1),
    );
    await expectSameLayer(
      () => new nn.DenseLayer(flat, 3, { nonlinearity: nn.nonlinearities.tanh, b: null, name: 'fc' }),
      () => new nn.DenseLayer(flat, { numUnits: 3, nonlinearity: nn.nonlinearities.tanh, b: null, name: 'fc' }),
      rand([3, 6], 2),
    );
    // Rank > 2 input is flattened in both forms; explicit, seeded weights.
    await expectSameLayer(
      () => new nn.DenseLayer(image, 2, { W: nn.init.Normal(1, 0, { seed: 5 }), b: nn.init.Constant(0.5), nonlinearity: null }),
      () => new nn.DenseLayer(image, { numUnits: 2, W: nn.init.Normal(1, 0, { seed: 5 }), b: nn.init.Constant(0.5), nonlinearity: null }),
      rand([2, 2, 6, 6], 3),
    );
  });

  it('Conv2DLayer(incoming, numFilters, filterSize, opts?)', async () => {
    await expectSameLayer(
      () => new nn.Conv2DLayer(image, 3, 3),
      () => new nn.Conv2DLayer(image, { numFilters: 3, filterSize: 3 }),
      rand([2, 2, 6, 6], 4),
    );
    await expectSameLayer(
      () => new nn.Conv2DLayer(image, 4, [3, 2], { pad: 'same', nonlinearity: null, name: 'conv1' }),
      () => new nn.Conv2DLayer(image, { numFilters: 4, filterSize: [3, 2], pad: 'same', nonlinearity: null, name: 'conv1' }),
      rand([2, 2, 6, 6], 5),
    );
    await expectSameLayer(
      () => new nn.Conv2DLayer(image, 2, 3, { stride: 2, pad: 1, dilation: 1, b: null, nonlinearity: nn.nonlinearities.tanh }),
      () => new nn.Conv2DLayer(image, { numFilters: 2, filterSize: 3, stride: 2, pad: 1, dilation: 1, b: null, nonlinearity: nn.nonlinearities.tanh }),
      rand([2, 2, 6, 6], 20),
    );
  });

  it('MaxPool2DLayer and Pool2DLayer(incoming, poolSize, opts?)', async () => {
    await expectSameLayer(
      () => new nn.MaxPool2DLayer(image, 2),
      () => new nn.MaxPool2DLayer(image, { poolSize: 2 }),
      rand([2, 2, 6, 6], 6),
    );
    await expectSameLayer(
      () => new nn.MaxPool2DLayer(image, 3, { stride: 2, pad: 1 }),
      () => new nn.MaxPool2DLayer(image, { poolSize: 3, stride: 2, pad: 1 }),
      rand([2, 2, 6, 6], 7),
    );
    await expectSameLayer(
      () => new nn.MaxPool2DLayer(image, [2, 3]),
      () => new nn.MaxPool2DLayer(image, { poolSize: [2, 3] }),
      rand([1, 2, 6, 6], 8),
    );
    await expectSameLayer(
      () => new nn.Pool2DLayer(image, 2, { mode: 'average_inc_pad' }),
      () => new nn.Pool2DLayer(image, { poolSize: 2, mode: 'average_inc_pad' }),
      rand([2, 2, 6, 6], 9),
    );
    await expectSameLayer(
      () => new nn.Pool2DLayer(image, 3, { stride: 1 }),
      () => new nn.Pool2DLayer(image, { poolSize: 3, stride: 1 }),
      rand([1, 2, 6, 6], 10),
    );
  });

  it('DropoutLayer(incoming, p?, opts?) and GaussianNoiseLayer(incoming, sigma?, opts?)', async () => {
    // Seeded: the first training mask (or noise) is the same in both forms.
    await expectSameLayer(
      () => new nn.DropoutLayer(flat, 0.3, { seed: 4 }),
      () => new nn.DropoutLayer(flat, { p: 0.3, seed: 4 }),
      () => ts.ones([4, 6]),
    );
    await expectSameLayer(
      () => new nn.DropoutLayer(flat, undefined, { seed: 4, rescale: false }),
      () => new nn.DropoutLayer(flat, { seed: 4, rescale: false }),
      () => ts.ones([4, 6]),
    );
    await expectSameLayer(
      () => new nn.DropoutLayer(flat),
      () => new nn.DropoutLayer(flat, {}),
      rand([2, 6], 11),
      { deterministic: true },
    );
    expect(new nn.DropoutLayer(flat, 0.2).p).toBe(0.2);
    expect(new nn.DropoutLayer(flat).p).toBe(0.5);
    await expectSameLayer(
      () => new nn.GaussianNoiseLayer(flat, 0.2, { seed: 2 }),
      () => new nn.GaussianNoiseLayer(flat, { sigma: 0.2, seed: 2 }),
      rand([3, 6], 12),
    );
    expect(new nn.GaussianNoiseLayer(flat).sigma).toBe(0.1);
  });

  it('ReshapeLayer(incoming, shape, opts?) and FlattenLayer(incoming, outdim?, opts?)', async () => {
    await expectSameLayer(
      () => new nn.ReshapeLayer(image, [[0], -1, 4]),
      () => new nn.ReshapeLayer(image, { shape: [[0], -1, 4] }),
      rand([2, 2, 6, 6], 13),
    );
    await expectSameLayer(
      () => new nn.ReshapeLayer(flat, [[0], 2, 3], { name: 'r' }),
      () => new nn.ReshapeLayer(flat, { shape: [[0], 2, 3], name: 'r' }),
      rand([2, 6], 14),
    );
    await expectSameLayer(
      () => new nn.FlattenLayer(image, 3),
      () => new nn.FlattenLayer(image, { outdim: 3 }),
      rand([2, 2, 6, 6], 15),
    );
    await expectSameLayer(
      () => new nn.FlattenLayer(image),
      () => new nn.FlattenLayer(image, {}),
      rand([2, 2, 6, 6], 16),
    );
    expect(new nn.FlattenLayer(image, 3).outputShape).toEqual([null, 2, 36]);
  });

  it('NonlinearityLayer(incoming, nonlinearity?, opts?), null meaning linear in both', async () => {
    await expectSameLayer(
      () => new nn.NonlinearityLayer(flat, nn.nonlinearities.sigmoid),
      () => new nn.NonlinearityLayer(flat, { nonlinearity: nn.nonlinearities.sigmoid }),
      rand([2, 6], 17),
    );
    await expectSameLayer(
      () => new nn.NonlinearityLayer(flat, null, { name: 'id' }),
      () => new nn.NonlinearityLayer(flat, { nonlinearity: null, name: 'id' }),
      rand([2, 6], 18),
    );
    await expectSameLayer(
      () => new nn.NonlinearityLayer(flat),
      () => new nn.NonlinearityLayer(flat, {}),
      rand([2, 6], 19),
    );
    expect(new nn.NonlinearityLayer(flat, null).nonlinearity).toBe(nn.nonlinearities.linear);
    expect(new nn.NonlinearityLayer(flat).nonlinearity).toBe(nn.nonlinearities.rectify);
  });

  it('ConcatLayer(incomings, axis?, opts?) and ElemwiseSumLayer(incomings, coeffs?, opts?)', async () => {
    await expectSameLayer(
      () => new nn.ConcatLayer([left, right], 2),
      () => new nn.ConcatLayer([left, right], { axis: 2 }),
      both,
    );
    await expectSameLayer(
      () => new nn.ConcatLayer([left, right]),
      () => new nn.ConcatLayer([left, right], {}),
      both,
    );
    expect(new nn.ConcatLayer([left, right], -1).outputShape).toEqual([null, 2, 6]);
    await expectSameLayer(
      () => new nn.ElemwiseSumLayer([left, right], [1, -2]),
      () => new nn.ElemwiseSumLayer([left, right], { coeffs: [1, -2] }),
      both,
    );
    await expectSameLayer(
      () => new nn.ElemwiseSumLayer([left, right], 0.5, { name: 'avg' }),
      () => new nn.ElemwiseSumLayer([left, right], { coeffs: 0.5, name: 'avg' }),
      both,
    );
  });

  it('InputLayer(shape, opts?) takes [null, 100] as Lasagne takes (None, 100)', async () => {
    const data = new InputLayer([null, 100]);
    expect(data.outputShape).toEqual([null, 100]);
    expect(data.name).toBeNull();
    expect(new InputLayer([null, 100], { name: 'data' }).label).toBe("InputLayer 'data'");
    await expectNoLeak(async () => {
      const x = ts.zeros([3, 100]);
      expect(getOutput(data, x)).toBe(x);
      x.dispose();
    });
  });
});

describe('the tutorial snippet', () => {
  it('InputLayer([null, 100]) -> DenseLayer(data, 10) -> DenseLayer(hid, 1, { nonlinearity: sigmoid })', async () => {
    await expectNoLeak(async () => {
      const data = new InputLayer([null, 100]);
      const hid = new DenseLayer(data, 10);
      const out = new DenseLayer(hid, 1, { nonlinearity: nonlinearities.sigmoid });
      expect(hid.outputShape).toEqual([null, 10]);
      expect(out.outputShape).toEqual([null, 1]);
      expect(hid.nonlinearity).toBe(nonlinearities.rectify);
      expect(out.W.shape).toEqual([10, 1]);
      expect(nn.getAllParams(out).map((p) => p.shape)).toEqual([[100, 10], [10], [10, 1], [1]]);
      const x = ts.randn([5, 100], { seed: 3 });
      const y = getOutput(out, x);
      expect(y.shape).toEqual([5, 1]);
      const values = Array.from(await y.data());
      expect(values).toHaveLength(5);
      for (const v of values) {
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThan(1);
      }
      const det = getOutput(out, x, { deterministic: true });
      expect(Array.from(await det.data())).toEqual(values);
      ts.dispose([x, y, det]);
      nn.disposeLayers(out);
    });
  });
});

describe('errors', () => {
  it('a value given both as an argument and in the options is ambiguous (and does not typecheck)', () => {
    // @ts-expect-error numUnits is not an option of the positional form
    const dense = () => new nn.DenseLayer(flat, 10, { numUnits: 20 });
    // @ts-expect-error filterSize is not an option of the positional form
    const conv = () => new nn.Conv2DLayer(image, 2, 3, { filterSize: 5, name: 'c1' });
    // @ts-expect-error poolSize is not an option of the positional form
    const maxPool = () => new nn.MaxPool2DLayer(image, 2, { poolSize: 3 });
    // @ts-expect-error poolSize is not an option of the positional form
    const pool = () => new nn.Pool2DLayer(image, [2, 2], { poolSize: 2 });
    // @ts-expect-error p is not an option of the positional form
    const dropout = () => new nn.DropoutLayer(flat, 0.5, { p: 0.2 });
    // @ts-expect-error sigma is not an option of the positional form
    const noise = () => new nn.GaussianNoiseLayer(flat, 0.1, { sigma: 0.2 });
    // @ts-expect-error shape is not an option of the positional form
    const reshape = () => new nn.ReshapeLayer(flat, [[0], 6], { shape: [[0], 6] });
    // @ts-expect-error outdim is not an option of the positional form
    const flatten = () => new nn.FlattenLayer(image, 2, { outdim: 3 });
    // @ts-expect-error nonlinearity is not an option of the positional form
    const nonlin = () => new nn.NonlinearityLayer(flat, nn.nonlinearities.tanh, { nonlinearity: null });
    // @ts-expect-error axis is not an option of the positional form
    const concat = () => new nn.ConcatLayer([left, right], 1, { axis: 2 });
    // @ts-expect-error coeffs is not an option of the positional form
    const sum = () => new nn.ElemwiseSumLayer([left, right], 1, { coeffs: [1, 1] });
    const cases: [() => unknown, string][] = [
      [dense, 'DenseLayer: numUnits is ambiguous: given as an argument (10) and in the options (20); give it once'],
      [conv, "Conv2DLayer 'c1': filterSize is ambiguous: given as an argument (3) and in the options (5); give it once"],
      [maxPool, 'MaxPool2DLayer: poolSize is ambiguous: given as an argument (2) and in the options (3)'],
      [pool, 'Pool2DLayer: poolSize is ambiguous: given as an argument ([2,2]) and in the options (2)'],
      [dropout, 'DropoutLayer: p is ambiguous: given as an argument (0.5) and in the options (0.2)'],
      [noise, 'GaussianNoiseLayer: sigma is ambiguous: given as an argument (0.1) and in the options (0.2)'],
      [reshape, 'ReshapeLayer: shape is ambiguous: given as an argument ([[0],6]) and in the options ([[0],6])'],
      [flatten, 'FlattenLayer: outdim is ambiguous: given as an argument (2) and in the options (3)'],
      [nonlin, 'NonlinearityLayer: nonlinearity is ambiguous: given as an argument (a function (tanh)) and in the options (null)'],
      [concat, 'ConcatLayer: axis is ambiguous: given as an argument (1) and in the options (2)'],
      [sum, 'ElemwiseSumLayer: coeffs is ambiguous: given as an argument (1) and in the options ([1,1])'],
    ];
    for (const [make, message] of cases) expect(make).toThrow(message);
  });

  it('a positional value of the wrong type names the layer and the argument', async () => {
    await expectNoLeak(() => {
      const cases: [() => unknown, string | RegExp][] = [
        [() => new nn.DenseLayer(flat, '10' as never, { name: 'dense0' }), `DenseLayer 'dense0': numUnits must be a positive integer, got "10"`],
        [() => new nn.DenseLayer(flat, 2.5), 'DenseLayer: numUnits must be a positive integer, got 2.5'],
        [() => new nn.DenseLayer(flat, null as never), 'DenseLayer: numUnits must be a positive integer, got null'],
        [() => new nn.Conv2DLayer(image, '6' as never, 3), 'Conv2DLayer: numFilters must be a positive integer, got "6"'],
        [() => new nn.Conv2DLayer(image, 6, 'five' as never), 'Conv2DLayer: filterSize must be an integer >= 1 or a pair of them, got "five"'],
        [() => new nn.Conv2DLayer(image, 6, undefined as never), 'Conv2DLayer: filterSize must be an integer >= 1 or a pair of them, got undefined'],
        [() => new nn.MaxPool2DLayer(image, '2' as never), 'MaxPool2DLayer: poolSize must be an integer >= 1 or a pair of them, got "2"'],
        [() => new nn.Pool2DLayer(image, [2, 2, 2] as never), 'Pool2DLayer: poolSize must be an integer >= 1 or a pair of them, got [2,2,2]'],
        [() => new nn.DropoutLayer(flat, '0.5' as never), 'DropoutLayer: p must be in [0, 1), got "0.5"'],
        [() => new nn.DropoutLayer(flat, 1), 'DropoutLayer: p must be in [0, 1), got 1'],
        [() => new nn.GaussianNoiseLayer(flat, -1), 'GaussianNoiseLayer: sigma must be a number >= 0, got -1'],
        [() => new nn.ReshapeLayer(flat, 6 as never), 'ReshapeLayer: shape must list sizes, at most one -1 and [i] references, got 6'],
        [() => new nn.FlattenLayer(image, '2' as never), 'FlattenLayer: outdim must be a positive integer, got "2"'],
        [
          () => new nn.NonlinearityLayer(flat, 'sigmoid' as never),
          'NonlinearityLayer: nonlinearity must be a function such as nonlinearities.sigmoid, or null for linear; got "sigmoid"',
        ],
        [() => new nn.ConcatLayer([left, right], '1' as never), 'ConcatLayer: axis must be an integer, got "1"'],
        [() => new nn.ElemwiseSumLayer([left, right], '1' as never), 'ElemwiseSumLayer: coeffs must be a number or one number per input (2), got "1"'],
        [() => new nn.ElemwiseSumLayer([left, right], [1, 2, 3]), 'ElemwiseSumLayer: coeffs must be a number or one number per input (2), got [1,2,3]'],
      ];
      for (const [make, message] of cases) expect(make).toThrow(message);
    });
  });

  it('the options object must come last, and must be an object', () => {
    expect(() => new nn.DenseLayer(flat, 10, nn.nonlinearities.sigmoid as never)).toThrow(
      'DenseLayer: expected an options object after numUnits, got a function (sigmoid). Use new DenseLayer(incoming, numUnits, { ...options }) or new DenseLayer(incoming, { numUnits, ...options })',
    );
    // Lasagne's later positional arguments (stride, rescale) go in the options.
    expect(() => new nn.MaxPool2DLayer(image, 2, 2 as never)).toThrow('MaxPool2DLayer: expected an options object after poolSize, got 2');
    expect(() => new nn.DropoutLayer(flat, 0.5, true as never)).toThrow('DropoutLayer: expected an options object after p, got true');
    expect(() => new nn.Conv2DLayer(image, 2, 3, 'same' as never)).toThrow('Conv2DLayer: expected an options object after numFilters, filterSize, got "same"');
    expect(() => Reflect.construct(nn.DenseLayer, [flat, { numUnits: 2 }, { name: 'x' }])).toThrow(
      'DenseLayer: got an options object followed by {"name":"x"}; the options object comes last',
    );
    expect(() => Reflect.construct(nn.DenseLayer, [flat, 2, {}, 3])).toThrow('DenseLayer: too many arguments (3 after the options object)');
    expect(() => Reflect.construct(nn.ConcatLayer, [[left, right], { axis: 1 }, 2])).toThrow('ConcatLayer: got an options object followed by 2');
    expect(() => new InputLayer([null, 100], 'data' as never)).toThrow(
      'InputLayer: expected an options object here, got "data". Use new InputLayer(shape, { ...options })',
    );
  });
});
