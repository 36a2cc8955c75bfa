/**
 * Transfer learning helpers: keep a trained network's features, put a new output layer on top,
 * and choose which layers keep learning.
 *
 * A network here is a record of layers whose `out` is the last one (the Lasagne-style record
 * that `models.lenet5` returns), so "a new head" means a new `out` built on a chosen layer.
 * Freezing is Lasagne's `trainable` tag: frozen parameters are left out of
 * `getAllParams(net.out, { trainable: true })` (so optimizers never see them) and stop
 * requiring gradients (so backward skips their weight gradients). Browser-safe.
 */
import type { Tensor } from '@tessera/core';
import { Layer, type ParamSpec } from './layers/base.js';
import { DenseLayer } from './layers/dense.js';
import { getAllLayers, getAllParams, setTrainable, type LayerSource } from './layers/helper.js';
import { Constant, GlorotUniform } from './init.js';
import { linear, type Nonlinearity } from './nonlinearities.js';

/** Options of replaceHead. @example const opts: ReplaceHeadOptions = { numClasses: 5, seed: 7 }; */
export interface ReplaceHeadOptions {
  /** Units of the new output layer. */
  numClasses: number;
  /** The layer (or its key in the record) to build on; default: the old head's input (`fc2` in LeNet-5). */
  on?: Layer | string;
  /** Seed of the new weights' GlorotUniform initializer (default 0). */
  seed?: number;
  /** Name of the new layer, used in saved files (default `out`). */
  name?: string;
  /** Activation of the new layer; default linear (logits, for `ts.crossEntropy`). */
  nonlinearity?: Nonlinearity | null;
  /** Initial weights instead of GlorotUniform (an initializer, a tensor, values). */
  W?: ParamSpec;
  /**
   * Free the old head's parameters (default true): they would otherwise stay on the GPU with
   * nothing referring to them. Nothing is freed that the new network still uses.
   */
  disposeOld?: boolean;
}

/**
 * The record replaceHead returns: the new `out`, and those of the other layers that the new
 * head still uses (building on `fc1` leaves `fc2` out, so its keys are optional).
 *
 * @example
 * const tuned: WithHead<nn.models.LeNet> = replaceHead(net, { numClasses: 5 });
 */
export type WithHead<T> = { readonly [K in Exclude<keyof T, 'out'>]?: T[K] } & { readonly out: DenseLayer };

/**
 * Returns a new net record whose `out` is a new DenseLayer of `numClasses` units built on `on`
 * (default: what the old `out` was built on). The layers below `on` are shared with the
 * original record, trained weights included, so load pretrained weights first, then replace.
 * Layers the new head no longer uses (the old head; `fc2` when building on `fc1`) are left out
 * of the record and, unless `disposeOld: false`, freed.
 *
 * @example
 * const net = nn.models.lenet5();
 * await nn.loadParams(net, 'models/lenet5-mnist.safetensors');
 * const tuned = replaceHead(net, { numClasses: 5, seed: 1 });               // out: fc2 -> 5 logits
 * const shallow = replaceHead(nn.models.lenet5(), { numClasses: 5, on: 'fc1' });   // drops fc2
 */
export function replaceHead<T extends Readonly<Record<string, Layer>>>(net: T, opts: ReplaceHeadOptions): WithHead<T> {
  const fn = 'replaceHead';
  if (!net || typeof net !== 'object' || net instanceof Layer || Array.isArray(net)) {
    throw new Error(`${fn}: expected a net record of layers (like models.lenet5() returns), got ${net instanceof Layer ? 'a Layer' : typeof net}`);
  }
  const { numClasses } = opts ?? ({} as ReplaceHeadOptions);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`${fn}: numClasses must be a positive integer, got ${JSON.stringify(numClasses)}`);
  const old = net['out'];
  let base: Layer | undefined;
  if (opts.on instanceof Layer) base = opts.on;
  else if (typeof opts.on === 'string') {
    base = net[opts.on];
    if (!(base instanceof Layer)) throw new Error(`${fn}: the net has no layer '${opts.on}' to build on; it has ${Object.keys(net).join(', ')}`);
  } else {
    if (!(old instanceof Layer)) throw new Error(`${fn}: the net has no 'out' layer; pass { on } to say which layer the head goes on`);
    base = old.inputLayer ?? undefined;
    if (!base) throw new Error(`${fn}: ${old.label} has no input layer to build a head on; pass { on }`);
  }
  const seed = opts.seed ?? 0;
  const head = new DenseLayer(base, {
    numUnits: numClasses,
    nonlinearity: opts.nonlinearity === undefined ? linear : opts.nonlinearity,
    W: opts.W ?? GlorotUniform({ seed }),
    b: Constant(0),
    name: opts.name ?? 'out',
  });
  const kept = new Set(getAllLayers(head));
  const out: Record<string, Layer> = {};
  for (const [key, layer] of Object.entries(net)) {
    if (key === 'out') continue;
    if (kept.has(layer)) out[key] = layer;
    else if (opts.disposeOld ?? true) layer.dispose();
  }
  if ((opts.disposeOld ?? true) && old instanceof Layer && !kept.has(old)) old.dispose();
  out['out'] = head;
  return out as WithHead<T>;
}

/** Layers given as one layer, a list, or a net record with keys to pick. */
function pick(fn: string, layers: LayerSource, keys?: readonly string[]): Layer[] {
  if (keys !== undefined) {
    if (layers instanceof Layer || Array.isArray(layers))
      throw new Error(`${fn}: layer names need a net record, not ${layers instanceof Layer ? 'a Layer' : 'an array'}`);
    const rec = layers as Readonly<Record<string, Layer>>;
    return keys.map((k) => {
      const l = rec[k];
      if (!(l instanceof Layer)) throw new Error(`${fn}: the net has no layer '${k}'; it has ${Object.keys(rec).join(', ')}`);
      return l;
    });
  }
  const list = layers instanceof Layer ? [layers] : Array.isArray(layers) ? [...layers] : layers && typeof layers === 'object' ? Object.values(layers) : null;
  if (!list || !list.every((l) => l instanceof Layer))
    throw new Error(`${fn}: expected a layer, layers or a net record, got ${layers === null ? 'null' : typeof layers}`);
  return list as Layer[];
}

/**
 * Freezes the given layers (exactly those, not what is below them): their parameters get
 * `trainable: false` and stop requiring gradients. Pass a record and names to pick layers by
 * key. Returns the frozen parameters. Create the optimizer after freezing: it takes the
 * trainable parameters at construction.
 *
 * @example
 * freeze(net, ['conv1', 'conv2']);            // or freeze([net.conv1, net.conv2])
 * const opt = updates.adam(getAllParams(net.out, { trainable: true }));
 */
export function freeze(layers: LayerSource, names?: readonly string[]): Tensor[] {
  const picked = pick('freeze', layers, names);
  setTrainable(picked, false);
  return [...new Set(picked.flatMap((l) => [...l.params.keys()]))];
}

/**
 * Makes the given layers trainable again (the inverse of `freeze`), e.g. to fine-tune the
 * whole network after the head has settled. Returns their parameters.
 *
 * @example
 * unfreeze(net, ['conv1', 'conv2']);
 */
export function unfreeze(layers: LayerSource, names?: readonly string[]): Tensor[] {
  const picked = pick('unfreeze', layers, names);
  setTrainable(picked, true);
  return [...new Set(picked.flatMap((l) => [...l.params.keys()]))];
}

/**
 * Freezes a layer and every layer below it: the whole feature extractor up to that point.
 * Returns the frozen parameters.
 *
 * @example
 * freezeThrough(net.fc2);   // train only the new head
 */
export function freezeThrough(layer: Layer): Tensor[] {
  if (!(layer instanceof Layer)) throw new Error(`freezeThrough: expected a Layer, got ${layer === null ? 'null' : typeof layer}`);
  const below = getAllLayers(layer);
  setTrainable(below, false);
  return getAllParams(below);
}

/** One row of trainableSummary. @example const row: TrainableRow = { layer: 'conv1', params: 156, trainable: false }; */
export interface TrainableRow {
  layer: string;
  params: number;
  trainable: boolean;
}

/**
 * Which layers learn: one row per layer with parameters (below `source`), with its parameter
 * count and whether all of them are trainable. Layer names come from the record keys when the
 * layers have none.
 *
 * @example
 * trainableSummary(net);   // [{ layer: 'conv1', params: 156, trainable: false }, ...]
 */
export function trainableSummary(source: LayerSource): TrainableRow[] {
  const keyOf = new Map<Layer, string>();
  if (!(source instanceof Layer) && !Array.isArray(source)) for (const [k, l] of Object.entries(source)) keyOf.set(l, k);
  return getAllLayers(source)
    .filter((l) => l.params.size > 0)
    .map((l) => ({
      layer: l.name ?? keyOf.get(l) ?? l.label,
      params: [...l.params.keys()].reduce((n, p) => n + p.size, 0),
      trainable: [...l.params.values()].every((t) => t.trainable),
    }));
}
