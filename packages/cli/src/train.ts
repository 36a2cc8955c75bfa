import { existsSync, readFileSync } from 'node:fs';
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { createBackend, type WebGPUBackend } from '@tessera/webgpu';
import { loadFashionMnist, loadMnist, type Dataset } from '@tessera/data/node';
import { MODELS } from './models.js';
import { Progress } from './progress.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr: number;
  limit?: number;
  testLimit?: number;
  dataset: 'mnist' | 'fashion-mnist';
  /** A model of MODELS (models.ts): 'lenet5' (the default) or 'fashion-cnn'. */
  model?: string | undefined;
  seed: number;
  save?: string;
  json: boolean;
  /** A registered backend's name ('webgpu', 'reference'); default: the best one that starts. */
  backend?: string | undefined;
  /** Keep a checkpoint in this file: after every epoch, every `checkpointEvery` steps, and on SIGINT / SIGTERM. */
  checkpoint?: string | undefined;
  /** Steps between checkpoints (default: epoch ends only). */
  checkpointEvery?: number | undefined;
  /** Continue from `checkpoint` where it stopped. */
  resume?: boolean | undefined;
  /** The command line that resumes this run, for the messages (cli.ts passes the user's own). */
  resumeCommand?: string | undefined;
  /** Train through compiled steps (nn.fit's default, true); false: every op eagerly (`--eager`). */
  compiled?: boolean | undefined;
}

export interface TrainResult {
  dataset: string;
  model: string;
  epochs: number;
  trainImages: number;
  /** Accuracy after the last epoch; NaN (null in JSON) when a signal stopped training first. */
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** The backend trained on ('webgpu', 'reference') and its adapter. */
  backend: string;
  adapter: string;
  /** Optimizer steps over the whole run (a resumed one: the checkpoint's plus this process's). */
  steps: number;
  /** Where a --resume run started (from the checkpoint). */
  resumedFrom?: { epoch: number; position: number; step: number };
  /** The signal that stopped training early (the checkpoint, if any, holds where). */
  interrupted?: 'SIGINT' | 'SIGTERM';
  /** How often the GPU device was lost and training went on from the checkpoint. */
  deviceLosses: number;
  /** Whether the steps ran compiled (nn.fit's `FitHistory.compiled`): false with `--eager` or after a fallback. */
  compiled: boolean;
}

/** Device losses survived in one run before giving up (a device that keeps failing is broken). */
const MAX_DEVICE_LOSSES = 3;

/**
 * One line on the backend in use, for the logs.
 *
 * @example
 * describeBackend(await ts.init());   // 'webgpu backend on SwiftShader Device (Subzero) (CPU emulation)'
 */
export function describeBackend(info: ts.BackendInfo): string {
  const kind = info.backend === 'webgpu' ? (info.isCPU ? ' (CPU emulation)' : ' (GPU)') : '';
  return `${info.backend} backend on ${info.adapter}${kind}`;
}

async function load(name: TrainOptions['dataset'], split: 'train' | 'test', limit?: number): Promise<Dataset> {
  const opts = { split, limit, normalize: 'standard' as const };
  return name === 'mnist' ? loadMnist(opts) : loadFashionMnist(opts);
}

/**
 * Accuracy of `net` (any record whose `out` gives class logits for [N,1,28,28] images) on a
 * dataset, in batches of 500 under noGrad, deterministic; one readback at the end (nn.evaluate).
 * `forward` is a compiled forward pass (`nn.predictFunction(net.out)`) to evaluate with.
 *
 * @example
 * import { loadMnist } from '@tessera/data/node';
 * const test = await loadMnist({ split: 'test', limit: 1000, normalize: 'standard' });
 * const acc = await evaluate(net, test);   // net: any record with an `out` layer
 */
export async function evaluate(net: { readonly out: nn.Layer }, data: Dataset, batchSize = 500, forward?: (x: ts.Tensor) => ts.Tensor): Promise<number> {
  return (await nn.evaluate(net.out, data, { metrics: ['accuracy'], batchSize, forward })).accuracy!;
}

/**
 * Fault injection for tests, read from the environment by the CLI only (docs/cli.md):
 * TESSERA_FAULT_LOSE_DEVICE_AT_STEP=N[,M...] destroys the WebGPU device after global step N
 * (each once), as a driver reset would; TESSERA_FAULT_NO_DEVICE_AFTER_LOSS=1 makes the restart
 * after a loss fail, as on a machine whose GPU is gone.
 */
function readFaults(env: NodeJS.ProcessEnv): { loseAt: Set<number>; noDevice: boolean } {
  const raw = env.TESSERA_FAULT_LOSE_DEVICE_AT_STEP;
  const loseAt = new Set<number>();
  for (const s of raw ? raw.split(',') : []) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`TESSERA_FAULT_LOSE_DEVICE_AT_STEP must be step numbers >= 1, separated by commas, got '${raw}'`);
    loseAt.add(n);
  }
  return { loseAt, noDevice: env.TESSERA_FAULT_NO_DEVICE_AFTER_LOSS === '1' };
}

/** A lost device's errors, whichever op or read met it first (the WebGPU backend's wording). */
const isDeviceLoss = (e: unknown): boolean => e instanceof Error && /device (was|is) lost|device lost/i.test(e.message);

/** The metadata of a checkpoint file (its header only matters; the file is small enough to read). */
function checkpointMeta(file: string): { step: number; epoch: number; position: number; extra: Record<string, unknown> } {
  const { metadata } = nn.decodeSafetensors(new Uint8Array(readFileSync(file)), `--checkpoint '${file}'`);
  if (metadata.format !== nn.CHECKPOINT_FORMAT) throw new Error(`--checkpoint '${file}' is not a Tessera checkpoint (a weights file of --save?)`);
  const json = (k: string) => (metadata[k] ? JSON.parse(metadata[k]) : {});
  return { step: Number(metadata.step), epoch: Number(metadata.epoch), position: json('rng').position ?? 0, extra: json('extra') };
}

/**
 * One argument as a POSIX shell reads it back: bare when safe, else in single quotes.
 *
 * @example
 * shellQuote('my run.ckpt');   // "'my run.ckpt'"
 */
export const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The command that resumes a run with these options. */
function resumeCommandOf(o: TrainOptions): string {
  const args = ['train', '--epochs', o.epochs, '--batch-size', o.batchSize, '--optimizer', o.optimizer, '--lr', o.lr, '--dataset', o.dataset];
  if (o.model) args.push('--model', o.model);
  if (o.limit !== undefined) args.push('--limit', o.limit);
  if (o.testLimit !== undefined) args.push('--test-limit', o.testLimit);
  args.push('--seed', o.seed, '--checkpoint', o.checkpoint ?? 'FILE');
  if (o.checkpointEvery) args.push('--checkpoint-every', o.checkpointEvery);
  if (o.save) args.push('--save', o.save);
  if (o.backend) args.push('--backend', o.backend);
  if (o.json) args.push('--json');
  if (o.compiled === false) args.push('--eager');
  return ['tessera', ...args.map(String), '--resume'].map(shellQuote).join(' ');
}

/**
 * Trains a model of MODELS (LeNet-5 by default) with nn.fit and reports test accuracy after each
 * epoch. fit reads the loss back a few steps late, so the GPU queue stays full.
 *
 * With `checkpoint`, the run keeps its work: a checkpoint after every epoch, every
 * `checkpointEvery` steps and on SIGINT / SIGTERM (the current step finishes first; the result
 * says `interrupted`), `resume` continues from it exactly, and a lost GPU device is restarted
 * (ts.shutdown, ts.init) and training goes on from the last checkpoint.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const faults = readFaults(process.env);
  if (o.resume && !o.checkpoint) throw new Error('--resume needs --checkpoint FILE: the checkpoint to continue');
  if (o.checkpointEvery !== undefined && !o.checkpoint) throw new Error('--checkpoint-every needs --checkpoint FILE');
  const file = o.checkpoint;
  if (file && o.resume && !existsSync(file)) throw new Error(`--resume: there is no checkpoint '${file}' yet; run without --resume to start`);
  if (file && !o.resume && existsSync(file)) {
    throw new Error(`--checkpoint '${file}' exists: add --resume to continue that run, or delete the file to start afresh`);
  }
  const resumeCommand = o.resumeCommand ?? resumeCommandOf(o);
  // Only fault injection needs the device itself; otherwise init picks the backend as usual.
  let device: GPUDevice | null = null;
  const start = async (): Promise<ts.BackendInfo> => {
    if (!faults.loseAt.size) return ts.init({ backend: o.backend });
    if (o.backend && o.backend !== 'webgpu') throw new Error('TESSERA_FAULT_LOSE_DEVICE_AT_STEP simulates a lost WebGPU device: use --backend webgpu');
    const b = (await createBackend()) as WebGPUBackend;
    device = b.device;
    return ts.init({ backend: b });
  };
  let info = await start();
  log(`tessera: ${describeBackend(info)}; loading ${o.dataset}...`);
  const [trainSet, testSet] = await Promise.all([load(o.dataset, 'train', o.limit), load(o.dataset, 'test', o.testLimit)]);
  const model = o.model ?? 'lenet5';
  const entry = Object.hasOwn(MODELS, model) ? MODELS[model]! : null;
  if (!entry) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${model}'`);
  // What must not change between a run and its resume (the data order, the model, the optimizer).
  const config = { model, dataset: o.dataset, trainImages: trainSet.count, batchSize: o.batchSize, seed: o.seed, optimizer: o.optimizer, lr: o.lr };
  let resumedFrom: TrainResult['resumedFrom'];
  if (file && o.resume) {
    const c = checkpointMeta(file);
    const flag: Record<string, string> = { trainImages: 'limit', batchSize: 'batch-size' };
    const differ = Object.entries(config).filter(([k, v]) => c.extra[k] !== undefined && c.extra[k] !== v);
    if (differ.length) {
      const what = differ.map(([k, v]) => `--${flag[k] ?? k} ${k === 'trainImages' ? `(${c.extra[k]} images)` : c.extra[k]} there, ${v} here`).join('; ');
      throw new Error(`--resume: '${file}' was written with other options: ${what}. Resume with the options it was started with`);
    }
    resumedFrom = { epoch: c.epoch, position: c.position, step: c.step };
    log(`tessera: resuming from '${file}': epoch ${c.epoch + 1}, batch ${c.position} (step ${c.step})`);
  }

  const controller = new AbortController();
  let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (stoppedBy) {
      log(`\ntessera: ${sig} again: quitting now.${file ? ` The last checkpoint in '${file}' is intact; resume with:\n  ${resumeCommand}` : ''}`);
      process.exit(code);
    }
    stoppedBy = sig;
    log(`\ntessera: ${sig}: finishing the current step${file ? ' and saving a checkpoint' : ''} (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again quits at once)`);
    controller.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  let deviceLosses = 0;
  // Where this attempt starts: the --resume checkpoint, then after a lost device the last one.
  let resumeFrom = o.resume ? file : undefined;
  let startStep = resumedFrom?.step ?? 0;
  const fired = new Set<number>();
  const spent = { seconds: 0, images: 0 };
  try {
    for (;;) {
      const out = entry.build(o.seed);
      let opt: nn.Optimizer | null = null;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        opt?.dispose();
        nn.disposeLayers(out);
      };
      let bar: Progress | null = null;
      let barEpoch = -1;
      let position = 0;
      let last: nn.CheckpointInfo | null = null;
      let globalStep = startStep;
      try {
        opt = nn.updates.byName(o.optimizer, nn.getAllParams(out, { trainable: true }), { learningRate: o.lr });
        log(
          `tessera: ${entry.name}, ${nn.countParams(out)} parameters; ${trainSet.count} training and ${testSet.count} test images; ${o.compiled === false ? 'eager steps (--eager)' : 'compiled steps'}`,
        );
        const history = await nn.fit({
          net: out,
          data: trainSet,
          validation: testSet,
          epochs: o.epochs,
          batchSize: o.batchSize,
          seed: o.seed,
          optimizer: opt,
          signal: controller.signal,
          resumeFrom,
          checkpoint: file ? { path: file, every: o.checkpointEvery, extra: config, onSave: (i) => void (last = i) } : undefined,
          compiled: o.compiled ?? true,
          onStep: (s) => {
            globalStep = s.globalStep;
            position = s.step;
            if (bar === null || barEpoch !== s.epoch) {
              bar?.stop();
              bar = new Progress(`epoch ${s.epoch + 1}/${o.epochs}`, s.steps, o.batchSize);
              barEpoch = s.epoch;
            }
            // The loss and accuracy of a batch a few steps back: fit reads them late, never stalling the GPU.
            const fresh = s.loss !== undefined && s.lossEpoch === s.epoch;
            bar.update(s.step, fresh ? { loss: s.loss!, acc: s.accuracy ?? NaN } : undefined);
            if (device && faults.loseAt.has(s.globalStep) && !fired.has(s.globalStep)) {
              fired.add(s.globalStep);
              log(`\ntessera: simulating a lost device after step ${s.globalStep} (TESSERA_FAULT_LOSE_DEVICE_AT_STEP)`);
              device.destroy();
            }
          },
          onEpoch: (e) => {
            bar?.update(position, { loss: e.loss, acc: e.accuracy ?? NaN }); // the epoch's means
            bar?.stop();
            bar = null;
            log(`epoch ${e.epoch + 1}: ${e.imagesPerSecond.toFixed(0)} img/s, test accuracy ${((e.valAccuracy ?? 0) * 100).toFixed(2)}%`);
          },
        });
        (bar as Progress | null)?.stop();
        if (history.eagerReason) log(`tessera: eager steps: ${history.eagerReason}`);
        spent.seconds += history.epochs.reduce((t, e) => t + e.seconds, 0);
        spent.images += history.epochs.reduce((n, e) => n + e.images, 0);
        let testAccuracy = history.valAccuracy.at(-1) ?? NaN;
        if (history.aborted) {
          const at = last as nn.CheckpointInfo | null; // set by onSave
          const where = at ? `epoch ${at.epoch + 1}, batch ${at.position} (step ${at.step})` : `step ${globalStep}`;
          log(`tessera: stopped by ${stoppedBy} at ${where}.`);
          if (file) log(`tessera: checkpoint saved to '${file}'. Resume with:\n  ${resumeCommand}`);
          else log('tessera: nothing was saved (train with --checkpoint FILE to keep the progress)');
          testAccuracy = NaN;
        } else {
          // A resume of a finished run trains nothing: report the accuracy of what it loaded.
          if (history.epochs.length === 0) testAccuracy = await evaluate({ out }, testSet);
          if (o.save) {
            await nn.saveParams(out, o.save);
            log(`saved parameters to ${o.save}`);
          }
        }
        return {
          dataset: o.dataset,
          model,
          epochs: o.epochs,
          trainImages: trainSet.count,
          testAccuracy,
          seconds: Number(spent.seconds.toFixed(2)),
          imagesPerSecond: spent.seconds > 0 ? Math.round(spent.images / spent.seconds) : 0,
          backend: info.backend,
          adapter: info.adapter,
          steps: globalStep,
          ...(resumedFrom ? { resumedFrom } : {}),
          ...(history.aborted && stoppedBy ? { interrupted: stoppedBy } : {}),
          deviceLosses,
          compiled: history.compiled,
        };
      } catch (e) {
        (bar as Progress | null)?.stop();
        if (!isDeviceLoss(e)) throw e;
        deviceLosses++;
        const saved = file && existsSync(file) ? checkpointMeta(file) : null;
        const intact = saved ? `The checkpoint '${file}' is intact (step ${saved.step}); resume with:\n  ${resumeCommand}` : '';
        if (!file) throw new Error(`${(e as Error).message}\nWithout --checkpoint FILE the progress is lost; train with one to survive a lost device`);
        if (deviceLosses > MAX_DEVICE_LOSSES) throw new Error(`the GPU device was lost ${deviceLosses} times; giving up. ${intact}`);
        log(
          `\ntessera: the GPU device was lost (noticed after step ${globalStep}); restarting it, then going on from ${saved ? `the checkpoint (step ${saved.step})` : 'the start (no checkpoint yet)'}`,
        );
        // Freed while the old backend is current (its buffers die with its device anyway).
        release();
        ts.shutdown();
        try {
          if (faults.noDevice) throw new Error('no WebGPU adapter (simulated by TESSERA_FAULT_NO_DEVICE_AFTER_LOSS)');
          info = await start();
        } catch (e2) {
          throw new Error(`the GPU device was lost and did not come back (${(e2 as Error).message}). ${intact || 'No checkpoint was written yet.'}`);
        }
        log(`tessera: ${describeBackend(info)}`);
        resumeFrom = saved ? file : undefined;
        startStep = saved?.step ?? 0;
      } finally {
        release();
      }
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
