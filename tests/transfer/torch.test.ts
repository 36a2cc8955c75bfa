/**
 * PyTorch interchange: a LeNet-5 trained in PyTorch (scripts/golden/torch_lenet.py, names
 * conv1 ... fc3, Linear weights [out, in]) loads into nn.models.lenet5 and reproduces its
 * logits; exporting gives back the same tensors, byte for byte, under the same names; and every
 * way a file can be wrong gets an error that names the tensor.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, fromGolden, loadGolden, type GoldenTensor } from '../helpers/index.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/torch_lenet.safetensors', import.meta.url));
const bytes = new Uint8Array(readFileSync(FIXTURE));
const golden = loadGolden<{ x: GoldenTensor; logits: GoldenTensor; labels: number[] }>('torch_lenet.json');
const nameMap = { fc3: 'out' };
const dir = mkdtempSync(join(tmpdir(), 'tessera-torch-'));

beforeAll(async () => {
  await ts.init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrites the JSON header of a safetensors file, keeping the data bytes. */
function withHeader(src: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const n = new DataView(src.buffer, src.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + src.length - 8 - n);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(src.subarray(8 + n), 8 + json.length);
  return out;
}

describe('loadTorchStateDict', () => {
  it('loads a PyTorch LeNet-5 and matches its logits to 1e-4', async () => {
    const net = nn.models.lenet5({ seed: 9 });
    await nn.loadTorchStateDict(net, bytes, { nameMap });
    const logits = ts.noGrad(() => nn.getOutput(net.out, fromGolden(golden.x), { deterministic: true }));
    expect(logits.shape).toEqual([16, 10]);
    expectClose(await logits.data(), golden.logits.data, { rtol: 1e-4, atol: 1e-4, what: 'logits vs PyTorch' });
    // The logits are those of a trained model: it reads the 16 test digits.
    const predicted = Array.from(await logits.argmax(1).data());
    expect(predicted.filter((p, i) => p === golden.labels[i]).length).toBeGreaterThanOrEqual(15);
    nn.disposeLayers(net);
  });

  it('transposes Linear weights and copies conv weights as they are', async () => {
    const net = nn.models.lenet5();
    await nn.loadTorchStateDict(net, FIXTURE, { nameMap }); // from a file path, in Node
    const file = nn.decodeSafetensors(bytes);
    const torchFc1 = nn.entryToFloat32('fc1.weight', file.tensors.get('fc1.weight')!); // [120, 400]
    const ours = (await (net.fc1 as nn.DenseLayer).W.data()) as Float32Array; // [400, 120]
    for (const [o, i] of [
      [0, 0],
      [7, 391],
      [119, 3],
    ] as const)
      expect(ours[i * 120 + o]).toBe(torchFc1[o * 400 + i]);
    const conv = (await (net.conv2 as nn.Conv2DLayer).W.data()) as Float32Array;
    expect(new Uint8Array(conv.buffer, conv.byteOffset, conv.byteLength)).toEqual(file.tensors.get('conv2.weight')!.bytes);
    nn.disposeLayers(net);
  });

  it('accepts whole-name and function maps, and transposeLinear: false', async () => {
    const a = nn.models.lenet5();
    await nn.loadTorchStateDict(a, bytes, { nameMap: { 'fc3.weight': 'out.W', 'fc3.bias': 'out.b' } });
    const b = nn.models.lenet5();
    await nn.loadTorchStateDict(b, bytes, { nameMap: (name, def) => (name.startsWith('fc3.') ? def.replace('fc3', 'out') : undefined) });
    const [va, vb] = [await nn.getAllParamValues(a.out), await nn.getAllParamValues(b.out)];
    va.forEach((v, i) => {
      expect(vb[i]).toEqual(v);
    });
    // Without the transpose, a [out, in] weight does not fit an [in, out] parameter: the error says why.
    await expect(nn.loadTorchStateDict(nn.models.lenet5(), bytes, { nameMap, transposeLinear: false })).rejects.toThrow(
      "loadTorchStateDict: tensor 'fc1.weight' has shape [120,400] in the file, but parameter 'fc1.W' needs [400,120]",
    );
    nn.disposeLayers([a.out, b.out]);
  });

  it('converts half-precision tensors (F16, BF16) to float32', async () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, 0.333...
    const bf = new Uint16Array([0x3f80, 0xc040, 0x0000]); // 1, -3, 0
    const f = (t: Uint16Array) => new Uint8Array(t.buffer);
    const header = JSON.stringify({
      'a.weight': { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      'a.bias': { dtype: 'BF16', shape: [3], data_offsets: [6, 12] },
    });
    const file = new Uint8Array(8 + header.length + 12);
    new DataView(file.buffer).setUint32(0, header.length, true);
    file.set(new TextEncoder().encode(header), 8);
    file.set(f(half), 8 + header.length);
    file.set(f(bf), 8 + header.length + 6);
    const W = ts.keep(ts.zeros([3]));
    const b = ts.keep(ts.zeros([3]));
    const layer = new (class extends nn.Layer {
      readonly typeName = 'probe';
      constructor() {
        super([], { name: 'a' });
        this.addParam(W, [3], 'W');
        this.addParam(b, [3], 'b');
      }
      getOutputShapeFor() {
        return [3];
      }
      getOutputFor() {
        return W;
      }
    })();
    await nn.loadTorchStateDict(layer, file);
    expectClose(await W.data(), [1, -2, 0.33325195]);
    expect(Array.from(await b.data())).toEqual([1, -3, 0]);
    ts.dispose([W, b]);
  });
});

describe('exportTorchStateDict', () => {
  it('round trip: export gives every tensor back byte for byte, under PyTorch names, in the same file layout', async () => {
    const net = nn.models.lenet5();
    await nn.loadTorchStateDict(net, bytes, { nameMap });
    const out = await nn.exportTorchStateDict(net, { nameMap });
    const a = nn.decodeSafetensors(bytes);
    const b = nn.decodeSafetensors(out);
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [name, e] of a.tensors) {
      expect(b.tensors.get(name)!.shape, name).toEqual(e.shape);
      expect(b.tensors.get(name)!.bytes, name).toEqual(e.bytes);
    }
    expect(b.metadata).toEqual({ format: 'pt' });
    // Same header conventions as safetensors' own writer: the whole file is identical.
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    // And it loads back into a fresh network.
    const again = nn.models.lenet5({ seed: 4 });
    await nn.loadTorchStateDict(again, out, { nameMap });
    const [v1, v2] = [await nn.getAllParamValues(net.out), await nn.getAllParamValues(again.out)];
    v1.forEach((v, i) => {
      expect(v2[i]).toEqual(v);
    });
    nn.disposeLayers([net.out, again.out]);
  });

  it('writes files, uses default names without a map, and accepts function maps', async () => {
    const net = nn.models.lenet5({ seed: 2 });
    const file = join(dir, 'lenet.safetensors');
    const out = await nn.exportTorchStateDict(net, file, { metadata: { note: 'x' } });
    expect(new Uint8Array(readFileSync(file))).toEqual(out);
    const { tensors, metadata } = nn.decodeSafetensors(out);
    expect(metadata).toEqual({ note: 'x' });
    expect([...tensors.keys()]).toEqual([
      'conv1.bias',
      'conv1.weight',
      'conv2.bias',
      'conv2.weight',
      'fc1.bias',
      'fc1.weight',
      'fc2.bias',
      'fc2.weight',
      'out.bias',
      'out.weight',
    ]);
    expect(tensors.get('out.weight')!.shape).toEqual([10, 84]);
    const fnOut = await nn.exportTorchStateDict(net, { nameMap: (name, def) => (name.startsWith('out.') ? def.replace('out', 'fc3') : def) });
    expect([...nn.decodeSafetensors(fnOut).tensors.keys()].slice(-2)).toEqual(['fc3.bias', 'fc3.weight']);
    await expect(nn.exportTorchStateDict(net, { nameMap: () => 'same' })).rejects.toThrow(
      "exportTorchStateDict: parameters 'conv1.W' and 'conv1.b' both map to 'same'; check nameMap",
    );
    nn.disposeLayers(net);
  });

  it('name helpers invert each other', () => {
    expect(nn.tesseraNameOf('fc3.weight', nameMap)).toBe('out.W');
    expect(nn.torchNameOf('out.W', nameMap)).toBe('fc3.weight');
    expect(nn.tesseraNameOf('features.0.bias', { 'features.0': 'conv1' })).toBe('conv1.b');
    expect(nn.torchNameOf('conv1.b', { 'features.0': 'conv1' })).toBe('features.0.bias');
    expect(nn.tesseraNameOf('bn.running_mean')).toBe('bn.running_mean');
  });
});

describe('loadTorchStateDict errors name the tensor', () => {
  it('a missing tensor', async () => {
    const net = nn.models.lenet5();
    await expect(nn.loadTorchStateDict(net, bytes)).rejects.toThrow(
      /^loadTorchStateDict: missing tensor\(s\) 'out\.weight' \(for parameter 'out\.W'\), 'out\.bias' \(for parameter 'out\.b'\); the file has 'conv1\.bias', .*'fc3\.weight'\. Pass nameMap/,
    );
    const dropped = withHeader(bytes, (h) => delete h['conv2.bias']);
    await expect(nn.loadTorchStateDict(net, dropped, { nameMap })).rejects.toThrow("missing tensor(s) 'conv2.bias' (for parameter 'conv2.b')");
    await expect(nn.loadTorchStateDict(net, dropped, { nameMap: (n, d) => (n.startsWith('fc3') ? d.replace('fc3', 'out') : d) })).rejects.toThrow(
      "missing tensor(s) 'conv2.b' (no tensor maps to it)",
    );
    nn.disposeLayers(net);
  });

  it('unexpected extras unless strict: false, and clashing names', async () => {
    const net = nn.models.lenet5();
    const file = nn.decodeSafetensors(bytes);
    const tensors = new Map([...file.tensors].map(([n, e]) => [n, { shape: e.shape, data: nn.entryToFloat32(n, e) }]));
    tensors.set('fc4.weight', { shape: [2], data: new Float32Array([1, 2]) });
    const extra = nn.encodeSafetensors(tensors);
    await expect(nn.loadTorchStateDict(net, extra, { nameMap })).rejects.toThrow(
      "loadTorchStateDict: unexpected tensor(s) 'fc4.weight' (as 'fc4.W') that the network does not have. Pass { strict: false } to skip them, or nameMap to rename them",
    );
    await nn.loadTorchStateDict(net, extra, { nameMap, strict: false });
    await nn.loadTorchStateDict(net, extra, { nameMap: (n, d) => (n.startsWith('fc4') ? null : n.startsWith('fc3') ? d.replace('fc3', 'out') : d) });
    await expect(nn.loadTorchStateDict(net, bytes, { nameMap: { fc3: 'out', fc2: 'out' } })).rejects.toThrow(
      "loadTorchStateDict: tensors 'fc2.bias' and 'fc3.bias' both map to parameter 'out.b'; check nameMap",
    );
    nn.disposeLayers(net);
  });

  it('a shape mismatch', async () => {
    const net = nn.models.lenet5({ numClasses: 5 });
    await expect(nn.loadTorchStateDict(net, bytes, { nameMap })).rejects.toThrow(
      "loadTorchStateDict: tensor 'fc3.weight' has shape [10,84] in the file, but parameter 'out.W' needs [5,84] (a torch Linear weight is [out, in]; 'out.W' is [in, out] [84,5])",
    );
    const conv = withHeader(bytes, (h) => (h['conv1.weight'].shape = [6, 5, 5, 1]));
    await expect(nn.loadTorchStateDict(nn.models.lenet5(), conv, { nameMap })).rejects.toThrow(
      "loadTorchStateDict: tensor 'conv1.weight' has shape [6,5,5,1] in the file, but parameter 'conv1.W' needs [6,1,5,5]",
    );
    nn.disposeLayers(net);
  });

  it('a wrong dtype', async () => {
    const ints = withHeader(bytes, (h) => (h['conv1.bias'].dtype = 'I32'));
    await expect(nn.loadTorchStateDict(nn.models.lenet5(), ints, { nameMap })).rejects.toThrow(
      "loadTorchStateDict: tensor 'conv1.bias' has dtype I32; expected a floating-point tensor (F32, F16, BF16 or F64)",
    );
    const i64 = withHeader(bytes, (h) => (h['conv1.bias'] = { dtype: 'I64', shape: [3], data_offsets: [0, 24] }));
    await expect(nn.loadTorchStateDict(nn.models.lenet5(), i64, { nameMap })).rejects.toThrow(
      "tensor 'conv1.bias' has shape [3] in the file, but parameter 'conv1.b' needs [6]",
    );
  });

  it('a truncated file, from bytes and from a path; nothing is written on failure', async () => {
    const net = nn.models.lenet5({ seed: 3 });
    const before = await nn.getAllParamValues(net.out);
    await expect(nn.loadTorchStateDict(net, bytes.subarray(0, bytes.length - 100), { nameMap })).rejects.toThrow(
      /^loadTorchStateDict: truncated: tensor 'fc3\.weight' ends at data byte 246824 but the file holds only 246724 data bytes$/,
    );
    const cut = join(dir, 'cut.safetensors');
    (await import('node:fs')).writeFileSync(cut, bytes.subarray(0, 4000));
    await expect(nn.loadTorchStateDict(net, cut, { nameMap })).rejects.toThrow(
      /^loadTorchStateDict: '.*cut\.safetensors': truncated: tensor '.+' ends at data byte/,
    );
    await expect(nn.loadTorchStateDict(net, bytes.subarray(0, 4), { nameMap })).rejects.toThrow('loadTorchStateDict: truncated: 4 bytes');
    await expect(nn.loadTorchStateDict(net, join(dir, 'none.safetensors'))).rejects.toThrow(/cannot read '.*none\.safetensors': no such file/);
    await expect(nn.loadTorchStateDict(net, 7 as never)).rejects.toThrow(
      'loadTorchStateDict: expected a file path, a Uint8Array or an ArrayBuffer, got number',
    );
    await expect(nn.loadTorchStateDict({} as never, bytes)).rejects.toThrow(
      'loadTorchStateDict: expected a layer, layers or a net record of layers, got object',
    );
    const after = await nn.getAllParamValues(net.out);
    after.forEach((v, i) => {
      expect(v).toEqual(before[i]);
    });
    nn.disposeLayers(net);
  });
});
