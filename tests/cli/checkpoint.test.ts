// `tessera train --checkpoint FILE --checkpoint-every N --resume`, each run a child process of
// the CLI (main.ts through tsx, no build): SIGINT and SIGTERM mid-training finish the step, save,
// print the command that resumes and exit 130 / 143; --resume then ends with the very weights of
// an uninterrupted run; a lost GPU device (simulated: TESSERA_FAULT_LOSE_DEVICE_AT_STEP) is
// restarted and training goes on from the checkpoint to the same weights; a device that does not
// come back ends the run with the checkpoint intact and the command to resume. 128 MNIST images,
// 2 epochs of 8 steps: SwiftShader is slow.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';
import { run } from '../../packages/cli/src/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'packages/cli/src/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 2 epochs of 8 steps. */
const RUN = ['train', '--limit', '128', '--test-limit', '32', '--batch-size', '16', '--epochs', '2', '--seed', '3'];

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `tessera ...args` as its own process (so that signals reach it alone). */
function tessera(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    // On WebGPU, as the in-process runs here: lost devices are WebGPU's, and weights are compared bit for bit.
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tests/tsconfig.json'), TESSERA_BACKEND: 'webgpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Done>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** The JSON line a --json run ends with. */
const result = (d: Done) => JSON.parse(d.stdout.trim().split('\n').at(-1)!);

/** The command a stopped run says to resume with (the line after "resume with:"). */
function resumeCommand(stderr: string): string {
  const m = stderr.match(/[Rr]esume with:\n {2}(.*)\n/);
  expect(m, `a resume command in:\n${stderr}`).not.toBeNull();
  return m![1]!;
}

/** Waits until `file` exists (a checkpoint appears at once, by rename). */
async function appears(file: string, what: { done: Promise<Done> }): Promise<void> {
  let ended = false;
  void what.done.then(() => (ended = true));
  while (!existsSync(file)) {
    if (ended) throw new Error(`the run ended before ${file} appeared: ${(await what.done).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const meta = (file: string) => nn.decodeSafetensors(new Uint8Array(readFileSync(file))).metadata;

let baseline: Buffer;
beforeAll(async () => {
  const save = join(dir, 'baseline.safetensors');
  const d = await tessera([...RUN, '--save', save, '--json']).done;
  expect(d.code, d.stderr).toBe(0);
  expect(result(d)).toMatchObject({ steps: 16, deviceLosses: 0 });
  baseline = readFileSync(save);
}, 120_000);

describe('tessera train --checkpoint', () => {
  it('SIGINT mid-training: finishes the step, saves, prints the resume command, exits 130; --resume ends with the weights of an uninterrupted run', async () => {
    const ckpt = join(dir, 'int.ckpt');
    const save = join(dir, 'int.safetensors');
    const args = [...RUN, '--checkpoint', ckpt, '--checkpoint-every', '2', '--save', save, '--json'];
    const first = tessera(args);
    await appears(ckpt, first);
    first.child.kill('SIGINT');
    const d = await first.done;
    expect(d.code, d.stderr).toBe(130);
    expect(d.stderr).toContain('tessera: SIGINT: finishing the current step and saving a checkpoint');
    expect(d.stderr).toMatch(/stopped by SIGINT at epoch [12], batch \d+ \(step \d+\)/);
    expect(resumeCommand(d.stderr)).toBe(`tessera ${args.join(' ')} --resume`);
    const step = Number(meta(ckpt).step);
    expect(step).toBeGreaterThanOrEqual(2);
    expect(step).toBeLessThan(16);
    expect(result(d)).toMatchObject({ interrupted: 'SIGINT', steps: step, testAccuracy: null });
    expect(existsSync(save), '--save waits for the end of training').toBe(false);

    // The printed command, as printed.
    const resumed = await tessera(resumeCommand(d.stderr).split(' ').slice(1)).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming from '.*int\\.ckpt': epoch [12], batch \\d+ \\(step ${step}\\)`));
    expect(result(resumed)).toMatchObject({ steps: 16, resumedFrom: { step }, deviceLosses: 0 });
    expect(result(resumed).interrupted).toBeUndefined();
    expect(readFileSync(save).equals(baseline), 'resumed weights = uninterrupted weights, bit for bit').toBe(true);
    expect(meta(ckpt)).toMatchObject({ step: '16', epoch: '2' });
  });

  it('SIGTERM: exits 143 with the checkpoint written', async () => {
    const ckpt = join(dir, 'term.ckpt');
    const first = tessera([...RUN, '--checkpoint', ckpt, '--checkpoint-every', '2']);
    await appears(ckpt, first);
    first.child.kill('SIGTERM');
    const d = await first.done;
    expect(d.code, d.stderr).toBe(143);
    expect(d.stdout).toMatch(/^interrupted by SIGTERM after step \d+\n$/);
    expect(d.stderr).toContain(`checkpoint saved to '${ckpt}'`);
    const step = Number(d.stdout.match(/step (\d+)/)![1]);
    expect(meta(ckpt).step).toBe(String(step));
  });

  it('a lost GPU device: restarts it, reloads the checkpoint, finishes with the weights of an uninterrupted run', async () => {
    const ckpt = join(dir, 'lost.ckpt');
    const save = join(dir, 'lost.safetensors');
    const d = await tessera([...RUN, '--checkpoint', ckpt, '--checkpoint-every', '2', '--save', save, '--json'], { TESSERA_FAULT_LOSE_DEVICE_AT_STEP: '5' })
      .done;
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain('simulating a lost device after step 5');
    expect(d.stderr).toMatch(/the GPU device was lost \(noticed after step \d+\); restarting it, then going on from the checkpoint \(step 4\)/);
    expect(result(d)).toMatchObject({ steps: 16, deviceLosses: 1 });
    expect(readFileSync(save).equals(baseline), 'weights after the recovery = uninterrupted weights').toBe(true);
  });

  it('a device that does not come back: exits 1, the checkpoint intact, with the command to resume', async () => {
    const ckpt = join(dir, 'gone.ckpt');
    const args = [...RUN, '--checkpoint', ckpt, '--checkpoint-every', '2'];
    const d = await tessera(args, { TESSERA_FAULT_LOSE_DEVICE_AT_STEP: '5', TESSERA_FAULT_NO_DEVICE_AFTER_LOSS: '1' }).done;
    expect(d.code, d.stderr).toBe(1);
    expect(d.stderr).toContain('the GPU device was lost and did not come back (no WebGPU adapter (simulated by TESSERA_FAULT_NO_DEVICE_AFTER_LOSS))');
    expect(d.stderr).toContain(`The checkpoint '${ckpt}' is intact (step 4); resume with:`);
    expect(resumeCommand(d.stderr)).toBe(`tessera ${args.join(' ')} --resume`);
    await ts.init({ backend: 'webgpu' });
    const net = nn.models.lenet5();
    const opt = nn.updates.adam(net.out);
    expect(await nn.loadCheckpoint(ckpt, { net, optimizer: opt })).toMatchObject({ step: 4, epoch: 0, rng: { seed: 3, position: 4, batchSize: 16 } });
    opt.dispose();
    nn.disposeLayers(net);
    // Resuming with other options would not continue the same run: refused, naming them.
    await expect(run([...args, '--batch-size', '32', '--lr', '0.01', '--resume'], () => {})).rejects.toThrow(
      /--resume: '.*gone\.ckpt' was written with other options: --batch-size 16 there, 32 here; --lr 0\.001 there, 0\.01 here/,
    );
  });

  it('checks its options before training', async () => {
    const silent = () => {};
    const existing = join(dir, 'existing.ckpt');
    writeFileSync(existing, 'x');
    await expect(run([...RUN, '--resume'], silent)).rejects.toThrow('--resume needs --checkpoint FILE');
    await expect(run([...RUN, '--checkpoint-every', '2'], silent)).rejects.toThrow('--checkpoint-every needs --checkpoint FILE');
    await expect(run([...RUN, '--checkpoint', existing, '--checkpoint-every', '0'], silent)).rejects.toThrow('--checkpoint-every must be an integer >= 1');
    await expect(run([...RUN, '--checkpoint', join(dir, 'none.ckpt'), '--resume'], silent)).rejects.toThrow(
      /there is no checkpoint '.*none\.ckpt' yet; run without --resume/,
    );
    await expect(run([...RUN, '--checkpoint', existing], silent)).rejects.toThrow(
      /'.*existing\.ckpt' exists: add --resume to continue that run, or delete the file/,
    );
  });
});
