/**
 * @tessera/nn: layers, initializers, nonlinearities, objectives, regularization, optimizers
 * and parameter files for Tessera, in the style of Lasagne (camelCase). A network is a graph
 * of layers kept in a plain object; its last layer knows the rest. `fit`, `evaluate` and
 * `predict` run the usual training loop, evaluation and inference for you (Keras-style).
 *
 * @example
 * import * as ts from '@tessera/core';
 * import '@tessera/webgpu';
 * import { InputLayer, Conv2DLayer, MaxPool2DLayer, DenseLayer, getOutput, getAllParams,
 *          objectives, updates, type Layer } from '@tessera/nn';
 * await ts.init();
 * const x = ts.rand([8, 1, 28, 28], { seed: 1 });
 * const y = ts.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
 * const net: Record<string, Layer> = {};
 * net.data = new InputLayer([null, 1, 28, 28]);
 * net.conv1 = new Conv2DLayer(net.data, { numFilters: 6, filterSize: 5, pad: 'same' });
 * net.pool1 = new MaxPool2DLayer(net.conv1, { poolSize: 2 });
 * net.out = new DenseLayer(net.pool1, { numUnits: 10, nonlinearity: null });
 * const opt = updates.adam(getAllParams(net.out, { trainable: true }), { learningRate: 1e-3 });
 * const loss = ts.tidy(() => objectives.categoricalCrossentropy(getOutput(net.out, x), y, { fromLogits: true }).mean());
 * await opt.step(loss);
 */
export {
  Layer,
  fmtLayerShape,
  shapeFits,
  matchTags,
  type LayerShape,
  type ParamTags,
  type ParamSpec,
  type LayerOptions,
  type ForwardOptions,
} from './layers/base.js';
export { InputLayer } from './layers/input.js';
export { DenseLayer, type DenseLayerOptions } from './layers/dense.js';
export { Conv2DLayer, convOutputLength, type Conv2DLayerOptions, type ConvPad } from './layers/conv.js';
export {
  Pool2DLayer,
  MaxPool2DLayer,
  GlobalPoolLayer,
  type Pool2DLayerOptions,
  type AnyPool2DLayerOptions,
  type GlobalPoolLayerOptions,
} from './layers/pool.js';
export { BatchNormLayer, batchNorm, type BatchNormLayerOptions } from './layers/normalization.js';
export { DropoutLayer, GaussianNoiseLayer, type DropoutLayerOptions, type GaussianNoiseLayerOptions } from './layers/noise.js';
export { FlattenLayer, ReshapeLayer, type FlattenLayerOptions, type ReshapeLayerOptions, type ReshapeDim } from './layers/shape.js';
export { NonlinearityLayer, type NonlinearityLayerOptions } from './layers/special.js';
export { ConcatLayer, ElemwiseSumLayer, type ConcatLayerOptions, type ElemwiseSumLayerOptions } from './layers/merge.js';
export { Sequential } from './layers/sequential.js';
export {
  getOutput,
  getAllLayers,
  getAllParams,
  countParams,
  getAllParamValues,
  setAllParamValues,
  nameLayers,
  paramNames,
  setTrainable,
  disposeLayers,
  type LayerSource,
  type OutputInputs,
} from './layers/helper.js';
export { Optimizer, type ParamSource, type OptimizerState } from './updates.js';
export { trainFunction, predictFunction, type CompiledStep } from './compiled.js';
export { summary, type Summary, type SummaryRow } from './summary.js';
export {
  fit,
  trainStep,
  type FitOptions,
  type FitHistory,
  type EpochLog,
  type StepInfo,
  type TrainStep,
  type TrainStepOptions,
  type StepResult,
} from './fit.js';
export { defaultLoss, type FitData, type FitNet, type LossFn } from './fit-data.js';
export { evaluate, predict, type Metric, type EvaluateOptions, type Evaluation, type PredictOptions } from './evaluate.js';
export { saveParams, loadParams, type ParamsTarget, type SaveOptions, type LoadOptions } from './params-io.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointState,
  type CheckpointRng,
  type CheckpointTarget,
  type CheckpointInfo,
  type FitCheckpoint,
  type LoadedCheckpoint,
  type LoadCheckpointOptions,
} from './checkpoint.js';
export {
  loadTorchStateDict,
  exportTorchStateDict,
  tesseraNameOf,
  torchNameOf,
  type TorchNameMap,
  type TorchNameFn,
  type TorchLoadOptions,
  type TorchExportOptions,
} from './torch.js';
export { replaceHead, freeze, unfreeze, freezeThrough, trainableSummary, type ReplaceHeadOptions, type TrainableRow, type WithHead } from './transfer.js';
export { encodeSafetensors, decodeSafetensors, entryToFloat32, type SafetensorsEntry, type SafetensorsFile, type SafetensorsInput } from './safetensors.js';
/** Types of the namespaces below, re-exported for annotations. @example const act: Nonlinearity = nonlinearities.tanh; */
export type { Initializer, InitFactory, Gain } from './init.js';
export type { Nonlinearity } from './nonlinearities.js';
export type { Penalty } from './regularization.js';

/**
 * Parameter initializers (GlorotUniform is the default of Dense and Conv2D layers).
 *
 * @example
 * new DenseLayer(l, { numUnits: 100, W: init.HeNormal({ gain: 'relu', seed: 1 }), b: init.Constant(0.1) });
 */
export * as init from './init.js';

/**
 * Activation functions to pass as `nonlinearity`.
 *
 * @example
 * new DenseLayer(l, { numUnits: 1, nonlinearity: nonlinearities.sigmoid });
 */
export * as nonlinearities from './nonlinearities.js';

/**
 * Losses and metrics, per example; reduce with `.mean()` or `aggregate`.
 *
 * @example
 * const loss = objectives.categoricalCrossentropy(logits, labels, { fromLogits: true }).mean();
 */
export * as objectives from './objectives.js';

/**
 * Weight penalties (l1, l2) over a network's regularizable parameters.
 *
 * @example
 * const reg = regularization.regularizeNetworkParams(net.out, regularization.l2).mul(1e-4);
 */
export * as regularization from './regularization.js';

/**
 * Optimizers that update parameters in place on the GPU (sgd, momentum, nesterovMomentum,
 * rmsprop, adam, adamw, adagrad, adadelta, adamax, byName) and gradient-norm clipping.
 *
 * @example
 * const opt = updates.adam(getAllParams(net.out, { trainable: true }), { learningRate: 1e-3 });
 * await opt.step(loss);
 */
export * as updates from './updates.js';

/**
 * Learning-rate schedules that set an optimizer's rate step by step, as
 * torch.optim.lr_scheduler: step, exponential, cosine (with optional warm-up), reduceOnPlateau.
 *
 * @example
 * const opt = updates.sgd(params, { learningRate: 0.1 });
 * const s = schedules.cosine(opt, { tMax: 20 });
 * s.step();   // after each epoch
 */
export * as schedules from './schedules.js';

/**
 * Ready-made networks.
 *
 * @example
 * const net = models.lenet5({ seed: 1 });
 */
export * as models from './models/index.js';
