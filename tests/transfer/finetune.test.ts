/**
 * `tessera finetune`'s engine on tiny budgets (the real runs take minutes; their numbers are
 * in docs/transfer.md): both tasks run end to end, both networks are evaluated at the same
 * steps, the digits task caches its 0-4 network and reuses it, and the report prints both
 * curves and the final table.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { FINETUNE_DEFAULTS, finetune, formatFinetune, type FinetuneOptions } from '../../packages/cli/src/finetune.js';
import { ts } from '../helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-finetune-'));
const MODEL = fileURLToPath(new URL('../../models/lenet5-mnist.safetensors', import.meta.url));
let pretrained = MODEL;

beforeAll(async () => {
  await ts.init();
  if (!existsSync(MODEL)) {
    // The plumbing does not need good weights: any LeNet-5 file will do.
    pretrained = join(dir, 'lenet.safetensors');
    const net = nn.models.lenet5({ seed: 4 });
    await nn.saveParams(net, pretrained);
    nn.disposeLayers(net);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: Omit<FinetuneOptions, 'task'> = {
  pretrained: MODEL,
  freeze: false,
  headOn: 'fc1',
  epochs: 1,
  batchSize: 32,
  lr: 1e-3,
  seed: 1,
  trainSize: 64,
  testSize: 50,
  evalEvery: 1,
  pretrainImages: 64,
  pretrainEpochs: 1,
};

describe('tessera finetune (tiny budgets)', () => {
  it('fashion: fine-tuned and scratch curves at the same steps, and the report', async () => {
    const r = await finetune({ ...base, pretrained, task: 'fashion', freeze: true });
    expect(r).toMatchObject({ task: 'fashion', headOn: 'fc1', freeze: true, trainImages: 64, testImages: 50, steps: 2 });
    expect(r.curves.scratch.map((p) => p.step)).toEqual([0, 1, 2]);
    expect(r.curves.finetuned.map((p) => [p.step, p.images])).toEqual([
      [0, 0],
      [1, 32],
      [2, 64],
    ]);
    for (const p of [...r.curves.scratch, ...r.curves.finetuned]) expect(p.accuracy >= 0 && p.accuracy <= 1, `accuracy ${p.accuracy}`).toBe(true);
    expect(r.final).toEqual({ scratch: r.curves.scratch[2]!.accuracy, finetuned: r.curves.finetuned[2]!.accuracy });
    const text = formatFinetune(r);
    expect(text).toContain('Fashion-MNIST');
    expect(text).toContain('new head on fc1, conv1 and conv2 frozen');
    expect(text).toMatch(/\n +2 +1 +64 +\d+\.\d% +\d+\.\d%\n/);
    expect(text).toMatch(/from scratch +\d+\.\d%\n {2}fine-tuned +\d+\.\d% {3}\([+-]\d+\.\d points\)/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // what --json prints
    expect(r.compiled).toBe(true);
    // --eager: every op eagerly, the same kernels and so the same curves.
    const eager = await finetune({ ...base, pretrained, task: 'fashion', freeze: true, compiled: false });
    expect(eager.compiled).toBe(false);
    expect(eager.curves).toEqual(r.curves);
  });

  it('digits: pretrains on 0-4 (cached), fine-tunes a 5-class head on a few 5-9 examples', async () => {
    const cache = join(dir, 'digits04.safetensors');
    const o: FinetuneOptions = { ...base, task: 'digits', trainSize: 2, epochs: 2, batchSize: 5, evalEvery: 2, cache };
    const first = await finetune(o);
    expect(first.trainImages).toBe(10); // 2 per class of 5-9
    expect(first.testImages).toBe(50);
    expect(first.steps).toBe(4);
    expect(first.curves.finetuned.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(first.pretraining).toMatchObject({ images: 64, epochs: 1, cached: false });
    expect(existsSync(cache)).toBe(true);
    const file = nn.decodeSafetensors(new Uint8Array((await import('node:fs')).readFileSync(cache)));
    expect(file.tensors.get('out.W')!.shape).toEqual([84, 5]);
    expect(file.metadata).toMatchObject({ task: 'mnist-digits-0-4', images: '64', epochs: '1' });
    const again = await finetune(o);
    expect(again.pretraining).toMatchObject({ cached: true, accuracy: first.pretraining!.accuracy });
    // Same data, same seeds, same pretrained weights: the same run.
    expect(again.curves).toEqual(first.curves);
    // Other pretraining settings do not reuse the cache.
    const other = await finetune({ ...o, pretrainImages: 32, epochs: 1, evalEvery: 10 });
    expect(other.pretraining).toMatchObject({ images: 32, cached: false });
    expect(formatFinetune(other)).toContain('pretraining on 0-4');
  });

  it('has defaults sized for a CPU run', () => {
    expect(FINETUNE_DEFAULTS.fashion).toMatchObject({ trainSize: 2000, testSize: 2000, epochs: 1 });
    expect(FINETUNE_DEFAULTS.digits).toMatchObject({ trainSize: 10, epochs: 20 });
  });

  it('fashion without the pretrained file says how to make it', async () => {
    await expect(finetune({ ...base, task: 'fashion', pretrained: join(dir, 'nope.safetensors') })).rejects.toThrow(
      /--pretrained '.*nope\.safetensors' does not exist\. It is made by `npm start -- --epochs 3 --save models\/lenet5-mnist\.safetensors`/,
    );
  });
});
