// Bad inputs get an Error that names the op, the shapes and what was expected.
import { beforeAll, describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

describe('bad inputs', () => {
  it('shape mismatch in broadcasting', () => {
    expect(() => ts.zeros([2, 3]).add(ts.zeros([4]))).toThrow(/add: cannot broadcast shapes \[2,3\] and \[4\]/);
    expect(() => ts.where(ts.zeros([2]), ts.zeros([3]), 0)).toThrow(/where: cannot broadcast/);
  });
  it('matmul inner dimensions and dtype', () => {
    expect(() => ts.matmul(ts.zeros([2, 3]), ts.zeros([4, 5]))).toThrow(/matmul: \[2,3\] @ \[4,5\]: inner dimensions differ \(3 vs 4\)/);
    expect(() => ts.matmul(ts.zeros([2, 3], { dtype: 'int32' }), ts.zeros([3, 2]))).toThrow(/matmul: .*expected float32/);
    expect(() => ts.linear(ts.zeros([2, 3]), ts.zeros([4, 5]))).toThrow(/linear: input \[2,3\] does not fit weight \[4,5\]/);
    expect(() => ts.linear(ts.zeros([2, 4]), ts.zeros([4, 5]), ts.zeros([4]))).toThrow(/linear: bias \[4\]/);
  });
  it('disposed tensors', () => {
    const x = ts.ones([2, 2]);
    x.dispose();
    expect(() => x.add(1)).toThrow(/add: input 0 of shape \[2,2\] \(tensor #\d+\) was already disposed/);
    expect(() => x.exp()).toThrow(/exp: input of shape \[2,2\].*disposed/);
    return expect(x.data()).rejects.toThrow(/data: .*disposed/);
  });
  it('axis out of range', () => {
    expect(() => ts.zeros([2, 3]).sum(2)).toThrow(/sum: axis 2 is out of range for rank 2 of a tensor of shape \[2,3\]/);
    expect(() => ts.zeros([2, 3]).argmax(-3)).toThrow(/argmax: axis -3 is out of range/);
    expect(() => ts.zeros([2, 3]).transpose([0, 0])).toThrow(/transpose: perm \[0,0\]/);
    expect(() => ts.concat([ts.zeros([2, 3]), ts.zeros([2, 4])], 0)).toThrow(/concat: cannot join \[2,3\] float32, \[2,4\] float32 along axis 0/);
    expect(() => ts.zeros([2, 3]).sum([1, 1])).toThrow(/sum: axis \[1,1\] repeats/);
  });
  it('reshape, slice and creation', () => {
    expect(() => ts.zeros([2, 3]).reshape([4, 2])).toThrow(/reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
    expect(() => ts.zeros([4]).slice([2], [3])).toThrow(/slice: begin \[2\] with size \[3\] leaves the bounds of shape \[4\]/);
    expect(() => ts.tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array/);
    expect(() => ts.tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/tensor: got 3 values for shape \[2,2\]/);
    expect(() => ts.tensor([1], { dtype: 'float64' as never })).toThrow(/tensor: unknown dtype "float64"/);
    expect(() => ts.zeros([2, -1])).toThrow(/full: shape must be an array of non-negative integers/);
    expect(() => ts.arange(0, 5, 0)).toThrow(/arange: .*step != 0/);
    expect(() => ts.randn([2], { seed: 1.5 })).toThrow(/randn: seed must be an integer/);
  });
  it('wrong dtypes', () => {
    expect(() => ts.oneHot(ts.zeros([3]), 4)).toThrow(/oneHot: labels must be an int32 tensor, got float32 \[3\]/);
    expect(() => ts.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/only float tensors can require grad, not int32/);
    expect(() => ts.add(1 as never, 2 as never)).toThrow(/add: needs at least one Tensor operand/);
    expect(() => ts.zeros([2]).cast('float64' as never)).toThrow(/cast: unknown dtype "float64". Expected 'float32', 'int32' or 'float16'/);
  });
  it('item on a non-scalar', () => expect(ts.zeros([2]).item()).rejects.toThrow(/item: expected a tensor with one element, got shape \[2\]/));
});
