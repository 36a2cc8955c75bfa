/**
 * PyTorch interchange: load a `state_dict` saved as safetensors (what
 * `safetensors.torch.save_file(model.state_dict(), path)` writes) into a Tessera network, and
 * export a network back in PyTorch's names and layouts.
 *
 * Two things differ between the frameworks, and this module bridges both:
 * - names: PyTorch says `conv1.weight` / `conv1.bias`, Tessera (after Lasagne) `conv1.W` /
 *   `conv1.b`. The default map renames the last part only; `nameMap` renames modules or whole
 *   tensors for other layouts (`{ fc3: 'out' }`, `{ 'features.0': 'conv1' }`, or a function);
 * - layouts: a torch `Linear` stores its weight as [out, in], a DenseLayer as [in, out]
 *   (`x @ W`), so dense weights are transposed on the way in and out. Convolution weights are
 *   [F, C, KH, KW] in both and are copied as they are.
 *
 * A BatchNorm module maps onto a BatchNormLayer: `weight` -> `gamma`, `bias` -> `beta`,
 * `running_mean` -> `mean`, `running_var` -> `var`. Its `num_batches_tracked` counter (int64) has
 * no Tessera counterpart: loading skips it, and exporting leaves it out (the safetensors writer
 * has no int64, and PyTorch's BatchNorm fills in 0 when it is missing, even with strict loading).
 *
 * Browser-safe: a file path needs Node, bytes work everywhere.
 */
import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { Layer } from './layers/base.js';
import { DenseLayer } from './layers/dense.js';
import { getAllLayers, paramNames, type LayerSource } from './layers/helper.js';
import { BatchNormLayer } from './layers/normalization.js';
import { readParamSource, writeParamFile } from './params-io.js';
import { decodeSafetensors, encodeSafetensors, entryToFloat32, type SafetensorsEntry, type SafetensorsInput } from './safetensors.js';

/**
 * A renaming function: gets a tensor name and the name the default rule would give it, returns
 * the new name, `undefined` to keep the default, or `null` to skip the tensor. In
 * `loadTorchStateDict` it maps PyTorch names to Tessera ones; in `exportTorchStateDict`,
 * Tessera names to PyTorch ones.
 *
 * @example
 * const skipBnCounters: TorchNameFn = (name) => (name.endsWith('num_batches_tracked') ? null : undefined);
 */
export type TorchNameFn = (name: string, defaultName: string) => string | null | undefined;

/**
 * How PyTorch names relate to Tessera names. An object maps PyTorch to Tessera, by whole tensor
 * (`{ 'fc3.weight': 'out.W' }`) or by module prefix (`{ fc3: 'out' }`, then `.weight` -> `.W`
 * as usual); export inverts it. A function is applied as described at `TorchNameFn`.
 *
 * @example
 * await loadTorchStateDict(net, bytes, { nameMap: { fc3: 'out' } });
 */
export type TorchNameMap = Readonly<Record<string, string>> | TorchNameFn;

/** Options of loadTorchStateDict. @example const opts: TorchLoadOptions = { nameMap: { fc3: 'out' }, strict: false }; */
export interface TorchLoadOptions {
  /** Renames tensors (see TorchNameMap); default: `<module>.weight` -> `<module>.W`, `.bias` -> `.b`. */
  nameMap?: TorchNameMap;
  /** Transpose the weights of DenseLayers from torch's [out, in] (default true). */
  transposeLinear?: boolean;
  /** When true (the default), tensors in the file that the network lacks are an error. */
  strict?: boolean;
}

/** Options of exportTorchStateDict. @example const opts: TorchExportOptions = { nameMap: { fc3: 'out' }, metadata: { epoch: '3' } }; */
export interface TorchExportOptions {
  /** The same map as for loading (an object is inverted); a function maps Tessera -> PyTorch names. */
  nameMap?: TorchNameMap;
  /** Transpose DenseLayer weights to torch's [out, in] (default true). */
  transposeLinear?: boolean;
  /** Header metadata; default `{ format: 'pt' }`, which Hugging Face loaders look for. */
  metadata?: Record<string, string>;
}

const TO_TESSERA: Readonly<Record<string, string>> = { weight: 'W', bias: 'b' };
const TO_TORCH: Readonly<Record<string, string>> = { W: 'weight', b: 'bias' };
/** The attributes of a BatchNorm module / BatchNormLayer. */
const BN_TO_TESSERA: Readonly<Record<string, string>> = { weight: 'gamma', bias: 'beta', running_mean: 'mean', running_var: 'var' };
const BN_TO_TORCH: Readonly<Record<string, string>> = { gamma: 'weight', beta: 'bias', mean: 'running_mean', var: 'running_var' };
/** PyTorch's int64 BatchNorm counter, skipped on load. */
const BN_COUNTER = 'num_batches_tracked';

function splitName(name: string): [string, string] {
  const i = name.lastIndexOf('.');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
}

const joinName = (prefix: string, attr: string): string => (prefix ? `${prefix}.${attr}` : attr);
const own = (map: Readonly<Record<string, string>>, key: string): boolean => Object.hasOwn(map, key);

/**
 * The Tessera name of a PyTorch tensor under an object map (or none): a whole-name entry wins,
 * then a module entry, then the default rule. `batchNormLayers` names the network's
 * BatchNormLayers, whose attributes map as a BatchNorm module's (`weight` -> `gamma`, ...).
 *
 * @example
 * tesseraNameOf('fc3.weight', { fc3: 'out' });   // 'out.W'
 * tesseraNameOf('conv1.bias');                   // 'conv1.b'
 * tesseraNameOf('bn1.running_var', {}, new Set(['bn1']));   // 'bn1.var'
 */
export function tesseraNameOf(torchName: string, nameMap: Readonly<Record<string, string>> = {}, batchNormLayers?: ReadonlySet<string>): string {
  if (own(nameMap, torchName)) return nameMap[torchName]!;
  const [module, attr] = splitName(torchName);
  const layer = module && own(nameMap, module) ? nameMap[module]! : module;
  const attrs = batchNormLayers?.has(layer) ? BN_TO_TESSERA : TO_TESSERA;
  return joinName(layer, attrs[attr] ?? attr);
}

/**
 * The PyTorch name of a Tessera parameter under an object map (or none): the inverse of
 * `tesseraNameOf`, with the same `batchNormLayers`.
 *
 * @example
 * torchNameOf('out.W', { fc3: 'out' });   // 'fc3.weight'
 * torchNameOf('bn1.gamma', {}, new Set(['bn1']));   // 'bn1.weight'
 */
export function torchNameOf(tesseraName: string, nameMap: Readonly<Record<string, string>> = {}, batchNormLayers?: ReadonlySet<string>): string {
  const entries = Object.entries(nameMap);
  const whole = entries.find(([, v]) => v === tesseraName);
  if (whole) return whole[0];
  const [layer, attr] = splitName(tesseraName);
  const module = entries.find(([, v]) => v === layer)?.[0] ?? layer;
  const attrs = batchNormLayers?.has(layer) ? BN_TO_TORCH : TO_TORCH;
  return joinName(module, attrs[attr] ?? attr);
}

/**
 * Throws unless `map` is undefined, a function, or an object whose values are all strings: a
 * number or null there would otherwise become a parameter name, or silently skip a tensor.
 * `where` starts the message, as every error of the loaders does.
 */
function checkNameMap(where: string, map: unknown): void {
  if (map === undefined || typeof map === 'function') return;
  if (map === null || typeof map !== 'object') throw new Error(`${where}: nameMap must be an object or a function, got ${map === null ? 'null' : typeof map}`);
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') throw new Error(`${where}: nameMap['${k}'] is ${v === null ? 'null' : typeof v}; expected a string (a name)`);
  }
}

function mapName(where: string, name: string, map: TorchNameMap | undefined, dir: 'in' | 'out', bn: ReadonlySet<string>): string | null {
  if (typeof map === 'function') {
    const def = dir === 'in' ? tesseraNameOf(name, {}, bn) : torchNameOf(name, {}, bn);
    const got = map(name, def);
    if (got !== null && got !== undefined && typeof got !== 'string') {
      throw new Error(`${where}: nameMap returned ${typeof got} for '${name}'; expected a string, null (skip) or undefined (default '${def}')`);
    }
    return got === undefined ? def : got;
  }
  return dir === 'in' ? tesseraNameOf(name, map, bn) : torchNameOf(name, map, bn);
}

/** A network parameter with its full name, and whether it is a dense weight ([in, out]). */
interface Target {
  tensor: Tensor;
  dense: boolean;
}

/** The names of the network's BatchNormLayers, as they prefix their parameters. */
function batchNormNames(net: LayerSource): Set<string> {
  const names = paramNames(net);
  const out = new Set<string>();
  for (const layer of getAllLayers(net)) if (layer instanceof BatchNormLayer) out.add(splitName(names.get(layer.mean)!)[0]);
  return out;
}

function targets(fn: string, net: LayerSource): Map<string, Target> {
  const list = net instanceof Layer ? [net] : Array.isArray(net) ? net : net && typeof net === 'object' ? Object.values(net) : [];
  if (!list.length || !list.every((l) => l instanceof Layer)) {
    throw new Error(`${fn}: expected a layer, layers or a net record of layers, got ${net === null ? 'null' : typeof net}`);
  }
  const denseW = new Set<Tensor>();
  for (const layer of getAllLayers(net)) if (layer instanceof DenseLayer) denseW.add(layer.W);
  const out = new Map<string, Target>();
  for (const [tensor, name] of paramNames(net)) out.set(name, { tensor, dense: denseW.has(tensor) });
  return out;
}

/** Row-major [rows, cols] -> [cols, rows], on the CPU (exact: values are only moved). */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * An entry as float32. PyTorch checkpoints are often half precision, so F16, BF16 and F64 are
 * converted (rounded to float32); integer and bool tensors are an error naming the tensor.
 */
function toFloat32(name: string, entry: SafetensorsEntry, where: string): Float32Array {
  const view = new DataView(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
  switch (entry.dtype) {
    case 'F32':
      return entryToFloat32(name, entry, where);
    case 'F64':
      return Float32Array.from({ length: entry.bytes.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
    case 'F16':
      return Float32Array.from({ length: entry.bytes.length / 2 }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16': {
      const bits = new Uint32Array(entry.bytes.length / 2);
      for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new Error(`${where}: tensor '${name}' has dtype ${entry.dtype}; expected a floating-point tensor (F32, F16, BF16 or F64)`);
  }
}

const fmt = (shape: readonly number[]): string => ts.fmtShape(shape);
/** Items for a message (already quoted), at most `max` of them. */
const list = (items: readonly string[], max = 12): string =>
  items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ') || 'none';
const q = (name: string): string => `'${name}'`;

/**
 * Loads a PyTorch `state_dict` saved as safetensors into a network's parameters, in place:
 * renames (`conv1.weight` -> `conv1.W`, or per `nameMap`), transposes dense weights from
 * torch's [out, in], and converts F16 / BF16 / F64 to float32. Everything is checked before
 * anything is written; a missing tensor, a shape mismatch, a non-float dtype, an unexpected
 * extra tensor (unless `strict: false`) and a truncated file each throw an error that names the
 * tensor in both spellings.
 *
 * @example
 * // PyTorch: safetensors.torch.save_file(model.state_dict(), 'lenet.safetensors')
 * const net = nn.models.lenet5();
 * await loadTorchStateDict(net, 'lenet.safetensors', { nameMap: { fc3: 'out' } });
 */
export async function loadTorchStateDict(net: LayerSource, source: Uint8Array | ArrayBuffer | string, opts: TorchLoadOptions = {}): Promise<void> {
  const fn = 'loadTorchStateDict';
  const params = targets(fn, net);
  const bn = batchNormNames(net);
  const { bytes, where } = await readParamSource(fn, source);
  const file = decodeSafetensors(bytes, where);
  checkNameMap(where, opts.nameMap);
  const transpose = opts.transposeLinear ?? true;
  const objectMap = typeof opts.nameMap === 'function' ? undefined : opts.nameMap;

  const torchFor = new Map<string, string>(); // Tessera name -> PyTorch name
  const extra: string[] = [];
  for (const torchName of file.tensors.keys()) {
    const ours = mapName(where, torchName, opts.nameMap, 'in', bn);
    if (ours === null || (splitName(torchName)[1] === BN_COUNTER && !params.has(ours))) continue;
    const clash = torchFor.get(ours);
    if (clash !== undefined) throw new Error(`${where}: tensors '${clash}' and '${torchName}' both map to parameter '${ours}'; check nameMap`);
    if (params.has(ours)) torchFor.set(ours, torchName);
    else extra.push(ours === torchName ? q(torchName) : `${q(torchName)} (as ${q(ours)})`);
  }
  const missing = [...params.keys()].filter((n) => !torchFor.has(n));
  if (missing.length) {
    // With a function map the expected PyTorch name is unknowable; with an object map it is exact.
    const want = missing.map((n) =>
      typeof opts.nameMap === 'function' ? `${q(n)} (no tensor maps to it)` : `${q(torchNameOf(n, objectMap, bn))} (for parameter ${q(n)})`,
    );
    throw new Error(
      `${where}: missing tensor(s) ${list(want)}; the file has ${list([...file.tensors.keys()].map(q))}. Pass nameMap to rename tensors of another layout`,
    );
  }
  if (extra.length && (opts.strict ?? true)) {
    throw new Error(
      `${where}: unexpected tensor(s) ${list(extra)} that the network does not have. Pass { strict: false } to skip them, or nameMap to rename them`,
    );
  }

  const values = new Map<Tensor, Float32Array>();
  for (const [ours, { tensor, dense }] of params) {
    const torchName = torchFor.get(ours)!;
    const entry = file.tensors.get(torchName)!;
    const flip = transpose && dense;
    const expected = flip ? [...tensor.shape].reverse() : tensor.shape;
    if (entry.shape.length !== expected.length || entry.shape.some((d, i) => d !== expected[i])) {
      const why = flip ? ` (a torch Linear weight is [out, in]; '${ours}' is [in, out] ${fmt(tensor.shape)})` : '';
      throw new Error(`${where}: tensor '${torchName}' has shape ${fmt(entry.shape)} in the file, but parameter '${ours}' needs ${fmt(expected)}${why}`);
    }
    if (tensor.disposed) throw new Error(`${where}: parameter '${ours}' was already disposed`);
    const data = toFloat32(torchName, entry, where);
    values.set(tensor, flip ? transpose2d(data, expected[0]!, expected[1]!) : data);
  }
  for (const [t, data] of values) {
    const tmp = ts.tensor(data, { shape: t.shape });
    ts.assign(t, tmp);
    tmp.dispose();
  }
}

/**
 * Exports a network's parameters as a PyTorch `state_dict` in safetensors form, the inverse of
 * `loadTorchStateDict`: PyTorch names, dense weights transposed to [out, in], tensors sorted by
 * name with `{ format: 'pt' }` metadata, as `safetensors.torch.save_file` lays them out. With a
 * file path (Node) it also writes the file. Returns the bytes.
 *
 * @example
 * const bytes = await exportTorchStateDict(net, { nameMap: { fc3: 'out' } });
 * // PyTorch: model.load_state_dict(safetensors.torch.load_file('lenet.safetensors'))
 * await exportTorchStateDict(net, 'lenet.safetensors');
 */
export async function exportTorchStateDict(
  net: LayerSource,
  fileOrOpts?: string | TorchExportOptions,
  maybeOpts: TorchExportOptions = {},
): Promise<Uint8Array> {
  const fn = 'exportTorchStateDict';
  const file = typeof fileOrOpts === 'string' ? fileOrOpts : undefined;
  const opts = typeof fileOrOpts === 'object' && fileOrOpts !== null ? fileOrOpts : maybeOpts;
  const params = targets(fn, net);
  const bn = batchNormNames(net);
  checkNameMap(fn, opts.nameMap);
  const transpose = opts.transposeLinear ?? true;
  const out = new Map<string, SafetensorsInput>();
  const owner = new Map<string, string>(); // PyTorch name -> Tessera name
  for (const [ours, { tensor, dense }] of params) {
    const torchName = mapName(fn, ours, opts.nameMap, 'out', bn);
    if (torchName === null) continue;
    const clash = owner.get(torchName);
    if (clash !== undefined) throw new Error(`${fn}: parameters '${clash}' and '${ours}' both map to '${torchName}'; check nameMap`);
    owner.set(torchName, ours);
    if (tensor.disposed) throw new Error(`${fn}: parameter '${ours}' was already disposed`);
    const data = (await tensor.data()) as Float32Array;
    const flip = transpose && dense;
    const [rows, cols] = tensor.shape as [number, number];
    out.set(torchName, flip ? { shape: [cols, rows], data: transpose2d(data, rows, cols) } : { shape: tensor.shape, data });
  }
  // safetensors' writer orders tensors by dtype, then name; all ours are F32, so by name.
  const sorted = new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const bytes = encodeSafetensors(sorted, opts.metadata ?? { format: 'pt' });
  if (file !== undefined) await writeParamFile(fn, file, bytes);
  return bytes;
}
