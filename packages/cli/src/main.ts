#!/usr/bin/env node
/**
 * The `tessera` command.
 *
 * @example
 * tessera train --epochs 1 --batch-size 64 --optimizer adam --lr 1e-3 --json
 * tessera info
 */
import { parseArgs } from 'node:util';
import * as ts from '@tessera/core';
import { train, type TrainOptions } from './train.js';

const HELP = `Usage: tessera <command> [options]

Commands:
  train   Train LeNet-5 on MNIST (or Fashion-MNIST) in Node and report test accuracy
  info    Print the WebGPU adapter in use and its limits

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
`;

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
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' },
      limit: { type: 'string' }, 'test-limit': { type: 'string' }, dataset: { type: 'string' }, seed: { type: 'string' },
      save: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
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
  if (cmd !== 'train') throw new Error(`unknown command '${cmd}'. Expected 'train' or 'info' (see tessera --help)`);
  const dataset = values.dataset ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') throw new Error(`--dataset must be 'mnist' or 'fashion-mnist', got '${dataset}'`);
  const lr = values.lr === undefined ? 1e-3 : Number(values.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got '${values.lr}'`);
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
  else process.stdout.write(`test accuracy ${(result.testAccuracy * 100).toFixed(2)}% after ${result.epochs} epoch(s), ${result.imagesPerSecond} img/s on ${result.adapter}\n`);
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
