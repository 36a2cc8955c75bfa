/**
 * Saving and loading parameters as safetensors, so weights move to and from PyTorch
 * (`safetensors.torch.load_file`). Names are `<layer>.<param>` (`conv1.W`); layer names come
 * from the layer, the net record's keys, or `<type><k>` (see `paramNames`).
 *
 * Layouts follow Lasagne: a DenseLayer's W is [in, out], the transpose of a PyTorch Linear's
 * weight; Conv2DLayer's W is [F, C, KH, KW] like PyTorch's Conv2d.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { Layer } from './layers/base.js';
import { paramNames, type LayerSource } from './layers/helper.js';
import { decodeSafetensors, encodeSafetensors, entryToFloat32, type SafetensorsInput } from './safetensors.js';

/**
 * Whose parameters: a network (a layer, layers, or the net record), or tensors by name (a
 * record), or a plain list (named '0', '1', ...).
 *
 * @example
 * const E = ts.randn([1000, 64]);
 * const W = ts.randn([64, 10]);
 * await saveParams({ embedding: E, 'head.W': W });
 */
export type ParamsTarget = LayerSource | readonly Tensor[] | Readonly<Record<string, Tensor>>;

/** Resolves a target to name -> tensor, in a stable order. */
function namedParams(fn: string, target: ParamsTarget): Map<string, Tensor> {
  const isRecord = target && typeof target === 'object' && !Array.isArray(target) && !(target instanceof Layer);
  const values: unknown[] = target instanceof Layer ? [target] : Array.isArray(target) ? target : isRecord ? Object.values(target) : [];
  if (values.length && values.every((v) => v instanceof Tensor)) {
    const entries = isRecord ? Object.entries(target as Record<string, Tensor>) : (target as Tensor[]).map((t, i) => [String(i), t] as const);
    return new Map(entries);
  }
  if (!values.every((v) => v instanceof Layer)) {
    throw new Error(
      `${fn}: expected a layer, layers, a net record of layers, or tensors (a list or a record), got ${target === null ? 'null' : typeof target}`,
    );
  }
  const out = new Map<string, Tensor>();
  for (const [t, name] of paramNames(target as LayerSource)) out.set(name, t);
  return out;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function nodeIO(fn: string, path: string) {
  if (!isNode()) throw new Error(`${fn}: file paths ('${path}') need Node; in a browser, pass or take the bytes (Uint8Array) instead`);
  return import('./node-io.js');
}

/**
 * The bytes of a parameter source (a file path in Node, a Uint8Array or an ArrayBuffer) and how
 * errors should name it (`loadParams: 'net.safetensors'`). Shared by every loader in this
 * package so they all accept the same sources and fail the same way. Internal: not re-exported.
 *
 * @example
 * const { bytes, where } = await readParamSource('loadTorchStateDict', 'model.safetensors');
 */
export async function readParamSource(fn: string, source: Uint8Array | ArrayBuffer | string): Promise<{ bytes: Uint8Array; where: string }> {
  if (typeof source === 'string') return { bytes: await (await nodeIO(fn, source)).readBytes(fn, source), where: `${fn}: '${source}'` };
  if (source instanceof Uint8Array) return { bytes: source, where: fn };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), where: fn };
  throw new Error(`${fn}: expected a file path, a Uint8Array or an ArrayBuffer, got ${source === null ? 'null' : typeof source}`);
}

/**
 * Writes bytes to a file (Node only; a clear error in a browser). Internal: not re-exported.
 *
 * @example
 * await writeParamFile('exportTorchStateDict', 'model.safetensors', bytes);
 */
export async function writeParamFile(fn: string, file: string, bytes: Uint8Array): Promise<void> {
  await (await nodeIO(fn, file)).writeBytes(fn, file, bytes);
}

/** Options of saveParams. @example await saveParams(net, 'net.safetensors', { metadata: { epoch: '3' } }) */
export interface SaveOptions {
  /** String metadata stored in the header's `__metadata__`. */
  metadata?: Record<string, string>;
}

/**
 * Reads every parameter back and encodes them as safetensors; with a file path (Node), also
 * writes the file. Returns the bytes either way.
 *
 * @example
 * await saveParams(net, 'lenet.safetensors');           // names like conv1.W, conv1.b, ...
 * const bytes = await saveParams(net.out);               // browser: keep or download the bytes
 */
export async function saveParams(target: ParamsTarget, file?: string, opts: SaveOptions = {}): Promise<Uint8Array> {
  const fn = 'saveParams';
  const named = namedParams(fn, target);
  const tensors = new Map<string, SafetensorsInput>();
  for (const [name, t] of named) {
    if (t.disposed) throw new Error(`${fn}: parameter '${name}' was already disposed`);
    tensors.set(name, { shape: t.shape, data: await t.data() });
  }
  const bytes = encodeSafetensors(tensors, { producer: '@tessera/nn', ...opts.metadata });
  if (file !== undefined) await writeParamFile(fn, file, bytes);
  return bytes;
}

/** Options of loadParams. @example await loadParams(net, bytes, { strict: false }) */
export interface LoadOptions {
  /** When true (the default), tensors in the file that the target lacks are an error too. */
  strict?: boolean;
}

/**
 * Loads safetensors bytes (or a file, in Node) into the target's parameters, in place.
 * Everything is checked before anything is written: a missing tensor, a shape mismatch, a
 * dtype other than F32, unexpected extra tensors (unless `strict: false`) and a truncated or
 * corrupt file each throw an error naming the tensor.
 *
 * @example
 * await loadParams(net, 'lenet.safetensors');
 * await loadParams(net.out, bytes, { strict: false });
 */
export async function loadParams(target: ParamsTarget, source: Uint8Array | ArrayBuffer | string, opts: LoadOptions = {}): Promise<void> {
  const fn = 'loadParams';
  const named = namedParams(fn, target);
  const { bytes, where } = await readParamSource(fn, source);
  const file = decodeSafetensors(bytes, where);
  const missing = [...named.keys()].filter((n) => !file.tensors.has(n));
  if (missing.length) {
    throw new Error(
      `${where}: missing tensor(s) ${missing.map((n) => `'${n}'`).join(', ')}; the file has ${[...file.tensors.keys()].map((n) => `'${n}'`).join(', ') || 'none'}`,
    );
  }
  if (opts.strict ?? true) {
    const extra = [...file.tensors.keys()].filter((n) => !named.has(n));
    if (extra.length)
      throw new Error(
        `${where}: unexpected tensor(s) ${extra.map((n) => `'${n}'`).join(', ')} that the network does not have. Pass { strict: false } to ignore them`,
      );
  }
  const values = new Map<Tensor, Float32Array>();
  for (const [name, t] of named) {
    const entry = file.tensors.get(name)!;
    if (entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(`${where}: tensor '${name}' has shape ${ts.fmtShape(entry.shape)} in the file, but the parameter is ${ts.fmtShape(t.shape)}`);
    }
    if (t.disposed) throw new Error(`${where}: parameter '${name}' was already disposed`);
    values.set(t, entryToFloat32(name, entry, where));
  }
  for (const [t, data] of values) {
    const tmp = ts.tensor(data, { shape: t.shape });
    ts.assign(t, tmp);
    tmp.dispose();
  }
}
