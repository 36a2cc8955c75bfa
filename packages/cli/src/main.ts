#!/usr/bin/env node
/**
 * The `tessera` command.
 *
 * @example
 * tessera train --epochs 1 --batch-size 64 --optimizer adam --lr 1e-3 --json
 * tessera finetune --task fashion --json
 * tessera info
 */
import { parseArgs } from 'node:util';
import * as ts from '@tessera/core';
// The backends register themselves with core when imported.
import '@tessera/webgpu';
import '@tessera/reference';
import { train, type TrainOptions } from './train.js';
import { FINETUNE_DEFAULTS, finetune, formatFinetune, type FinetuneOptions } from './finetune.js';

const HELP = `Usage: tessera <command> [options]

Commands:
  train      Train LeNet-5 on MNIST (or Fashion-MNIST) in Node and report test accuracy
  finetune   Transfer learning: fine-tune a pretrained LeNet-5 vs train from scratch, same budget
  info       Print the WebGPU adapter in use and its limits

train options:
  --epochs N          epochs (default 1)
  --batch-size N      mini-batch size (default 64)
  --optimizer NAME    sgd | momentum | nesterov | rmsprop | adam | adamw (default adam)
  --lr X              learning rate (default 1e-3)
  --limit N           train on the first N images only
  --test-limit N      evaluate on the first N test images only
  --dataset NAME      mnist | fashion-mnist (default mnist)
  --seed N            seed for weights and shuffling (default 1)
  --save FILE         save the trained parameters (safetensors)
  --json              end with one line of JSON on stdout

finetune options:
  --task NAME         fashion: MNIST-pretrained LeNet-5 -> Fashion-MNIST (2000 training images)
                      digits: pretrain on digits 0-4 -> 5-9 with 10 labelled images per class
  --pretrained FILE   fashion: MNIST weights (default models/lenet5-mnist.safetensors)
  --freeze            freeze conv1 and conv2 of the fine-tuned network
  --head-on LAYER     build the new head on fc1 (default: drops fc2), fc2 or pool2, in both networks
  --epochs N          epochs over the small training set (fashion 1, digits 20)
  --batch-size N      mini-batch size (fashion 32, digits 10)
  --lr X              Adam learning rate for both networks (default 1e-3)
  --seed N            seed for the new head, the scratch network and shuffling (default 1)
  --train N           fashion: training images (2000); digits: labelled images per class (10)
  --test N            test images evaluated (fashion 2000; digits all 4861 of 5-9)
  --eval-every N      evaluate both networks every N steps (fashion 8, digits 20)
  --pretrain-images N digits: images of 0-4 to pretrain on (default all 30,596)
  --pretrain-epochs N digits: pretraining epochs (default 1)
  --cache FILE        digits: keep the 0-4 network in FILE and reuse it when the settings match
  --json              print one line of JSON on stdout instead of the tables
`;

/** Options that only one command understands, so a misplaced one is an error, not ignored. */
const ONLY: Record<string, readonly string[]> = {
  train: ['optimizer', 'limit', 'test-limit', 'dataset', 'save'],
  finetune: ['task', 'pretrained', 'freeze', 'head-on', 'train', 'test', 'eval-every', 'pretrain-images', 'pretrain-epochs', 'cache'],
};

function int(name: string, v: string | undefined, def?: number, min = 1): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      limit: { type: 'string' },
      'test-limit': { type: 'string' },
      dataset: { type: 'string' },
      seed: { type: 'string' },
      save: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      task: { type: 'string' },
      pretrained: { type: 'string' },
      freeze: { type: 'boolean' },
      train: { type: 'string' },
      test: { type: 'string' },
      'eval-every': { type: 'string' },
      'pretrain-images': { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      cache: { type: 'string' },
      'head-on': { type: 'string' },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(HELP);
    return cmd || values.help ? 0 : 1;
  }
  if (cmd === 'info') {
    const info = await ts.init();
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  if (cmd !== 'train' && cmd !== 'finetune') throw new Error(`unknown command '${cmd}'. Expected 'train', 'finetune' or 'info' (see tessera --help)`);
  for (const [other, names] of Object.entries(ONLY)) {
    const misplaced = other !== cmd ? names.find((n) => (values as Record<string, unknown>)[n] !== undefined) : undefined;
    if (misplaced) throw new Error(`--${misplaced} is an option of '${other}', not '${cmd}' (see tessera --help)`);
  }
  const lr = values.lr === undefined ? 1e-3 : Number(values.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got '${values.lr}'`);
  if (cmd === 'finetune') {
    const task = values.task;
    if (task !== 'fashion' && task !== 'digits') throw new Error(`--task must be 'fashion' or 'digits', got ${task === undefined ? 'nothing' : `'${task}'`}`);
    if (task === 'digits' && values.pretrained !== undefined) {
      throw new Error('--pretrained is for --task fashion: the digits task pretrains its own network on 0-4 (keep it with --cache FILE)');
    }
    if (task === 'fashion' && values.cache !== undefined) throw new Error('--cache is for --task digits');
    const headOn = values['head-on'] ?? 'fc1';
    if (headOn !== 'fc1' && headOn !== 'fc2' && headOn !== 'pool2') throw new Error(`--head-on must be 'fc1', 'fc2' or 'pool2', got '${headOn}'`);
    const d = FINETUNE_DEFAULTS[task];
    const opts: FinetuneOptions = {
      task,
      pretrained: values.pretrained ?? 'models/lenet5-mnist.safetensors',
      freeze: values.freeze ?? false,
      headOn,
      epochs: int('epochs', values.epochs, d.epochs)!,
      batchSize: int('batch-size', values['batch-size'], d.batchSize)!,
      lr,
      seed: int('seed', values.seed, 1, 0)!,
      trainSize: int('train', values.train, d.trainSize)!,
      testSize: int('test', values.test, d.testSize)!,
      evalEvery: int('eval-every', values['eval-every'], d.evalEvery)!,
      pretrainImages: int('pretrain-images', values['pretrain-images'], Infinity)!,
      pretrainEpochs: int('pretrain-epochs', values['pretrain-epochs'], 1)!,
      cache: values.cache,
    };
    const result = await finetune(opts);
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatFinetune(result));
    return 0;
  }
  const dataset = values.dataset ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') throw new Error(`--dataset must be 'mnist' or 'fashion-mnist', got '${dataset}'`);
  const opts: TrainOptions = {
    epochs: int('epochs', values.epochs, 1)!,
    batchSize: int('batch-size', values['batch-size'], 64)!,
    optimizer: values.optimizer ?? 'adam',
    lr,
    limit: int('limit', values.limit),
    testLimit: int('test-limit', values['test-limit']),
    dataset,
    seed: int('seed', values.seed, 1, 0)!,
    save: values.save,
    json: values.json ?? false,
  };
  const result = await train(opts);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `test accuracy ${(result.testAccuracy * 100).toFixed(2)}% after ${result.epochs} epoch(s), ${result.imagesPerSecond} img/s on ${result.adapter}\n`,
    );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    ts.shutdown();
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`tessera: ${e.message}\n`);
    process.exitCode = 1;
  },
);
