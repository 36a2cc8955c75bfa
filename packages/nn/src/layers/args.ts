/**
 * Lasagne's positional constructor arguments beside Tessera's options objects. Every layer
 * constructor takes either `(incoming, { ...options })` or the leading arguments of Lasagne's
 * signature followed by optional options, `(incoming, numUnits, { ...rest })`; this module turns
 * both into one options object, with errors that name the layer and the argument.
 */
import { Tensor } from '@tessera/core';
import type { LayerOptions } from './base.js';

/** An options object, as opposed to a positional value (a number, an array, a function, null). */
function isOptionsObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Tensor);
}

/** A value as error messages show it: JSON where that is short and exact, else its kind. */
function fmtArg(v: unknown): string {
  if (typeof v === 'function') return `a function${v.name ? ` (${v.name})` : ''}`;
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape.join(',')}]`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? typeof v : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

/**
 * Resolves a layer constructor's arguments (those after the incoming layer or layers) to one
 * options object.
 *
 * - Options form: `args` is `[{ ...options }]`. The object is returned as it is; any further
 *   argument is an error.
 * - Positional form: the first `names.length` arguments are the values of those options, in
 *   Lasagne's order, and the next one (optional) is an options object with the rest. A name
 *   given both ways is ambiguous and throws, as does a value that is not an options object
 *   where the options belong (`new DenseLayer(l, 10, nonlinearities.sigmoid)`), or one
 *   argument too many.
 *
 * Positional values are not validated here: the layer validates the merged options as it
 * always does, so both forms give the same errors (`numUnits must be a positive integer`).
 *
 * `layer` is the class name (`new.target.name`): errors read `DenseLayer 'fc1': ...` like the
 * layer's own `label`, with the name taken from the options when there is one. `head` names
 * the argument before these (`incoming`, `incomings`, `shape`) for the usage line of errors.
 */
export function layerArgs<O extends LayerOptions>(layer: string, head: string, names: readonly string[], args: readonly unknown[]): O {
  const [first] = args;
  const optionsForm = isOptionsObject(first);
  const optsAt = optionsForm ? 0 : names.length;
  const opts = args[optsAt];
  const named = isOptionsObject(opts) && typeof opts.name === 'string' ? opts.name : '';
  const label = `${layer}${named ? ` '${named}'` : ''}`;
  const usage = names.length
    ? `new ${layer}(${head}, ${names.join(', ')}, { ...options }) or new ${layer}(${head}, { ${names.join(', ')}, ...options })`
    : `new ${layer}(${head}, { ...options })`;
  const extra = args.findIndex((a, i) => i > optsAt && a !== undefined);
  if (optionsForm) {
    if (extra >= 0) {
      throw new Error(`${label}: got an options object followed by ${fmtArg(args[extra])}; the options object comes last. Use ${usage}`);
    }
    return first as O;
  }
  if (opts !== undefined && !isOptionsObject(opts)) {
    const after = names.length ? `after ${names.join(', ')}` : 'here';
    throw new Error(`${label}: expected an options object ${after}, got ${fmtArg(opts)}. Use ${usage}`);
  }
  if (extra >= 0) throw new Error(`${label}: too many arguments (${fmtArg(args[extra])} after the options object). Use ${usage}`);
  const rest: Record<string, unknown> = isOptionsObject(opts) ? opts : {};
  const merged: Record<string, unknown> = { ...rest };
  names.forEach((n, i) => {
    const v = args[i];
    if (v === undefined) return;
    if (rest[n] !== undefined) {
      throw new Error(`${label}: ${n} is ambiguous: given as an argument (${fmtArg(v)}) and in the options (${fmtArg(rest[n])}); give it once`);
    }
    merged[n] = v;
  });
  return merged as O;
}
