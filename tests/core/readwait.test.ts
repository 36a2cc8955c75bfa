// The read pacing of the WebGPU backend on CPU adapters in Node (packages/webgpu/src/readwait.ts):
// it learns, per signature of queued work, how long to sleep before mapping a readback.
import { expect, it } from 'vitest';
import { ReadWait, pollingSlowsDevice } from '../../packages/webgpu/src/readwait.js';

/** Queues `n` dispatches of 4 workgroups, then starts a read. */
function read(w: ReadWait, n: number) {
  for (let i = 0; i < n; i++) w.queued(4);
  return w.begin();
}

it('maps at once the first time, then sleeps about as long as the work took, halving while it finds the work done', () => {
  const w = new ReadWait();
  const first = read(w, 10);
  expect(first.sleep).toBe(0);
  w.end(first.key, 0, 40); // polled from the start: 40 ms
  const second = read(w, 10);
  expect(second.key).toBe(first.key);
  expect(second.sleep).toBe(40);
  w.end(second.key, 40, 0.1); // done when it woke: try shorter
  expect(read(w, 10).sleep).toBe(20);
  w.end(first.key, 20, 12); // not done: the sleep plus the wait, at most the polled time
  expect(read(w, 10).sleep).toBe(32);
  w.end(first.key, 32, 30);
  expect(read(w, 10).sleep).toBe(40);
});

it('keeps signatures apart, and maps at once for work shorter than 10 ms', () => {
  const w = new ReadWait();
  const a = read(w, 3);
  w.end(a.key, 0, 5);
  expect(read(w, 3).sleep).toBe(0);
  const b = read(w, 7);
  expect(b.key).not.toBe(a.key);
  expect(b.sleep).toBe(0);
});

it('paces only Dawn in Node on a CPU adapter', () => {
  expect(pollingSlowsDevice(false)).toBe(false);
  expect(pollingSlowsDevice(true)).toBe(true);
});
