#!/usr/bin/env node
// Where a dispatch's time goes on this adapter: the JS/driver cost of queueing an op (enqueue)
// against the whole (total, through the readback), for a dependent chain (the bench's dispatch
// row), independent ops, a submit per op, and a chain on 100k elements.
//   npm run build:packages && node bench/dispatch-probe.mjs
import * as ts from '@tessera/core';
import '@tessera/webgpu'; // registers the WebGPU backend
const info = await ts.init();
const x = ts.keep(ts.randn([16], { seed: 1 }));
const N = 1000;
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
async function trial(name, body) {
  const enq = [],
    tot = [];
  for (let r = 0; r < 12; r++) {
    const t0 = performance.now();
    const last = body();
    const t1 = performance.now();
    await last.data();
    const t2 = performance.now();
    last.dispose();
    if (r >= 2) {
      enq.push(((t1 - t0) * 1000) / N);
      tot.push(((t2 - t0) * 1000) / N);
    }
  }
  console.log(`${name.padEnd(44)} enqueue ${med(enq).toFixed(2)} us/op, total ${med(tot).toFixed(2)} us/op`);
}
console.log('adapter', info.adapter);
await trial('dependent chain (bench row)', () => {
  let y = x.add(1);
  for (let i = 1; i < N; i++) {
    const z = y.add(1);
    y.dispose();
    y = z;
  }
  return y;
});
await trial('independent adds', () => {
  let y = null;
  for (let i = 0; i < N; i++) {
    y?.dispose();
    y = x.add(1);
  }
  return y;
});
await trial('dependent chain, submit each', () => {
  let y = x.add(1);
  for (let i = 1; i < N; i++) {
    const z = y.add(1);
    y.dispose();
    y = z;
    ts.flush();
  }
  return y;
});
await trial('dependent chain, 100k elements', () => {
  const b = ts.zeros([100000]);
  let y = b.add(1);
  b.dispose();
  for (let i = 1; i < N; i++) {
    const z = y.add(1);
    y.dispose();
    y = z;
  }
  return y;
});
const s0 = ts.stats();
{
  let y = x.add(1);
  for (let i = 1; i < N; i++) {
    const z = y.add(1);
    y.dispose();
    y = z;
  }
  await y.data();
  y.dispose();
}
const s1 = ts.stats();
console.log('per 1000-op chain: submits', s1.submits - s0.submits, 'buffers created', s1.buffersCreated - s0.buffersCreated);
process.exit(0);
