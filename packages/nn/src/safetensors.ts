/**
 * The safetensors format (https://huggingface.co/docs/safetensors), the file format of
 * PyTorch / Hugging Face weights: an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { k: v } }`, then the
 * raw little-endian tensor bytes (offsets count from the end of the header).
 *
 * Written here rather than taken from npm: the only package of that name is a 0.0.1
 * placeholder, and the format needs ~150 lines. Every malformation gets an error that names
 * the data source and, where it applies, the tensor. Browser-safe (no Node APIs).
 */

/** Bytes per element of each safetensors dtype. */
const ITEM_SIZE: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** One tensor in a safetensors file: its dtype, shape and raw little-endian bytes. @example decodeSafetensors(bytes).tensors.get('fc.W')!.shape */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** A view into the file's bytes (not a copy). */
  bytes: Uint8Array;
}

/** A decoded file: the tensors by name, in file order, and the string metadata. @example decodeSafetensors(bytes).metadata.format */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** A tensor to write: float32 or int32 values and a shape. @example const entry: SafetensorsInput = { shape: [2], data: new Float32Array([1, 2]) }; */
export interface SafetensorsInput {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** A size or offset: JSON numbers past 2^53 are rounded, so they could not name a byte exactly. */
const isCount = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;

/**
 * A header value for an error message, at most ~60 characters: JSON.stringify of a value from the
 * file could be megabytes long, or nested deeper than its recursion can go (a RangeError).
 */
function preview(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = Array.isArray(v) ? 'a deeply nested array' : typeof v;
  }
  s ??= String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A tensor name for an error message: a key can be as long as the header. */
const shortName = (name: string): string => (name.length > 80 ? `${name.slice(0, 77)}...` : name);

/**
 * The first top-level key that the JSON object text repeats, or null. JSON.parse keeps the last
 * of two equal keys without a word, which would drop a tensor; the text is known to be valid
 * JSON here, so a scan of its strings and brackets suffices.
 */
function repeatedKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && keyNext) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        keyNext = false;
      }
    } else if (ch === '{' || ch === '[') keyNext = ++depth === 1;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) keyNext = true;
  }
  return null;
}

/**
 * Serialises tensors (float32 as F32, int32 as I32) and optional string metadata.
 *
 * @example
 * const bytes = encodeSafetensors({ 'fc.W': { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error("encodeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    const dtype = t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : null;
    if (!dtype) throw new Error(`encodeSafetensors: tensor '${name}' must hold a Float32Array or Int32Array`);
    if (product(t.shape) !== t.data.length) throw new Error(`encodeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (LITTLE_ENDIAN) out.set(bytes, at);
    else
      for (let i = 0; i < t.data.length; i++)
        t.data instanceof Float32Array ? view.setFloat32(at + 4 * i, t.data[i]!, true) : view.setInt32(at + 4 * i, t.data[i]!, true);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Parses safetensors bytes, validating the header against the data: truncated files,
 * invalid JSON, unknown dtypes, and offsets that disagree with shapes or leave the file all
 * get an error that starts with `source` (say, the caller and the file path) and names the tensor.
 *
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes, 'lenet.safetensors');
 * tensors.get('conv1.W')!.shape;   // [6, 1, 5, 5]
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'decodeSafetensors'): SafetensorsFile {
  const bad = (msg: string): Error => new Error(`${source}: ${msg}`);
  if (!(bytes instanceof Uint8Array)) throw bad(`expected bytes (Uint8Array), got ${typeof bytes}`);
  if (bytes.length < 8) throw bad(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLen > bytes.length - 8) {
    throw bad(`truncated or not a safetensors file: the header claims ${headerLen} bytes but only ${bytes.length - 8} follow`);
  }
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    throw bad(`corrupt header: not valid UTF-8 JSON (${(e as Error).message.slice(0, 100)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('corrupt header: expected a JSON object');
  const twice = repeatedKey(text);
  if (twice !== null) throw bad(`corrupt header: the key ${preview(twice)} appears twice`);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  const spans: [number, number, string, number][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('corrupt header: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw bad(`corrupt header: __metadata__.${k} must be a string`);
        // defineProperty: a plain assignment to a '__proto__' key would be dropped.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `tensor '${shortName(name)}'`;
    if (!e || typeof e !== 'object') throw bad(`corrupt header: ${where} is not an object`);
    // hasOwn, not `in`: 'toString' or '__proto__' are in every object.
    if (typeof e.dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, e.dtype)) throw bad(`${where} has unknown dtype ${preview(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw bad(`corrupt header: ${where} has an invalid shape ${preview(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
      throw bad(`corrupt header: ${where} has invalid data_offsets ${preview(off)}`);
    }
    const [begin, end] = off as [number, number];
    const expected = product(e.shape as number[]) * ITEM_SIZE[e.dtype]!;
    if (end - begin !== expected) {
      throw bad(`corrupt header: ${where} (${e.dtype} ${preview(e.shape)}) needs ${expected} bytes but its data_offsets span ${end - begin}`);
    }
    if (end > dataLen) throw bad(`truncated: ${where} ends at data byte ${end} but the file holds only ${dataLen} data bytes`);
    spans.push([begin, end, name, spans.length]);
    tensors.set(name, { dtype: e.dtype, shape: [...(e.shape as number[])], bytes: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  // By end too: a zero-size tensor starting where another starts is not an overlap.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) {
      const [a, b] = [spans[i - 1]!, spans[i]!].sort((x, y) => x[3] - y[3]); // named in header order
      throw bad(`corrupt header: tensors '${shortName(a[2])}' and '${shortName(b[2])}' overlap`);
    }
  }
  return { tensors, metadata };
}

/**
 * An entry's values as a Float32Array (a copy, aligned, host byte order); F32 only, with an
 * error naming the tensor otherwise.
 *
 * @example
 * const { tensors } = decodeSafetensors(bytes);
 * const w = entryToFloat32('fc.W', tensors.get('fc.W')!);
 */
export function entryToFloat32(name: string, entry: SafetensorsEntry, source = 'entryToFloat32'): Float32Array {
  if (entry.dtype !== 'F32') {
    throw new Error(`${source}: tensor '${name}' has dtype ${entry.dtype}; expected F32 (convert it with tensor.float() in PyTorch before saving)`);
  }
  const n = entry.bytes.length / 4;
  if (LITTLE_ENDIAN) return new Float32Array(entry.bytes.slice().buffer, 0, n);
  const view = new DataView(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
}
