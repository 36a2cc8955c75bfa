/**
 * Fuzz properties of the two file formats Tessera parses from untrusted bytes: safetensors
 * (`decodeSafetensors`, and `loadParams` on top of it) and IDX (`parseIdx`).
 *
 * Each case is a valid file, built here, with zero or more mutations (header length, JSON text,
 * field values, data bytes). An oracle written from the format's spec, independent of the
 * library, says whether the mutated bytes are still a valid file: then the library must decode
 * exactly what the oracle reads; otherwise it must throw an `Error` whose message starts with the
 * source name and says what is wrong. Anything else (a TypeError from inside, a hang, a giant
 * message) is a violation.
 */
import fc from 'fast-check';
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { parseIdx } from '@tessera/data';
import { expectCleanError, MAX_MESSAGE, type Outcomes, seededBytes, setU64, tally, violation } from './harness.js';

// ---------------------------------------------------------------------------------------------
// safetensors

/** Bytes per element, from the spec (kept apart from the library's table on purpose). */
const ST_ITEM: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};
const ST_DTYPES = Object.keys(ST_ITEM);

export interface StTensor {
  name: string;
  dtype: string;
  shape: number[];
}

/** One change to a valid file; `at` picks a tensor (modulo their count). */
export type StMutation =
  | { kind: 'dtype' | 'shape' | 'offsets' | 'entry'; at: number; raw: string }
  | { kind: 'metadata'; raw: string }
  | { kind: 'drop' | 'duplicate'; at: number }
  | { kind: 'extra'; name: string; raw: string }
  | { kind: 'length'; mode: 'zero' | 'beyond' | 'negative' | 'high' | 'huge' | 'short' | 'long'; k: number }
  | { kind: 'json'; mode: 'truncate' | 'garbage' | 'badUtf8'; k: number }
  | { kind: 'json'; mode: 'notObject'; raw: string }
  | { kind: 'data'; mode: 'cut' | 'extend'; k: number }
  | { kind: 'tiny'; n: number };

export interface StCase {
  tensors: StTensor[];
  /** The order of the tensors' data in the file (a permutation, as priorities). */
  order: number[];
  seed: number;
  metadata: Record<string, string> | null;
  /** Spaces after the JSON, as the reference writer pads to 8 bytes. */
  pad: number;
  mutations: StMutation[];
}

const deep = (d: number): string => `${'['.repeat(d)}${']'.repeat(d)}`;

/** JSON values that are wrong wherever a field expects something specific. */
const wildRaw = fc.oneof(
  fc.constantFrom('null', 'true', '"x"', '{}', '[]', '-1', '1.5', '1e999', '-0', '[[1]]', '{"a":1}', '"F32"', '[0]'),
  fc.integer({ min: 2000, max: 20000 }).map(deep), // nesting a recursive printer cannot follow
  fc.integer({ min: 3000, max: 6000 }).map((n) => JSON.stringify('x'.repeat(n))), // a value too long to quote
  fc.integer({ min: 1000, max: 4000 }).map((n) => JSON.stringify(new Array(n).fill(1))),
);
const HUGE = ['1099511627776', '9007199254740992', '9007199254740994', '1e300', '18446744073709551615', '4294967296'];
const shapeRaw = fc.oneof(
  wildRaw,
  fc.constantFrom('[-1]', '[2,-3]', '[1.5]', '[0.5,2]', '["2"]', '[null]', '[0,1099511627776]', '[0,1e300]', '[65536,65536,65536]', '[4294967296,4294967296]'),
  fc.constantFrom(...HUGE).map((h) => `[${h}]`),
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }).map((s) => JSON.stringify(s)), // valid but likely the wrong size
);
const dtypeRaw = fc.oneof(
  wildRaw,
  fc.constantFrom('"F128"', '"f32"', '"float32"', '""', '"toString"', '"__proto__"', '"constructor"', '"hasOwnProperty"', '"valueOf"', '4'),
  fc.constantFrom(...ST_DTYPES).map((d) => JSON.stringify(d)), // another real dtype: right or wrong size
);
const offsetsRaw = fc.oneof(
  wildRaw,
  fc.constantFrom(
    '[4,0]',
    '[0]',
    '[0,4,8]',
    '[-4,0]',
    '[1.5,5.5]',
    '["0","4"]',
    '[0,1e999]',
    '[9007199254740992,9007199254740996]',
    '[0,18446744073709551615]',
  ),
  fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 80 })).map((p) => JSON.stringify(p)),
);
const metadataRaw = fc.oneof(
  wildRaw,
  fc.constantFrom('{"k":1}', '{"k":{}}', '{"k":null}', '{"__proto__":"x"}', '{"toString":"y","format":"pt"}', '{"":""}', '{"k":"v","k2":"v2"}'),
);
const lengthMode = fc.constantFrom('zero', 'beyond', 'negative', 'high', 'huge', 'short', 'long') as fc.Arbitrary<
  'zero' | 'beyond' | 'negative' | 'high' | 'huge' | 'short' | 'long'
>;

export const stMutation: fc.Arbitrary<StMutation> = fc.oneof(
  fc.record({ kind: fc.constant('dtype' as const), at: fc.nat(), raw: dtypeRaw }),
  fc.record({ kind: fc.constant('shape' as const), at: fc.nat(), raw: shapeRaw }),
  fc.record({ kind: fc.constant('offsets' as const), at: fc.nat(), raw: offsetsRaw }),
  fc.record({ kind: fc.constant('entry' as const), at: fc.nat(), raw: wildRaw }),
  fc.record({ kind: fc.constant('metadata' as const), raw: metadataRaw }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('extra' as const),
    name: fc.constantFrom('extra', '__metadata__', 'w', ''),
    raw: fc
      .tuple(fc.constantFrom(...ST_DTYPES), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.nat(64), fc.nat(64))
      .map(([d, s, b, e]) => JSON.stringify({ dtype: d, shape: s, data_offsets: [b, e] })),
  }),
  fc.record({ kind: fc.constant('length' as const), mode: lengthMode, k: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('json' as const), mode: fc.constantFrom('truncate' as const, 'garbage' as const, 'badUtf8' as const), k: fc.nat() }),
  fc.record({ kind: fc.constant('json' as const), mode: fc.constant('notObject' as const), raw: fc.constantFrom('[]', '1', '"x"', 'null', 'true', '[{}]') }),
  fc.record({ kind: fc.constant('data' as const), mode: fc.constantFrom('cut' as const, 'extend' as const), k: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('tiny' as const), n: fc.integer({ min: 0, max: 7 }) }),
);

const stName = fc.oneof(
  fc.constantFrom('w', 'b', 'conv1.W', 'fc.weight', '0', '1', '10', '__proto__', 'toString', 'constructor', '', 'ü', 'a "quoted" name', 'x'.repeat(3000)),
  fc.string({ maxLength: 6 }),
);

export const stTensor: fc.Arbitrary<StTensor> = fc.record({
  name: stName.filter((n) => n !== '__metadata__'),
  dtype: fc.constantFrom(...ST_DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

export const stCase: fc.Arbitrary<StCase> = fc.record({
  tensors: fc.uniqueArray(stTensor, { maxLength: 4, selector: (t) => t.name }),
  order: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  seed: fc.nat(),
  metadata: fc.option(fc.dictionary(fc.constantFrom('format', 'producer', 'epoch', '__proto__', 'k'), fc.string({ maxLength: 8 }), { maxKeys: 3 }), {
    nil: null,
  }),
  pad: fc.integer({ min: 0, max: 7 }),
  mutations: fc.array(stMutation, { maxLength: 3 }),
});

/** A case whose mutations are all dropped: the valid file it started from. */
export const stValidCase: fc.Arbitrary<StCase> = stCase.map((c) => ({ ...c, mutations: [] }));

interface Built {
  bytes: Uint8Array;
  /** True when the header, as written, repeats a key (JSON.parse would silently keep the last). */
  duplicates: boolean;
  /** The JSON text as generated, to tell whether byte-level mutations changed it. */
  json: Uint8Array;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Writes the case's file: the valid layout first, then each mutation in turn. */
export function buildSafetensors(c: StCase): Built {
  const n = c.tensors.length;
  const dataOrder = [...Array(n).keys()].sort((a, b) => c.order[a]! - c.order[b]! || a - b);
  const offsets: [number, number][] = new Array(n);
  let cursor = 0;
  for (const i of dataOrder) {
    const t = c.tensors[i]!;
    const size = product(t.shape) * ST_ITEM[t.dtype]!;
    offsets[i] = [cursor, cursor + size];
    cursor += size;
  }
  let data = seededBytes(c.seed, cursor);
  // The header as [key, raw JSON value] pairs, so mutations can write any text, repeated keys included.
  type Fields = { dtype: string; shape: string; offsets: string };
  const entries: { name: string; fields: Fields | null; raw: string | null }[] = c.tensors.map((t, i) => ({
    name: t.name,
    fields: { dtype: JSON.stringify(t.dtype), shape: JSON.stringify(t.shape), offsets: JSON.stringify(offsets[i]) },
    raw: null,
  }));
  let metadata: string | null = c.metadata ? JSON.stringify(c.metadata) : null;
  const pick = (at: number) => (entries.length ? entries[at % entries.length]! : null);
  for (const m of c.mutations) {
    if (m.kind === 'dtype' || m.kind === 'shape' || m.kind === 'offsets') {
      const e = pick(m.at);
      if (e?.fields) e.fields[m.kind] = m.raw;
    } else if (m.kind === 'entry') {
      const e = pick(m.at);
      if (e) e.raw = m.raw;
    } else if (m.kind === 'metadata') metadata = m.raw;
    else if (m.kind === 'drop') {
      if (entries.length) entries.splice(m.at % entries.length, 1);
    } else if (m.kind === 'duplicate') {
      const e = pick(m.at);
      if (e) entries.push({ ...e, fields: e.fields && { ...e.fields } });
    } else if (m.kind === 'extra') {
      entries.push({ name: m.name, fields: null, raw: m.raw });
    }
  }
  const pairs = entries.map((e) => {
    const value = e.raw ?? `{"dtype":${e.fields!.dtype},"shape":${e.fields!.shape},"data_offsets":${e.fields!.offsets}}`;
    return `${JSON.stringify(e.name)}:${value}`;
  });
  const names = [...entries.map((e) => e.name), ...(metadata !== null ? ['__metadata__'] : [])];
  const duplicates = new Set(names).size !== names.length;
  if (metadata !== null) pairs.splice(c.seed % (pairs.length + 1), 0, `"__metadata__":${metadata}`);
  const text = `{${pairs.join(',')}}${' '.repeat(c.pad)}`;
  const json = new TextEncoder().encode(text);
  let header: Uint8Array = json;
  let length: bigint = BigInt(json.length);
  for (const m of c.mutations) {
    if (m.kind === 'json') {
      if (m.mode === 'truncate') header = header.subarray(0, m.k % Math.max(1, header.length - c.pad));
      else if (m.mode === 'garbage') header = seededBytes(m.k, m.k % 40);
      else if (m.mode === 'badUtf8') {
        header = header.slice();
        if (header.length) header[m.k % header.length] = 0xff;
      } else if (m.mode === 'notObject') header = new TextEncoder().encode(m.raw);
      length = BigInt(header.length);
    } else if (m.kind === 'data') {
      if (m.mode === 'cut') data = data.subarray(0, Math.max(0, data.length - m.k));
      else data = Uint8Array.from([...data, ...seededBytes(m.k, m.k)]);
    }
  }
  const file = new Uint8Array(8 + header.length + data.length);
  file.set(header, 8);
  file.set(data, 8 + header.length);
  for (const m of c.mutations) {
    if (m.kind !== 'length') continue;
    const rest = BigInt(file.length - 8);
    const k = BigInt(m.k);
    length = {
      zero: 0n,
      beyond: rest + k,
      negative: -k, // -k as an unsigned 64-bit number: 2^64 - k
      high: length + 2n ** 32n,
      huge: 2n ** 53n + k,
      short: length > k ? length - k : 0n,
      long: length + k <= rest ? length + k : rest,
    }[m.mode];
  }
  setU64(new DataView(file.buffer), 0, length);
  const tiny = c.mutations.find((m) => m.kind === 'tiny');
  return { bytes: tiny ? file.subarray(0, tiny.n) : file, duplicates, json };
}

/** What the oracle reads: `ok` with the tensors and metadata, or not, and `why`. */
export interface StExpected {
  ok: boolean;
  why: string;
  tensors: Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>;
  metadata: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * What the spec says these bytes hold (https://huggingface.co/docs/safetensors): an 8-byte LE
 * header length, a UTF-8 JSON object with no repeated key, and tensors whose offsets match their
 * shape and dtype, inside the data, without overlap. Sizes are computed in bigint so that no
 * product can round into a false match.
 */
export function safetensorsOracle(bytes: Uint8Array, duplicates: boolean): StExpected {
  const no = (why: string): StExpected => ({ ok: false, why, tensors: new Map(), metadata: {} });
  if (bytes.length < 8) return no('shorter than the length prefix');
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) return no('header length beyond the file');
  const end = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, end)));
  } catch {
    return no('header is not UTF-8 JSON');
  }
  if (!isObject(header)) return no('header is not an object');
  if (duplicates) return no('a repeated key');
  const data = bytes.subarray(end);
  const tensors = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
  const metadata: Record<string, string> = {};
  const spans: [bigint, bigint][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(v)) return no('metadata is not an object');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') return no('a metadata value is not a string');
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (!isObject(v)) return no('an entry is not an object');
    const { dtype, shape, data_offsets: off } = v;
    if (typeof dtype !== 'string' || !Object.hasOwn(ST_ITEM, dtype)) return no('unknown dtype');
    if (!Array.isArray(shape) || !shape.every(isCount)) return no('bad shape');
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) return no('bad offsets');
    const size = shape.reduce((a: bigint, d: number) => a * BigInt(d), 1n) * BigInt(ST_ITEM[dtype]!);
    const [b, e] = [BigInt(off[0]), BigInt(off[1])];
    if (e - b !== size) return no('offsets disagree with shape and dtype');
    if (e > BigInt(data.length)) return no('data beyond the file');
    spans.push([b, e]);
    tensors.set(name, { dtype, shape: [...shape], bytes: data.subarray(off[0], off[1]) });
  }
  spans.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  // Zero-size tensors may sit where another starts or ends, never inside one. Bytes that no
  // tensor covers (the spec forbids them) are tolerated by Tessera's reader, so that a header
  // missing a tensor gets the clearer "missing tensor" error from the loaders.
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) return no('overlapping tensors');
  return { ok: true, why: '', tensors, metadata };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const SOURCE = 'fuzz.safetensors';
export const ST_ERROR = /safetensors|header|tensor|truncated|corrupt|data|metadata/i;

/** Runs the case through `ms` and fails past it: a parser must never take long on a small file. */
function timed<T>(what: string, ms: number, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const took = performance.now() - t0;
    if (took > ms) violation(`${what} took ${took.toFixed(0)} ms on a ${ms} ms budget`);
  }
}

/** decodeSafetensors either reads exactly what the oracle reads, or throws a clean error. */
export function checkDecodeSafetensors(c: StCase, outcomes?: Outcomes): void {
  const built = buildSafetensors(c);
  const expected = safetensorsOracle(built.bytes, built.duplicates && sameBytes(built.bytes.subarray(8, 8 + built.json.length), built.json));
  let got: nn.SafetensorsFile;
  try {
    got = timed('decodeSafetensors', 2000, () => nn.decodeSafetensors(built.bytes, SOURCE));
  } catch (err) {
    expectCleanError(err, SOURCE, ST_ERROR, 'decodeSafetensors');
    if (expected.ok) violation(`decodeSafetensors rejected a valid file: ${(err as Error).message}`);
    tally(outcomes, 'rejected');
    return;
  }
  if (!expected.ok) violation(`decodeSafetensors accepted an invalid file (${expected.why}); it read ${[...got.tensors.keys()].join(', ') || 'no tensors'}`);
  if (got.tensors.size !== expected.tensors.size) violation(`decoded ${got.tensors.size} tensors, expected ${expected.tensors.size}`);
  for (const [name, want] of expected.tensors) {
    const t = got.tensors.get(name);
    if (!t) violation(`tensor '${name}' is missing from the result`);
    if (t.dtype !== want.dtype || ts.fmtShape(t.shape) !== ts.fmtShape(want.shape)) {
      violation(`tensor '${name}' decoded as ${t.dtype} ${ts.fmtShape(t.shape)}, expected ${want.dtype} ${ts.fmtShape(want.shape)}`);
    }
    if (!sameBytes(t.bytes, want.bytes)) violation(`tensor '${name}' has the wrong bytes`);
  }
  const ours = JSON.stringify(Object.entries(got.metadata));
  const theirs = JSON.stringify(Object.entries(expected.metadata));
  if (ours !== theirs) violation(`metadata decoded as ${ours}, expected ${theirs}`);
  tally(outcomes, 'decoded');
}

/** The target of the loadParams property: three tensors, one a scalar. */
export const PARAM_SHAPES: Readonly<Record<string, number[]>> = { w: [2, 3], b: [3], s: [] };

/** A file for loadParams: the target's own tensors, then name, shape and dtype mutations. */
export interface LoadCase {
  /** Per target tensor: kept, dropped, renamed, reshaped or retyped in the file. */
  edits: ('keep' | 'drop' | 'rename' | 'reshape' | 'retype')[];
  extra: boolean;
  strict: boolean;
  seed: number;
  /** Occasionally a file-level mutation too (any of the decoder's). */
  corrupt: StMutation[];
}

export const loadCase: fc.Arbitrary<LoadCase> = fc.record({
  // Mostly kept, so that about a third of the cases load.
  edits: fc.array(
    fc.oneof(
      { weight: 10, arbitrary: fc.constant('keep' as const) },
      { weight: 1, arbitrary: fc.constantFrom('drop' as const, 'rename' as const, 'reshape' as const, 'retype' as const) },
    ),
    { minLength: 3, maxLength: 3 },
  ),
  extra: fc.boolean(),
  strict: fc.boolean(),
  seed: fc.nat(),
  corrupt: fc.oneof({ weight: 4, arbitrary: fc.constant<StMutation[]>([]) }, { weight: 1, arbitrary: fc.array(stMutation, { minLength: 1, maxLength: 1 }) }),
});

/** loadParams from bytes: success exactly when names, shapes and dtypes line up, and then the values land. */
export async function checkLoadParams(c: LoadCase, outcomes?: Outcomes): Promise<void> {
  const names = Object.keys(PARAM_SHAPES);
  const tensors: StTensor[] = [];
  names.forEach((name, i) => {
    const shape = PARAM_SHAPES[name]!;
    const edit = c.edits[i]!;
    if (edit === 'rename') tensors.push({ name: `${name}_renamed`, dtype: 'F32', shape });
    else if (edit === 'reshape') tensors.push({ name, dtype: 'F32', shape: [...shape, 1] });
    else if (edit === 'retype') tensors.push({ name, dtype: ['F16', 'I64', 'BF16', 'F64', 'I32', 'U8'][c.seed % 6]!, shape });
    else if (edit === 'keep') tensors.push({ name, dtype: 'F32', shape });
  });
  if (c.extra) tensors.push({ name: 'extra', dtype: 'F32', shape: [1] });
  const built = buildSafetensors({ tensors, order: [3, 1, 2, 0], seed: c.seed, metadata: null, pad: 0, mutations: c.corrupt });
  // The oracle's reading of the file decides: every target tensor present as F32 of its exact
  // shape, and (strict) nothing else.
  const file = safetensorsOracle(built.bytes, built.duplicates);
  const fits =
    file.ok &&
    names.every((n) => {
      const t = file.tensors.get(n);
      return t !== undefined && t.dtype === 'F32' && ts.fmtShape(t.shape) === ts.fmtShape(PARAM_SHAPES[n]!);
    }) &&
    (!c.strict || [...file.tensors.keys()].every((n) => names.includes(n)));
  const target = Object.fromEntries(names.map((name) => [name, ts.full(PARAM_SHAPES[name]!, -7)]));
  try {
    let err: unknown = null;
    try {
      await nn.loadParams(target, built.bytes, { strict: c.strict });
    } catch (e) {
      err = e;
    }
    if (err) {
      // A looser bound: loadParams prints a mismatched shape whole (fmtShape), and a file may hold
      // a valid 1000-dimensional [1,1,...] tensor. Megabyte messages still fail.
      expectCleanError(err, 'loadParams', ST_ERROR, 'loadParams', 20 * MAX_MESSAGE);
      if (fits) violation(`loadParams rejected a fitting file: ${(err as Error).message}`);
      // Everything is checked before anything is written.
      for (const [name, t] of Object.entries(target)) if ((await t.data()).some((v) => v !== -7)) violation(`loadParams failed but wrote '${name}'`);
      tally(outcomes, 'rejected');
      return;
    }
    if (!fits) violation('loadParams accepted a file that does not fit the target');
    for (const [name, t] of Object.entries(target)) {
      const want = new Float32Array(Uint8Array.from(file.ok ? file.tensors.get(name)!.bytes : []).buffer);
      const got = await t.data();
      if (!got.every((v, i) => Object.is(v, want[i]))) violation(`loadParams wrote the wrong values into '${name}'`);
    }
    tally(outcomes, 'loaded');
  } finally {
    ts.dispose(target);
  }
}

// ---------------------------------------------------------------------------------------------
// IDX

const IDX_SIZE: Readonly<Record<number, number>> = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 };
const IDX_CODES = Object.keys(IDX_SIZE).map(Number);

export type IdxMutation =
  | { kind: 'magic'; at: 0 | 1; value: number }
  | { kind: 'dtype' | 'rank'; value: number }
  | { kind: 'dim'; at: number; value: number }
  | { kind: 'cut' | 'extend'; k: number }
  | { kind: 'gzip' }
  | { kind: 'tiny'; n: number };

export interface IdxCase {
  code: number;
  dims: number[];
  seed: number;
  mutations: IdxMutation[];
}

export const idxCase: fc.Arbitrary<IdxCase> = fc.record({
  code: fc.constantFrom(...IDX_CODES),
  dims: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
  seed: fc.nat(),
  mutations: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('magic' as const), at: fc.constantFrom(0 as const, 1 as const), value: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('dtype' as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('rank' as const), value: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 255 })) }),
      fc.record({
        kind: fc.constant('dim' as const),
        at: fc.nat(),
        value: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(0xffffffff, 2 ** 31, 2 ** 16, 0x7fffffff)),
      }),
      fc.record({ kind: fc.constantFrom('cut' as const, 'extend' as const), k: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('gzip' as const) }),
      fc.record({ kind: fc.constant('tiny' as const), n: fc.integer({ min: 0, max: 3 }) }),
    ),
    { maxLength: 3 },
  ),
});

export function buildIdx(c: IdxCase): Uint8Array {
  const count = product(c.dims);
  const head = new Uint8Array(4 + 4 * c.dims.length);
  const view = new DataView(head.buffer);
  head[2] = c.code;
  head[3] = c.dims.length;
  c.dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  let bytes = Uint8Array.from([...head, ...seededBytes(c.seed, count * IDX_SIZE[c.code]!)]);
  for (const m of c.mutations) {
    if (m.kind === 'magic') bytes[m.at] = m.value;
    else if (m.kind === 'dtype') bytes[2] = m.value;
    else if (m.kind === 'rank') bytes[3] = m.value;
    else if (m.kind === 'dim') {
      const at = 4 + 4 * (m.at % c.dims.length);
      if (at + 4 <= bytes.length) new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, m.value, false);
    } else if (m.kind === 'cut') bytes = bytes.subarray(0, Math.max(0, bytes.length - m.k));
    else if (m.kind === 'extend') bytes = Uint8Array.from([...bytes, ...seededBytes(m.k, m.k)]);
    else if (m.kind === 'gzip') [bytes[0], bytes[1]] = [0x1f, 0x8b];
    else if (m.kind === 'tiny') bytes = bytes.subarray(0, m.n);
  }
  return bytes;
}

/** The spec (yann.lecun.com/exdb/mnist): 0x0000, a dtype byte, a rank, big-endian u32 dims, values filling the rest exactly. */
export function idxOracle(bytes: Uint8Array): { ok: boolean; dims: number[]; values: number[] } {
  const no = { ok: false, dims: [], values: [] };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) return no;
  const size = IDX_SIZE[bytes[2]!];
  const rank = bytes[3]!;
  if (!size || rank === 0 || bytes.length < 4 + 4 * rank) return no;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, d) => a * BigInt(d), 1n);
  const at = 4 + 4 * rank;
  if (count * BigInt(size) !== BigInt(bytes.length - at)) return no;
  const read = (i: number): number => {
    const o = at + i * size;
    switch (bytes[2]) {
      case 8:
        return view.getUint8(o);
      case 9:
        return view.getInt8(o);
      case 11:
        return view.getInt16(o, false);
      case 12:
        return view.getInt32(o, false);
      case 13:
        return view.getFloat32(o, false);
      default:
        return view.getFloat64(o, false);
    }
  };
  return { ok: true, dims, values: Array.from({ length: Number(count) }, (_, i) => read(i)) };
}

const IDX_SOURCE = 'fuzz.idx';

export function checkParseIdx(c: IdxCase, outcomes?: Outcomes): void {
  const bytes = buildIdx(c);
  const expected = idxOracle(bytes);
  let got: ReturnType<typeof parseIdx>;
  try {
    got = timed('parseIdx', 2000, () => parseIdx(bytes, { name: IDX_SOURCE }));
  } catch (err) {
    expectCleanError(err, IDX_SOURCE, /IDX|gzip|truncated/i, 'parseIdx');
    if (expected.ok) violation(`parseIdx rejected a valid file: ${(err as Error).message}`);
    tally(outcomes, 'rejected');
    return;
  }
  if (!expected.ok) violation(`parseIdx accepted an invalid file as ${got.dtype} [${got.dims}]`);
  if (got.dims.join() !== expected.dims.join()) violation(`parseIdx read dims [${got.dims}], expected [${expected.dims}]`);
  if (got.data.length !== expected.values.length || !expected.values.every((v, i) => Object.is(v, got.data[i]))) violation('parseIdx read the wrong values');
  tally(outcomes, 'decoded');
}
