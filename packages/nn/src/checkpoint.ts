/**
 * Checkpoints: everything a training run needs to continue exactly where it stopped, in one
 * safetensors file.
 *
 * - The parameters, under the names `saveParams` gives them (`conv1.W`), so PyTorch's
 *   `safetensors.torch.load_file` and `nn.loadParams(net, file, { strict: false })` read the
 *   weights as from any weights file.
 * - The optimizer's state tensors as `optim.<param>.<slot>` with torch.optim's slot names
 *   (`optim.conv1.W.exp_avg`), see `Optimizer.state()`.
 * - `__metadata__` (strings, as the format requires): `format` 'tessera.checkpoint',
 *   `format_version`, `step`, `epoch`, `rng` (JSON: the data order's seed, the position within
 *   the epoch, the batch size), `noise` (JSON: the draw counters of seeded dropout and noise
 *   layers), `optimizer` (JSON: kind, learning rate, settings, step counts) and `extra` (JSON,
 *   yours).
 *
 * In Node a path is written atomically (a temporary file, fsync, rename over the target, fsync
 * of the directory): a process killed while writing leaves the previous checkpoint whole. In a
 * browser, take the bytes (or pass a FileSystemFileHandle, which the browser swaps in whole).
 *
 * Not saved: learning-rate schedule objects (keep their counters in `extra`), and the stream of
 * unseeded random ops (`ts.rand` without a seed, dropout without `seed`): give noise layers a
 * seed for an exact resume.
 */
import * as ts from '@tessera/core';
import { opError, type Tensor } from '@tessera/core';
import { Layer } from './layers/base.js';
import { getAllLayers, paramNames, type LayerSource } from './layers/helper.js';
import { DropoutLayer, GaussianNoiseLayer } from './layers/noise.js';
import { readParamSource } from './params-io.js';
import { decodeSafetensors, encodeSafetensors, entryToFloat32, type SafetensorsFile, type SafetensorsInput } from './safetensors.js';
import type { Optimizer, OptimizerState } from './updates.js';

/** The `format` metadata of a checkpoint. @example decodeSafetensors(bytes).metadata.format === nn.CHECKPOINT_FORMAT */
export const CHECKPOINT_FORMAT = 'tessera.checkpoint';
/** The `format_version` this release writes (and the newest it reads). @example nn.CHECKPOINT_VERSION   // 1 */
export const CHECKPOINT_VERSION = 1;

const OPTIM = 'optim.';

/** Where the data order stands. @example const rng: nn.CheckpointRng = { seed: 1, position: 12, batchSize: 64 }; */
export interface CheckpointRng {
  /** The seed of the shuffles (fit's `seed`). */
  seed?: number | undefined;
  /** Batches of `epoch` already trained, in that epoch's seeded order (0 at an epoch boundary). */
  position?: number | undefined;
  /** The batch size `position` counts in. */
  batchSize?: number | undefined;
}

/** What `saveCheckpoint` saves. @example const s: nn.CheckpointState = { net, optimizer: nn.updates.adam(net.out), step: 100, epoch: 1 }; */
export interface CheckpointState {
  /** The network (as `saveParams` takes it: a layer, layers, or the net record). */
  net: LayerSource;
  /** Its optimizer; without one, the checkpoint holds the weights and the position only. */
  optimizer?: Optimizer | null | undefined;
  /** Optimizer steps taken over the whole run. */
  step: number;
  /** The epoch in progress (from 0): with `rng.position` 0, the number of finished epochs. */
  epoch: number;
  rng?: CheckpointRng | undefined;
  /** Anything JSON can hold (a schedule's counter, the command line), returned by `loadCheckpoint`. */
  extra?: unknown;
}

/** What `loadCheckpoint` returns. @example const { epoch, rng }: nn.LoadedCheckpoint = await nn.loadCheckpoint('run.ckpt', { net }); */
export interface LoadedCheckpoint {
  step: number;
  epoch: number;
  rng: CheckpointRng & { position: number };
  /** The `extra` saved, parsed (undefined if none). */
  extra: unknown;
  /** The kind of optimizer whose state the file holds ('adam'), or null. */
  optimizer: string | null;
  /** The file's `format_version`. */
  version: number;
}

/** Options of `loadCheckpoint`. @example const o: nn.LoadCheckpointOptions = { net, optimizer: nn.updates.adam(net.out) }; */
export interface LoadCheckpointOptions {
  /** The network to load into: built as the saved one was (same layers, names, shapes). */
  net: LayerSource;
  /** The optimizer to restore, of the saved kind and settings; without it only the weights load. */
  optimizer?: Optimizer | null | undefined;
}

/** Where `saveCheckpoint` writes: a path (Node), a browser file handle, or nowhere (bytes only). @example const t: nn.CheckpointTarget = 'run.ckpt'; */
export type CheckpointTarget = string | FileSystemFileHandle | null | undefined;

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** Seeded noise layers by name (the scheme of `paramNames`: the layer's name, its key, or `<type><k>`). */
function noiseLayers(net: LayerSource): Map<string, DropoutLayer | GaussianNoiseLayer> {
  const keyOf = new Map<Layer, string>();
  if (!Array.isArray(net) && !(net instanceof Layer)) for (const [k, l] of Object.entries(net as Record<string, Layer>)) if (!keyOf.has(l)) keyOf.set(l, k);
  const counts = new Map<string, number>();
  const out = new Map<string, DropoutLayer | GaussianNoiseLayer>();
  for (const layer of getAllLayers(net)) {
    const k = counts.get(layer.typeName) ?? 0;
    counts.set(layer.typeName, k + 1);
    if (layer instanceof DropoutLayer || layer instanceof GaussianNoiseLayer) out.set(layer.name ?? keyOf.get(layer) ?? `${layer.typeName}${k}`, layer);
  }
  return out;
}

/**
 * Saves a training run's state (see the module note for the layout): the parameters, the
 * optimizer state, the step, the epoch and the data order's position, and your `extra`. With
 * a path (Node), writes the file atomically, so an interrupted write leaves the previous
 * checkpoint intact; with a FileSystemFileHandle (browser), writes through it. Returns the
 * bytes either way.
 *
 * @example
 * const opt = nn.updates.adam(net.out);
 * await nn.saveCheckpoint('run.ckpt', { net, optimizer: opt, step: 600, epoch: 1, rng: { seed: 1, position: 0 } });
 * const bytes = await nn.saveCheckpoint(null, { net, optimizer: opt, step: 600, epoch: 1 });   // browser: store them
 */
export async function saveCheckpoint(target: CheckpointTarget, state: CheckpointState): Promise<Uint8Array> {
  const fn = 'saveCheckpoint';
  if (!state || typeof state !== 'object') throw opError(fn, 'expected { net, optimizer, step, epoch, ... }');
  const { net, optimizer, step, epoch, rng = {}, extra } = state;
  if (!isInt(step)) throw opError(fn, `step must be an integer >= 0, got ${String(step)}`);
  if (!isInt(epoch)) throw opError(fn, `epoch must be an integer >= 0, got ${String(epoch)}`);
  if (rng.position !== undefined && !isInt(rng.position)) throw opError(fn, `rng.position must be an integer >= 0, got ${String(rng.position)}`);
  const names = paramNames(net);
  const reads: [string, Tensor][] = [];
  for (const [t, name] of names) {
    if (name.startsWith(OPTIM)) throw opError(fn, `parameter '${name}' starts with '${OPTIM}', which checkpoints keep for the optimizer`, 'Rename the layer');
    if (t.disposed) throw opError(fn, `parameter '${name}' was already disposed`);
    reads.push([name, t]);
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    producer: '@tessera/nn',
    step: String(step),
    epoch: String(epoch),
    rng: JSON.stringify({ ...rng, position: rng.position ?? 0 }),
    noise: JSON.stringify(Object.fromEntries([...noiseLayers(net)].map(([n, l]) => [n, l.calls]))),
  };
  if (optimizer) {
    const { tensors, ...settings } = optimizer.state(names);
    for (const [key, t] of tensors) reads.push([key, t]);
    metadata.optimizer = JSON.stringify(settings);
  }
  if (extra !== undefined) {
    try {
      metadata.extra = JSON.stringify(extra);
    } catch (e) {
      throw opError(fn, `extra must be JSON-serialisable (${(e as Error).message})`);
    }
  }
  // All reads queued at once: one round trip to the device rather than one per tensor.
  const values = await Promise.all(reads.map(([, t]) => t.data()));
  const tensors = new Map<string, SafetensorsInput>(reads.map(([name, t], i) => [name, { shape: t.shape, data: values[i]! }]));
  const bytes = encodeSafetensors(tensors, metadata);
  if (typeof target === 'string') await writeAtomic(fn, target, bytes);
  else if (target) {
    const w = await target.createWritable();
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
  }
  return bytes;
}

/** Imports a Node module without bundlers following it (this file also runs in browsers). */
async function nodeModule<T>(spec: string): Promise<T> {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof p?.versions?.node !== 'string') throw new Error(`a file path needs Node (in a browser, pass a FileSystemFileHandle or null and keep the bytes)`);
  return (await import(/* @vite-ignore */ spec)) as T;
}

/**
 * Writes `file` so that it is never seen half-written: the bytes go to `<file>.tmp-<pid>`,
 * are flushed to the disk, and the temporary file is renamed over the target (atomic on POSIX
 * and NTFS); the directory is then synced so the rename itself survives a power cut.
 */
async function writeAtomic(fn: string, file: string, bytes: Uint8Array): Promise<void> {
  let fs: typeof import('node:fs/promises');
  let path: typeof import('node:path');
  try {
    [fs, path] = await Promise.all([nodeModule<typeof import('node:fs/promises')>('node:fs/promises'), nodeModule<typeof import('node:path')>('node:path')]);
  } catch (e) {
    throw opError(fn, `cannot write '${file}': ${(e as Error).message}`);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.unlink(tmp).catch(() => {});
    throw opError(fn, `cannot write '${file}': ${(e as Error).message}`, 'The previous checkpoint there, if any, is intact');
  }
  try {
    const dir = await fs.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some systems (Windows) cannot open or sync a directory; the file itself is complete.
  }
}

function parseJson(where: string, meta: Record<string, string>, key: string): unknown {
  if (meta[key] === undefined) return undefined;
  try {
    return JSON.parse(meta[key]);
  } catch (e) {
    throw new Error(`${where}: corrupt metadata '${key}': ${(e as Error).message}`);
  }
}

function metaInt(where: string, meta: Record<string, string>, key: string): number {
  const v = Number(meta[key]);
  if (meta[key] === undefined || !isInt(v)) throw new Error(`${where}: metadata '${key}' must be an integer >= 0, got ${JSON.stringify(meta[key])}`);
  return v;
}

/**
 * Loads a checkpoint of `saveCheckpoint` (a path in Node, or the bytes) into `net` and, when
 * given, `optimizer`, in place, and returns where the run stood: `step`, `epoch`, `rng`
 * (seed and position in the epoch) and `extra`. Everything is checked before anything is
 * written: a file that is not a checkpoint, a missing or extra tensor, a shape mismatch
 * (expected and found), another kind of optimizer or other optimizer settings each throw an
 * error naming the file and the tensor. Seeded dropout and noise layers get their draw
 * counters back, so their masks continue the saved sequence.
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const train = await loadMnist({ split: 'train', limit: 2000, normalize: 'standard' });
 * const net = nn.models.lenet5({ seed: 1 });
 * const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
 * const { epoch, rng } = await nn.loadCheckpoint('run.ckpt', { net, optimizer: opt });
 * await nn.fit({ net, optimizer: opt, data: train, epochs: 5, seed: rng.seed, initialEpoch: epoch, initialStep: rng.position });
 * // (nn.fit({ ..., resumeFrom: 'run.ckpt' }) does the same in one go)
 */
export async function loadCheckpoint(source: string | Uint8Array | ArrayBuffer, opts: LoadCheckpointOptions): Promise<LoadedCheckpoint> {
  const fn = 'loadCheckpoint';
  if (!opts || typeof opts !== 'object' || !opts.net) throw opError(fn, 'expected options { net, optimizer? }');
  const { bytes, where } = await readParamSource(fn, source);
  return loadDecoded(decodeSafetensors(bytes, where), where, opts, () => {});
}

/** `loadCheckpoint` on a decoded file; `check` sees where the run stood before anything is written. */
async function loadDecoded(
  file: SafetensorsFile,
  where: string,
  opts: LoadCheckpointOptions,
  check: (at: Omit<LoadedCheckpoint, 'extra' | 'optimizer'>) => void,
): Promise<LoadedCheckpoint> {
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${where}: not a Tessera checkpoint (no format '${CHECKPOINT_FORMAT}' in its metadata). A weights file of nn.saveParams loads with nn.loadParams`,
    );
  }
  const version = metaInt(where, meta, 'format_version');
  if (version < 1 || version > CHECKPOINT_VERSION) {
    throw new Error(`${where}: checkpoint format version ${version}; this Tessera reads versions 1 to ${CHECKPOINT_VERSION} (update @tessera/nn)`);
  }
  const step = metaInt(where, meta, 'step');
  const epoch = metaInt(where, meta, 'epoch');
  const rng = (parseJson(where, meta, 'rng') ?? {}) as CheckpointRng;
  const position = rng.position ?? 0;
  if (!isInt(position)) throw new Error(`${where}: metadata 'rng' has an invalid position ${JSON.stringify(rng.position)}`);
  const settings = parseJson(where, meta, 'optimizer') as Omit<OptimizerState, 'tensors'> | undefined;
  check({ step, epoch, rng: { ...rng, position }, version });

  // The parameters: every problem at once, expected vs found.
  const names = paramNames(opts.net);
  const byName = new Map([...names].map(([t, n]) => [n, t]));
  const problems: string[] = [];
  const values = new Map<Tensor, Float32Array>();
  const optim = new Map<string, Float32Array>();
  const shapeProblem = (name: string, found: readonly number[], expected: readonly number[], what: string) =>
    found.length !== expected.length || found.some((d, i) => d !== expected[i])
      ? `tensor '${name}' is ${ts.fmtShape(found)} in the file but ${what} is ${ts.fmtShape(expected)}`
      : null;
  for (const [t, name] of names) {
    const entry = file.tensors.get(name);
    if (!entry) problems.push(`tensor '${name}' ${ts.fmtShape(t.shape)} is missing`);
    else if (t.disposed) problems.push(`parameter '${name}' was already disposed`);
    else {
      const bad = shapeProblem(name, entry.shape, t.shape, 'the parameter');
      if (bad) problems.push(bad);
      else values.set(t, entryToFloat32(name, entry, where));
    }
  }
  for (const [key, entry] of file.tensors) {
    if (!key.startsWith(OPTIM)) {
      if (!byName.has(key)) problems.push(`unexpected tensor '${key}' ${ts.fmtShape(entry.shape)}: the network has no such parameter`);
      continue;
    }
    if (!opts.optimizer) continue;
    const p = byName.get(key.slice(OPTIM.length, key.lastIndexOf('.')));
    const bad = p && shapeProblem(key, entry.shape, p.shape, 'its parameter');
    if (bad) problems.push(bad);
    else optim.set(key, entryToFloat32(key, entry, where));
  }
  if (problems.length) {
    const shown = problems.length > 6 ? [...problems.slice(0, 6), `and ${problems.length - 6} more`] : problems;
    throw new Error(
      `${where}: the checkpoint does not fit this network: ${shown.join('; ')}. Build the network the checkpoint was saved from (same model and options)`,
    );
  }
  if (opts.optimizer) {
    const o = opts.optimizer;
    if (!settings) throw new Error(`${where}: the checkpoint holds no optimizer state. Load it without \`optimizer\` (weights only)`);
    if (settings.kind !== o.name) {
      throw new Error(
        `${where}: optimizer kind mismatch: the checkpoint holds '${settings.kind}' state, the optimizer given is '${o.name}'. Build a '${settings.kind}' optimizer to resume`,
      );
    }
    try {
      o.loadState({ ...settings, tensors: optim }, names); // validates everything before it changes anything
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
  for (const [t, data] of values) {
    const tmp = ts.tensor(data, { shape: t.shape });
    ts.assign(t, tmp);
    tmp.dispose();
  }
  const noise = (parseJson(where, meta, 'noise') ?? {}) as Record<string, number>;
  for (const [name, layer] of noiseLayers(opts.net)) if (isInt(noise[name])) layer.calls = noise[name];
  return { step, epoch, rng: { ...rng, position }, extra: parseJson(where, meta, 'extra'), optimizer: settings?.kind ?? null, version };
}

// ---------------------------------------------------------------------------------------------
// fit's checkpoint and resume options

/** One checkpoint `fit` wrote, for `FitCheckpoint.onSave`. @example const log = (i: nn.CheckpointInfo) => console.log(`saved step ${i.step} (${i.reason})`); */
export interface CheckpointInfo {
  /** Optimizer steps over the whole run. */
  step: number;
  /** The epoch in progress and the batches of it done (0 at an epoch boundary: `epoch` epochs are finished). */
  epoch: number;
  position: number;
  /** Why it was written: `every` steps, at the end of an epoch, or when `signal` stopped training. */
  reason: 'every' | 'epoch' | 'abort';
  /** Where it went, when `path` was given. */
  path?: CheckpointTarget;
}

/**
 * `fit`'s `checkpoint` option: writes a checkpoint (`saveCheckpoint`) every `every` steps, at
 * the end of every epoch, and when `signal` stops training, as PyTorch Lightning's
 * ModelCheckpoint plus its save-on-interrupt. Resume with `fit`'s `resumeFrom`.
 *
 * @example
 * const ckpt: nn.FitCheckpoint = { path: 'run.ckpt', every: 100, onSave: (i) => console.log(`checkpoint at step ${i.step}`) };
 */
export interface FitCheckpoint {
  /** A file (Node) or a FileSystemFileHandle (browser); without it, take the bytes in `onSave`. */
  path?: CheckpointTarget;
  /** Steps between checkpoints (default: only at the end of epochs and on abort). */
  every?: number | undefined;
  /** Saved as the checkpoint's `extra`. */
  extra?: unknown;
  /** Called after every checkpoint, with its bytes (awaited). */
  onSave?: ((info: CheckpointInfo, bytes: Uint8Array) => void | Promise<void>) | undefined;
}

/** @internal `fit`'s saver: validates the option once, then writes a checkpoint per call. */
export function checkpointSaver(
  opt: FitCheckpoint | undefined,
  net: LayerSource,
  optimizer: Optimizer | null,
  rng: { seed: number; batchSize: number },
): { every: number; save: (step: number, epoch: number, position: number, reason: CheckpointInfo['reason']) => Promise<void> } | null {
  if (opt === undefined) return null;
  const fn = 'fit';
  if (!opt || typeof opt !== 'object') throw opError(fn, `checkpoint must be { path, every?, extra?, onSave? }, got ${String(opt)}`);
  for (const k of Object.keys(opt))
    if (!['path', 'every', 'extra', 'onSave'].includes(k)) throw opError(fn, `unknown checkpoint option '${k}'`, 'Valid: path, every, extra, onSave');
  if (!opt.path && !opt.onSave) throw opError(fn, 'checkpoint needs a path (or an onSave callback that stores the bytes)');
  if (opt.every !== undefined && !isInt(opt.every, 1)) throw opError(fn, `checkpoint.every must be an integer >= 1 (steps), got ${String(opt.every)}`);
  return {
    every: opt.every ?? 0,
    save: async (step, epoch, position, reason) => {
      const bytes = await saveCheckpoint(opt.path, { net, optimizer, step, epoch, rng: { ...rng, position }, extra: opt.extra });
      await opt.onSave?.({ step, epoch, position, reason, ...(opt.path ? { path: opt.path } : {}) }, bytes);
    },
  };
}

/**
 * @internal `fit`'s `resumeFrom`: loads the checkpoint into the network and the optimizer and
 * returns where to start, after checking that the data order it recorded is the one `fit` is
 * about to replay (same seed; same batch size when it stopped mid-epoch).
 */
export async function resumeForFit(
  source: string | Uint8Array | ArrayBuffer,
  net: LayerSource,
  optimizer: Optimizer | null,
  order: { seed: number; batchSize: number; steps: number },
): Promise<{ epoch: number; position: number; step: number }> {
  const { bytes, where } = await readParamSource('fit: resumeFrom', source);
  // Checked before anything loads: a refused resume leaves the network and optimizer as they were.
  const c = await loadDecoded(decodeSafetensors(bytes, where), where, { net, optimizer }, ({ epoch, rng }) => {
    if (rng.seed !== undefined && rng.seed !== order.seed) {
      throw new Error(`${where}: the checkpoint's data order has seed ${rng.seed}, this run ${order.seed}. Pass seed: ${rng.seed} to replay the same batches`);
    }
    if (rng.position > 0 && rng.batchSize !== undefined && rng.batchSize !== order.batchSize) {
      throw new Error(
        `${where}: the checkpoint stopped mid-epoch with batchSize ${rng.batchSize}; resume with batchSize ${rng.batchSize} (this run has ${order.batchSize})`,
      );
    }
    if (rng.position >= order.steps) {
      throw new Error(
        `${where}: the checkpoint is at batch ${rng.position} of epoch ${epoch + 1}, but an epoch of this data has ${order.steps} batches. Resume on the same data`,
      );
    }
  });
  return { epoch: c.epoch, position: c.rng.position, step: c.step };
}
