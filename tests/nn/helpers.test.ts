// Graph helpers: getOutput, getAllLayers, getAllParams and friends, naming, freezing, Sequential.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, expectTensor } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

/** A small net in the Lasagne style: a record of layers. */
function buildNet() {
  const net: Record<string, nn.Layer> = {};
  net.data = new nn.InputLayer([null, 1, 6, 6]);
  net.conv1 = new nn.Conv2DLayer(net.data, { numFilters: 2, filterSize: 3, W: nn.init.GlorotUniform({ seed: 1 }) });
  net.pool1 = new nn.MaxPool2DLayer(net.conv1, { poolSize: 2 });
  net.drop = new nn.DropoutLayer(net.pool1, { p: 0.5, seed: 1 });
  net.fc = new nn.DenseLayer(net.drop, { numUnits: 3, W: nn.init.GlorotUniform({ seed: 2 }), nonlinearity: nn.nonlinearities.softmax });
  return nn.nameLayers(net);
}

describe('getOutput', () => {
  it('accepts a tensor, a Map or a record of names, and returns several outputs', async () => {
    const net = buildNet();
    const x = ts.randn([2, 1, 6, 6], { seed: 3 });
    const a = nn.getOutput(net.fc!, x, { deterministic: true });
    expect(a.shape).toEqual([2, 3]);
    const b = nn.getOutput(net.fc!, new Map([[net.data!, x]]), { deterministic: true });
    const c = nn.getOutput(net.fc!, { data: x }, { deterministic: true });
    expectClose(await b.data(), await a.data());
    expectClose(await c.data(), await a.data());
    const [pool, probs] = nn.getOutput([net.pool1!, net.fc!], x, { deterministic: true });
    expect(pool!.shape).toEqual([2, 2, 2, 2]);
    expectClose(await probs!.data(), await a.data());
    const rows = await a.sum(1).data();
    expectClose(rows, [1, 1], { rtol: 1e-5 });
    nn.disposeLayers(net);
  });

  it('can replace an intermediate layer, and frees every intermediate tensor', async () => {
    const net = buildNet();
    const pooled = ts.ones([1, 2, 2, 2]);
    const before = ts.memory().tensors;
    const y = nn.getOutput(net.fc!, new Map([[net.pool1!, pooled]]), { deterministic: true });
    expect(ts.memory().tensors).toBe(before + 1);
    expect(y.shape).toEqual([1, 3]);
    const x = ts.randn([1, 1, 6, 6], { seed: 4 });
    const t0 = ts.memory().tensors;
    nn.getOutput(net.fc!, x, { deterministic: false });
    expect(ts.memory().tensors, 'only the output survives').toBe(t0 + 1);
    nn.disposeLayers(net);
  });

  it('needs exactly one InputLayer for a bare tensor', () => {
    const a = new nn.InputLayer([null, 2], { name: 'a' });
    const b = new nn.InputLayer([null, 2], { name: 'b' });
    const sum = new nn.ElemwiseSumLayer([a, b]);
    expect(() => nn.getOutput(sum, ts.zeros([1, 2]))).toThrow(
      "getOutput: a single tensor needs a network with exactly one InputLayer, found 2 (InputLayer 'a', InputLayer 'b'). Pass a Map from layer to tensor",
    );
    expect(() => nn.getOutput(sum, { a: ts.zeros([1, 2]) })).toThrow(/InputLayer 'b': no input tensor was given for it/);
  });
});

describe('walking the graph', () => {
  it('getAllLayers lists each layer once, inputs first', () => {
    const net = buildNet();
    expect(nn.getAllLayers(net.fc!).map((l) => l.name)).toEqual(['data', 'conv1', 'pool1', 'drop', 'fc']);
    const a = new nn.InputLayer([null, 2]);
    const h = new nn.DenseLayer(a, { numUnits: 2 });
    const out = new nn.ElemwiseSumLayer([h, a, h]);
    expect(nn.getAllLayers(out)).toEqual([a, h, out]);
    expect(nn.getAllLayers(out, [h])).toEqual([h, a, out]);
    nn.disposeLayers([out, net.fc!]);
  });

  it('getAllParams filters by tags; countParams counts scalars', async () => {
    const net = buildNet();
    const conv = net.conv1 as nn.Conv2DLayer;
    const fc = net.fc as nn.DenseLayer;
    expect(nn.getAllParams(net.fc!)).toEqual([conv.W, conv.b, fc.W, fc.b]);
    expect(nn.getAllParams(net.fc!, { regularizable: true })).toEqual([conv.W, fc.W]);
    expect(nn.getAllParams(net.fc!, { regularizable: false })).toEqual([conv.b, fc.b]);
    expect(nn.getAllParams(net)).toEqual(nn.getAllParams(net.fc!));
    expect(nn.countParams(net.fc!)).toBe(2 * 9 + 2 + 8 * 3 + 3);
    expect(nn.countParams(net.fc!, { regularizable: true })).toBe(18 + 24);
    nn.disposeLayers(net);
  });

  it('getAllParamValues / setAllParamValues round-trip in place, with clear errors', async () => {
    const net = buildNet();
    const fc = net.fc as nn.DenseLayer;
    const values = await nn.getAllParamValues(net.fc!);
    expect(values.map((v) => v.length)).toEqual([18, 2, 24, 3]);
    const W = fc.W;
    nn.setAllParamValues(
      net.fc!,
      values.map((v) => v.map((x) => x + 1)),
    );
    expect(fc.W).toBe(W);
    expectClose(await fc.b!.data(), [1, 1, 1]);
    nn.setAllParamValues(net.fc!, values);
    expectClose(await fc.W.data(), values[2]!);
    expect(() => nn.setAllParamValues(net.fc!, values.slice(1))).toThrow('setAllParamValues: got 3 values for 4 parameters (conv1.W, conv1.b, fc.W, fc.b)');
    expect(() => nn.setAllParamValues(net.fc!, [values[0]!, values[1]!, new Float32Array(5), values[3]!])).toThrow(
      "setAllParamValues: value 2 for 'fc.W' has 5 elements, expected 24 (shape [8,3])",
    );
    nn.disposeLayers(net);
  });

  it('names parameters <layer>.<param>, from names, record keys, or <type><k>, one set per model', () => {
    const data = new nn.InputLayer([null, 4]);
    const h1 = new nn.DenseLayer(data, { numUnits: 3 });
    const h2 = new nn.DenseLayer(h1, { numUnits: 2, name: 'out' });
    expect([...nn.paramNames(h2).values()]).toEqual(['dense0.W', 'dense0.b', 'out.W', 'out.b']);
    // The unnamed layer kept its name: the record's key no longer renames it.
    expect([...nn.paramNames({ data, hidden: h1, out: h2 }).values()]).toEqual(['dense0.W', 'dense0.b', 'out.W', 'out.b']);
    // Named from a record first, the key sticks for the last layer too.
    const g1 = new nn.DenseLayer(data, { numUnits: 3 });
    const g2 = new nn.DenseLayer(g1, { numUnits: 2, name: 'out' });
    expect([...nn.paramNames({ data, hidden: g1, out: g2 }).values()]).toEqual(['hidden.W', 'hidden.b', 'out.W', 'out.b']);
    expect([...nn.paramNames(g2).values()]).toEqual(['hidden.W', 'hidden.b', 'out.W', 'out.b']);
    nn.disposeLayers(g2);
    const clash = new nn.DenseLayer(h2, { numUnits: 2, name: 'out' });
    expect(() => nn.paramNames(clash)).toThrow("paramNames: two layers are named 'out' (DenseLayer 'out' and DenseLayer 'out'); give them distinct names");
    expect(h2.paramName(h2.W)).toBe('W');
    nn.disposeLayers(clash);
  });

  it('setTrainable freezes only the given layers and honours tag changes', () => {
    const net = buildNet();
    const conv = net.conv1 as nn.Conv2DLayer;
    nn.setTrainable(net.conv1!, false);
    expect(conv.params.get(conv.W)!.trainable).toBe(false);
    expect(conv.W.requiresGrad).toBe(false);
    expect(nn.getAllParams(net.fc!, { trainable: true }).length).toBe(2);
    expect(nn.getAllParams(net.fc!, { trainable: false })).toEqual([conv.W, conv.b]);
    nn.setTrainable(net.conv1!, true);
    expect(nn.getAllParams(net.fc!, { trainable: true }).length).toBe(4);
    nn.disposeLayers(net);
  });

  it('shares a parameter tensor passed to two layers', async () => {
    const data = new nn.InputLayer([null, 2]);
    const a = new nn.DenseLayer(data, { numUnits: 2, nonlinearity: null });
    const b = new nn.DenseLayer(a, { numUnits: 2, W: a.W, b: null, nonlinearity: null });
    expect(b.W).toBe(a.W);
    expect(nn.getAllParams(b)).toEqual([a.W, a.b]);
    b.dispose(); // not b's to free
    expect(a.W.disposed).toBe(false);
    a.dispose();
    expect(a.W.disposed).toBe(true);
  });
});

describe('Sequential', () => {
  it('stacks layers and forwards like getOutput', async () => {
    const mlp = new nn.Sequential([null, 3])
      .add((l) => new nn.DenseLayer(l, { numUnits: 4, W: nn.init.Constant(0.5) }), 'hidden')
      .add((l) => new nn.DenseLayer(l, { numUnits: 1, W: nn.init.Constant(1), nonlinearity: null }), 'out');
    expect(mlp.layers.map((l) => l.name)).toEqual(['input', 'hidden', 'out']);
    expect(mlp.output.outputShape).toEqual([null, 1]);
    expect(mlp.params().length).toBe(4);
    await expectTensor(mlp.forward(ts.tensor([[1, 2, 3]])), [4 * 3]);
    expect(() => mlp.add(() => new nn.InputLayer([null, 1]))).toThrow(/was not built on the current output/);
    nn.disposeLayers(mlp.output);
  });
});

describe('custom layers', () => {
  it('subclass Layer with addParam', async () => {
    class ScaleLayer extends nn.Layer {
      readonly typeName = 'scale';
      readonly scale: ts.Tensor;
      constructor(incoming: nn.Layer) {
        super([incoming]);
        this.scale = this.addParam(nn.init.Constant(2), [incoming.outputShape[1] as number], 'scale', { regularizable: false });
      }
      getOutputShapeFor([s]: readonly nn.LayerShape[]) {
        return s!;
      }
      getOutputFor([x]: readonly ts.Tensor[]) {
        return x!.mul(this.scale);
      }
    }
    const layer = new ScaleLayer(new nn.InputLayer([null, 2]));
    await expectTensor(nn.getOutput(layer, ts.tensor([[1, 2]])), [2, 4]);
    expect([...nn.paramNames(layer).values()]).toEqual(['scale0.scale']);
    expect(() => (layer as nn.Layer).addParam(nn.init.Constant(1), [2], 'bad', {})).not.toThrow();
    expect(() => layer.addParam(() => ts.zeros([3]), [2], 'wrong')).toThrow("ScaleLayer 'scale0': parameter 'wrong': the initializer gave [3], expected [2]");
    expect(() => layer.addParam(ts.zeros([2], { dtype: 'int32' }), [2], 'int')).toThrow(
      "ScaleLayer 'scale0': parameter 'int': parameters must be float32, got int32",
    );
    layer.dispose();
  });
});
