/**
 * PyTorch interchange with batch normalization: a CNN with BatchNorm2d and BatchNorm1d trained
 * briefly in PyTorch (scripts/golden/torch_bn.py) loads into the same network built from
 * Conv2DLayer / DenseLayer + nn.batchNorm + GlobalPoolLayer, strictly (num_batches_tracked is
 * skipped), and gives PyTorch's eval-mode logits; exporting gives back every tensor but the
 * counters, byte for byte, under PyTorch's names.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, fromGolden, loadGolden, type GoldenTensor } from '../helpers/index.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/torch_bn.safetensors', import.meta.url));
const bytes = new Uint8Array(readFileSync(FIXTURE));
const golden = loadGolden<{ x: GoldenTensor; logits: GoldenTensor; names: string[] }>('torch_bn.json');

beforeAll(async () => {
  await ts.init();
});

/** BnNet of scripts/golden/torch_bn.py, with PyTorch's module names. */
function bnNet(): { out: nn.Layer; bn1: nn.BatchNormLayer; conv1: nn.Conv2DLayer } {
  const data = new nn.InputLayer([null, 1, 28, 28]);
  const conv1 = new nn.Conv2DLayer(data, 8, 3, { pad: 1, name: 'conv1' });
  const block1 = nn.batchNorm(conv1, { name: 'bn1' });
  const conv2 = new nn.Conv2DLayer(new nn.MaxPool2DLayer(block1, 2), 16, 3, { pad: 1, name: 'conv2' });
  const block2 = nn.batchNorm(conv2, { name: 'bn2' });
  const gap = new nn.GlobalPoolLayer(new nn.MaxPool2DLayer(block2, 2));
  const fc1 = nn.batchNorm(new nn.DenseLayer(gap, 32, { name: 'fc1' }), { name: 'bn3' });
  const out = new nn.DenseLayer(fc1, 10, { nonlinearity: null, name: 'fc2' });
  return { out, bn1: block1.inputLayer as nn.BatchNormLayer, conv1 };
}

describe('PyTorch BatchNorm interchange', () => {
  it('loads strictly, skipping num_batches_tracked, and matches the eval-mode logits to 1e-4', async () => {
    const net = bnNet();
    expect(golden.names.filter((n) => n.endsWith('num_batches_tracked'))).toHaveLength(3);
    await nn.loadTorchStateDict(net.out, bytes);
    const logits = ts.noGrad(() => nn.getOutput(net.out, fromGolden(golden.x), { deterministic: true }));
    expect(logits.shape).toEqual([8, 10]);
    expectClose(await logits.data(), golden.logits.data, { rtol: 1e-4, atol: 1e-4, what: 'logits vs PyTorch' });
    // The running statistics came from the file: PyTorch's running_var, not the initial ones.
    const file = nn.decodeSafetensors(bytes);
    expect(await net.bn1.var.data()).toEqual(nn.entryToFloat32('bn1.running_var', file.tensors.get('bn1.running_var')!));
    expect(await net.bn1.gamma!.data()).toEqual(nn.entryToFloat32('bn1.weight', file.tensors.get('bn1.weight')!));
    nn.disposeLayers(net.out);
  });

  it('exports every tensor but the int64 counters under PyTorch names, byte for byte', async () => {
    const net = bnNet();
    await nn.loadTorchStateDict(net.out, bytes);
    const back = nn.decodeSafetensors(await nn.exportTorchStateDict(net.out));
    const src = nn.decodeSafetensors(bytes);
    const expected = golden.names.filter((n) => !n.endsWith('num_batches_tracked'));
    expect([...back.tensors.keys()].sort()).toEqual(expected);
    for (const name of expected) expect(back.tensors.get(name)!.bytes, name).toEqual(src.tensors.get(name)!.bytes);
    expect(src.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
    nn.disposeLayers(net.out);
  });

  it('names BatchNorm tensors in errors the PyTorch way', async () => {
    const net = bnNet();
    const noVar = new Map([...nn.decodeSafetensors(bytes).tensors].filter(([n]) => n !== 'bn2.running_var'));
    const partial = nn.encodeSafetensors(
      new Map([...noVar].filter(([, e]) => e.dtype === 'F32').map(([n, e]) => [n, { shape: e.shape, data: nn.entryToFloat32(n, e) }])),
    );
    await expect(nn.loadTorchStateDict(net.out, partial)).rejects.toThrow(/missing tensor\(s\) 'bn2.running_var' \(for parameter 'bn2.var'\)/);
    expect(nn.tesseraNameOf('bn1.weight', {}, new Set(['bn1']))).toBe('bn1.gamma');
    expect(nn.torchNameOf('bn1.mean', {}, new Set(['bn1']))).toBe('bn1.running_mean');
    expect(nn.tesseraNameOf('conv1.weight', {}, new Set(['bn1']))).toBe('conv1.W');
    nn.disposeLayers(net.out);
  });

  it('keeps training: a train-mode step moves the loaded running statistics as PyTorch would', async () => {
    const net = bnNet();
    await nn.loadTorchStateDict(net.out, bytes);
    const before = await net.bn1.mean.data();
    const x = fromGolden(golden.x);
    const y = nn.getOutput(net.out, x); // training mode: batch statistics, running ones updated
    const after = await net.bn1.mean.data();
    expect(after).not.toEqual(before);
    // running_mean <- 0.9 * running_mean + 0.1 * batch mean of conv1's output
    const conv = ts.noGrad(() => nn.getOutput(net.conv1, x));
    const batchMean = await ts.tidy(() => conv.mean([0, 2, 3])).data();
    expectClose(
      after,
      Array.from(before, (m, c) => 0.9 * m + 0.1 * batchMean[c]!),
      { rtol: 1e-4, atol: 1e-5, what: 'running mean' },
    );
    ts.dispose([x, y, conv]);
    nn.disposeLayers(net.out);
  });
});
