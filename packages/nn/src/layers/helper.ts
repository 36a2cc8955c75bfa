/**
 * Graph helpers, as in `lasagne.layers.helper`: a network is just its last layer (or a plain
 * object of layers), and these functions walk it.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { Layer, fmtLayerShape, shapeFits, type ForwardOptions, type LayerShape, type ParamTags } from './base.js';
import { InputLayer } from './input.js';

/**
 * Where to start walking: a layer, several layers, or a plain object of layers (the net
 * record of the Lasagne tutorial; its keys name the layers that have no name).
 *
 * @example
 * getAllParams(net);   // the same as getAllParams(Object.values(net))
 */
export type LayerSource = Layer | readonly Layer[] | Readonly<Record<string, Layer>>;

/**
 * Data for `getOutput`: one tensor (when the net has exactly one InputLayer), a Map from
 * layers to tensors (any layer: its output is replaced), or a record keyed by layer name.
 *
 * @example
 * const data = new InputLayer([null, 3], { name: 'data' });
 * const mask = new InputLayer([null, 3], { name: 'mask' });
 * getOutput(new ElemwiseSumLayer([data, mask]), { data: x, mask: y });
 */
export type OutputInputs = Tensor | ReadonlyMap<Layer, Tensor> | Readonly<Record<string, Tensor>>;

function roots(source: LayerSource, fn: string): Layer[] {
  const list = source instanceof Layer ? [source] : Array.isArray(source) ? [...source] : source && typeof source === 'object' ? Object.values(source) : null;
  if (!list || !list.every((l) => l instanceof Layer)) {
    throw new Error(`${fn}: expected a Layer, an array of layers or an object of layers, got ${source === null ? 'null' : typeof source}`);
  }
  return list as Layer[];
}

/**
 * Every layer below (and including) the given ones, each after its inputs; layers in
 * `treatAsInput` are included but not walked past.
 *
 * @example
 * const net = models.lenet5();
 * getAllLayers(net.out).map((l) => l.name);   // ['data', 'conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'fc2', 'out']
 */
export function getAllLayers(source: LayerSource, treatAsInput: Iterable<Layer> = []): Layer[] {
  const stop = new Set(treatAsInput);
  const seen = new Set<Layer>();
  const out: Layer[] = [];
  const stack: [Layer, boolean][] = roots(source, 'getAllLayers')
    .reverse()
    .map((l) => [l, false]);
  while (stack.length) {
    const [layer, expanded] = stack.pop()!;
    if (expanded) {
      out.push(layer);
      continue;
    }
    if (seen.has(layer)) continue;
    seen.add(layer);
    stack.push([layer, true]);
    if (!stop.has(layer)) for (const inp of [...layer.inputLayers].reverse()) if (!seen.has(inp)) stack.push([inp, false]);
  }
  return out;
}

/** Binds the caller's data to layers, with errors that say which layer was meant. */
function bindInputs(all: readonly Layer[], inputs: OutputInputs | undefined): Map<Layer, Tensor> {
  const bound = new Map<Layer, Tensor>();
  if (inputs === undefined) return bound;
  if (inputs instanceof Tensor) {
    const entries = all.filter((l) => l instanceof InputLayer);
    if (entries.length !== 1) {
      throw new Error(
        `getOutput: a single tensor needs a network with exactly one InputLayer, found ${entries.length} (${entries.map((l) => l.label).join(', ') || 'none'}). Pass a Map from layer to tensor`,
      );
    }
    bound.set(entries[0]!, inputs);
  } else if (inputs instanceof Map) {
    for (const [layer, t] of inputs) bound.set(layer, t);
  } else if (inputs && typeof inputs === 'object') {
    for (const [name, t] of Object.entries(inputs)) {
      // Names of layers outside this graph are ignored, as Lasagne ignores extra dict entries:
      // one record can feed several sub-networks. A missing input still fails by name.
      const layer = all.find((l) => l.name === name);
      if (layer) bound.set(layer, t as Tensor);
    }
  } else {
    throw new Error(`getOutput: inputs must be a Tensor, a Map from layer to tensor, or a record keyed by layer name, got ${typeof inputs}`);
  }
  for (const [layer, t] of bound) {
    if (!(t instanceof Tensor)) throw new Error(`getOutput: the input for ${layer.label} is not a Tensor`);
    if (!shapeFits(t.shape, layer.outputShape)) {
      throw new Error(`${layer.label}: got data of shape ${ts.fmtShape(t.shape)}, expected ${fmtLayerShape(layer.outputShape)} (null matches any size)`);
    }
  }
  return bound;
}

/**
 * Computes the output of one layer (or several) for the given data, like Lasagne's
 * `get_output`. Intermediate tensors are freed; only the outputs are returned. Set
 * `deterministic: true` to switch dropout and noise off (evaluation).
 *
 * @example
 * const probs = getOutput(net.out, x, { deterministic: true });
 * const [hidden, logits] = getOutput([net.fc2, net.out], new Map([[net.data, x]]));
 */
export function getOutput(source: Layer, inputs?: OutputInputs, opts?: ForwardOptions): Tensor;
export function getOutput(source: readonly Layer[], inputs?: OutputInputs, opts?: ForwardOptions): Tensor[];
export function getOutput(source: Layer | readonly Layer[], inputs?: OutputInputs, opts: ForwardOptions = {}): Tensor | Tensor[] {
  const targets = roots(source, 'getOutput');
  const probe = getAllLayers(targets);
  const bound = bindInputs(probe, inputs);
  const all = getAllLayers(targets, bound.keys());
  const forward: ForwardOptions = { deterministic: opts.deterministic ?? false };
  const outs = ts.tidy(() => {
    const results = new Map<Layer, Tensor>(bound);
    for (const layer of all) {
      if (results.has(layer)) continue;
      if (layer instanceof InputLayer) layer.getOutputFor(); // throws: no data for this input
      const ins = layer.inputLayers.map((l) => results.get(l)!);
      const declared: LayerShape[] = layer.inputShapes;
      ins.forEach((t, i) => {
        if (!shapeFits(t.shape, declared[i]!)) {
          throw new Error(
            `${layer.label}: got input of shape ${ts.fmtShape(t.shape)} from ${layer.inputLayers[i]!.label}, expected ${fmtLayerShape(declared[i]!)} (null matches any size)`,
          );
        }
      });
      results.set(layer, layer.getOutputFor(ins, forward));
    }
    return targets.map((l) => results.get(l)!);
  });
  return source instanceof Layer ? outs[0]! : outs;
}

/**
 * Parameters of every layer below the given ones, each once, in layer order; tags filter them
 * (`{ trainable: true }`: what optimizers should update).
 *
 * @example
 * const params = getAllParams(net.out, { trainable: true });
 */
export function getAllParams(source: LayerSource, tags: Partial<ParamTags> = {}): Tensor[] {
  const out = new Set<Tensor>();
  for (const layer of getAllLayers(source)) for (const p of layer.getParams(tags)) out.add(p);
  return [...out];
}

/**
 * Number of scalar parameters (with the same tag filter as getAllParams).
 *
 * @example
 * countParams(net.out);   // 61706 for LeNet-5
 */
export function countParams(source: LayerSource, tags: Partial<ParamTags> = {}): number {
  return getAllParams(source, tags).reduce((n, p) => n + p.size, 0);
}

/**
 * Reads every parameter back (waits for the GPU), in getAllParams order.
 *
 * @example
 * const snapshot = await getAllParamValues(net.out);
 */
export async function getAllParamValues(source: LayerSource, tags: Partial<ParamTags> = {}): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of getAllParams(source, tags)) out.push((await p.data()) as Float32Array);
  return out;
}

/**
 * Overwrites every parameter in place (optimizers keep referring to the same tensors), from
 * arrays in getAllParams order, e.g. a snapshot from getAllParamValues.
 *
 * @example
 * const snapshot = await getAllParamValues(net.out);
 * setAllParamValues(net.out, snapshot);   // back to the snapshot, e.g. the best epoch
 */
export function setAllParamValues(source: LayerSource, values: readonly (ArrayLike<number> | Tensor)[], tags: Partial<ParamTags> = {}): void {
  const params = getAllParams(source, tags);
  const names = paramNames(source);
  if (!Array.isArray(values) || values.length !== params.length) {
    throw new Error(
      `setAllParamValues: got ${Array.isArray(values) ? values.length : typeof values} values for ${params.length} parameters (${params.map((p) => names.get(p)).join(', ')})`,
    );
  }
  params.forEach((p, i) => {
    const v = values[i]!;
    const name = names.get(p)!;
    if (v instanceof Tensor) {
      if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j])) {
        throw new Error(`setAllParamValues: value ${i} for '${name}' has shape ${ts.fmtShape(v.shape)}, expected ${ts.fmtShape(p.shape)}`);
      }
      ts.assign(p, v.dtype === 'float32' ? v : ts.tidy(() => v.cast('float32')));
      return;
    }
    if (!v || typeof v.length !== 'number' || v.length !== p.size) {
      throw new Error(
        `setAllParamValues: value ${i} for '${name}' has ${v && typeof v.length === 'number' ? v.length : 'no'} elements, expected ${p.size} (shape ${ts.fmtShape(p.shape)})`,
      );
    }
    const t = ts.tensor(Float32Array.from(v), { shape: p.shape });
    ts.assign(p, t);
    t.dispose();
  });
}

/**
 * Names the layers of a net record after their keys (layers named already keep their name),
 * so errors and saved files say `conv1.W` rather than `conv2d0.W`. Returns the record.
 *
 * @example
 * const data = new InputLayer([null, 784]);
 * const hidden = new DenseLayer(data, 100);
 * const named = nameLayers({ data, hidden, out: new DenseLayer(hidden, 10) });
 * named.hidden.name;   // 'hidden'
 */
export function nameLayers<T extends Readonly<Record<string, Layer>>>(net: T): T {
  for (const [key, layer] of Object.entries(net)) {
    if (!(layer instanceof Layer)) throw new Error(`nameLayers: net.${key} is not a Layer`);
    layer.name ??= key;
  }
  return net;
}

/**
 * Full parameter names `<layer>.<param>` for every parameter below the source: layer names
 * come from the layer, then from the record key, then `<type><k>` (k counting that type).
 * A layer without a name keeps the one it gets here, so one model has one set of names: saving
 * `net` (a record) or `net.out` later writes the same names.
 *
 * @example
 * const net = models.lenet5();
 * [...paramNames(net).values()];   // ['conv1.W', 'conv1.b', ...]
 */
export function paramNames(source: LayerSource): Map<Tensor, string> {
  const keyOf = new Map<Layer, string>();
  if (!(source instanceof Layer) && !Array.isArray(source)) for (const [k, l] of Object.entries(source)) if (!keyOf.has(l)) keyOf.set(l, k);
  const counts = new Map<string, number>();
  const layerName = new Map<Layer, string>();
  const owner = new Map<string, Layer>();
  for (const layer of getAllLayers(source)) {
    const k = counts.get(layer.typeName) ?? 0;
    counts.set(layer.typeName, k + 1);
    const name = layer.name ?? keyOf.get(layer) ?? `${layer.typeName}${k}`;
    const clash = owner.get(name);
    if (clash && layer.params.size && clash.params.size) {
      throw new Error(`paramNames: two layers are named '${name}' (${clash.label} and ${layer.label}); give them distinct names`);
    }
    owner.set(name, layer);
    layerName.set(layer, name);
  }
  for (const [layer, name] of layerName) if (layer.params.size) layer.name ??= name;
  const out = new Map<Tensor, string>();
  for (const [layer, name] of layerName) for (const p of layer.params.keys()) if (!out.has(p)) out.set(p, `${name}.${layer.paramName(p)}`);
  return out;
}

/**
 * Freezes (or unfreezes) the parameters of the given layers only: their `trainable` tag and
 * `requiresGrad` change, so `getAllParams(net, { trainable: true })` and backward skip them.
 *
 * @example
 * setTrainable(net.conv1, false);   // fine-tune the rest
 */
export function setTrainable(layers: Layer | readonly Layer[], trainable: boolean): void {
  for (const layer of roots(layers, 'setTrainable')) {
    for (const [p, tags] of layer.params) {
      tags.trainable = trainable;
      p.requiresGrad = trainable;
      if (!trainable) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }
}

/**
 * Frees the parameters of every layer below the source (shared tensors you passed in stay).
 *
 * @example
 * disposeLayers(net.out);
 */
export function disposeLayers(source: LayerSource): void {
  for (const layer of getAllLayers(source)) layer.dispose();
}
