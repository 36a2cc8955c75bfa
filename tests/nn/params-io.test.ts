// saveParams / loadParams: safetensors round trips, files, PyTorch weights, and every error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, fromGolden, loadGolden, type GoldenTensor } from '../helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-nn-'));

beforeAll(async () => {
  await ts.init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function buildNet(seed: number) {
  const net: Record<string, nn.Layer> = {};
  net.data = new nn.InputLayer([null, 1, 4, 4]);
  net.conv1 = new nn.Conv2DLayer(net.data, { numFilters: 2, filterSize: 3, pad: 1, W: nn.init.GlorotUniform({ seed }), b: nn.init.Normal(0.1, 0, { seed }) });
  net.pool1 = new nn.MaxPool2DLayer(net.conv1, { poolSize: 2 });
  net.fc = new nn.DenseLayer(net.pool1, {
    numUnits: 3,
    nonlinearity: null,
    W: nn.init.GlorotUniform({ seed: seed + 1 }),
    b: nn.init.Normal(0.1, 0, { seed: seed + 1 }),
  });
  return nn.nameLayers(net);
}

/** Rewrites the JSON header of a safetensors file (keeping the data). */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

describe('safetensors round trip', () => {
  it('saves named parameters and loads them into another network', async () => {
    const a = buildNet(1);
    const b = buildNet(5);
    const bytes = await nn.saveParams(a);
    const { tensors, metadata } = nn.decodeSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['conv1.W', 'conv1.b', 'fc.W', 'fc.b']);
    expect(tensors.get('conv1.W')).toMatchObject({ dtype: 'F32', shape: [2, 1, 3, 3] });
    expect(metadata.producer).toBe('@tessera/nn');
    expect((8 + new DataView(bytes.buffer).getUint32(0, true)) % 8, 'data is 8-byte aligned').toBe(0);
    const W = (b.fc as nn.DenseLayer).W;
    await nn.loadParams(b, bytes);
    expect((b.fc as nn.DenseLayer).W, 'loaded in place').toBe(W);
    const [va, vb] = [await nn.getAllParamValues(a.fc!), await nn.getAllParamValues(b.fc!)];
    va.forEach((v, i) => {
      expectClose(vb[i]!, v, { what: `param ${i}` });
    });
    const x = ts.randn([2, 1, 4, 4], { seed: 2 });
    expectClose(await nn.getOutput(b.fc!, x).data(), await nn.getOutput(a.fc!, x).data());
    nn.disposeLayers([a.fc!, b.fc!]);
  });

  it('writes and reads files in Node', async () => {
    const a = buildNet(1);
    const b = buildNet(9);
    const file = join(dir, 'net.safetensors');
    const bytes = await nn.saveParams(a.fc!, file);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    await nn.loadParams(b.fc!, file);
    expectClose((await nn.getAllParamValues(b.fc!))[2]!, (await nn.getAllParamValues(a.fc!))[2]!);
    await expect(nn.loadParams(b.fc!, join(dir, 'missing.safetensors'))).rejects.toThrow(/loadParams: cannot read '.*missing\.safetensors': no such file/);
    nn.disposeLayers([a.fc!, b.fc!]);
  });

  it('handles tensors by name or as a list, and int32 data in the encoder', async () => {
    const w = ts.keep(
      ts.tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    const bytes = await nn.saveParams({ weight: w });
    const w2 = ts.keep(ts.zeros([2, 2]));
    await nn.loadParams({ weight: w2 }, bytes);
    expectClose(await w2.data(), [1, 2, 3, 4]);
    const listBytes = await nn.saveParams([w]);
    expect([...nn.decodeSafetensors(listBytes).tensors.keys()]).toEqual(['0']);
    const ints = nn.decodeSafetensors(nn.encodeSafetensors({ ids: { shape: [3], data: new Int32Array([1, -2, 3]) } }));
    expect(ints.tensors.get('ids')).toMatchObject({ dtype: 'I32', shape: [3] });
    expect(() => nn.entryToFloat32('ids', ints.tensors.get('ids')!, 'loadParams')).toThrow("loadParams: tensor 'ids' has dtype I32; expected F32");
    ts.dispose([w, w2]);
  });
});

describe('PyTorch interop', () => {
  it('loads weights PyTorch wrote and reproduces its output', async () => {
    const fixture = loadGolden<{ x: GoldenTensor; y: GoldenTensor }>('torch_small.json');
    const bytes = readFileSync(fileURLToPath(new URL('../fixtures/torch_small.safetensors', import.meta.url)));
    const net = buildNet(3);
    await nn.loadParams(net, new Uint8Array(bytes));
    const y = nn.getOutput(net.fc!, fromGolden(fixture.x));
    expectClose(await y.data(), fixture.y.data, { rtol: 1e-4, atol: 1e-5, what: 'torch output' });
    expect(nn.decodeSafetensors(new Uint8Array(bytes)).metadata.format).toBe('pt');
    nn.disposeLayers(net);
  });
});

describe('loadParams errors', () => {
  it('names the missing tensor, the mismatched shape, the wrong dtype and unexpected extras', async () => {
    const a = buildNet(1);
    const good = await nn.saveParams(a);
    const other: Record<string, nn.Layer> = {};
    other.data = new nn.InputLayer([null, 1, 4, 4]);
    other.conv1 = new nn.Conv2DLayer(other.data, { numFilters: 3, filterSize: 3, pad: 1 });
    other.pool1 = new nn.MaxPool2DLayer(other.conv1, { poolSize: 2 });
    other.fc = new nn.DenseLayer(other.pool1, { numUnits: 3 });
    nn.nameLayers(other);
    await expect(nn.loadParams(other, good)).rejects.toThrow("loadParams: tensor 'conv1.W' has shape [2,1,3,3] in the file, but the parameter is [3,1,3,3]");
    const renamed = buildNet(1);
    renamed.fc!.name = 'head';
    await expect(nn.loadParams(renamed.fc!, good)).rejects.toThrow(
      "loadParams: missing tensor(s) 'head.W', 'head.b'; the file has 'conv1.W', 'conv1.b', 'fc.W', 'fc.b'",
    );
    const f64 = withHeader(good, (h) => (h['fc.b'].dtype = 'F64'));
    await expect(nn.loadParams(a, f64)).rejects.toThrow(/loadParams: corrupt header: tensor 'fc.b' \(F64 \[3\]\) needs 24 bytes but its data_offsets span 12/);
    const i32 = withHeader(good, (h) => (h['fc.b'].dtype = 'I32'));
    await expect(nn.loadParams(a, i32)).rejects.toThrow("loadParams: tensor 'fc.b' has dtype I32; expected F32");
    const conv = a.conv1 as nn.Conv2DLayer;
    await expect(nn.loadParams([conv.W, conv.b!], good)).rejects.toThrow(/missing tensor\(s\) '0', '1'/);
    await expect(nn.loadParams({ 'conv1.W': conv.W }, good)).rejects.toThrow(
      "loadParams: unexpected tensor(s) 'conv1.b', 'fc.W', 'fc.b' that the network does not have. Pass { strict: false } to ignore them",
    );
    await nn.loadParams({ 'conv1.W': conv.W }, good, { strict: false });
    nn.disposeLayers([a.fc!, other.fc!, renamed.fc!]);
  });

  it('rejects truncated and corrupt files, naming the file', async () => {
    const a = buildNet(1);
    const good = await nn.saveParams(a);
    const file = join(dir, 'cut.safetensors');
    writeFileSync(file, good.subarray(0, good.length - 10));
    await expect(nn.loadParams(a, file)).rejects.toThrow(
      new RegExp(
        `loadParams: '${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}': truncated: tensor 'fc.b' ends at data byte \\d+ but the file holds only \\d+ data bytes`,
      ),
    );
    await expect(nn.loadParams(a, good.subarray(0, 5))).rejects.toThrow(
      'loadParams: truncated: 5 bytes, but a safetensors file starts with an 8-byte header length',
    );
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(0, 1e9, true);
    await expect(nn.loadParams(a, huge)).rejects.toThrow(
      /loadParams: truncated or not a safetensors file: the header claims 1000000000 bytes but only \d+ follow/,
    );
    const garbage = good.slice();
    garbage[9] = 0x7b;
    garbage[10] = 0x7b;
    await expect(nn.loadParams(a, garbage)).rejects.toThrow(/loadParams: corrupt header: not valid UTF-8 JSON/);
    const overlap = withHeader(good, (h) => (h['conv1.b'].data_offsets = [0, 8]));
    await expect(nn.loadParams(a, overlap)).rejects.toThrow(/loadParams: corrupt header: tensors 'conv1.W' and 'conv1.b' overlap/);
    const badShape = withHeader(good, (h) => (h['fc.W'].shape = [-1]));
    await expect(nn.loadParams(a, badShape)).rejects.toThrow("loadParams: corrupt header: tensor 'fc.W' has an invalid shape [-1]");
    const badDtype = withHeader(good, (h) => (h['fc.W'].dtype = 'Q7'));
    await expect(nn.loadParams(a, badDtype)).rejects.toThrow(`loadParams: tensor 'fc.W' has unknown dtype "Q7"`);
    await expect(nn.loadParams(a, 42 as never)).rejects.toThrow('loadParams: expected a file path, a Uint8Array or an ArrayBuffer, got number');
    // Nothing was written by the failed loads.
    expectClose((await nn.getAllParamValues(a.fc!))[0]!, (await nn.getAllParamValues(buildNet(1).fc!))[0]!);
    nn.disposeLayers(a.fc!);
  });

  it('saveParams refuses disposed parameters', async () => {
    const a = buildNet(1);
    nn.disposeLayers(a);
    await expect(nn.saveParams(a)).rejects.toThrow("saveParams: parameter 'conv1.W' was already disposed");
  });
});
