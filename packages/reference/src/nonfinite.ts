/**
 * `markNonFinite` / `takeNonFinite` of the CPU backends (reference, wasm), whose buffers are
 * readable at once: a check scans the words when it is queued and keeps the smallest tag.
 *
 * @example
 * const flag = new NonFiniteFlag();
 * flag.mark(new Uint32Array(new Float32Array([1, Number.NaN]).buffer), 2, 7);
 * await flag.take(); // 7, then -1 until the next flagged check
 */
export class NonFiniteFlag {
  private flagged: number | null = null;

  /**
   * Flags `tag` if one of the first `size` values in `words` is NaN or infinite (an all-ones
   * exponent): float32 values, or with `dtype` 'float16' halves, two to a word.
   */
  mark(words: Uint32Array, size: number, tag: number, dtype: 'float32' | 'float16' = 'float32'): void {
    const half = dtype === 'float16';
    const values = half ? new Uint16Array(words.buffer, words.byteOffset, size) : words;
    const exp = half ? 0x7c00 : 0x7f800000;
    for (let i = 0; i < size; i++) {
      if ((values[i]! & exp) === exp) {
        if (this.flagged === null || tag < this.flagged) this.flagged = tag;
        return;
      }
    }
  }

  /** The smallest flagged tag since the last call, or -1; clears the flag. */
  take(): Promise<number> {
    const tag = this.flagged ?? -1;
    this.flagged = null;
    return Promise.resolve(tag);
  }
}
