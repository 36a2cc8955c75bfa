/**
 * Autotune (packages/webgpu/src/tune): every variant of every site, forced, against PyTorch's
 * numbers (whatever wins, the results are the same); `ts.tune`'s table; winners stored,
 * reloaded, and dropped when the kernels change; background tuning after a read; the quick
 * stand-in pipelines that a first step runs while the costly variant compiles.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { TUNE_SITES, WGSL, createBackend, fileStore, kernelHash, memoryStore, type TuneSite, type TuneStore, type WebGPUBackend } from '@tessera/webgpu';
import { ts, applyCnnCase as apply, expectClose, fromGolden, loadGolden, type GoldenCase } from '../helpers/index.js';

const cnn = loadGolden('cnn_ops.json').cases;
const core = loadGolden('core_ops.json').cases;

/** The fixture cases that exercise a site: its op forward, or the op whose gradient it is. */
const CASES: Record<TuneSite, GoldenCase[]> = {
  matmul: core.filter((c) => c.op === 'matmul' || c.op === 'linear'),
  conv2d: cnn.filter((c) => c.op === 'conv2d'),
  conv2dBackpropInput: cnn.filter((c) => c.op === 'conv2d'),
  conv2dBackpropFilter: cnn.filter((c) => c.op === 'conv2d'),
  softmax: cnn.filter((c) => c.op === 'softmax' || c.op === 'logSoftmax'),
  maxPool2dBackward: cnn.filter((c) => c.op === 'maxPool2d'),
};

/** Softmax rows of 100 (the workgroup form needs 64 or more), against a float64 reference. */
async function wideSoftmax(): Promise<void> {
  const data = Float32Array.from({ length: 3 * 100 }, (_, i) => Math.sin(i * 0.7) * 4);
  const want = new Float64Array(data.length);
  for (let r = 0; r < 3; r++) {
    const row = data.subarray(r * 100, r * 100 + 100);
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    for (let j = 0; j < 100; j++) want[r * 100 + j] = Math.exp(row[j]! - m) / z;
  }
  const x = ts.tensor(data, { shape: [3, 100] });
  const y = ts.softmax(x, -1);
  expectClose(await y.data(), want, { rtol: 1e-5, atol: 1e-7, what: 'softmax of rows of 100' });
  ts.dispose([x, y]);
}

/** A product large enough for every matmul variant to be legal, against a float64 reference. */
async function largeMatmul(): Promise<void> {
  const [M, K, N] = [70, 130, 66];
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.11));
  const want = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j]! += a[i * K + k]! * b[k * N + j]!;
  const A = ts.tensor(a, { shape: [M, K] });
  const B = ts.tensor(b, { shape: [K, N] });
  const C = ts.matmul(A, B);
  expectClose(await C.data(), want, { rtol: 1e-4, atol: 1e-4, what: `[${M},${K}]@[${K},${N}]` });
  ts.dispose([A, B, C]);
}

afterAll(() => ts.shutdown());

describe('every variant, forced, matches PyTorch', () => {
  for (const site of Object.keys(TUNE_SITES) as TuneSite[]) {
    for (const variant of TUNE_SITES[site] as readonly string[]) {
      it(`${site}: ${variant}`, async () => {
        const backend = (await createBackend({ variants: { [site]: variant }, autotune: 'off' })) as WebGPUBackend;
        await ts.init({ backend });
        for (const c of CASES[site]) {
          await ts.tidy(async () => {
            const xs = c.inputs.map((g) => fromGolden(g, true));
            const out = apply(c, xs);
            expectClose(await out.data(), c.output.data, { rtol: 1e-4, atol: 1e-5, what: `${c.name} output` });
            out.backward(fromGolden(c.cotangent!));
            for (const [i, g] of (c.grads ?? []).entries()) {
              if (g) expectClose(await xs[i]!.grad!.data(), g.data, { rtol: 1e-4, atol: 1e-5, what: `${c.name} grad ${i}` });
            }
            ts.dispose(xs);
          });
        }
        if (site === 'softmax') await wideSoftmax();
        if (site === 'matmul') await largeMatmul();
        // The forced variant really ran (each is legal for some case above).
        expect(backend.variantUse.get(`${site}:${variant}`) ?? 0, `${site}:${variant} built`).toBeGreaterThan(0);
      });
    }
  }
});

/** A small CNN step: conv 3x3 (+ ReLU, the default), 2x2 max-pool, dense 10, cross-entropy, Adam; batch 4. */
function smallStep() {
  const input = new nn.InputLayer([null, 1, 8, 8]);
  const conv = new nn.Conv2DLayer(input, 4, 3, { pad: 1 });
  const pool = new nn.MaxPool2DLayer(conv, 2);
  const out = new nn.DenseLayer(pool, 10, { nonlinearity: nn.nonlinearities.identity });
  const opt = nn.updates.adam(nn.getAllParams(out, { trainable: true }), { learningRate: 1e-3 });
  const step = nn.trainFunction((x, y) => ts.crossEntropy(nn.getOutput(out, x), y), opt);
  const x = ts.rand([4, 1, 8, 8], { seed: 3 });
  const y = ts.tensor(Int32Array.from([1, 2, 3, 4]), { dtype: 'int32' });
  return { out, step, x, y, dispose: () => (nn.disposeLayers(out), ts.dispose([x, y])) };
}

describe('ts.tune and the stored winners', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-'));

  it('times every legal variant of each op and shape a step meets, and stores the winners', async () => {
    const backend = (await createBackend({ autotune: 'cached', tuneStore: fileStore(dir) })) as WebGPUBackend;
    await ts.init({ backend });
    const m = smallStep();
    const progress: [number, number][] = [];
    const rows = await ts.tune(() => m.step(m.x, m.y), { onProgress: (d, t) => progress.push([d, t]) });
    m.dispose();
    const sites = new Set(rows.map((r) => r.site));
    // (No input gradient: the first layer's input needs none.)
    for (const s of ['conv2d', 'conv2dBackpropFilter', 'matmul', 'maxPool2dBackward']) expect(sites.has(s), s).toBe(true);
    for (const r of rows) {
      expect(r.from).toBe('tuned');
      const timed = Object.keys(r.ms);
      expect(timed, `${r.site} ${r.bucket}`).toContain(r.pick);
      expect(timed).toContain(r.winner);
      for (const v of timed) expect((TUNE_SITES[r.site as TuneSite] as readonly string[]).includes(v)).toBe(true);
      for (const ms of Object.values(r.ms)) expect(ms).toBeGreaterThan(0);
      // Nothing slower than the pick wins, and a winner that is not the pick beats it by 3%.
      expect(r.ms[r.winner]!).toBeLessThanOrEqual(r.ms[r.pick]!);
      if (r.winner !== r.pick) expect(r.ms[r.winner]! * 1.03).toBeLessThan(r.ms[r.pick]!);
    }
    expect(progress.at(-1)).toEqual([progress.at(-1)![1], progress.at(-1)![1]]);
    const file = JSON.parse(readFileSync(join(dir, 'autotune.json'), 'utf8'));
    const [entry] = Object.values(file.adapters) as { kernels: string; winners: Record<string, { winner: string }> }[];
    expect(entry!.kernels).toBe(kernelHash(WGSL));
    for (const r of rows) expect(entry!.winners[`${r.site}|${r.bucket}`]?.winner).toBe(r.winner);
  }, 300_000);

  it('a later backend on the same adapter starts from the stored winners', async () => {
    const backend = (await createBackend({ autotune: 'cached', tuneStore: fileStore(dir) })) as WebGPUBackend;
    await ts.init({ backend });
    const m = smallStep();
    const rows = await ts.tune(() => m.step(m.x, m.y));
    m.dispose();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.from).toBe('cache');
      expect(backend.variantUse.get(`${r.site}:${r.winner}`) ?? 0, `${r.site}:${r.winner}`).toBeGreaterThan(0);
    }
  });

  it('a corrupt cache file counts as empty', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'tessera-tune-bad-'));
    writeFileSync(join(bad, 'autotune.json'), '{"version": 1, "adapters": ');
    expect(await fileStore(bad).load('any')).toBeNull();
  });
});

/** A store holding one winner for the max-pool gradient of [2,3,8,8] at 2x2 windows. */
function storeWith(kernels: string): TuneStore {
  const store = memoryStore();
  const put = async (adapter: string) =>
    store.save(adapter, { kernels, winners: { 'maxPool2dBackward|planes8,H8,W8,k2': { winner: 'gather', ms: { gather: 1, window: 2 } } } });
  return { where: 'memory', load: async (a) => (await put(a), store.load(a)), save: store.save };
}

async function poolBackward(): Promise<void> {
  const x = ts.rand([2, 3, 8, 8], { seed: 1, requiresGrad: true });
  const y = ts.maxPool2d(x, { kernelSize: 2 });
  y.sum().backward();
  await x.grad!.data();
  ts.dispose([x, y]);
}

describe('stored winners are used only with the kernels they were measured with', () => {
  it('uses a winner stored with these kernels', async () => {
    const backend = (await createBackend({ autotune: 'cached', tuneStore: storeWith(kernelHash(WGSL)) })) as WebGPUBackend;
    await ts.init({ backend });
    await ts.tidy(poolBackward);
    expect(backend.variantUse.get('maxPool2dBackward:gather')).toBe(1);
    expect(backend.variantUse.get('maxPool2dBackward:window')).toBeUndefined();
  });

  it('ignores one stored with other kernels, and one in mode off', async () => {
    for (const [tuneStore, autotune] of [
      [storeWith('0123456789abcdef'), 'cached'],
      [storeWith(kernelHash(WGSL)), 'off'],
    ] as const) {
      const backend = (await createBackend({ autotune, tuneStore })) as WebGPUBackend;
      await ts.init({ backend });
      await ts.tidy(poolBackward);
      expect(backend.variantUse.get('maxPool2dBackward:window')).toBe(1);
    }
  });
});

describe('background tuning', () => {
  it('times a new bucket after a read, then builds its winner', async () => {
    const store = memoryStore();
    const backend = (await createBackend({ autotune: 'background', tuneStore: store })) as WebGPUBackend;
    await ts.init({ backend });
    await ts.tidy(poolBackward);
    expect(backend.variantUse.get('maxPool2dBackward:window')).toBe(1); // the pick ran first
    await backend.settle();
    const stored = await store.load([...(await storeKeys(store))][0]!);
    const entry = stored!.winners['maxPool2dBackward|planes8,H8,W8,k2']!;
    expect(Object.keys(entry.ms).sort()).toEqual(['gather', 'window']);
    await ts.tidy(poolBackward);
    expect(backend.variantUse.get(`maxPool2dBackward:${entry.winner}`)).toBeGreaterThan(entry.winner === 'window' ? 1 : 0);
  });
});

/** The adapters a memory store holds (it has no listing: probe with this backend's key). */
async function storeKeys(store: TuneStore): Promise<string[]> {
  const info = ts.backendInfo();
  const key = [info.vendor, info.architecture, info.adapter, info.limits?.maxComputeWorkgroupStorageSize].join('|');
  return (await store.load(key)) ? [key] : [];
}

describe('ts.tune without variants, and bad input', () => {
  it('returns no rows on the wasm backend, after running the function', async () => {
    await ts.init({ backend: 'wasm' });
    let ran = false;
    expect(await ts.tune(() => (ran = true))).toEqual([]);
    expect(ran).toBe(true);
  });

  it('says what to pass instead of a function', async () => {
    await expect(ts.tune(42 as unknown as () => void)).rejects.toThrow(/tune: expected a function to run, got number/);
  });
});

describe('quick stand-in pipelines', () => {
  it('a costly variant runs as its stand-in until the second read, then as itself, with the same values', async () => {
    const backend = (await createBackend({ warmPipelines: 'none', autotune: 'off', quickPipelines: true })) as WebGPUBackend;
    await ts.init({ backend });
    // 8 channels: the direct kernel takes them in pairs (PAIR=1), whose stand-in has PAIR=0.
    const x = ts.rand([2, 8, 9, 9], { seed: 1 });
    const w = ts.rand([4, 8, 3, 3], { seed: 2 });
    const conv = async () => {
      const y = ts.conv2d(x, w);
      const v = await y.data();
      y.dispose();
      return v;
    };
    const first = await conv(); // read 1
    expect(backend.pipelineStats.standIns).toBeGreaterThan(0);
    expect(backend.pipelineStats.upgraded).toBe(0);
    expect([...(await conv())]).toEqual([...first]); // read 2, still the stand-in: the variant is made after its submit
    expect(backend.pipelineStats.upgraded).toBe(backend.pipelineStats.standIns);
    const third = await conv();
    expectClose(third, first, { rtol: 1e-6, atol: 1e-6, what: 'paired against stand-in' });
    ts.dispose([x, w]);
  });

  it('one channel and 6 filters: the stand-in takes 4 filters a thread, with the same bits', async () => {
    const backend = (await createBackend({ warmPipelines: 'none', autotune: 'off', quickPipelines: true })) as WebGPUBackend;
    await ts.init({ backend });
    const x = ts.rand([2, 1, 12, 12], { seed: 3 });
    const w = ts.rand([6, 1, 5, 5], { seed: 4 });
    const conv = async () => {
      const y = ts.conv2d(x, w, null, { padding: 2 });
      const v = await y.data();
      y.dispose();
      return v;
    };
    const first = await conv(); // FPT=4 (the stand-in) for FPT=3 (the variant): both 2 blocks of filters
    expect(backend.pipelineStats.standIns).toBe(1);
    await backend.settle();
    expect(backend.pipelineStats.upgraded).toBe(1);
    expect([...(await conv())]).toEqual([...first]);
    ts.dispose([x, w]);
  });

  it('quickPipelines: false makes every variant as asked', async () => {
    const backend = (await createBackend({ warmPipelines: 'none', autotune: 'off', quickPipelines: false })) as WebGPUBackend;
    await ts.init({ backend });
    const x = ts.rand([2, 8, 9, 9], { seed: 1 });
    const w = ts.rand([4, 8, 3, 3], { seed: 2 });
    const y = ts.conv2d(x, w);
    await y.data();
    expect(backend.pipelineStats.standIns).toBe(0);
    y.dispose();
    ts.dispose([x, w]);
  });
});
