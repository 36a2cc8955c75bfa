// `ts.tune` over one LeNet-5 training step (Adam, compiled) on a fresh WebGPU backend whose
// winners are kept in memory only (the user's autotune cache is neither read nor written):
// shared by bench/autotune.mjs and the suite's autotune row (bench/run.mjs).
import { createBackend, memoryStore } from '@tessera/webgpu';

/**
 * Starts a fresh WebGPU backend on `store` (a new memory store by default) and tunes a LeNet-5
 * step at `batch`; resolves to the seconds `ts.tune` took and its rows.
 * @param {any} ts @tessera/core
 * @param {any} nn @tessera/nn
 */
export async function tuneLeNet(ts, nn, { batch = 64, store = memoryStore() } = {}) {
  await ts.init({ backend: await createBackend({ autotune: 'cached', tuneStore: store, warmPipelines: 'none' }) });
  const net = nn.models.lenet5({ seed: 1 });
  const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
  const step = nn.trainFunction((x, y) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt);
  const x = ts.rand([batch, 1, 28, 28], { seed: 3 });
  const y = ts.tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 10),
    { dtype: 'int32' },
  );
  try {
    const t0 = performance.now();
    const rows = await ts.tune(() => step(x, y));
    return { seconds: (performance.now() - t0) / 1000, rows };
  } finally {
    step.dispose();
    opt.dispose();
    ts.dispose([x, y]);
    nn.disposeLayers(net.out);
  }
}
