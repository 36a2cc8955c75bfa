// The benchmark suite shared by Node (bench/run.mjs) and the browser page (bench/web/): the
// catalogue of benchmarks, Tessera's implementation of each (parameterised by the `ts` module and,
// when present, `@tessera/nn`), the interleaved measuring loop and the markdown table.
// Plain ESM with no Node imports, so Vite can bundle it as is.

import { trainStepFigures } from './train-steps.mjs';

// ---------------------------------------------------------------------------------------------
// The catalogue. `spec` is what every implementation (Tessera, tfjs, PyTorch) builds from, so one
// list describes the whole suite. Shapes are NCHW (PyTorch / Tessera); tfjs converts to NHWC.
// `metric` is how a sample is shown: ms (per op), GFLOP/s, img/s or µs/op.

const LENET_CONV1 = { x: [64, 1, 28, 28], w: [6, 1, 5, 5], pad: 2 };
const LENET_CONV2 = { x: [64, 6, 14, 14], w: [16, 6, 5, 5], pad: 0 };

function convFlops({ x, w, pad }) {
  const [n, c, h, wd] = x;
  const [f, , kh, kw] = w;
  const ho = h + 2 * pad - kh + 1;
  const wo = wd + 2 * pad - kw + 1;
  return 2 * n * f * ho * wo * c * kh * kw;
}

/** LeNet-5 FLOPs of one forward pass per image (convs and dense layers; a step is about 3×). */
export const LENET_FWD_FLOPS_PER_IMAGE =
  convFlops({ ...LENET_CONV1, x: [1, 1, 28, 28] }) + convFlops({ ...LENET_CONV2, x: [1, 6, 14, 14] }) + 2 * (400 * 120 + 120 * 84 + 84 * 10);

/**
 * Every benchmark of the suite, in table order. Tessera's training rows run compiled steps
 * (`nn.trainFunction`); `eager` adds the same step run eagerly (Tessera only) and the compiled
 * vs eager fact rows.
 * @param {{ quick?: boolean, eager?: boolean }} opts
 */
export function catalogue({ quick = false, eager = false } = {}) {
  const list = [];
  const add = (b) => list.push(b);
  // End-to-end first: the headline rows.
  // budgetMs: this row's headline figure gets more timed runs than an op row (fast
  // implementations get several; a peer that needs seconds per step still gets one).
  add({
    id: 'lenet-train-64',
    group: 'End-to-end',
    label: 'LeNet-5 training step, batch 64 (Adam; Tessera: compiled steps)',
    metric: 'img/s',
    images: 64,
    budgetMs: quick ? 4000 : 15000,
    spec: { kind: 'lenet-train', batch: 64, compare: eager },
  });
  if (eager) {
    add({
      id: 'lenet-train-64-eager',
      group: 'End-to-end',
      label: 'LeNet-5 training step, batch 64 (Adam; Tessera: eager steps)',
      metric: 'img/s',
      images: 64,
      budgetMs: quick ? 4000 : 15000,
      tesseraOnly: true,
      spec: { kind: 'lenet-train', batch: 64, eager: true },
    });
  }
  add({ id: 'lenet-infer-1', group: 'End-to-end', label: 'LeNet-5 inference, batch 1', metric: 'img/s', images: 1, spec: { kind: 'lenet-infer', batch: 1 } });
  // tfjs-webgpu needs about 30 s per batch of 256 on SwiftShader (two runs with the warm-up):
  // a quick run on a CPU adapter leaves it to the full mode.
  add({
    id: 'lenet-infer-256',
    group: 'End-to-end',
    label: 'LeNet-5 inference, batch 256',
    metric: 'img/s',
    images: 256,
    quickSkipOnCPU: ['tfjs-webgpu'],
    spec: { kind: 'lenet-infer', batch: 256 },
  });
  // 2048 and 4096 show large-work efficiency on a GPU (`large`: a CPU adapter skips them
  // unless asked, at minutes per run).
  for (const n of [128, 256, 512, 1024, 2048, 4096]) {
    add({
      id: `matmul-${n}`,
      group: 'matmul',
      label: `matmul ${n}×${n}×${n}`,
      metric: 'GFLOP/s',
      flops: 2 * n ** 3,
      large: n >= 2048,
      spec: { kind: 'matmul', a: [n, n], b: [n, n] },
    });
  }
  for (const [k, n] of [
    [400, 120],
    [120, 84],
    [84, 10],
  ]) {
    add({
      id: `matmul-64x${k}x${n}`,
      group: 'matmul',
      label: `matmul [64,${k}]@[${k},${n}] (LeNet dense)`,
      metric: 'ms',
      flops: 2 * 64 * k * n,
      spec: { kind: 'matmul', a: [64, k], b: [k, n] },
    });
  }
  // LeNet's convolutions at batch 64, then at 256 (large work: on a CPU adapter tfjs-webgpu
  // needs tens of seconds there, so a quick run leaves it out).
  const at256 = (conv) => ({ ...conv, x: [256, ...conv.x.slice(1)] });
  for (const [name, conv, big] of /** @type {[string, typeof LENET_CONV1, boolean][]} */ ([
    ['conv1', LENET_CONV1, false],
    ['conv2', LENET_CONV2, false],
    ['conv1-256', at256(LENET_CONV1), true],
    ['conv2-256', at256(LENET_CONV2), true],
  ])) {
    const shape = `[${conv.x}]*[${conv.w}]${conv.pad ? ` pad ${conv.pad}` : ''}`;
    for (const [part, what] of [
      ['forward', 'forward'],
      ['input', 'input gradient'],
      ['filter', 'filter gradient'],
    ]) {
      add({
        id: `${name}-${part}`,
        group: 'conv2d',
        label: `conv2d ${what} ${shape}`,
        metric: 'ms',
        flops: convFlops(conv),
        ...(big ? { quickSkipOnCPU: ['tfjs-webgpu', 'tfjs-cpu'] } : {}),
        spec: { kind: 'conv2d', part, ...conv },
      });
    }
  }
  for (const x of [
    [64, 6, 28, 28],
    [64, 16, 10, 10],
  ]) {
    for (const part of ['forward', 'backward']) {
      add({ id: `maxpool-${x[1]}-${part}`, group: 'pool', label: `maxPool2d 2×2 ${part} [${x}]`, metric: 'ms', spec: { kind: 'maxpool', part, x, k: 2 } });
    }
  }
  for (const shape of [
    [64, 10],
    [256, 1000],
  ]) {
    add({ id: `softmax-${shape.join('x')}`, group: 'softmax', label: `softmax [${shape}]`, metric: 'ms', spec: { kind: 'softmax', shape } });
    add({ id: `xent-${shape.join('x')}`, group: 'softmax', label: `cross-entropy loss + gradient [${shape}]`, metric: 'ms', spec: { kind: 'xent', shape } });
  }
  const n = quick ? 200 : 1000;
  add({
    id: 'dispatch-chain',
    group: 'dispatch',
    label: `dispatch cost: chain of ${n} adds on [16]`,
    metric: 'µs/op',
    ops: n,
    spec: { kind: 'chain', shape: [16], n },
  });
  // The same chain as one ts.compile'd function: replayed, and fused into one generated kernel.
  add({
    id: 'dispatch-chain-compiled',
    group: 'dispatch',
    label: `chain of ${n} adds on [16], compiled (ts.compile, fused)`,
    metric: 'µs/op',
    ops: n,
    tesseraOnly: true,
    spec: { kind: 'chain', shape: [16], n, compiled: true },
  });
  return list;
}

/**
 * The order in which to run the catalogue: the cheap rows first (every peer takes well under a
 * second there), then the rows the performance targets name (LeNet-5 training, the conv filter
 * gradients, matmul 1024), then the rows where a slow peer needs many seconds a run. In quick
 * mode peers stop taking new rows once its time budget is spent, so this decides what a quick run
 * still compares on a loaded machine. The table keeps catalogue order.
 */
export function runOrder(list) {
  const late = [
    'lenet-train-64',
    'conv1-filter',
    'conv2-filter',
    'matmul-1024',
    'conv2-forward',
    'conv1-forward',
    'conv2-input',
    'conv1-input',
    'lenet-infer-1',
    'matmul-512',
    'lenet-infer-256',
  ];
  const rank = (b) => (late.includes(b.id) ? 1 + late.indexOf(b.id) : 0);
  return list
    .map((b, i) => [b, i])
    .sort((x, y) => rank(x[0]) - rank(y[0]) || x[1] - y[1])
    .map(([b]) => b);
}

/** How each metric turns a sample (ms per iteration) into the figure shown, and which way is better. */
export const METRICS = {
  ms: { better: 'lower', value: (ms) => ms },
  'µs/op': { better: 'lower', value: (ms, b) => (ms * 1000) / b.ops },
  s: { better: 'lower', value: (v) => v },
  'GFLOP/s': { better: 'higher', value: (ms, b) => b.flops / ms / 1e6 },
  'img/s': { better: 'higher', value: (ms, b) => b.images / (ms / 1000) },
  count: { better: 'lower', value: (v) => v },
  '×': { better: 'higher', value: (v) => v },
  MiB: { better: 'lower', value: (v) => v },
};

// ---------------------------------------------------------------------------------------------
// Statistics and the measuring loop.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min and max of the shown figure over the samples (in ms). */
export function summarize(samplesMs, bench) {
  const f = METRICS[bench.metric].value;
  const vals = samplesMs.map((ms) => f(ms, bench));
  return { median: median(vals), min: Math.min(...vals), max: Math.max(...vals), runs: vals.length };
}

/** Ratio ours / peer such that > 1 means Tessera is better (faster, or less memory). */
export function ratio(bench, ours, peer) {
  if (!ours || !peer || !(ours.median > 0) || !(peer.median > 0)) return null;
  return METRICS[bench.metric].better === 'higher' ? ours.median / peer.median : peer.median / ours.median;
}

/**
 * Default repetition settings. `budgetMs` is the time each implementation may spend on the timed
 * runs of one benchmark; reps are clamped to [minReps, maxReps]. `minSampleMs` sets how many
 * iterations one sample holds, so that fast ops on a real GPU are not timed by one readback.
 */
export function settings({ quick = false } = {}) {
  return quick
    ? { budgetMs: 1200, minReps: 1, maxReps: 5, minSampleMs: 10, maxInner: 64, secondWarmupBelowMs: 2500 }
    : { budgetMs: 6000, minReps: 3, maxReps: 15, minSampleMs: 50, maxInner: 256, secondWarmupBelowMs: 5000 };
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Measures one benchmark for several implementations, interleaved: after each implementation's
 * warm-up, the timed runs go round-robin (ours, peer 1, peer 2, ..., ours, ...) so that load from
 * other processes hits all of them alike.
 *
 * An implementation is `{ name, setup: async () => Run | null }` with
 * `Run = { run(inner): Promise<void | number>, prepare?(inner): Promise<void>, reportsOwnTime?: boolean,
 *         facts?(): Promise<object>, dispose(): void }`.
 * `run(inner)` does the work `inner` times and waits for it to finish (a readback);
 * `prepare(inner)` runs untimed before each sample (e.g. the forward passes whose backwards are
 * timed).
 * `skip(name)` may return a reason to skip an implementation (a time budget).
 * Returns `{ [name]: { samples, inner, warmupMs, facts } | { error } | { skipped } }`.
 */
export async function measure(bench, impls, opts = {}) {
  const cfg = { ...settings(opts), ...opts, ...(bench.budgetMs ? { budgetMs: bench.budgetMs } : {}) };
  const out = {};
  const live = [];
  for (const impl of impls) {
    if (bench.tesseraOnly && impl.name !== 'tessera') continue; // a Tessera-only row: '—' for the peers
    const why = opts.skip?.(impl.name, bench);
    if (why) {
      out[impl.name] = { skipped: why };
      continue;
    }
    let r = null;
    try {
      r = await impl.setup(bench);
      if (!r) {
        out[impl.name] = { skipped: 'not available' };
        continue;
      }
      // Warm-up: pipelines, buffer pools, JIT. A second warm-up run unless the first was slow
      // (then compile time is small next to the run, and a slow peer's time is precious).
      let warm = await timeOnce(r, 1);
      const warmups = [warm];
      if (warm < cfg.secondWarmupBelowMs) {
        warm = await timeOnce(r, 1);
        warmups.push(warm);
      }
      const inner = Math.max(1, Math.min(cfg.maxInner, Math.ceil(cfg.minSampleMs / Math.max(warm, 1e-3))));
      const reps = Math.max(cfg.minReps, Math.min(cfg.maxReps, Math.floor(cfg.budgetMs / Math.max(warm, 1e-3))));
      const state = { name: impl.name, r, inner, reps, samples: [], warmupMs: warmups };
      live.push(state);
      out[impl.name] = state;
    } catch (e) {
      out[impl.name] = { error: errText(e) };
      try {
        r?.dispose();
      } catch {}
    }
  }
  // Round-robin timed runs.
  for (let round = 0; live.some((s) => !s.error && s.samples.length < s.reps); round++) {
    for (const s of live) {
      if (s.error || s.samples.length >= s.reps) continue;
      const late = opts.skip?.(s.name, bench);
      if (late) {
        s.reps = s.samples.length; // out of time: keep what we have
        if (!s.samples.length) s.skipped = late;
        continue;
      }
      try {
        s.samples.push((await timeOnce(s.r, s.inner)) / s.inner);
        // The warm-up may still have held one-off costs (pipeline compiles, first allocations):
        // size the repetitions again from the first timed run, and once, if that run shows the
        // op far faster than the warm-up did, `inner` too (then that sample is dropped, since a
        // sample's readback is amortized over `inner` runs).
        if (s.samples.length === 1) {
          const want = Math.max(1, Math.min(cfg.maxInner, Math.ceil(cfg.minSampleMs / Math.max(s.samples[0], 1e-3))));
          if (!s.resized && want >= 2 * s.inner) {
            s.resized = true;
            s.inner = want;
            s.samples = [];
            continue;
          }
          s.reps = Math.max(cfg.minReps, Math.min(cfg.maxReps, Math.floor(cfg.budgetMs / Math.max(s.samples[0] * s.inner, 1e-3))));
        }
      } catch (e) {
        s.error = errText(e);
      }
    }
  }
  for (const s of live) {
    try {
      if (!s.error && s.r.facts) s.facts = await s.r.facts();
    } catch (e) {
      s.factsError = errText(e);
    }
    try {
      s.r.dispose();
    } catch {}
    const { samples, inner, warmupMs, facts, factsError, error, skipped } = s;
    if (skipped) {
      out[s.name] = { skipped, warmupMs };
      continue;
    }
    out[s.name] =
      error && !samples.length
        ? { error }
        : { samples, inner, warmupMs, ...(facts ? { facts } : {}), ...(factsError ? { factsError } : {}), ...(error ? { error } : {}) };
  }
  return out;
}

async function timeOnce(r, inner) {
  if (r.prepare) await r.prepare(inner);
  const t0 = now();
  const own = await r.run(inner);
  // A peer in another process (PyTorch) times itself, so the pipe round trip does not count.
  return r.reportsOwnTime ? own : now() - t0;
}

/** A file-name-safe form of an adapter name: 'SwiftShader driver 5.0.0' -> 'swiftshader-driver-5-0-0'. */
export function slugify(s) {
  return (
    String(s)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'unknown-adapter'
  );
}

export function errText(e) {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

// ---------------------------------------------------------------------------------------------
// Tessera's implementations.

/** Deterministic pseudo-random floats (tests and peers use the same generator, not the same values). */
export function randomArray(n, seed = 1, scale = 1) {
  let s = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return a;
}

export function randomLabels(n, classes, seed = 7) {
  const r = randomArray(n, seed);
  return Int32Array.from(r, (v) => Math.min(classes - 1, Math.floor(((v + 1) / 2) * classes)));
}

const prod = (s) => s.reduce((a, b) => a * b, 1);

/**
 * Which parts of the suite this build of Tessera supports (the CNN ops and `@tessera/nn` land
 * separately): a missing one is reported as "pending" rather than failing.
 */
export function tesseraFeatures(ts, nn) {
  return {
    conv2d: typeof ts.conv2d === 'function',
    maxPool2d: typeof ts.maxPool2d === 'function',
    crossEntropy: typeof ts.crossEntropy === 'function',
    softmax: typeof ts.softmax === 'function',
    nn: !!(nn && typeof nn.getOutput === 'function' && nn.updates?.adam && nn.Conv2DLayer && nn.DenseLayer && nn.MaxPool2DLayer),
  };
}

/**
 * Tessera's implementation of a benchmark, or null with `why` when this build lacks what it needs.
 * @param {any} ts the `@tessera/core` module (initialised)
 * @param {any} nn the `@tessera/nn` module, or null
 */
export function tesseraImpl(ts, nn, { tune = null } = {}) {
  const has = tesseraFeatures(ts, nn);
  const missing = (what) => ({ pending: `pending: Tessera has no ${what} yet` });
  return {
    name: 'tessera',
    /** Why Tessera cannot run `bench` with this build, or null. */
    unsupported(bench) {
      const k = bench.spec.kind;
      if (k === 'conv2d' && !has.conv2d) return missing('ts.conv2d').pending;
      if (k === 'maxpool' && !has.maxPool2d) return missing('ts.maxPool2d').pending;
      if ((k === 'lenet-train' || k === 'lenet-infer') && !has.nn) return 'pending: @tessera/nn (layers, updates.adam) is not built yet';
      if ((k === 'lenet-train' || k === 'lenet-infer') && !(has.conv2d && has.maxPool2d)) return 'pending: Tessera has no conv2d / maxPool2d yet';
      return null;
    },
    async setup(bench) {
      if (this.unsupported(bench)) return null;
      const run = await tesseraSetup(ts, nn, bench.spec);
      if (tune && run) {
        // --autotune tune: time the variants of this row's ops first, so its samples run the winners.
        const t = performance.now();
        await run.prepare?.(1);
        const rows = await ts.tune(() => run.run(1));
        const won = rows.map((r) => `${r.site} ${r.winner}${r.winner !== r.pick ? ` (not ${r.pick})` : ''}`);
        tune(`${bench.id}: tuned in ${((performance.now() - t) / 1000).toFixed(1)} s${won.length ? `: ${won.join(', ')}` : ''}`);
      }
      return run;
    },
  };
}

function tesseraSetup(ts, nn, spec) {
  const T = (shape, seed, scale = 1) => ts.tensor(randomArray(prod(shape), seed, scale), { shape });
  /** Runs `op` `inner` times and waits for the last result (the queue is in order). */
  const repeat = (op) => async (inner) => {
    let y = null;
    for (let i = 0; i < inner; i++) {
      y?.dispose();
      y = op();
    }
    await y.data();
    y.dispose();
  };
  switch (spec.kind) {
    case 'matmul': {
      const a = T(spec.a, 1);
      const b = T(spec.b, 2);
      return { run: repeat(() => ts.matmul(a, b)), dispose: () => ts.dispose([a, b]) };
    }
    case 'conv2d': {
      const x = T(spec.x, 1);
      const w = T(spec.w, 2, 0.2);
      const opts = { padding: spec.pad };
      if (spec.part === 'forward') return { run: repeat(() => ts.conv2d(x, w, null, opts)), dispose: () => ts.dispose([x, w]) };
      return backwardOf(ts, spec.part === 'input' ? x : w, (xx, ww) => ts.conv2d(xx, ww, null, opts), spec.part === 'input', x, w);
    }
    case 'maxpool': {
      const x = T(spec.x, 1);
      const opts = { kernelSize: spec.k };
      if (spec.part === 'forward') return { run: repeat(() => ts.maxPool2d(x, opts)), dispose: () => x.dispose() };
      return backwardOf(ts, x, (xx) => ts.maxPool2d(xx, opts), true, x, null);
    }
    case 'softmax': {
      const x = T(spec.shape, 1, 3);
      return { run: repeat(() => ts.softmax(x, -1)), dispose: () => x.dispose() };
    }
    case 'xent': {
      const [n, c] = spec.shape;
      const x = T(spec.shape, 1, 3);
      const labels = ts.tensor(randomLabels(n, c), { shape: [n], dtype: 'int32' });
      const g = ts.grad((l) => ts.crossEntropy(l, labels));
      return {
        run: async (inner) => {
          let d = null;
          for (let i = 0; i < inner; i++) {
            d?.dispose();
            [d] = g(x);
          }
          await d.data();
          d.dispose();
        },
        dispose: () => ts.dispose([x, labels]),
      };
    }
    case 'chain': {
      const x = T(spec.shape, 1);
      if (spec.compiled) return compiledChain(ts, x, spec.n);
      return {
        run: async (inner) => {
          for (let k = 0; k < inner; k++) {
            let y = x.add(1);
            for (let i = 1; i < spec.n; i++) {
              const z = y.add(1);
              y.dispose();
              y = z;
            }
            await y.data();
            y.dispose();
          }
        },
        dispose: () => x.dispose(),
      };
    }
    case 'lenet-train':
      return tesseraLeNetTrain(ts, nn, spec);
    case 'lenet-infer':
      return tesseraLeNetInfer(ts, nn, spec.batch);
    default:
      throw new Error(`unknown benchmark kind ${spec.kind}`);
  }
}

/**
 * Times the backward pass of one op through the public autograd: `prepare(inner)` runs `inner`
 * forward passes (untimed, waited for), each from its own leaf, since backward frees its graph;
 * `run(inner)` calls `y.backward(dy)` on each and reads the last gradient back. So, like the
 * peers' repeated kernels, a sample pays for one readback however many backwards it times.
 */
function backwardOf(ts, target, f, wrtFirst, a, b) {
  let graphs = [];
  let dy = null;
  const drop = () => {
    for (const { y, leaf } of graphs) ts.dispose([y, leaf]);
    graphs = [];
  };
  return {
    async prepare(inner = 1) {
      drop();
      for (let i = 0; i < inner; i++) {
        const leaf = (wrtFirst ? a : b).detach();
        leaf.requiresGrad = true;
        graphs.push({ leaf, y: wrtFirst ? f(leaf, b) : f(a, leaf) });
      }
      const { y } = graphs[graphs.length - 1];
      dy ??= ts.tensor(randomArray(prod(y.shape), 3), { shape: y.shape });
      await y.data();
    },
    async run(inner) {
      for (let i = 0; i < inner; i++) graphs[i].y.backward(dy);
      await graphs[inner - 1].leaf.grad.data();
    },
    dispose() {
      drop();
      ts.dispose([dy, a, b].filter(Boolean));
    },
  };
}

/** LeNet-5 as in packages/cli: conv 6@5×5 pad 2, pool 2, conv 16@5×5, pool 2, dense 120, 84, 10. */
export function buildTesseraLeNet(nn, seed = 1) {
  const W = (k) => (nn.init?.GlorotUniform ? nn.init.GlorotUniform({ seed: seed * 100 + k }) : undefined);
  const o = (k, extra) => (W(k) ? { ...extra, W: W(k) } : extra);
  const net = {};
  net.data = new nn.InputLayer([null, 1, 28, 28]);
  net.conv1 = new nn.Conv2DLayer(net.data, o(1, { numFilters: 6, filterSize: 5, pad: 2 }));
  net.pool1 = new nn.MaxPool2DLayer(net.conv1, { poolSize: 2 });
  net.conv2 = new nn.Conv2DLayer(net.pool1, o(2, { numFilters: 16, filterSize: 5 }));
  net.pool2 = new nn.MaxPool2DLayer(net.conv2, { poolSize: 2 });
  net.fc1 = new nn.DenseLayer(net.pool2, o(3, { numUnits: 120 }));
  net.fc2 = new nn.DenseLayer(net.fc1, o(4, { numUnits: 84 }));
  net.out = new nn.DenseLayer(net.fc2, o(5, { numUnits: 10, nonlinearity: nn.nonlinearities.linear }));
  return net;
}

function disposeNet(ts, nn, net) {
  try {
    ts.dispose(nn.getAllParams(net.out));
  } catch {}
}

/**
 * The LeNet-5 training row: compiled steps (`nn.trainFunction`, recorded once, then replayed)
 * unless `spec.eager`, or when this build has no `nn.trainFunction`. `spec.compare` adds the
 * compiled and eager figures of bench/train-steps.mjs to the facts.
 */
/**
 * The adds chain as one `ts.compile`d function over `x`, recorded and its fused kernels built
 * before timing: fusion cuts the chain every 24 ops, and replays skip all per-op host work.
 */
async function compiledChain(ts, x, n) {
  const chain = ts.compile((v) => {
    let y = v;
    for (let i = 0; i < n; i++) y = y.add(1);
    return y;
  });
  for (let i = 0; i < 2; i++) chain(x).dispose();
  await chain.ready();
  return {
    run: async (inner) => {
      for (let k = 0; k < inner; k++) {
        const y = chain(x);
        await y.data();
        y.dispose();
      }
    },
    dispose: () => {
      chain.dispose();
      x.dispose();
    },
  };
}

function tesseraLeNetTrain(ts, nn, spec) {
  const batch = spec.batch;
  // Earlier rows leave their freed buffers pooled; the peak-memory fact is this model's own.
  ts.emptyCache?.();
  const net = buildTesseraLeNet(nn);
  const params = nn.getAllParams(net.out, { trainable: true });
  const opt = nn.updates.adam(params, { learningRate: 1e-3 });
  const x = ts.tensor(randomArray(batch * 784, 11), { shape: [batch, 1, 28, 28] });
  const y = ts.tensor(randomLabels(batch, 10), { shape: [batch], dtype: 'int32' });
  const lossFn = (xb, yb) => ts.crossEntropy(nn.getOutput(net.out, xb, { deterministic: false }), yb);
  const compiled = !spec.eager && nn.trainFunction ? nn.trainFunction(lossFn, opt) : null;
  let peak = 0;
  const notePeak = () => {
    const m = ts.memory();
    // A recording's buffers are its own, outside ts.memory().
    peak = Math.max(peak, m.bytes + m.pooledBytes + (compiled?.info.ownedBytes ?? 0));
  };
  let built = false;
  const step = async () => {
    if (compiled) {
      const loss = compiled(x, y);
      notePeak();
      // The first steps record; from then on the timed steps run the fused kernels.
      if (!built && compiled.info.recordings) {
        await compiled.ready?.();
        built = true;
      }
      return loss;
    }
    const loss = ts.tidy(() => lossFn(x, y));
    notePeak();
    await opt.step(loss);
    notePeak();
    return loss;
  };
  return {
    async run(inner) {
      let loss = null;
      for (let i = 0; i < inner; i++) {
        loss?.dispose();
        loss = await step();
      }
      await loss.data(); // waits for the queue
      loss.dispose();
      notePeak();
    },
    /**
     * Submits, dispatches and new buffers per warm step: k steps that do not read the loss, as a
     * training loop that reads it only now and then, then one loss readback (counted in submits).
     */
    async facts() {
      const k = 4;
      const s0 = ts.stats();
      let loss = null;
      for (let i = 0; i < k; i++) {
        loss?.dispose(); // as a training loop that does not read the loss would
        loss = await step();
      }
      const s1 = ts.stats();
      await loss.data();
      const s2 = ts.stats();
      loss.dispose();
      notePeak();
      // Host time per step and the compiled vs eager comparison: bench/train-steps.mjs, as
      // bench/compile.mjs measures them (a fresh network each, on a batch of this size).
      const figures = {};
      for (const mode of spec.compare ? ['compiled', 'eager'] : [compiled ? 'compiled' : 'eager']) {
        figures[mode] = await trainStepFigures(ts, nn, { batch, steps: 6, mode, build: () => buildTesseraLeNet(nn) });
      }
      const c = figures.compiled;
      const e = figures.eager;
      return {
        mode: compiled ? 'compiled' : 'eager',
        hostMsPerStep: (c ?? e).hostMsPerStep,
        ...(c && e
          ? {
              compiledVsEager: c.imagesPerSecond / e.imagesPerSecond,
              eagerHostMsPerStep: e.hostMsPerStep,
              eagerDispatchesPerStep: e.dispatchesPerStep,
              figures,
            }
          : {}),
        steps: k,
        submitsPerStep: (s2.submits - s0.submits) / k,
        submitsPerStepBeforeReadback: (s1.submits - s0.submits) / k,
        dispatchesPerStep: (s1.dispatches - s0.dispatches) / k,
        newBuffersPerStep: (s1.buffersCreated - s0.buffersCreated) / k,
        newBuffersForLossReadback: s2.buffersCreated - s1.buffersCreated,
        peakBytes: Math.max(peak, s2.allocatedBytes ?? 0),
      };
    },
    dispose() {
      compiled?.dispose();
      opt.dispose?.();
      ts.dispose([x, y]);
      disposeNet(ts, nn, net);
    },
  };
}

/** LeNet-5's forward pass, through `nn.predictFunction` (compiled, fused) where this build has it. */
async function tesseraLeNetInfer(ts, nn, batch) {
  const net = buildTesseraLeNet(nn);
  const x = ts.tensor(randomArray(batch * 784, 11), { shape: [batch, 1, 28, 28] });
  const predict = nn.predictFunction ? nn.predictFunction(net.out) : null;
  if (predict) {
    for (let i = 0; i < 2; i++) predict(x).dispose();
    await predict.ready?.();
  }
  return {
    async run(inner) {
      let out = null;
      for (let i = 0; i < inner; i++) {
        out?.dispose();
        out = predict ? predict(x) : ts.tidy(() => ts.noGrad(() => nn.getOutput(net.out, x, { deterministic: true })));
      }
      await out.data();
      out.dispose();
    },
    dispose() {
      predict?.dispose();
      x.dispose();
      disposeNet(ts, nn, net);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Output.

const fmtNum = (v) => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
};

/** A table cell: `median (min–max)`, or the reason there is no figure. */
export function cell(entry) {
  if (!entry) return '—';
  if (entry.pending) return entry.pending.replace(/^pending: /, 'pending');
  if (entry.skipped) return `skipped`;
  if (entry.error) return 'failed';
  if (entry.value !== undefined) return fmtNum(entry.value);
  const s = entry.stats;
  if (!s) return '—';
  return s.runs > 1 ? `${fmtNum(s.median)} (${fmtNum(s.min)}–${fmtNum(s.max)})` : `${fmtNum(s.median)} (1 run)`;
}

const fmtRatio = (r) => (r == null ? '—' : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×`);

/**
 * The markdown table: one row per benchmark, one column per implementation with median (min–max),
 * and for each peer the ratio ours/peer (> 1: Tessera is better).
 * @param {Array<{bench, results: Record<string, any>}>} rows
 * @param {string[]} peers peer names in column order (Tessera is always first)
 * @param {Record<string,string>} titles column titles by implementation name
 */
export function markdownTable(rows, peers, titles = {}) {
  const head = ['Benchmark', 'unit', titles.tessera ?? 'Tessera'];
  for (const p of peers) head.push(titles[p] ?? p, `ours/${shortName(p)}`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const { bench, results } of rows) {
    const unit =
      bench.metric === 'count' || bench.metric === 'MiB' || bench.metric === '×'
        ? bench.metric
        : `${bench.metric} ${METRICS[bench.metric].better === 'higher' ? '↑' : '↓'}`;
    const cols = [bench.label, unit, cell(results.tessera)];
    for (const p of peers) cols.push(cell(results[p]), fmtRatio(results[p]?.ratio ?? null));
    lines.push(`| ${cols.join(' | ')} |`);
  }
  return lines.join('\n');
}

const shortName = (p) => ({ 'tfjs-webgpu': 'tfjs-gpu', 'tfjs-cpu': 'tfjs-cpu', torch: 'torch' })[p] ?? p;

/** Turns the raw samples of `measure` into table entries with stats and ratios. */
export function finish(bench, raw, peers) {
  const results = {};
  for (const [name, r] of Object.entries(raw)) {
    results[name] = { ...r };
    if (r.samples?.length) results[name].stats = summarize(r.samples, bench);
  }
  for (const p of peers) if (results[p]) results[p].ratio = ratio(bench, results.tessera?.stats, results[p].stats);
  return results;
}

/**
 * Extra rows derived from the LeNet training step's facts: queue submits, dispatches and new
 * buffers per warm step, and peak GPU memory. Each result entry is `{ value }`.
 */
export function factRows(trainResults, peers) {
  const get = (name, key) => trainResults[name]?.facts?.[key];
  const rows = [];
  const row = (id, label, metric, key, scale = 1) => {
    const results = {};
    for (const name of ['tessera', ...peers]) {
      const v = get(name, key);
      results[name] = v == null ? (name === 'tessera' ? { skipped: 'no figure' } : undefined) : { value: v * scale };
    }
    const bench = { id, label, metric, group: 'End-to-end' };
    for (const p of peers) {
      if (results[p]?.value != null && results.tessera?.value != null) {
        results[p].ratio = results.tessera.value > 0 ? results[p].value / results.tessera.value : null;
      }
    }
    rows.push({ bench, results });
  };
  row('lenet-train-submits', 'LeNet-5 training: queue submits per step (steps queued, then one loss readback)', 'count', 'submitsPerStep');
  row('lenet-train-dispatches', 'LeNet-5 training: dispatches per step', 'count', 'dispatchesPerStep');
  row('lenet-train-host-ms', 'LeNet-5 training: host ms per step (until the step call returns)', 'ms', 'hostMsPerStep');
  if (get('tessera', 'compiledVsEager') != null) {
    row('lenet-train-compiled-vs-eager', 'LeNet-5 training compiled vs eager (img/s, compiled ÷ eager)', '×', 'compiledVsEager');
    row('lenet-train-host-ms-eager', 'LeNet-5 training: host ms per step, eager steps', 'ms', 'eagerHostMsPerStep');
    row('lenet-train-dispatches-eager', 'LeNet-5 training: dispatches per step, eager steps', 'count', 'eagerDispatchesPerStep');
  }
  row('lenet-train-new-buffers', 'LeNet-5 training: new GPU buffers per warm step', 'count', 'newBuffersPerStep');
  row('lenet-train-peak-mem', 'LeNet-5 training: peak GPU memory (live + pooled)', 'MiB', 'peakBytes', 1 / 2 ** 20);
  return rows;
}
