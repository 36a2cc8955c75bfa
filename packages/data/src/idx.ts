/**
 * IDX file parsing (the format MNIST and Fashion-MNIST are distributed in).
 *
 * Browser-safe: everything here works on bytes the caller already has, so the
 * same code serves `fs.readFile` in Node and `fetch` in the browser. The only
 * decompression offered here (`gunzipIfNeeded`) uses the web-standard
 * `DecompressionStream`, which both modern browsers and Node >= 18 provide.
 *
 * Layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a dtype byte, a
 * rank byte, `rank` big-endian uint32 dimensions, then the values, big-endian,
 * row-major.
 */

/** Element types an IDX file can declare, keyed by their dtype byte. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed array produced for each dtype (native endianness). */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. */
export interface IdxData {
  dtype: IdxDtype;
  /** Dimension sizes, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /**
   * The values in row-major order. For `uint8` this is a zero-copy view into
   * the input bytes (so keep the input alive and do not mutate it).
   */
  data: IdxArray;
}

/** Options shared by the parsing functions. */
export interface IdxParseOptions {
  /** Name used in error messages (a file name or URL); defaults to `"IDX data"`. */
  name?: string | undefined;
}

interface DtypeInfo {
  dtype: IdxDtype;
  size: number;
}

const DTYPES: Readonly<Record<number, DtypeInfo>> = {
  8: { dtype: 'uint8', size: 1 },
  9: { dtype: 'int8', size: 1 },
  11: { dtype: 'int16', size: 2 },
  12: { dtype: 'int32', size: 4 },
  13: { dtype: 'float32', size: 4 },
  14: { dtype: 'float64', size: 8 },
};

/** True when `bytes` start with the gzip magic number (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses the header and values of an IDX file.
 *
 * Throws an Error naming `options.name` when the magic number is wrong, the
 * bytes are gzip-compressed (decompress first: `gunzipIfNeeded`, or
 * `loadIdxFile` from `@tessera/data/node`), the header or data is truncated,
 * or there are bytes left over after the declared data.
 */
export function parseIdx(bytes: Uint8Array, options: IdxParseOptions = {}): IdxData {
  const name = options.name ?? 'IDX data';
  if (isGzip(bytes)) {
    throw new Error(
      `${name}: is gzip-compressed; decompress it before parsing ` + `(gunzipIfNeeded() in the browser, loadIdxFile() from @tessera/data/node in Node)`,
    );
  }
  if (bytes.length < 4) {
    throw new Error(`${name}: truncated IDX header: expected at least 4 bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `${name}: bad IDX magic number 0x${hex(bytes, 0, 4)}: expected it to start with 0x0000 ` + `followed by a dtype byte (0x08 for uint8) and a rank byte`,
    );
  }
  const info = DTYPES[bytes[2]!];
  if (info === undefined) {
    throw new Error(`${name}: unknown IDX dtype byte 0x${hex(bytes, 2, 3)}: expected one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e`);
  }
  const rank = bytes[3]!;
  if (rank === 0) throw new Error(`${name}: IDX rank is 0: expected at least one dimension`);

  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw new Error(`${name}: truncated IDX header: rank ${rank} needs ${headerSize} header bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }

  const expected = count * info.size;
  const actual = bytes.length - headerSize;
  if (actual < expected) {
    throw new Error(
      `${name}: truncated IDX data: dims [${dims.join(', ')}] of ${info.dtype} need ${expected} bytes ` + `after the ${headerSize}-byte header, got ${actual}`,
    );
  }
  if (actual > expected) {
    // A longer file usually means the header was misread or two files were
    // concatenated; silently ignoring the tail would hide that.
    throw new Error(
      `${name}: IDX size mismatch: dims [${dims.join(', ')}] of ${info.dtype} need ${expected} bytes ` +
        `after the header, but ${actual} are present (${actual - expected} extra)`,
    );
  }

  return { dtype: info.dtype, dims, data: readValues(bytes, view, headerSize, count, info.dtype) };
}

function readValues(bytes: Uint8Array, view: DataView, offset: number, count: number, dtype: IdxDtype): IdxArray {
  switch (dtype) {
    case 'uint8':
      // The overwhelmingly common case (all of MNIST): no copy at all.
      return bytes.subarray(offset, offset + count);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/**
 * Builds the bytes of an IDX file; the inverse of `parseIdx`. Handy for tests
 * and for caching preprocessed data in the same format.
 */
export function encodeIdx(dtype: IdxDtype, dims: readonly number[], values: ArrayLike<number>): Uint8Array {
  const code = Number(Object.keys(DTYPES).find((k) => DTYPES[Number(k)]!.dtype === dtype));
  const size = DTYPES[code]!.size;
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new Error(`encodeIdx: dims [${dims.join(', ')}] hold ${count} values, got ${values.length}`);
  }
  const headerSize = 4 + 4 * dims.length;
  const out = new Uint8Array(headerSize + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  for (let i = 0; i < count; i++) {
    const at = headerSize + i * size;
    const v = values[i]!;
    if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, false);
    else if (dtype === 'int32') view.setInt32(at, v, false);
    else if (dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}

/**
 * Decompresses `bytes` if they start with the gzip magic number, otherwise
 * returns them unchanged. Uses `DecompressionStream` (browsers, Node >= 18);
 * Node code may prefer the synchronous `loadIdxFile` from `@tessera/data/node`.
 */
export async function gunzipIfNeeded(bytes: Uint8Array, options: IdxParseOptions = {}): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const name = options.name ?? 'IDX data';
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(`${name}: is gzip-compressed and this runtime has no DecompressionStream; serve it uncompressed`);
  }
  try {
    // Copy into a fresh ArrayBuffer-backed array: Blob wants BufferSource,
    // which excludes views over SharedArrayBuffer.
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new Error(`${name}: gzip decompression failed: ${(err as Error).message}`);
  }
}

function hex(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < Math.min(end, bytes.length); i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}
