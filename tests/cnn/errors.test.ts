/**
 * Bad inputs to every CNN op throw an Error that names the op, the shapes involved and what was
 * expected; out-of-range class ids give NaN on the GPU and a thrown error from ts.checkLabels.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const z = (shape: number[], dtype: ts.DType = 'float32') => ts.zeros(shape, { dtype });

describe('conv2d rejects', () => {
  const x = () => z([2, 3, 8, 8]);
  it('inputs of the wrong rank', () => {
    expect(() => ts.conv2d(z([3, 8, 8]), z([4, 3, 3, 3]))).toThrow(/conv2d.*\[3,8,8\].*\[4,3,3,3\].*4-D/);
    expect(() => ts.conv2d(x(), z([4, 3, 3]))).toThrow(/conv2d.*\[2,3,8,8\].*\[4,3,3\].*4-D/);
  });
  it('a channel mismatch', () => {
    expect(() => ts.conv2d(x(), z([4, 2, 3, 3]))).toThrow(/conv2d.*\[2,3,8,8\].*\[4,2,3,3\].*3 channels.*expects 2.*Expected a weight of shape \[4, 3, 3, 3\]/);
  });
  it('a kernel larger than the padded input', () => {
    expect(() => ts.conv2d(z([1, 1, 4, 4]), z([1, 1, 7, 7]), null, { padding: 1 })).toThrow(
      /conv2d.*\[1,1,4,4\].*\[1,1,7,7\].*7x7 kernel.*larger than the 6x6 padded input/,
    );
    expect(() => ts.conv2d(z([1, 1, 5, 5]), z([1, 1, 3, 3]), null, { dilation: 3 })).toThrow(/conv2d.*7x7 kernel \(dilation 3,3\)/);
  });
  it('groups that do not divide the channels or the filters', () => {
    expect(() => ts.conv2d(x(), z([4, 1, 3, 3]), null, { groups: 2 })).toThrow(
      /conv2d.*\[2,3,8,8\].*\[4,1,3,3\].*groups 2 must divide both the 3 input channels and the 4 filters/,
    );
    expect(() => ts.conv2d(z([1, 4, 8, 8]), z([3, 2, 3, 3]), null, { groups: 2 })).toThrow(/conv2d.*\[1,4,8,8\].*\[3,2,3,3\].*groups 2 must divide/);
    expect(() => ts.conv2d(x(), z([3, 3, 3, 3]), null, { groups: 0 })).toThrow(/conv2d: groups must be a positive integer/);
  });
  it("'same' padding with a stride", () => {
    expect(() => ts.conv2d(x(), z([4, 3, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow(
      /conv2d: padding 'same' needs stride 1, got stride \[2,2\].*\[2,3,8,8\].*\[4,3,3,3\]/,
    );
  });
  it('bad option values', () => {
    const w = z([4, 3, 3, 3]);
    expect(() => ts.conv2d(x(), w, null, { stride: 0 })).toThrow(/conv2d: stride must be an integer >= 1.*got 0.*\[2,3,8,8\]/);
    expect(() => ts.conv2d(x(), w, null, { stride: [1, 1.5] })).toThrow(/conv2d: stride/);
    expect(() => ts.conv2d(x(), w, null, { padding: -1 })).toThrow(/conv2d: padding must be an integer >= 0/);
    expect(() => ts.conv2d(x(), w, null, { padding: 'full' as never })).toThrow(/conv2d: padding/);
    expect(() => ts.conv2d(x(), w, null, { dilation: [2] as never })).toThrow(/conv2d: dilation must be/);
    expect(() => ts.conv2d(x(), w, null, { activation: 'gelu' as never })).toThrow(/conv2d: activation must be 'none' or 'relu'/);
  });
  it('a bias of the wrong shape, wrong dtypes, disposed and non-tensor inputs', () => {
    expect(() => ts.conv2d(x(), z([4, 3, 3, 3]), z([3]))).toThrow(/conv2d: bias \[3\] does not fit weight \[4,3,3,3\].*Expected a bias of shape \[4\]/);
    expect(() => ts.conv2d(z([2, 3, 8, 8], 'int32'), z([4, 3, 3, 3]))).toThrow(/conv2d: input 0 of shape \[2,3,8,8\] is int32; expected float32/);
    const d = x();
    d.dispose();
    expect(() => ts.conv2d(d, z([4, 3, 3, 3]))).toThrow(/conv2d: input 0 of shape \[2,3,8,8\].*already disposed/);
    expect(() => ts.conv2d(null as never, z([4, 3, 3, 3]))).toThrow(/conv2d: input must be a Tensor/);
  });
});

describe('pooling rejects', () => {
  for (const [name, pool] of [
    ['maxPool2d', ts.maxPool2d],
    ['avgPool2d', ts.avgPool2d],
  ] as const) {
    it(`${name}: wrong rank, oversized window, too much padding, bad options`, () => {
      const re = (s: string) => new RegExp(`${name}: ${s}`);
      expect(() => pool(z([3, 8, 8]), { kernelSize: 2 })).toThrow(re('input \\[3,8,8\\] is not 4-D. Expected \\[N, C, H, W\\]'));
      expect(() => pool(z([1, 1, 3, 3]), { kernelSize: 4 })).toThrow(re('the 4x4 window is larger than the 3x3 padded input \\[1,1,3,3\\]'));
      expect(() => pool(z([1, 1, 8, 8]), { kernelSize: 2, padding: 2 })).toThrow(
        re('padding \\[2,2\\] is more than half the 2x2 window for input \\[1,1,8,8\\]'),
      );
      expect(() => pool(z([1, 1, 8, 8]), {} as never)).toThrow(re('kernelSize is required \\(input \\[1,1,8,8\\]\\)'));
      expect(() => pool(z([1, 1, 8, 8]), { kernelSize: 2, stride: 0 })).toThrow(re('stride must be an integer >= 1'));
      expect(() => pool(z([1, 1, 8, 8], 'int32'), { kernelSize: 2 })).toThrow(re('input of shape \\[1,1,8,8\\] is int32; expected float32'));
    });
  }
});

describe('softmax and crossEntropy reject', () => {
  it('an axis out of range or an int32 input', () => {
    expect(() => ts.softmax(z([2, 3]), 2)).toThrow(/softmax: axis 2 is out of range for rank 2 of a tensor of shape \[2,3\]/);
    expect(() => ts.logSoftmax(z([2, 3]), -3)).toThrow(/logSoftmax: axis -3 is out of range/);
    expect(() => ts.softmax(z([2, 3], 'int32'))).toThrow(/softmax: input of shape \[2,3\] is int32; expected float32/);
  });
  it('logits that are not [N, C] and labels that do not fit them', () => {
    expect(() => ts.crossEntropy(z([2, 3, 4]), z([2], 'int32'))).toThrow(/crossEntropy: logits \[2,3,4\] float32 are not a float \[N, C\] matrix/);
    expect(() => ts.crossEntropy(z([2, 3]), z([3], 'int32'))).toThrow(
      /crossEntropy: labels \[3\] int32 do not fit logits \[2,3\]. Expected int32 class ids \[2\] or float32 probabilities \[2, 3\]/,
    );
    expect(() => ts.crossEntropy(z([2, 3]), z([2, 4]))).toThrow(/crossEntropy: labels \[2,4\] float32 do not fit logits \[2,3\]/);
    expect(() => ts.crossEntropy(z([2, 3]), z([2, 1], 'int32'))).toThrow(/crossEntropy: labels \[2,1\] int32 do not fit/);
    expect(() => ts.crossEntropy(z([2, 3]), z([2], 'int32'), { reduction: 'avg' as never })).toThrow(/crossEntropy: reduction must be/);
  });
});

describe('out-of-range class ids', () => {
  it('give a NaN loss and NaN gradient rows on the GPU', async () => {
    const x = ts.tensor(
      [
        [1, 2, 3],
        [0, 0, 1],
      ],
      { requiresGrad: true },
    );
    const rows = ts.crossEntropy(x, ts.tensor([1, 3], { dtype: 'int32' }), { reduction: 'none' });
    const v = await rows.data();
    expect(Number.isFinite(v[0])).toBe(true);
    expect(v[1]).toBeNaN();
    rows.sum().backward();
    const g = await x.grad!.data();
    expect(Array.from(g.slice(0, 3)).every(Number.isFinite)).toBe(true);
    expect(Array.from(g.slice(3)).every(Number.isNaN)).toBe(true);
    expect(await ts.crossEntropy(x, ts.tensor([-1, 0], { dtype: 'int32' })).item()).toBeNaN();
  });

  it('throw a clear error from ts.checkLabels', async () => {
    await expect(ts.checkLabels(ts.tensor([0, 9, 10, 2], { dtype: 'int32' }), 10)).rejects.toThrow(
      /checkLabels: labels\[2\] is 10, outside \[0, 10\) for labels \[4\]/,
    );
    await expect(ts.checkLabels(ts.tensor([-1], { dtype: 'int32' }), 3)).rejects.toThrow(/checkLabels: labels\[0\] is -1/);
    await expect(ts.checkLabels(ts.tensor([0, 1, 2], { dtype: 'int32' }), 3)).resolves.toBeUndefined();
    await expect(ts.checkLabels(ts.tensor([0.5]), 3)).rejects.toThrow(/checkLabels: labels \[1\] are float32; expected int32/);
    await expect(ts.checkLabels(ts.tensor([0], { dtype: 'int32' }), 0)).rejects.toThrow(/checkLabels: numClasses must be a positive integer/);
  });
});
