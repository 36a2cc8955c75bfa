// The CI smoke test of the main job: `tessera train --limit 2000` learns well above chance and
// leaves no tensor behind; compiled steps (the default) and --eager train to the same bytes. Then the command line itself: help per command, misplaced options,
// `info --backend reference`, `info --model lenet5`, and the committed bin file that `npx tessera` runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ts } from '../helpers/index.js';
import { train } from '../../packages/cli/src/train.js';
import { COMMANDS, run } from '../../packages/cli/src/cli.js';

describe('tessera train (smoke)', () => {
  it('trains LeNet-5 on 2000 MNIST images to well above chance, without leaks', async () => {
    await ts.init();
    const before = ts.memory();
    const result = await train({
      epochs: 1,
      batchSize: 64,
      optimizer: 'adam',
      lr: 1e-3,
      limit: 2000,
      testLimit: 1000,
      dataset: 'mnist',
      seed: 1,
      json: true,
    });
    console.log(`smoke: ${JSON.stringify(result)}`);
    expect(result.trainImages).toBe(2000);
    expect(result.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(result.adapter).toBe(ts.backendInfo().adapter);
    const after = ts.memory();
    expect(after.tensors, 'live tensors after training').toBe(before.tensors);
    expect(after.bytes, 'live bytes after training').toBe(before.bytes);
  });

  it('trains fashion-cnn on Fashion-MNIST (--model fashion-cnn --dataset fashion-mnist) and prints the JSON result', async () => {
    await ts.init();
    const before = ts.memory();
    const { code, out } = await tessera(
      'train',
      '--model',
      'fashion-cnn',
      '--dataset',
      'fashion-mnist',
      '--limit',
      '64',
      '--test-limit',
      '32',
      '--batch-size',
      '32',
      '--json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ dataset: 'fashion-mnist', model: 'fashion-cnn', epochs: 1, trainImages: 64 });
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(result.imagesPerSecond).toBeGreaterThan(0);
    expect(ts.memory().tensors, 'live tensors after training').toBe(before.tensors);
    await expect(tessera('train', '--model', 'resnet')).rejects.toThrow("--model must be one of lenet5, fashion-cnn, got 'resnet'");
  });

  it('trains through compiled steps by default, eagerly with --eager, to the same weights and accuracy', async () => {
    await ts.init();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-eager-'));
    try {
      const args = ['train', '--limit', '80', '--test-limit', '40', '--batch-size', '32', '--json'];
      const before = ts.memory();
      const compiled = await tessera(...args, '--save', join(dir, 'compiled.safetensors'));
      const eager = await tessera(...args, '--save', join(dir, 'eager.safetensors'), '--eager');
      expect(ts.memory().tensors, 'live tensors after both runs').toBe(before.tensors);
      const [c, e] = [JSON.parse(compiled.out), JSON.parse(eager.out)];
      expect(c.compiled).toBe(true);
      expect(e.compiled).toBe(false);
      expect(c.testAccuracy).toBe(e.testAccuracy);
      expect(c.steps).toBe(3); // 32 + 32 + 16: the last, partial batch is a second recorded shape
      // The same kernels in the same order: the same weights, to the byte.
      expect(Buffer.compare(readFileSync(join(dir, 'compiled.safetensors')), readFileSync(join(dir, 'eager.safetensors')))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown optimizer with the valid names', async () => {
    await expect(
      train({ epochs: 1, batchSize: 64, optimizer: 'adamm', lr: 1e-3, limit: 64, testLimit: 64, dataset: 'mnist', seed: 1, json: true }),
    ).rejects.toThrow(/adamm.*(sgd|adam)/s);
  });
});

/** Runs the CLI in this process; resolves to its exit code and what it printed on stdout. */
async function tessera(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(argv, (s) => {
    out += s;
  });
  return { code, out };
}

const NAMES = Object.keys(COMMANDS) as (keyof typeof COMMANDS)[];

describe('tessera command line', () => {
  it('tessera --help lists each command on one line and points to per-command help', async () => {
    const { code, out } = await tessera('--help');
    expect(code).toBe(0);
    const lines = out.split('\n');
    for (const name of NAMES) {
      const mine = lines.filter((l) => l.startsWith(`  ${name} `));
      expect(mine, `the line of ${name}`).toHaveLength(1);
      expect(mine[0]!.endsWith(` ${COMMANDS[name].summary}`), mine[0]).toBe(true);
    }
    expect(out).toContain("'tessera <command> --help'");
    expect(out, 'no options in the command list').not.toMatch(/--(epochs|task|backend)/);
  });

  it('train --help and finetune --help show --eager', async () => {
    for (const name of ['train', 'finetune']) {
      const { out } = await tessera(name, '--help');
      expect(out).toMatch(/^ {2}--eager +run every op eagerly instead of compiled steps/m);
    }
    expect((await tessera('info', '--help')).out).not.toContain('--eager');
  });

  it.each(NAMES)("tessera %s --help prints that command's options only", async (name) => {
    const { code, out } = await tessera(name, '--help');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: tessera ${name} \\[options\\]`));
    const own = new Set(COMMANDS[name].options.map((o) => o.name));
    for (const o of own) expect(out).toMatch(new RegExp(`^  --${o}\\b`, 'm'));
    const others = NAMES.flatMap((n) => COMMANDS[n].options.map((o) => o.name)).filter((o) => !own.has(o));
    for (const o of others) expect(out, `--${o} is not an option of ${name}`).not.toContain(`--${o} `);
  });

  it('names the command an option belongs to, and rejects unknown ones', async () => {
    await expect(tessera('train', '--task', 'fashion')).rejects.toThrow("--task is an option of 'finetune', not 'train'");
    await expect(tessera('info', '--epochs', '2')).rejects.toThrow("--epochs is an option of 'train', not 'info'");
    await expect(tessera('train', '--bogus')).rejects.toThrow("Unknown option '--bogus' (see tessera train --help)");
    await expect(tessera('info', '--backend', 'cuda')).rejects.toThrow(/--backend must be one of webgpu, wasm, reference, got 'cuda'/);
    await expect(tessera('nonsense')).rejects.toThrow(/unknown command 'nonsense'/);
  });

  it('info --backend reference starts the reference backend and says so', async () => {
    try {
      const text = await tessera('info', '--backend', 'reference');
      expect(text.code).toBe(0);
      expect(text.out).toMatch(/^backend: reference\b/);
      expect(ts.backendInfo().backend).toBe('reference');
      const json = await tessera('info', '--backend', 'reference', '--json');
      expect(JSON.parse(json.out)).toMatchObject({ backend: 'reference', isCPU: true });
    } finally {
      ts.shutdown(); // the next ts.init() starts the default backend again
    }
  });

  it('tune times the WebGPU variants of a LeNet-5 step, prints the winners and stores them; on wasm there is nothing to tune', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-cli-'));
    const saved = { mode: process.env.TESSERA_AUTOTUNE, dir: process.env.TESSERA_CACHE_DIR };
    process.env.TESSERA_AUTOTUNE = 'cached';
    process.env.TESSERA_CACHE_DIR = dir;
    ts.shutdown(); // a fresh backend, which reads the settings above
    try {
      const { code, out } = await tessera('tune', '--backend', 'webgpu', '--batch-size', '2');
      expect(code).toBe(0);
      expect(out).toMatch(/^LeNet-5 training step, batch 2, on .+: \d+ op shapes tuned in [\d.]+ s$/m);
      expect(out).toMatch(/^op +shape bucket +heuristic +winner +ms per call, fastest first$/m);
      expect(out).toMatch(/^conv2d +N2,C1,F8,H32,W32,g1,k505,s101,d101 +direct +\S+/m);
      expect(out).toContain(`Stored in ${dir}/autotune.json`);
      const stored = JSON.parse(readFileSync(join(dir, 'autotune.json'), 'utf8'));
      const winners = Object.values(stored.adapters as Record<string, { winners: object }>)[0]!.winners;
      expect(Object.keys(winners).length).toBe(Number(/(\d+) op shapes/.exec(out)![1]));
      expect(ts.memory().tensors, 'the model, optimizer, step and batch are freed').toBe(0);
      const wasm = await tessera('tune', '--backend', 'wasm');
      expect(wasm.out).toBe('The wasm backend has no kernel variants to tune: every op has one kernel. --backend webgpu tunes the WebGPU kernels.\n');
    } finally {
      process.env.TESSERA_AUTOTUNE = saved.mode;
      if (saved.dir === undefined) delete process.env.TESSERA_CACHE_DIR;
      else process.env.TESSERA_CACHE_DIR = saved.dir;
      rmSync(dir, { recursive: true, force: true });
      ts.shutdown();
    }
  }, 300_000);

  it('info --model lenet5 prints the layer table of LeNet-5 (text and JSON) and frees the model', async () => {
    await expect(tessera('info', '--model', 'resnet')).rejects.toThrow("--model must be one of lenet5, fashion-cnn, got 'resnet'");
    try {
      const text = await tessera('info', '--model', 'lenet5', '--backend', 'reference');
      expect(text.code).toBe(0);
      expect(text.out).toMatch(/^lenet5: LeNet-5/);
      expect(text.out).toMatch(/^Layer \(type\) +Output shape +Param # +Trainable$/m);
      expect(text.out).toMatch(/^conv1 \(Conv2DLayer\) +\[null, 6, 28, 28\] +156 +yes$/m);
      expect(text.out).toContain('Total params: 61,706\nTrainable params: 61,706\nNon-trainable params: 0\n');
      const live = ts.memory().tensors;
      const json = await tessera('info', '--model', 'lenet5', '--backend', 'reference', '--json');
      const parsed = JSON.parse(json.out);
      expect(parsed).toMatchObject({ model: 'lenet5', totalParams: 61706, trainableParams: 61706, nonTrainableParams: 0 });
      expect(parsed.rows.map((r: { name: string }) => r.name)).toEqual(['data', 'conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'fc2', 'out']);
      expect(ts.memory().tensors, 'the model is freed').toBe(live);
    } finally {
      ts.shutdown();
    }
  });

  it('the bin file that npm links runs the built command (building it first if needed)', () => {
    const bin = fileURLToPath(new URL('../../packages/cli/bin/tessera.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'train', '--help'], { encoding: 'utf8', timeout: 110_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tessera train \[options\]/);
  });
});
