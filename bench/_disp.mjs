import * as ts from '@tessera/core';
await ts.init();
const x = ts.ones([16]);
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  const y = ts.tidy(() => { let y = x; for (let i = 0; i < 2000; i++) y = y.add(1); return y; });
  const t1 = performance.now();
  await y.data();
  const t2 = performance.now();
  console.log(`record ${((t1 - t0) / 2000 * 1000).toFixed(1)} us/op, total ${((t2 - t0) / 2000 * 1000).toFixed(1)} us/op`);
  y.dispose();
}
ts.shutdown();
