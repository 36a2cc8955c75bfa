/**
 * Worker threads for the WebAssembly backend. Each worker instantiates the same kernel module
 * against the same shared WebAssembly.Memory, so a kernel call made on a worker reads and writes
 * the very buffers the main thread sees. A parallel kernel is handed out as lists of module
 * calls, one list per thread, written as float64 words into that memory; a control block of
 * int32 words (a SharedArrayBuffer) starts the workers and counts them back in with Atomics.
 *
 * Why lists of calls and not a closure per part: a worker runs the module alone, with no copy
 * of the backend's JavaScript, so what it can be told is "call export i with these numbers".
 * The kernel wrappers stay the single place that knows how an op is cut into calls.
 *
 * Layout of the control block (int32 words):
 *   0  generation: bumped by the main thread to start a job; workers sleep on it
 *   1  workers still running the current job; the last one wakes the main thread
 *   2  set when a worker's call threw; its message is in the bytes from ERROR_AT
 *   3  stop: workers return when they wake to it
 *   LISTS_AT + 2w, +1: byte offset and length (in words) of worker w's call list
 * A call list is [export index, argument count, ...arguments] repeated.
 */

/** Control words before the per-worker list slots. */
const LISTS_AT = 8;
/** Most threads a pool may have (the control block's size). */
export const MAX_THREADS = 64;
/** Where a failed call's message starts in the control block, in bytes, and its room. */
const ERROR_AT = 4 * (LISTS_AT + 2 * MAX_THREADS);
const ERROR_BYTES = 1024;

/**
 * The worker's program, as source: a worker runs it with no module loader and no bundler, in
 * Node (`worker_threads`, as a script) and in a page (a Blob URL), so it is one self-contained
 * script with nothing to import. It spins briefly before sleeping: the next parallel kernel of
 * a training step usually comes within microseconds, and a wake from sleep costs more.
 */
const WORKER_SOURCE = `
'use strict';
const SPINS = 20000;
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const started = (data) => {
  const { module, memory, control, index } = data;
  const ctl = new Int32Array(control);
  const abort = () => { throw new Error('a kernel aborted'); };
  WebAssembly.instantiate(module, { env: { memory, abort } }).then((instance) => {
    const fns = Object.values(instance.exports).filter((v) => typeof v === 'function');
    // Read before saying ready: the first job may start the moment the main thread hears it.
    let generation = Atomics.load(ctl, 0);
    port.postMessage({ ready: true });
    for (;;) {
      for (let i = 0; i < SPINS && Atomics.load(ctl, 0) === generation; i++);
      Atomics.wait(ctl, 0, generation);
      generation = Atomics.load(ctl, 0);
      if (Atomics.load(ctl, 3) !== 0) return;
      const at = Atomics.load(ctl, ${LISTS_AT} + 2 * index);
      const length = Atomics.load(ctl, ${LISTS_AT} + 2 * index + 1);
      try {
        const words = new Float64Array(memory.buffer, at, length);
        for (let i = 0; i < length; ) {
          const fn = fns[words[i]];
          const n = words[i + 1];
          fn.apply(null, words.subarray(i + 2, i + 2 + n));
          i += 2 + n;
        }
      } catch (e) {
        if (Atomics.exchange(ctl, 2, 1) === 0) {
          const text = new TextEncoder().encode(String((e && e.stack) || e)).subarray(0, ${ERROR_BYTES - 4});
          new Uint8Array(control, ${ERROR_AT + 4}, text.length).set(text);
          Atomics.store(ctl, ${ERROR_AT / 4}, text.length);
        }
      }
      if (Atomics.sub(ctl, 1, 1) === 1) Atomics.notify(ctl, 1);
    }
  }, (e) => port.postMessage({ error: String((e && e.message) || e) }));
};
if (typeof require === 'function') port.once('message', started);
else port.addEventListener('message', (event) => started(event.data), { once: true });
`;

/** One thread's share of a parallel kernel: calls of module exports, by index, with their arguments. */
export class CallList {
  readonly words: number[] = [];
  /** Appends a call of export `index` with `args`. */
  push(index: number, args: readonly number[]): void {
    this.words.push(index, args.length, ...args);
  }
}

/** A started worker, as the pool needs it on either platform. */
interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Node only: lets the process exit while the worker waits. */
  unref?(): void;
}

/** How this platform starts a worker from source, or null where it cannot. */
type Spawn = (onMessage: (data: { ready?: boolean; error?: string }) => void) => WorkerHandle;

/** Node's worker_threads, a page's Blob-URL worker, or null (no workers here). */
function platformSpawn(): Spawn | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  if (proc?.versions?.node && typeof proc.getBuiltinModule === 'function') {
    const { Worker } = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
    return (onMessage) => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', onMessage);
      w.on('error', (e) => onMessage({ error: e.message }));
      return w;
    };
  }
  if (typeof Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function') {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    return (onMessage) => {
      const w = new Worker(url);
      w.addEventListener('message', (e) => onMessage(e.data));
      w.addEventListener('error', (e) => onMessage({ error: e.message }));
      return w;
    };
  }
  return null;
}

/** Whether this thread may block in Atomics.wait (a page's main thread may not). */
function canBlock(probe: Int32Array): boolean {
  try {
    Atomics.wait(probe, 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The platform's idea of how many threads run at once (Node's availableParallelism, a page's
 * hardwareConcurrency), 1 where neither says.
 *
 * @example
 * hardwareThreads();   // 2 on a 2-core machine
 */
export function hardwareThreads(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  if (proc?.versions?.node && typeof proc.getBuiltinModule === 'function') {
    const os = proc.getBuiltinModule('node:os') as typeof import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/**
 * Why worker threads cannot run here, or null when they can: they need a shared memory
 * (SharedArrayBuffer; in a page, cross-origin isolation) and a way to start workers.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
 * threadsUnavailable(memory);   // null in Node; a reason in a page without cross-origin isolation
 */
export function threadsUnavailable(memory: WebAssembly.Memory): string | null {
  if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer))
    return 'the memory is not shared (a page must be cross-origin isolated: COOP same-origin, COEP require-corp)';
  if (!platformSpawn()) return 'this platform cannot start workers';
  return null;
}

/**
 * `threads - 1` workers that run call lists on the kernel module beside the main thread, which
 * always takes part 0 itself. `run` is synchronous, like every kernel of this backend: it starts
 * the workers, runs the main thread's list, and waits until all are done (blocking in Node,
 * spinning on a page's main thread, where blocking is not allowed).
 *
 * @example
 * const [module, memory] = [{}, {}] as [WebAssembly.Module, WebAssembly.Memory];   // the kernel module's
 * const pool = await ThreadPool.start(module, memory, 2);
 * pool.run([[65536, 0]], () => {});   // the worker's list: 0 words at byte 65536; nothing here
 * pool.close();
 */
export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly blocking: boolean;
  private closed = false;

  private constructor(
    private readonly control: SharedArrayBuffer,
    private readonly workers: WorkerHandle[],
  ) {
    this.ctl = new Int32Array(control);
    this.blocking = canBlock(new Int32Array(new SharedArrayBuffer(4)));
  }

  /** Threads in all, the main one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `threads - 1` workers on `module` and `memory` and waits until each has
   * instantiated it. Throws (after stopping those that did start) where a worker fails.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
    const spawn = platformSpawn();
    const why = threadsUnavailable(memory);
    if (why || !spawn) throw new Error(`wasm backend: no worker threads: ${why}`);
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_THREADS)
      throw new Error(`wasm backend: a thread pool takes 2 to ${MAX_THREADS} threads; got ${threads}`);
    const control = new SharedArrayBuffer(ERROR_AT + ERROR_BYTES);
    const workers: WorkerHandle[] = [];
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, (_, index) => {
          return new Promise<void>((resolve, reject) => {
            const handle = spawn((data) => {
              if (data.ready) resolve();
              else if (data.error) reject(new Error(`wasm backend: worker thread ${index + 1} failed to start: ${data.error}`));
            });
            workers.push(handle);
            handle.postMessage({ module, memory, control, index });
          });
        }),
      );
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    // Ready: from now on a pool left open must not keep a Node process alive.
    for (const w of workers) w.unref?.();
    return new ThreadPool(control, workers);
  }

  /**
   * Runs lists[1..] on the workers and `here(lists[0])` on this thread, and returns when every
   * list is done. `placed[w]` is where list w+1's words were written in the memory: byte offset
   * and length in words. A worker's failure is rethrown here.
   */
  run(placed: readonly (readonly [number, number])[], here: () => void): void {
    if (this.closed) throw new Error('wasm backend: the thread pool was closed');
    const ctl = this.ctl;
    const n = this.workers.length;
    for (let w = 0; w < n; w++) {
      const [at, length] = placed[w] ?? [0, 0];
      Atomics.store(ctl, LISTS_AT + 2 * w, at);
      Atomics.store(ctl, LISTS_AT + 2 * w + 1, length);
    }
    Atomics.store(ctl, 1, n);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let failed: unknown = null;
    try {
      here();
    } catch (e) {
      failed = e;
    }
    // Wait even after a failure here: the workers are still writing into the memory.
    for (let left = Atomics.load(ctl, 1); left !== 0; left = Atomics.load(ctl, 1)) {
      if (this.blocking) Atomics.wait(ctl, 1, left, 1000);
    }
    if (failed) throw failed;
    if (Atomics.load(ctl, 2) !== 0) {
      const length = Atomics.load(ctl, ERROR_AT / 4);
      const message = new TextDecoder().decode(new Uint8Array(this.control, ERROR_AT + 4, length).slice());
      Atomics.store(ctl, 2, 0);
      throw new Error(`wasm backend: a kernel call failed on a worker thread: ${message}`);
    }
  }

  /** Stops the workers; the pool cannot run again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, 3, 1);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    for (const w of this.workers) w.terminate();
  }
}
