import { describe, expect, it } from 'vitest';

import { decodeFashionClassJson, decodeFashionMnist } from '../../packages/data/src/index.js';

const enc = new TextEncoder();

/** A class file in the fashion-mnist package's format; row r is filled with (r * 10 + 1) % 256. */
function classJson(rows: number, options: { spaced?: boolean; emptyAt?: number[] } = {}): Uint8Array {
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) {
    if (options.emptyAt?.includes(r)) parts.push('[]');
    parts.push(`[${new Array(784).fill((r * 10 + 1) % 256).join(options.spaced ? ', ' : ',')}]`);
  }
  const sep = options.spaced ? ',\n  ' : ',';
  return enc.encode(options.spaced ? `{ "data" : [\n  ${parts.join(sep)}\n] }` : `{"data":[${parts.join(sep)}]}`);
}

describe('decodeFashionClassJson', () => {
  it('decodes all rows of a compact file', () => {
    const d = decodeFashionClassJson(classJson(3));
    expect(d.rows).toBe(3);
    expect(d.totalRows).toBe(3);
    expect(d.pixels.length).toBe(3 * 784);
    expect(d.pixels[0]).toBe(1);
    expect(d.pixels[784]).toBe(11);
    expect(d.pixels[3 * 784 - 1]).toBe(21);
  });

  it('tolerates whitespace and skips the empty padding rows the package contains', () => {
    const d = decodeFashionClassJson(classJson(4, { spaced: true, emptyAt: [0, 2] }));
    expect(d.totalRows).toBe(4);
    expect(Array.from(d.pixels.filter((_, i) => i % 784 === 0))).toEqual([1, 11, 21, 31]);
  });

  it('copies only rows [start, start + count) but counts them all', () => {
    const d = decodeFashionClassJson(classJson(5), { start: 1, count: 2 });
    expect(d.rows).toBe(2);
    expect(d.totalRows).toBe(5);
    expect(d.pixels.length).toBe(2 * 784);
    expect(d.pixels[0]).toBe(11);
    expect(d.pixels[784]).toBe(21);
  });

  it('handles an empty data array', () => {
    expect(decodeFashionClassJson(enc.encode('{"data":[]}')).totalRows).toBe(0);
  });

  it('reports malformed content with the file name and byte position', () => {
    expect(() => decodeFashionClassJson(enc.encode('[1,2]'), { name: 'c.json' })).toThrow(/c.json: unexpected "\[" at byte 0: expected '\{'/);
    expect(() => decodeFashionClassJson(enc.encode('{"data":[[1,256]]}'), { name: 'c.json' })).toThrow(/c.json: .*expected an integer pixel value 0..255/);
    expect(() => decodeFashionClassJson(enc.encode('{"data":[[0.5]]}'))).toThrow(/expected ',' or '\]' in an image row/);
    expect(() => decodeFashionClassJson(enc.encode('{"data":[[1,2,3]]}'))).toThrow(/image row 0 has 3 values, expected 784/);
    expect(() => decodeFashionClassJson(enc.encode('{"data":[[1,2'))).toThrow(/end of file/);
    const long = enc.encode(`{"data":[[${new Array(785).fill(0).join(',')}]]}`);
    expect(() => decodeFashionClassJson(long)).toThrow(/more than 784 values/);
  });
});

describe('decodeFashionMnist', () => {
  it('insists on the 10-file, 7000-rows-per-class layout it splits by', () => {
    const files = Array.from({ length: 10 }, () => classJson(2));
    expect(() => decodeFashionMnist(files.slice(0, 9), { split: 'train' })).toThrow(/expected 10 class files, got 9/);
    expect(() => decodeFashionMnist(files, { split: 'train', names: files.map((_, i) => `${i}.json`) })).toThrow(/0.json: has 2 images, expected 7000/);
    expect(() => decodeFashionMnist(files, { split: 'val' as never })).toThrow(/split must be 'train' or 'test'/);
  });
});
