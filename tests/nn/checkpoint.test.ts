// nn.saveCheckpoint / nn.loadCheckpoint and fit's checkpoint / resumeFrom: round trips of the
// optimizer state of each kind, the metadata, exact resume (2 epochs = 1 epoch + save + fresh
// network and optimizer + 1 epoch, at an epoch boundary and mid-epoch), the atomic write
// (a child process SIGKILLed while it writes, and a write that fails), bad files, and the
// weights read by nn.loadParams.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { createBackend, type WebGPUBackend } from '@tessera/webgpu';
import { expectNoLeak, ts } from '../helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ckpt-'));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` points of [-1, 1]^2, class by angle sector (3 classes): a tiny problem that trains in a few steps. */
function sectors(n: number): nn.FitData {
  const images = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const a = ((k * 0.618034) % 1) * 2 * Math.PI;
    const r = 0.3 + 0.7 * ((k * 0.754878) % 1);
    images[2 * k] = r * Math.cos(a);
    images[2 * k + 1] = r * Math.sin(a);
    labels[k] = Math.floor(a / ((2 * Math.PI) / 3));
  }
  return { images, labels, shape: [n, 2] };
}

/** Dense, batch norm (running statistics: non-trainable parameters), seeded dropout (a draw counter), dense. */
function build(seed: number): Record<string, nn.Layer> & { out: nn.Layer } {
  const data = new nn.InputLayer([null, 2]);
  const fc1 = new nn.DenseLayer(data, { numUnits: 12, W: nn.init.GlorotUniform({ seed }) });
  const bn = new nn.BatchNormLayer(fc1);
  const drop = new nn.DropoutLayer(bn, { p: 0.2, seed: 7 });
  const out = new nn.DenseLayer(drop, { numUnits: 3, nonlinearity: null, W: nn.init.GlorotUniform({ seed: seed + 1 }) });
  return { data, fc1, bn, drop, out };
}

async function values(net: Record<string, nn.Layer>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [t, name] of nn.paramNames(net)) out.set(name, (await t.data()) as Float32Array);
  return out;
}

function maxDiff(a: Map<string, Float32Array> | number[], b: Map<string, Float32Array> | number[]): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length).toBe(b.length);
    return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]!)));
  }
  const [ma, mb] = [a as Map<string, Float32Array>, b as Map<string, Float32Array>];
  expect([...ma.keys()]).toEqual([...mb.keys()]);
  let d = 0;
  for (const [k, v] of ma) for (const [i, x] of v.entries()) d = Math.max(d, Math.abs(x - mb.get(k)![i]!));
  return d;
}

const OPTIMIZERS: [nn.updates.OptimizerName, Record<string, number>][] = [
  ['sgd', { learningRate: 0.1 }],
  ['momentum', { learningRate: 0.05, momentum: 0.8 }],
  ['adam', { learningRate: 0.01, beta2: 0.99 }],
  ['rmsprop', { learningRate: 0.01, momentum: 0.5 }],
  ['adagrad', { learningRate: 0.05, initialAccumulatorValue: 0.1 }],
];

describe('checkpoint round trip', () => {
  const data = sectors(32);
  const x = () => ts.tensor(data.images.subarray(0, 16 * 2), { shape: [16, 2] });
  const y = () => ts.tensor((data.labels as Int32Array).subarray(0, 16), { shape: [16], dtype: 'int32' });

  async function steps(net: { out: nn.Layer }, opt: nn.Optimizer, n: number): Promise<void> {
    const step = nn.trainStep({ net, optimizer: opt });
    for (let i = 0; i < n; i++) {
      const [xs, ys] = [x(), y()];
      const { loss, correct } = await step(xs, ys);
      ts.dispose([xs, ys, loss, correct ?? []]);
    }
  }

  it.each(OPTIMIZERS)('restores the %s state exactly: the next step is the same', async (kind, opts) => {
    await expectNoLeak(async () => {
      const a = build(1);
      const optA = nn.updates.byName(kind, a.out, opts);
      await steps(a, optA, 3);
      const bytes = await nn.saveCheckpoint(null, { net: a, optimizer: optA, step: 3, epoch: 0 });
      const b = build(5); // other initial weights: the checkpoint must overwrite them all
      const optB = nn.updates.byName(kind, b.out, opts);
      const loaded = await nn.loadCheckpoint(bytes, { net: b, optimizer: optB });
      expect(loaded).toMatchObject({ step: 3, epoch: 0, optimizer: kind, version: nn.CHECKPOINT_VERSION });
      expect(maxDiff(await values(a), await values(b))).toBe(0);
      const [sa, sb] = [optA.state(nn.paramNames(a)), optB.state(nn.paramNames(b))];
      expect(sb.stepCount).toBe(3);
      expect(sb.steps).toEqual(sa.steps);
      expect(sb.learningRate).toBe(opts.learningRate);
      expect([...sb.tensors.keys()].sort()).toEqual([...sa.tensors.keys()].sort());
      const slots = nn.updates.STATE_SLOTS[optA.rule].slice(0, ts.optimStateCount(optA.rule, { momentum: opts.momentum ?? 0 }));
      expect(sa.tensors.size).toBe(slots.length * 6); // fc1.W, fc1.b, bn.beta, bn.gamma, out.W, out.b: 6 trainable
      for (const [k, t] of sa.tensors) expect(await sb.tensors.get(k)!.data(), k).toEqual(await t.data());
      expect((b.drop as nn.DropoutLayer).calls).toBe(3);
      await steps(a, optA, 1);
      await steps(b, optB, 1);
      expect(maxDiff(await values(a), await values(b)), 'after one more step').toBe(0);
      optA.dispose();
      optB.dispose();
      nn.disposeLayers(a);
      nn.disposeLayers(b);
    }, `${kind} round trip`);
  });

  it('writes the metadata, the optimizer state under optim.<param>.<slot>, and the weights as saveParams does', async () => {
    const net = build(1);
    const opt = nn.updates.adam(net.out, { learningRate: 0.01 });
    await steps(net, opt, 2);
    const file = join(dir, 'meta.ckpt');
    const extra = { schedule: { epoch: 4 }, note: 'héllo' };
    const bytes = await nn.saveCheckpoint(file, { net, optimizer: opt, step: 2, epoch: 1, rng: { seed: 9, position: 5, batchSize: 16 }, extra });
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      'no temporary file left',
    ).toEqual([]);
    const { tensors, metadata } = nn.decodeSafetensors(bytes);
    expect(metadata).toMatchObject({ format: 'tessera.checkpoint', format_version: '1', producer: '@tessera/nn', step: '2', epoch: '1' });
    expect(JSON.parse(metadata.rng!)).toEqual({ seed: 9, position: 5, batchSize: 16 });
    expect(JSON.parse(metadata.noise!)).toEqual({ drop: 2 });
    expect(JSON.parse(metadata.optimizer!)).toMatchObject({
      kind: 'adam',
      learningRate: 0.01,
      stepCount: 2,
      hyper: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    });
    expect([...tensors.keys()]).toEqual(
      expect.arrayContaining(['fc1.W', 'bn.mean', 'bn.var', 'optim.fc1.W.exp_avg', 'optim.fc1.W.exp_avg_sq', 'optim.out.b.exp_avg_sq']),
    );
    expect([...tensors.keys()].filter((k) => k.startsWith('optim.bn.mean'))).toEqual([]); // not trainable: no state
    // The parameters are byte for byte what saveParams writes.
    const weights = nn.decodeSafetensors(await nn.saveParams(net)).tensors;
    for (const [name, e] of weights) expect(tensors.get(name)!.bytes, name).toEqual(e.bytes);
    const loaded = await nn.loadCheckpoint(file, { net: build(3) });
    expect(loaded).toEqual({ step: 2, epoch: 1, rng: { seed: 9, position: 5, batchSize: 16 }, extra, optimizer: 'adam', version: 1 });
    // nn.loadParams reads the weights (the optim.* tensors are extra to it).
    const other = build(4);
    await nn.loadParams(other, file, { strict: false });
    expect(maxDiff(await values(other), await values(net))).toBe(0);
    await expect(nn.loadParams(build(4), file)).rejects.toThrow(/unexpected tensor\(s\) 'optim\./);
    opt.dispose();
  });
});

describe('exact resume with fit', () => {
  const data = sectors(40); // 5 batches of 8 per epoch
  const common = { data, batchSize: 8, seed: 11, readEvery: 1, lag: 0 } as const;
  const adam = (net: { out: nn.Layer }) => nn.updates.adam(net.out, { learningRate: 0.02 });

  /** Trains with per-step loss capture (read at every step, no lag: the loss of that very step). */
  async function run(net: { out: nn.Layer }, opt: nn.Optimizer, extra: Partial<nn.FitOptions>, losses: number[]): Promise<nn.FitHistory> {
    return nn.fit({
      ...common,
      net,
      optimizer: opt,
      epochs: 2,
      ...extra,
      onStep: async (s) => {
        expect(s.lossStep).toBe(s.step);
        losses.push(s.loss!);
        await extra.onStep?.(s);
      },
    });
  }

  let reference: { losses: number[]; params: Map<string, Float32Array> };
  beforeAll(async () => {
    const net = build(1);
    const opt = adam(net);
    const losses: number[] = [];
    await run(net, opt, {}, losses);
    reference = { losses, params: await values(net) };
    expect(losses).toHaveLength(10);
    opt.dispose();
    nn.disposeLayers(net);
  });

  it('1 epoch, save, a fresh network and optimizer, 1 more epoch = 2 epochs (every loss and parameter within 1e-6)', async () => {
    const file = join(dir, 'epoch.ckpt');
    const losses: number[] = [];
    const infos: nn.CheckpointInfo[] = [];
    await expectNoLeak(async () => {
      const first = build(1);
      const opt1 = adam(first);
      await run(first, opt1, { epochs: 1, checkpoint: { path: file, onSave: (i) => void infos.push(i) } }, losses);
      opt1.dispose();
      nn.disposeLayers(first);
    }, 'first epoch');
    expect(infos).toEqual([{ step: 5, epoch: 1, position: 0, reason: 'epoch', path: file }]);
    const net = build(2); // different initial weights, a new optimizer: everything must come from the file
    const opt = adam(net);
    const seen: nn.StepInfo[] = [];
    const history = await run(net, opt, { resumeFrom: file, onStep: (s) => void seen.push(s) }, losses);
    expect(history.epochs.map((e) => [e.epoch, e.steps, e.complete])).toEqual([[1, 5, true]]);
    expect(seen.map((s) => [s.epoch, s.step, s.globalStep])).toEqual([1, 2, 3, 4, 5].map((k) => [1, k, 5 + k]));
    const dl = maxDiff(losses, reference.losses);
    const dp = maxDiff(await values(net), reference.params);
    console.log(`resume at an epoch boundary: max |loss diff| ${dl}, max |param diff| ${dp}`);
    expect(dl).toBeLessThanOrEqual(1e-6);
    expect(dp).toBeLessThanOrEqual(1e-6);
    opt.dispose();
    nn.disposeLayers(net);
  });

  it('mid-epoch: stopped by its signal after step 3 of epoch 1 (checkpoint on abort), resumed = uninterrupted', async () => {
    const file = join(dir, 'mid.ckpt');
    const losses: number[] = [];
    const first = build(1);
    const opt1 = adam(first);
    const controller = new AbortController();
    const infos: nn.CheckpointInfo[] = [];
    const h1 = await run(
      first,
      opt1,
      {
        signal: controller.signal,
        checkpoint: { path: file, onSave: (i) => void infos.push(i) },
        onStep: (s) => {
          if (s.epoch === 0 && s.step === 3) controller.abort();
        },
      },
      losses,
    );
    expect(h1.aborted).toBe(true);
    expect(infos.map((i) => [i.reason, i.epoch, i.position, i.step])).toEqual([['abort', 0, 3, 3]]);
    opt1.dispose();
    nn.disposeLayers(first);
    const net = build(2);
    const opt = adam(net);
    const history = await run(net, opt, { resumeFrom: file }, losses);
    expect(history.epochs.map((e) => [e.epoch, e.steps, e.complete])).toEqual([
      [0, 2, true],
      [1, 5, true],
    ]);
    const dl = maxDiff(losses, reference.losses);
    const dp = maxDiff(await values(net), reference.params);
    console.log(`resume mid-epoch: max |loss diff| ${dl}, max |param diff| ${dp}`);
    expect(dl).toBeLessThanOrEqual(1e-6);
    expect(dp).toBeLessThanOrEqual(1e-6);
    opt.dispose();
    nn.disposeLayers(net);
  });

  it('from the bytes of a periodic checkpoint (every 3 steps), as after a crash; by hand with initialEpoch / initialStep too', async () => {
    const kept: { info: nn.CheckpointInfo; bytes: Uint8Array }[] = [];
    const first = build(1);
    const opt1 = adam(first);
    const controller = new AbortController();
    const losses: number[] = [];
    await run(
      first,
      opt1,
      {
        signal: controller.signal,
        checkpoint: { every: 3, onSave: (info, bytes) => void kept.push({ info, bytes }) },
        onStep: (s) => {
          if (s.globalStep === 7) controller.abort(); // steps 7 (and the abort checkpoint) are "lost"
        },
      },
      losses,
    );
    expect(kept.map((k) => [k.info.reason, k.info.step, k.info.epoch, k.info.position])).toEqual([
      ['every', 3, 0, 3],
      ['epoch', 5, 1, 0],
      ['every', 6, 1, 1],
      ['abort', 7, 1, 2],
    ]);
    opt1.dispose();
    nn.disposeLayers(first);
    const at6 = kept[2]!.bytes;
    const net = build(2);
    const opt = adam(net);
    const after: number[] = [];
    await run(net, opt, { resumeFrom: at6 }, after);
    expect(maxDiff([...losses.slice(0, 6), ...after], reference.losses)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(await values(net), reference.params)).toBeLessThanOrEqual(1e-6);
    // The same by hand: loadCheckpoint, then fit from its epoch and position.
    const net2 = build(3);
    const opt2 = adam(net2);
    const c = await nn.loadCheckpoint(at6, { net: net2, optimizer: opt2 });
    expect(c).toMatchObject({ step: 6, epoch: 1, rng: { seed: 11, position: 1, batchSize: 8 } });
    await run(net2, opt2, { initialEpoch: c.epoch, initialStep: c.rng.position }, []);
    expect(maxDiff(await values(net2), reference.params)).toBeLessThanOrEqual(1e-6);
    opt.dispose();
    opt2.dispose();
    nn.disposeLayers(net);
    nn.disposeLayers(net2);
  });

  it('rejects a resume that would not replay the same batches, and bad options', async () => {
    const file = join(dir, 'order.ckpt');
    const net = build(1);
    const opt = adam(net);
    await nn.saveCheckpoint(file, { net, optimizer: opt, step: 7, epoch: 1, rng: { seed: 11, position: 2, batchSize: 8 } });
    const before = await values(net);
    await expect(nn.fit({ ...common, net, optimizer: opt, seed: 12, resumeFrom: file })).rejects.toThrow(
      /resumeFrom: '.*order\.ckpt': the checkpoint's data order has seed 11, this run 12/,
    );
    await expect(nn.fit({ ...common, batchSize: 4, net, optimizer: opt, resumeFrom: file })).rejects.toThrow(
      /stopped mid-epoch with batchSize 8; resume with batchSize 8/,
    );
    await expect(nn.fit({ ...common, data: sectors(16), net, optimizer: opt, resumeFrom: file })).rejects.toThrow(
      /at batch 2 of epoch 2, but an epoch of this data has 2 batches/,
    );
    expect(maxDiff(await values(net), before), 'a refused resume loads nothing').toBe(0);
    await expect(nn.fit({ ...common, net, optimizer: opt, resumeFrom: file, initialEpoch: 1 })).rejects.toThrow(/drop initialEpoch and initialStep/);
    await expect(nn.fit({ ...common, net, optimizer: opt, initialStep: 5 })).rejects.toThrow(/initialStep must be below the 5 batches of an epoch, got 5/);
    await expect(nn.fit({ ...common, net, optimizer: opt, checkpoint: { every: 0, path: file } })).rejects.toThrow(/checkpoint\.every must be an integer >= 1/);
    await expect(nn.fit({ ...common, net, optimizer: opt, checkpoint: {} })).rejects.toThrow(/checkpoint needs a path/);
    const sgd = nn.updates.sgd(net.out, { learningRate: 0.1 });
    await expect(nn.fit({ ...common, net, optimizer: sgd, resumeFrom: file })).rejects.toThrow(
      /optimizer kind mismatch: the checkpoint holds 'adam' state, the optimizer given is 'sgd'/,
    );
    opt.dispose();
    sgd.dispose();
    nn.disposeLayers(net);
  });
});

describe('atomic writes', () => {
  it('a process SIGKILLed in the middle of writing a checkpoint leaves the previous one whole', async () => {
    const file = join(dir, 'killed.ckpt');
    const script = join(dir, 'writer.mts');
    // A child writes a 2000x2000 dense layer (16 MB, on the reference backend) in a loop; the
    // parent kills it once a write is under way: its temporary file exists, or (for a writer
    // that wrote in place) the target has been cut short.
    writeFileSync(
      script,
      [
        "import * as ts from '@tessera/core';",
        "import '@tessera/reference';",
        "import * as nn from '@tessera/nn';",
        "await ts.init({ backend: 'reference' });",
        'const data = new nn.InputLayer([null, 2000]);',
        "const net = { data, big: new nn.DenseLayer(data, { numUnits: 2000, name: 'big' }) };",
        'for (let step = 1; ; step++) {',
        '  await nn.saveCheckpoint(process.argv[2], { net, step, epoch: 0 });',
        "  if (step === 1) process.stdout.write('ready\\n');",
        '}',
      ].join('\n'),
    );
    const net = { data: new nn.InputLayer([null, 2000]) } as Record<string, nn.Layer>;
    net.big = new nn.DenseLayer(net.data!, { numUnits: 2000, name: 'big' });
    const steps: number[] = [];
    let midWrite = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
        cwd: ROOT,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tests/tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready: ${err}`)));
      });
      const full = statSync(file).size;
      const tmp = `${file}.tmp-${child.pid}`;
      const writing = () => existsSync(tmp) || statSync(file).size < full - 64;
      const t0 = Date.now();
      // The poll's own answer decides: asking again could miss a write that ended in between
      // (this process descheduled on a loaded machine), though the kill still follows at once.
      let during = writing();
      while (!during && Date.now() - t0 < 10_000) {
        await new Promise((r) => setImmediate(r));
        during = writing();
      }
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      if (during) midWrite++;
      await exited;
      const c = await nn.loadCheckpoint(file, { net }); // whole: decodes, every tensor present
      steps.push(c.step);
    }
    console.log(
      `killed ${midWrite} of 3 writers mid-write; they left checkpoints of steps ${steps.join(', ')} and ${readdirSync(dir).filter((f) => f.includes('.tmp-')).length} temporary files`,
    );
    expect(midWrite, 'kills that landed while a write was under way').toBe(3);
    expect(steps.every((s) => s >= 1)).toBe(true);
    nn.disposeLayers(net);
  }, 360_000); // three child processes, each starting tsx and building a 16 MB layer: minutes on a loaded machine

  it('a write that fails leaves the previous checkpoint intact and says so', async () => {
    const file = join(dir, 'fail.ckpt');
    const net = build(1);
    await nn.saveCheckpoint(file, { net, step: 1, epoch: 0 });
    // Block the temporary file's path with a directory: opening it for writing fails.
    const tmp = `${file}.tmp-${process.pid}`;
    mkdirSync(tmp);
    try {
      await expect(nn.saveCheckpoint(file, { net, step: 2, epoch: 0 })).rejects.toThrow(
        new RegExp(`saveCheckpoint: cannot write '${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': .*The previous checkpoint there, if any, is intact`),
      );
    } finally {
      rmSync(tmp, { recursive: true });
    }
    expect((await nn.loadCheckpoint(file, { net })).step).toBe(1);
    await expect(nn.saveCheckpoint(join(dir, 'no-such-dir', 'x.ckpt'), { net, step: 1, epoch: 0 })).rejects.toThrow(/cannot write .*no-such-dir/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    nn.disposeLayers(net);
  });
});

describe('bad checkpoints', () => {
  it('names the file, the tensor, and the expected and found shapes', async () => {
    const net = build(1);
    const opt = nn.updates.adam(net.out, { learningRate: 0.01 });
    const file = join(dir, 'bad.ckpt');
    const bytes = await nn.saveCheckpoint(file, { net, optimizer: opt, step: 0, epoch: 0 });
    const where = `loadCheckpoint: '${file}'`;
    // A weights file is not a checkpoint.
    const weights = join(dir, 'weights.safetensors');
    await nn.saveParams(net, weights);
    await expect(nn.loadCheckpoint(weights, { net })).rejects.toThrow(`${where.replace('bad.ckpt', 'weights.safetensors')}: not a Tessera checkpoint`);
    // Another architecture: wider fc1 (every shape named), or a layer fewer / more.
    const wide = (() => {
      const data = new nn.InputLayer([null, 2]);
      const fc1 = new nn.DenseLayer(data, { numUnits: 13 });
      const bn = new nn.BatchNormLayer(fc1);
      const drop = new nn.DropoutLayer(bn, { p: 0.2, seed: 7 });
      return { data, fc1, bn, drop, out: new nn.DenseLayer(drop, { numUnits: 3, nonlinearity: null }) };
    })();
    await expect(nn.loadCheckpoint(file, { net: wide })).rejects.toThrow(
      `${where}: the checkpoint does not fit this network: tensor 'fc1.W' is [2,12] in the file but the parameter is [2,13]`,
    );
    await expect(nn.loadCheckpoint(file, { net: wide })).rejects.toThrow("tensor 'bn.mean' is [12] in the file but the parameter is [13]");
    const small = { data: wide.data, fc1: wide.fc1, out: new nn.DenseLayer(wide.fc1, { numUnits: 3 }) };
    await expect(nn.loadCheckpoint(bytes, { net: small })).rejects.toThrow(/unexpected tensor 'bn\.beta' \[12\]: the network has no such parameter/);
    const b2 = build(2);
    const more = { ...b2, extra: new nn.DenseLayer(b2.out, { numUnits: 2, name: 'extra' }) };
    await expect(nn.loadCheckpoint(bytes, { net: more })).rejects.toThrow(/tensor 'extra\.W' \[3,2\] is missing/);
    // The optimizer: another kind, other settings, none saved.
    const fresh = build(2);
    await expect(nn.loadCheckpoint(bytes, { net: fresh, optimizer: nn.updates.momentum(fresh.out, { learningRate: 0.1 }) })).rejects.toThrow(
      "loadCheckpoint: optimizer kind mismatch: the checkpoint holds 'adam' state, the optimizer given is 'momentum'",
    );
    await expect(nn.loadCheckpoint(bytes, { net: fresh, optimizer: nn.updates.adam(fresh.out, { beta1: 0.8 }) })).rejects.toThrow(
      /the settings differ: beta1 0\.9 in the state, 0\.8 here/,
    );
    const noOpt = await nn.saveCheckpoint(null, { net, step: 0, epoch: 0 });
    await expect(nn.loadCheckpoint(noOpt, { net: fresh, optimizer: nn.updates.adam(fresh.out) })).rejects.toThrow(/holds no optimizer state/);
    // A failed load changes nothing.
    const before = await values(fresh);
    await expect(nn.loadCheckpoint(bytes, { net: fresh, optimizer: nn.updates.adam(fresh.out, { beta1: 0.8 }) })).rejects.toThrow();
    expect(maxDiff(await values(fresh), before)).toBe(0);
    // Truncated, a newer format, corrupt metadata.
    writeFileSync(join(dir, 'cut.ckpt'), bytes.subarray(0, bytes.length - 10));
    await expect(nn.loadCheckpoint(join(dir, 'cut.ckpt'), { net })).rejects.toThrow(/loadCheckpoint: '.*cut\.ckpt': truncated: tensor/);
    const { tensors, metadata } = nn.decodeSafetensors(bytes);
    const reencode = (meta: Record<string, string>) =>
      nn.encodeSafetensors(new Map([...tensors].map(([k, e]) => [k, { shape: e.shape, data: nn.entryToFloat32(k, e) }])), meta);
    await expect(nn.loadCheckpoint(reencode({ ...metadata, format_version: '2' }), { net })).rejects.toThrow(
      /format version 2; this Tessera reads versions 1 to 1/,
    );
    await expect(nn.loadCheckpoint(reencode({ ...metadata, rng: '{oops' }), { net })).rejects.toThrow(/corrupt metadata 'rng'/);
    await expect(nn.loadCheckpoint(reencode({ ...metadata, step: '-1' }), { net })).rejects.toThrow(/metadata 'step' must be an integer >= 0, got "-1"/);
    await expect(nn.loadCheckpoint(join(dir, 'missing.ckpt'), { net })).rejects.toThrow(/cannot read '.*missing\.ckpt': no such file/);
    // Saving: bad arguments.
    await expect(nn.saveCheckpoint(null, { net, step: -1, epoch: 0 })).rejects.toThrow('saveCheckpoint: step must be an integer >= 0, got -1');
    await expect(nn.saveCheckpoint(null, { net, step: 0, epoch: 0, extra: { n: 1n } })).rejects.toThrow(/extra must be JSON-serialisable/);
    opt.dispose();
    for (const n of [net, wide, fresh, more]) nn.disposeLayers(n);
    nn.disposeLayers(small.out);
  });
});

describe('a lost device (what the CLI recovers from)', () => {
  it('the next read says the device was lost; ts.shutdown() and ts.init() start afresh; old tensors freed late stay out of the new pool', async () => {
    ts.shutdown();
    const backend = (await createBackend()) as WebGPUBackend;
    await ts.init({ backend });
    const old = ts.tensor([1, 2, 3]);
    const y = old.add(1);
    backend.device.destroy(); // as a driver reset would, from outside the backend
    await expect(y.data()).rejects.toThrow(/the WebGPU device was lost \(destroyed: .*call ts\.shutdown\(\) and ts\.init\(\)/);
    ts.shutdown();
    await ts.init({ backend: 'webgpu' });
    const pooled = ts.stats().pooledBytes;
    ts.dispose([old, y]); // buffers of the dead device
    expect(ts.stats().pooledBytes, 'no buffer of the old device in the new pool').toBe(pooled);
    const t = ts.tensor([4, 5, 6]);
    expect(await t.mul(2).data()).toEqual(new Float32Array([8, 10, 12]));
    t.dispose();
  });
});
