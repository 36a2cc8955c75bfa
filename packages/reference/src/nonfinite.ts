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

  /** Flags `tag` if one of the first `size` float32 values in `words` is NaN or infinite (all-ones exponent). */
  mark(words: Uint32Array, size: number, tag: number): void {
    for (let i = 0; i < size; i++) {
      if ((words[i]! & 0x7f800000) === 0x7f800000) {
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
