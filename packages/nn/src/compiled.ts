/**
 * Compiled training and inference steps, Lasagne's `theano.function([x, y], loss,
 * updates=updates)` on top of `ts.compile`: the step is recorded once per input shape and
 * replayed afterwards, so a training loop skips shape rules, the autograd tape and per-op
 * tensors. What changes the recorded work (freezing layers, another parameter set, turning
 * the norm constraint on or off) is checked at every call and re-records the step.
 */
import * as ts from '@tessera/core';
import { opError, Tensor } from '@tessera/core';
import { getAllLayers, getAllParams, getOutput } from './layers/helper.js';
import type { Layer } from './layers/base.js';
import { DropoutLayer, GaussianNoiseLayer } from './layers/noise.js';
import { Optimizer } from './updates.js';

/** A compiled step from `trainFunction` or `predictFunction`. @example const f: nn.CompiledStep<[ts.Tensor]> = nn.predictFunction(net.out); */
export interface CompiledStep<A extends Tensor[]> {
  (...inputs: A): Tensor;
  /** Drops the recordings; the next call records again. */
  invalidate(): void;
  /** Frees the recordings (not the model or the optimizer); the step cannot be called afterwards. */
  dispose(): void;
  /** Recordings, captures and replays so far (see `ts.CompileInfo`). */
  readonly info: ts.CompileInfo;
  /** Settles when the fused kernels of the recordings so far are built (see `ts.CompiledFunction.ready`). */
  ready(): Promise<void>;
}

const describe = (v: unknown): string =>
  v === null || v === undefined ? String(v) : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`;

/** Throws a clear error for a disposed parameter; returns whether the set changed since `last`. */
function checkParams(op: string, params: readonly Tensor[], extra: unknown[], last: unknown[] | null): unknown[] | null {
  for (const p of params) {
    if (p.disposed) {
      throw opError(
        op,
        `a parameter of shape ${ts.fmtShape(p.shape)} of the compiled step was disposed`,
        'Keep the model alive while the step is in use; for a new model, build a new step (and optimizer)',
      );
    }
  }
  const key = [...extra, ...params];
  return last && key.length === last.length && key.every((k, i) => k === last[i]) ? null : key;
}

/**
 * @internal Why `layers` cannot be trained by a compiled step, or null. Seeded noise layers
 * count their draws on the host (mask k uses stream (seed, k)), which a replay cannot advance:
 * refuse them rather than repeat one mask. Unseeded ones draw from the global random stream,
 * which replays advance exactly as eager calls do.
 */
export function uncompilableNoise(layers: readonly Layer[]): string | null {
  for (const l of layers) {
    const seeded = (l instanceof DropoutLayer && l.p > 0) || (l instanceof GaussianNoiseLayer && l.sigma > 0);
    if (seeded && l.seed !== undefined) return `${l.label} has a seed: its masks are counted on the host, so a replayed step would repeat one mask`;
  }
  return null;
}

function checkNoise(op: string, layers: readonly Layer[]): void {
  const why = uncompilableNoise(layers);
  if (why) {
    throw opError(
      op,
      why,
      'Leave out `seed` (unseeded noise follows the global random stream, which compiled steps advance like eager ones), or train eagerly',
    );
  }
}

/** The layers an optimizer trains (null for a plain list of tensors). */
function layersOf(optimizer: Optimizer): Layer | Layer[] | null {
  const source = (optimizer as unknown as { source: unknown }).source;
  return Array.isArray(source) && source.every((s) => s instanceof Tensor) ? null : (source as Layer | Layer[]);
}

/**
 * @internal The compiled core of a training step, shared by `trainFunction` and `fit`: `body`
 * (which runs backward and `optimizer.update()` itself) compiled, with the checks that make a
 * replay safe at every call: no seeded noise among the optimizer's layers (and `layers`), no
 * disposed parameter, and a re-recording when the parameter set or the norm limit changed.
 */
export function compileTrainBody<A extends Tensor[], R extends ts.CompileResult>(
  op: string,
  body: (...inputs: A) => R,
  optimizer: Optimizer,
  opts: ts.CompileOptions = {},
  layers: Layer | Layer[] | null = layersOf(optimizer),
): ts.CompiledFunction<A, R> {
  const step = ts.compile(body, opts);
  let last: unknown[] | null = null;
  const call = ((...inputs: A): R => {
    if (layers) checkNoise(op, getAllLayers(layers));
    // The norm limit is a constant of the recorded kernels: a new value records again.
    const changed = checkParams(op, optimizer.params, [optimizer.totalNormConstraint], last);
    if (changed) {
      step.invalidate();
      last = changed;
    }
    return step(...inputs);
  }) as ts.CompiledFunction<A, R>;
  call.invalidate = () => step.invalidate();
  call.dispose = () => step.dispose();
  call.ready = () => step.ready();
  Object.defineProperty(call, 'info', { get: () => step.info });
  return call;
}

/**
 * One compiled training step: `loss = lossFn(...inputs)`, backward, `optimizer.update()`;
 * returns the loss, not read back. Lasagne's `theano.function([x, y], loss, updates=updates)`.
 * The first calls run eagerly (the optimizer creates its state; then the step is recorded),
 * later ones with the same input shapes replay the recording. The learning rate, Adam's step
 * count and unseeded dropout masks stay live; freezing layers or changing the parameter set
 * re-records.
 *
 * @example
 * const opt = updates.adam(net.out, { learningRate: 1e-3 });
 * const train = nn.trainFunction((x: ts.Tensor, y: ts.Tensor) =>
 *   objectives.categoricalCrossentropy(nn.getOutput(net.out, x), y, { fromLogits: true }).mean(), opt);
 * for (const [x, y] of batches) train(x, y).dispose();
 * train.dispose();
 */
export function trainFunction<A extends Tensor[]>(lossFn: (...inputs: A) => Tensor, optimizer: Optimizer, opts: ts.CompileOptions = {}): CompiledStep<A> {
  const op = 'nn.trainFunction';
  if (typeof lossFn !== 'function') throw opError(op, `lossFn must be a function, got ${describe(lossFn)}`);
  if (!(optimizer instanceof Optimizer)) throw opError(op, `optimizer must be an Optimizer (from updates.*), got ${describe(optimizer)}`);
  const step = compileTrainBody(
    op,
    (...inputs: A) => {
      const loss = lossFn(...inputs);
      if (!(loss instanceof Tensor))
        throw opError(op, `lossFn returned ${describe(loss)}`, 'Return the loss as a one-element tensor, e.g. objectives.squaredError(p, y).mean()');
      if (loss.size !== 1) throw opError(op, `lossFn returned shape ${ts.fmtShape(loss.shape)}; expected one value`, 'Reduce it with .mean() or .sum()');
      loss.backward();
      optimizer.update();
      return loss.detach();
    },
    optimizer,
    opts,
  );
  return step as CompiledStep<A>; // invalidate, dispose and info come with it
}

/**
 * A compiled deterministic forward pass of `layer` (dropout off, batch norm on its running
 * statistics, no gradients): `predict(x)` returns the output, recorded once per input shape.
 *
 * @example
 * const predict = nn.predictFunction(net.out);
 * const logits = predict(x);
 * predict.dispose();
 */
export function predictFunction(layer: Layer, opts: ts.CompileOptions = {}): CompiledStep<[Tensor]> {
  const op = 'nn.predictFunction';
  const fwd = ts.compile((x: Tensor) => ts.noGrad(() => getOutput(layer, x, { deterministic: true })), opts);
  let last: unknown[] | null = null;
  const call = ((x: Tensor): Tensor => {
    const changed = checkParams(op, getAllParams(layer), [], last);
    if (changed) {
      fwd.invalidate();
      last = changed;
    }
    return fwd(x);
  }) as CompiledStep<[Tensor]>;
  return finish(call, fwd);
}

function finish<A extends Tensor[]>(call: CompiledStep<A>, inner: ts.CompiledFunction<A, Tensor>): CompiledStep<A> {
  call.invalidate = () => inner.invalidate();
  call.dispose = () => inner.dispose();
  call.ready = () => inner.ready();
  Object.defineProperty(call, 'info', { get: () => inner.info });
  return call;
}
