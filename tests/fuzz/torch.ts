/**
 * Fuzz property of `loadTorchStateDict`: a PyTorch state_dict for a small net (conv, BatchNorm,
 * dense) with modules renamed (with or without a nameMap that undoes it), tensors dropped,
 * added, reshaped, left in Tessera's dense layout or stored in another dtype, and nameMaps that
 * are objects, functions or junk. An oracle that follows the documented naming rules says
 * whether the load must succeed; then every parameter must hold the file's values (converted,
 * transposed), otherwise the error must name the source and nothing may have been written.
 */
import fc from 'fast-check';
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { expectCleanError, type Outcomes, tally, violation } from './harness.js';
import { buildSafetensors, type StTensor } from './formats.js';

type Module = 'conv' | 'bn' | 'fc';
const MODULES: readonly Module[] = ['conv', 'bn', 'fc'];
/** PyTorch attribute -> Tessera parameter, per module (BatchNorm has its own names). */
const ATTRS: Readonly<Record<Module, Readonly<Record<string, string>>>> = {
  conv: { weight: 'W' },
  bn: { weight: 'gamma', bias: 'beta', running_mean: 'mean', running_var: 'var' },
  fc: { weight: 'W', bias: 'b' },
};
/** The net's parameters (Tessera names and shapes); fc.W is [in, out], torch's fc.weight [out, in]. */
const PARAMS: Readonly<Record<string, number[]>> = {
  'conv.W': [2, 1, 3, 3],
  'bn.gamma': [2],
  'bn.beta': [2],
  'bn.mean': [2],
  'bn.var': [2],
  'fc.W': [32, 3],
  'fc.b': [3],
};
const DENSE = 'fc.W';
const TORCH_TENSORS: readonly [Module, string][] = [
  ['conv', 'weight'],
  ['bn', 'weight'],
  ['bn', 'bias'],
  ['bn', 'running_mean'],
  ['bn', 'running_var'],
  ['fc', 'weight'],
  ['fc', 'bias'],
];

function smallNet(): nn.Layer {
  const data = new nn.InputLayer([null, 1, 4, 4]);
  const conv = new nn.Conv2DLayer(data, 2, 3, { pad: 1, name: 'conv' });
  const bn = nn.batchNorm(conv, { name: 'bn' });
  return new nn.DenseLayer(bn, 3, { nonlinearity: null, name: 'fc' });
}

type Edit = 'keep' | 'drop' | 'shape' | 'untransposed' | 'F16' | 'BF16' | 'F64' | 'I32' | 'I64' | 'U8';
type Rename = 'keep' | 'mapped' | 'whole' | 'unmapped';

export interface TorchCase {
  rename: Rename[];
  edits: Edit[];
  counter: boolean;
  extra: null | 'fc4.weight' | 'conv.extra' | 'fc2.bias';
  /** Maps the extra 'fc2' module onto 'fc' too (a clash when fc.bias is also there). */
  clash: boolean;
  style: 'object' | 'function';
  /** A function map that skips the extra tensor (returns null). */
  skipExtra: boolean;
  /** A function map that returns a number for one name, or a junk object map. */
  junk: null | 'fnNumber' | 'null' | 'number' | 'string' | 'numberValue' | 'nullValue';
  strict: boolean | undefined;
  transposeLinear: boolean | undefined;
  seed: number;
}

/** `good` weighs `w` to 1 against `bad`: most cases should load, so that the values get checked. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>, w: number): fc.Arbitrary<T> =>
  fc.oneof({ weight: w, arbitrary: good }, { weight: 1, arbitrary: bad });

export const torchCase: fc.Arbitrary<TorchCase> = fc.record({
  rename: fc.array(mostly(fc.constantFrom<Rename>('keep', 'keep', 'mapped', 'whole'), fc.constant<Rename>('unmapped'), 10), { minLength: 3, maxLength: 3 }),
  edits: fc.array(
    mostly(fc.constantFrom<Edit>('keep', 'keep', 'keep', 'F16', 'BF16', 'F64'), fc.constantFrom<Edit>('drop', 'shape', 'untransposed', 'I32', 'I64', 'U8'), 25),
    { minLength: 7, maxLength: 7 },
  ),
  counter: fc.boolean(),
  extra: fc.constantFrom(null, null, null, 'fc4.weight' as const, 'conv.extra' as const, 'fc2.bias' as const),
  clash: mostly(fc.constant(false), fc.constant(true), 3),
  style: fc.constantFrom('object' as const, 'function' as const),
  skipExtra: fc.boolean(),
  junk: fc.oneof(
    { weight: 12, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('fnNumber' as const, 'null' as const, 'number' as const, 'string' as const, 'numberValue' as const, 'nullValue' as const),
    },
  ),
  strict: fc.constantFrom(undefined, true, false),
  transposeLinear: fc.constantFrom(undefined, true, false),
  seed: fc.nat(),
});

const ITEM: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1 };
const FLOATS = new Set(['F32', 'F16', 'BF16', 'F64']);

/** IEEE half -> number, written from the format (sign, 5-bit exponent, 10-bit fraction). */
function half(bits: number): number {
  const s = bits >> 15 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const f = bits & 1023;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (e ? 2 ** (e - 15) * (1 + f / 1024) : 2 ** -14 * (f / 1024));
}

function floatsOf(dtype: string, bytes: Uint8Array): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / ITEM[dtype]!;
  const at = (i: number): number => {
    if (dtype === 'F32') return v.getFloat32(4 * i, true);
    if (dtype === 'F64') return v.getFloat64(8 * i, true);
    if (dtype === 'F16') return half(v.getUint16(2 * i, true));
    const w = new DataView(new ArrayBuffer(4));
    w.setUint32(0, v.getUint16(2 * i, true) << 16);
    return w.getFloat32(0);
  };
  return Float32Array.from({ length: n }, (_, i) => at(i));
}

const moduleName = (m: Module, r: Rename): string => (r === 'keep' ? m : `${m}_t`);

export async function checkLoadTorch(c: TorchCase, outcomes?: Outcomes): Promise<void> {
  // The file: PyTorch names and layouts, then the case's edits.
  const file: StTensor[] = [];
  TORCH_TENSORS.forEach(([m, attr], i) => {
    const edit = c.edits[i]!;
    if (edit === 'drop') return;
    const ours = `${m}.${ATTRS[m][attr]}`;
    let shape = ours === DENSE ? [...PARAMS[ours]!].reverse() : [...PARAMS[ours]!];
    if (edit === 'shape') shape = [...shape, 1];
    if (edit === 'untransposed') shape = [...PARAMS[ours]!];
    const dtype = FLOATS.has(edit) || ['I32', 'I64', 'U8'].includes(edit) ? edit : 'F32';
    file.push({ name: `${moduleName(m, c.rename[MODULES.indexOf(m)]!)}.${attr}`, dtype, shape });
  });
  if (c.counter) file.push({ name: `${moduleName('bn', c.rename[1]!)}.num_batches_tracked`, dtype: 'I64', shape: [] });
  if (c.extra) file.push({ name: c.extra, dtype: 'F32', shape: c.extra === 'fc2.bias' ? [3] : [2] });
  const built = buildSafetensors({ tensors: file, order: [0, 1, 2, 3], seed: c.seed, metadata: null, pad: 0, mutations: [] });
  const entries = nn.decodeSafetensors(built.bytes).tensors;

  // The name map, and the Tessera name each file tensor should get under it (null: skipped).
  const renamedTo = new Map<string, Module>();
  MODULES.forEach((m, i) => {
    if (c.rename[i] === 'mapped' || c.rename[i] === 'whole') renamedTo.set(`${m}_t`, m);
  });
  if (c.clash) renamedTo.set('fc2', 'fc');
  const targetOf = (name: string): string | null => {
    const dot = name.lastIndexOf('.');
    const [mod, attr] = [name.slice(0, dot), name.slice(dot + 1)];
    if (c.style === 'function' && c.skipExtra && name === c.extra) return null;
    const m = (renamedTo.get(mod) ?? mod) as Module;
    const table = m === 'bn' ? ATTRS.bn : { weight: 'W', bias: 'b' };
    return `${m}.${(table as Record<string, string>)[attr] ?? attr}`;
  };
  let nameMap: unknown;
  if (c.style === 'object') {
    const map: Record<string, string> = {};
    for (const [from, to] of renamedTo) {
      const whole = c.rename[MODULES.indexOf(to)] === 'whole' && from !== 'fc2';
      if (!whole) map[from] = to;
      else for (const t of file) if (t.name.startsWith(`${from}.`)) map[t.name] = targetOf(t.name)!;
    }
    nameMap = map;
  } else nameMap = (name: string) => (renamedTo.has(name.slice(0, name.lastIndexOf('.'))) || name === c.extra ? targetOf(name) : undefined);
  let badMap = false;
  if (c.junk) {
    badMap = true;
    if (c.junk === 'fnNumber') nameMap = (name: string) => (name.endsWith('.bias') ? 7 : undefined);
    else if (c.junk === 'null') nameMap = null;
    else if (c.junk === 'number') nameMap = 5;
    else if (c.junk === 'string') nameMap = 'fc3:out';
    else if (c.junk === 'numberValue') nameMap = { fc_x: 5 };
    else nameMap = { 'conv.weight': null };
    // A function that returns a number only breaks the load if it is asked about a bias.
    if (c.junk === 'fnNumber' && !file.some((t) => t.name.endsWith('.bias'))) badMap = false;
  }

  // What the documented rules say: each parameter gets exactly one tensor of its shape (dense
  // weights transposed unless transposeLinear is false) in a float dtype; with strict (the
  // default) nothing else may map outside the network; PyTorch's BatchNorm counters are skipped.
  const transpose = c.transposeLinear ?? true;
  const sources = new Map<string, string[]>();
  let extras = 0;
  for (const t of file) {
    const ours = targetOf(t.name);
    if (ours === null) continue;
    if (ours in PARAMS) sources.set(ours, [...(sources.get(ours) ?? []), t.name]);
    else if (!t.name.endsWith('.num_batches_tracked')) extras++;
  }
  let fits = !badMap && !(extras && (c.strict ?? true));
  for (const [ours, shape] of Object.entries(PARAMS)) {
    const src = sources.get(ours) ?? [];
    if (src.length !== 1) fits = false;
    else {
      const e = entries.get(src[0]!)!;
      const want = ours === DENSE && transpose ? [...shape].reverse() : shape;
      if (ts.fmtShape(e.shape) !== ts.fmtShape(want) || !FLOATS.has(e.dtype)) fits = false;
    }
  }

  const net = smallNet();
  const params = new Map([...nn.paramNames(net)].map(([t, n]) => [n, t]));
  for (const t of params.values()) {
    const fill = ts.full(t.shape, -7);
    ts.assign(t, fill);
    fill.dispose();
  }
  try {
    let err: unknown = null;
    try {
      await nn.loadTorchStateDict(net, built.bytes, { nameMap: nameMap as nn.TorchNameMap, strict: c.strict, transposeLinear: c.transposeLinear });
    } catch (e) {
      err = e;
    }
    if (err) {
      expectCleanError(err, 'loadTorchStateDict', /tensor|nameMap|parameter/i, 'loadTorchStateDict');
      if (fits) violation(`loadTorchStateDict rejected a fitting state_dict: ${(err as Error).message}`);
      for (const [n, t] of params) if ((await t.data()).some((v) => v !== -7)) violation(`loadTorchStateDict failed but wrote '${n}'`);
      tally(outcomes, 'rejected');
      return;
    }
    if (!fits) violation('loadTorchStateDict accepted a state_dict that does not fit the net');
    for (const [ours, t] of params) {
      const e = entries.get(sources.get(ours)![0]!)!;
      let want = floatsOf(e.dtype, e.bytes);
      if (ours === DENSE && transpose) {
        const [rows, cols] = e.shape as [number, number];
        const flipped = new Float32Array(want.length);
        for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) flipped[k * rows + r] = want[r * cols + k]!;
        want = flipped;
      }
      const got = await t.data();
      if (!got.every((v, i) => Object.is(v, want[i]) || (Number.isNaN(v) && Number.isNaN(want[i]!))))
        violation(`'${ours}' holds the wrong values after loading`);
    }
    tally(outcomes, 'loaded');
  } finally {
    nn.disposeLayers(net);
  }
}
