import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { encodeIdx, gunzipIfNeeded, isGzip, parseIdx } from '../../packages/data/src/index.js';

/** A 2x2x3 uint8 IDX file written byte by byte, independent of encodeIdx. */
function handBuilt(): Uint8Array {
  return new Uint8Array([
    0x00,
    0x00,
    0x08,
    0x03, // magic: uint8, rank 3
    0x00,
    0x00,
    0x00,
    0x02, // dim 0 = 2
    0x00,
    0x00,
    0x00,
    0x02, // dim 1 = 2
    0x00,
    0x00,
    0x00,
    0x03, // dim 2 = 3
    0,
    1,
    2,
    3,
    4,
    5,
    250,
    251,
    252,
    253,
    254,
    255,
  ]);
}

describe('parseIdx', () => {
  it('parses a hand-built uint8 file: dtype, dims and values', () => {
    const bytes = handBuilt();
    const idx = parseIdx(bytes);
    expect(idx.dtype).toBe('uint8');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    // uint8 data is a zero-copy view into the input
    expect(idx.data.buffer).toBe(bytes.buffer);
  });

  it('respects the byteOffset of a view into a larger buffer', () => {
    const outer = new Uint8Array(100);
    outer.set(handBuilt(), 37);
    const idx = parseIdx(outer.subarray(37, 37 + handBuilt().length));
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(idx.data[11]).toBe(255);
  });

  it('reads big-endian int32 and float32 values', () => {
    const i32 = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00]);
    const a = parseIdx(i32);
    expect(a.dtype).toBe('int32');
    expect(a.data).toBeInstanceOf(Int32Array);
    expect(Array.from(a.data)).toEqual([-2, 256]);

    const f32 = new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0x00, 0x00]); // 1.5
    expect(Array.from(parseIdx(f32).data)).toEqual([1.5]);
  });

  it('round-trips every dtype through encodeIdx', () => {
    const cases = [
      ['uint8', [0, 7, 255]],
      ['int8', [-128, 0, 127]],
      ['int16', [-30000, 1, 30000]],
      ['int32', [-2e9, 0, 2e9]],
      ['float32', [-1.5, 0.25, 1e6]],
      ['float64', [Math.PI, -1e-300, 42]],
    ] as const;
    for (const [dtype, values] of cases) {
      const idx = parseIdx(encodeIdx(dtype, [3], values));
      expect(idx.dtype).toBe(dtype);
      expect(idx.dims).toEqual([3]);
      expect(Array.from(idx.data)).toEqual(values);
    }
  });

  it('rejects a bad magic number, naming the file', () => {
    const bytes = handBuilt();
    bytes[0] = 0x12;
    expect(() => parseIdx(bytes, { name: 'train-images-idx3-ubyte' })).toThrow(/train-images-idx3-ubyte: bad IDX magic number 0x12000803/);
  });

  it('rejects an unknown dtype byte and a zero rank', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 0]))).toThrow(/unknown IDX dtype byte 0x07/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x08, 0]))).toThrow(/rank is 0/);
  });

  it('rejects a truncated header', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), { name: 'f' })).toThrow(/f: truncated IDX header/);
    expect(() => parseIdx(handBuilt().subarray(0, 10), { name: 'f' })).toThrow(/f: truncated IDX header: rank 3 needs 16 header bytes, got 10/);
  });

  it('rejects truncated data with the expected and actual sizes', () => {
    const bytes = handBuilt();
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 1), { name: 'labels' })).toThrow(
      /labels: truncated IDX data: dims \[2, 2, 3\] of uint8 need 12 bytes .* got 11/,
    );
  });

  it('rejects extra bytes after the declared data', () => {
    const bytes = new Uint8Array(handBuilt().length + 3);
    bytes.set(handBuilt());
    expect(() => parseIdx(bytes, { name: 'x' })).toThrow(/x: IDX size mismatch: .*3 extra/);
  });

  it('refuses gzip bytes with a hint instead of a confusing magic error', () => {
    const gz = gzipSync(handBuilt());
    expect(isGzip(gz)).toBe(true);
    expect(() => parseIdx(gz, { name: 'a.gz' })).toThrow(/a.gz: is gzip-compressed/);
  });
});

describe('gunzipIfNeeded', () => {
  it('decompresses gzip bytes with DecompressionStream', async () => {
    const raw = handBuilt();
    const out = await gunzipIfNeeded(gzipSync(raw));
    expect(Array.from(out)).toEqual(Array.from(raw));
    expect(parseIdx(out).dims).toEqual([2, 2, 3]);
  });

  it('returns uncompressed bytes unchanged', async () => {
    const raw = handBuilt();
    expect(await gunzipIfNeeded(raw)).toBe(raw);
  });

  it('names the file when the gzip stream is corrupt', async () => {
    const gz = gzipSync(handBuilt()).subarray(0, 12);
    await expect(gunzipIfNeeded(gz, { name: 'broken.gz' })).rejects.toThrow(/broken.gz: gzip decompression failed/);
  });
});
