/**
 * Weight penalties, as in `lasagne.regularization`: add `lambda * penalty` to the loss.
 * Only parameters tagged `regularizable` (weights, not biases) are penalised by default.
 */
import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { Layer, type ParamTags } from './layers/base.js';
import { getAllParams } from './layers/helper.js';

/** A function from one parameter to a scalar penalty. @example const l2half: Penalty = (w) => regularization.l2(w).mul(0.5); */
export type Penalty = (x: Tensor) => Tensor;

/**
 * Sum of absolute values (lasso).
 *
 * @example
 * regularization.l1(ts.tensor([-1, 2]));   // 3
 */
export function l1(x: Tensor): Tensor {
  return ts.tidy(() => x.abs().sum());
}

/**
 * Sum of squares (weight decay when added to the loss; note there is no 1/2 factor, as in
 * Lasagne).
 *
 * @example
 * regularization.l2(ts.tensor([1, 2]));   // 5
 */
export function l2(x: Tensor): Tensor {
  return ts.tidy(() => x.square().sum());
}

/**
 * Sum of `penalty(p)` over the given tensors.
 *
 * @example
 * const reg = regularization.applyPenalty(net.fc1.getParams({ regularizable: true }), regularization.l2);   // fc1's weights
 */
export function applyPenalty(params: readonly Tensor[], penalty: Penalty): Tensor {
  if (typeof penalty !== 'function') throw new Error(`applyPenalty: penalty must be a function such as regularization.l2, got ${typeof penalty}`);
  if (!Array.isArray(params)) throw new Error(`applyPenalty: expected an array of tensors, got ${typeof params}`);
  return ts.tidy(() => params.reduce((acc: Tensor, p) => acc.add(penalty(p)), ts.zeros([])));
}

/**
 * Penalty over the parameters of the given layers only (not the layers below them).
 *
 * @example
 * const reg = regularization.regularizeLayerParams([net.fc1, net.fc2], regularization.l2);
 */
export function regularizeLayerParams(layers: Layer | readonly Layer[], penalty: Penalty, tags: Partial<ParamTags> = { regularizable: true }): Tensor {
  const list = layers instanceof Layer ? [layers] : layers;
  return applyPenalty([...new Set(list.flatMap((l) => l.getParams(tags)))], penalty);
}

/**
 * Weighted penalties per layer: sum over layers of coefficient * penalty(params).
 *
 * @example
 * const reg = regularization.regularizeLayerParamsWeighted(new Map([[net.fc1, 1e-4], [net.out, 1e-3]]), regularization.l2);
 */
export function regularizeLayerParamsWeighted(
  weights: ReadonlyMap<Layer, number>,
  penalty: Penalty,
  tags: Partial<ParamTags> = { regularizable: true },
): Tensor {
  return ts.tidy(() => {
    let acc = ts.zeros([]);
    for (const [layer, coeff] of weights) acc = acc.add(regularizeLayerParams(layer, penalty, tags).mul(coeff));
    return acc;
  });
}

/**
 * Penalty over every parameter of the network below `layer` that carries the tags (default:
 * regularizable, so weights but not biases).
 *
 * @example
 * const dataLoss = objectives.categoricalCrossentropy(getOutput(net.out, x), labels, { fromLogits: true }).mean();
 * const loss = dataLoss.add(regularization.regularizeNetworkParams(net.out, regularization.l2).mul(1e-4));
 */
export function regularizeNetworkParams(layer: Layer | readonly Layer[], penalty: Penalty, tags: Partial<ParamTags> = { regularizable: true }): Tensor {
  return applyPenalty(getAllParams(layer, tags), penalty);
}
