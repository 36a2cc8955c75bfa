#!/usr/bin/env node
// float16 on this adapter: each row times one op on float32 tensors, on float16 tensors (halves
// read and written by the kernel itself where the backend takes them), and on float16 tensors
// with that turned off (casts to float32 and back around the float32 kernel, what every op
// without a half kernel does), alternating the three within each round so that load from other
// processes hits them alike. Prints ms per op and the float16 / float32 ratios.
//
//   npx tsx --tsconfig examples/tsconfig.json bench/half.mjs [size=1048576] [reps=20] [rounds=3]
import * as ts from '@tessera/core';
import { createBackend } from '@tessera/webgpu';

const n = Number(process.argv[2] ?? 1 << 20);
const reps = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 3);

const backend = await createBackend({ warmPipelines: 'none' });
const takesHalf = backend.takesHalf?.bind(backend);
await ts.init({ backend });

/** ms per call of `f`, after 3 warm-up calls; one read at the end waits for the queue. */
async function time(f) {
  for (let i = 0; i < 3; i++) {
    const y = f();
    await y.data();
    y.dispose();
  }
  const t0 = performance.now();
  let last = null;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = f();
  }
  await last.data();
  last.dispose();
  return (performance.now() - t0) / reps;
}

const keep = (t) => ts.keep(t);
const xf = keep(ts.randn([n], { seed: 1 }));
const yf = keep(ts.randn([n], { seed: 2 }));
const xh = keep(xf.cast('float16'));
const yh = keep(yf.cast('float16'));
const m = 256;
const af = keep(ts.randn([m, m], { seed: 3 }));
const ah = keep(af.cast('float16'));
// LeNet-5's first dense layer at batch 64, with its bias and ReLU.
const xd = keep(ts.randn([64, 400], { seed: 4 }));
const wd = keep(ts.randn([400, 120], { seed: 5 }));
const bd = keep(ts.randn([120], { seed: 6 }));
const [xdh, wdh, bdh] = [xd, wd, bd].map((t) => keep(t.cast('float16')));
const dense = (x, w, b) => ts.linear(x, w, b, { activation: 'relu' });
// LeNet-5's second convolution at batch 64.
const cx = keep(ts.randn([64, 6, 14, 14], { seed: 7 }));
const cw = keep(ts.randn([16, 6, 5, 5], { seed: 8 }));
const [cxh, cwh] = [cx, cw].map((t) => keep(t.cast('float16')));
const conv = (x, w) => ts.conv2d(x, w);

// [label, float32 op, float16 op, whether the float16 op has a casts-around form to compare]
const rows = [
  [`relu [${n}]`, () => xf.relu(), () => xh.relu(), true],
  [`add [${n}] + [${n}]`, () => xf.add(yf), () => xh.add(yh), true],
  [`mul [${n}] by 0.5`, () => xf.mul(0.5), () => xh.mul(0.5), true],
  [`cast float32 -> float16 [${n}] (vs a float32 copy)`, () => xf.mul(1), () => xf.cast('float16'), false],
  [`cast float16 -> float32 [${n}] (vs a float32 copy)`, () => xf.mul(1), () => xh.cast('float32'), false],
  [`matmul ${m}x${m}x${m}`, () => af.matmul(af), () => ah.matmul(ah), true],
  ['dense [64,400]@[400,120] + bias, ReLU', () => dense(xd, wd, bd), () => dense(xdh, wdh, bdh), true],
  ['conv2d [64,6,14,14] * [16,6,5,5] (no half kernel: casts)', () => conv(cx, cw), () => conv(cxh, cwh), false],
];

const samples = rows.map(() => ({ f32: [], f16: [], casts: [] }));
for (let r = 0; r < rounds; r++) {
  for (const [i, [, f32, f16, both]] of rows.entries()) {
    samples[i].f32.push(await time(f32));
    samples[i].f16.push(await time(f16));
    if (!both) continue;
    backend.takesHalf = () => false;
    samples[i].casts.push(await time(f16));
    backend.takesHalf = takesHalf;
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const info = ts.backendInfo();
console.log(`${info.adapter} (${info.isCPU ? 'CPU' : 'GPU'}): float16 against float32, median of ${rounds} rounds of ${reps} calls`);
console.table(
  rows.map(([label], i) => {
    const [a, b] = [median(samples[i].f32), median(samples[i].f16)];
    const c = samples[i].casts.length ? median(samples[i].casts) : null;
    return {
      op: label,
      'float32 ms': a.toFixed(2),
      'float16 ms': b.toFixed(2),
      'float16 via casts ms': c === null ? '-' : c.toFixed(2),
      'float16 / float32': (b / a).toFixed(2),
      'casts / float16': c === null ? '-' : (c / b).toFixed(2),
    };
  }),
);
ts.shutdown();
