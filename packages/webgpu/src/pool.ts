/**
 * Rounds a request up to a size class: multiples of 256 bytes up to 4 KiB, then quarter steps
 * between powers of two. Waste stays under 25% and a training loop reuses the same few classes.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(256, Math.ceil(bytes / 256) * 256);
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free GPU buffers by size class. Buffers come back only after the work using them was submitted. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  pooledBytes = 0;
  /** Buffers waiting in the pool now. */
  pooledBuffers = 0;
  /** Buffers `drain` has destroyed so far: with the backend's count of created ones, how many exist. */
  destroyed = 0;

  acquire(size: number): GPUBuffer | undefined {
    const buf = this.free.get(size)?.pop();
    if (buf) {
      this.pooledBytes -= size;
      this.pooledBuffers--;
    }
    return buf;
  }

  release(buf: GPUBuffer): void {
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
    this.pooledBytes += buf.size;
    this.pooledBuffers++;
  }

  /** Destroys every pooled buffer (on shutdown, or to give memory back). */
  drain(): number {
    let freed = 0;
    for (const list of this.free.values())
      for (const b of list.splice(0)) {
        freed += b.size;
        b.destroy();
        this.destroyed++;
      }
    this.pooledBytes = 0;
    this.pooledBuffers = 0;
    return freed;
  }
}
