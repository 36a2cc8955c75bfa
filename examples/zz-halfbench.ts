import * as ts from '@tessera/core';
import { createBackend } from '@tessera/webgpu';
const native = process.argv[2] !== 'opmath';
const b = await createBackend({} as never);
if (!native) (b as { takesHalf?: unknown }).takesHalf = () => false;
await ts.init({ backend: b } as never);
async function time(f: () => ts.Tensor, reps = 20) {
  for (let i = 0; i < 3; i++) {
    const y = f();
    await y.data();
    y.dispose();
  }
  const t0 = performance.now();
  let last: ts.Tensor | null = null;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = f();
  }
  await last!.data();
  last!.dispose();
  return (performance.now() - t0) / reps;
}
const n = 1 << 20;
const xf = ts.randn([n], { seed: 1 });
const xh = xf.cast('float16');
const yf = ts.randn([n], { seed: 2 });
const yh = yf.cast('float16');
for (let round = 0; round < 2; round++) {
  const rows: Record<string, string> = {};
  for (const [name, f32, f16] of [
    ['relu [1M]', () => xf.relu(), () => xh.relu()],
    ['add [1M]+[1M]', () => xf.add(yf), () => xh.add(yh)],
    ['cast to f32', () => xf.mul(1), () => xh.cast('float32')],
    ['cast to f16', () => xf.mul(1), () => xf.cast('float16')],
  ] as [string, () => ts.Tensor, () => ts.Tensor][]) {
    const a = await time(f32);
    const c = await time(f16);
    rows[name] = `f32 ${a.toFixed(1)} ms, f16 ${c.toFixed(1)} ms (${(c / a).toFixed(2)}x)`;
  }
  console.log(native ? 'native' : 'opmath', rows);
}
