/**
 * The `tessera` command line: its commands, their options and help, and `run`, which parses the
 * arguments and runs one command. `main.ts` is the executable that calls it.
 *
 * @example
 * const code = await run(['train', '--epochs', '1', '--json']);
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as ts from '@tessera/core';
// The backends register themselves with core when imported.
import '@tessera/webgpu';
import '@tessera/reference';
import '@tessera/wasm';
import { shellQuote, train, type TrainOptions } from './train.js';
import { FINETUNE_DEFAULTS, finetune, formatFinetune, type FinetuneOptions } from './finetune.js';
import { MODELS, modelSummary } from './models.js';
import { formatTune, tuneModel } from './tune.js';

/** One option: `arg` names its value (a string option); without it the option is a flag. */
interface Option {
  name: string;
  arg?: string;
  help: string;
}

interface Command {
  summary: string;
  options: Option[];
}

const BACKEND: Option = {
  name: 'backend',
  arg: 'NAME',
  help: 'webgpu | wasm: WebAssembly SIMD on the CPU | reference: plain TypeScript, slow\n(default: TESSERA_BACKEND if set, else auto: WebGPU on a GPU, wasm where the only WebGPU adapter\nis a CPU emulation such as SwiftShader, or there is none)',
};

/** `--threads` of every command: the wasm backend's threads (TESSERA_THREADS, which it reads). */
const THREADS: Option = {
  name: 'threads',
  arg: 'N',
  help: "threads of the wasm backend's kernels (default TESSERA_THREADS if set, else the CPU's, at most 8)",
};

/** `--eager` of train and finetune. */
const EAGER: Option = {
  name: 'eager',
  help: 'run every op eagerly instead of compiled steps (by default each training step is\nrecorded once per batch shape and replayed: the same numbers, less host work per step)',
};

/** Every command with its options: the help text and the parser both come from this table. */
export const COMMANDS: Record<'train' | 'finetune' | 'tune' | 'info', Command> = {
  train: {
    summary: 'Train LeNet-5 (or another model) on MNIST (or Fashion-MNIST) in Node and report test accuracy',
    options: [
      { name: 'epochs', arg: 'N', help: 'epochs (default 1)' },
      { name: 'batch-size', arg: 'N', help: 'mini-batch size (default 64)' },
      { name: 'optimizer', arg: 'NAME', help: 'sgd | momentum | nesterov | rmsprop | adam | adamw | adagrad | adadelta | adamax (default adam)' },
      { name: 'lr', arg: 'X', help: 'learning rate (default 1e-3)' },
      { name: 'limit', arg: 'N', help: 'train on the first N images only' },
      { name: 'test-limit', arg: 'N', help: 'evaluate on the first N test images only' },
      { name: 'dataset', arg: 'NAME', help: 'mnist | fashion-mnist (default mnist)' },
      { name: 'model', arg: 'NAME', help: `${Object.keys(MODELS).join(' | ')} (default lenet5; tessera info --model NAME shows its layers)` },
      { name: 'seed', arg: 'N', help: 'seed for weights and shuffling (default 1)' },
      { name: 'save', arg: 'FILE', help: 'save the trained parameters (safetensors)' },
      {
        name: 'checkpoint',
        arg: 'FILE',
        help: 'keep a checkpoint (weights, optimizer state, data position) in FILE, replaced atomically\nafter every epoch, every --checkpoint-every steps and on Ctrl-C / SIGTERM (exit 130 / 143);\nafter a lost GPU device, training restarts the device and goes on from it',
      },
      { name: 'checkpoint-every', arg: 'N', help: 'also write the checkpoint every N steps (default: after every epoch only)' },
      { name: 'resume', help: 'continue the run in --checkpoint FILE exactly where it stopped (same options; --epochs may grow)' },
      EAGER,
      BACKEND,
      THREADS,
      { name: 'json', help: 'end with one line of JSON on stdout' },
    ],
  },
  finetune: {
    summary: 'Transfer learning: fine-tune a pretrained LeNet-5 vs train from scratch, same budget',
    options: [
      {
        name: 'task',
        arg: 'NAME',
        help: 'fashion: MNIST-pretrained LeNet-5 -> Fashion-MNIST (2000 training images)\ndigits: pretrain on digits 0-4 -> 5-9 with 10 labelled images per class',
      },
      { name: 'pretrained', arg: 'FILE', help: 'fashion: MNIST weights (default models/lenet5-mnist.safetensors)' },
      { name: 'freeze', help: 'freeze conv1 and conv2 of the fine-tuned network' },
      { name: 'head-on', arg: 'LAYER', help: 'build the new head on fc1 (default: drops fc2), fc2 or pool2, in both networks' },
      { name: 'epochs', arg: 'N', help: 'epochs over the small training set (fashion 1, digits 20)' },
      { name: 'batch-size', arg: 'N', help: 'mini-batch size (fashion 32, digits 10)' },
      { name: 'lr', arg: 'X', help: 'Adam learning rate for both networks (default 1e-3)' },
      { name: 'seed', arg: 'N', help: 'seed for the new head, the scratch network and shuffling (default 1)' },
      { name: 'train', arg: 'N', help: 'fashion: training images (2000); digits: labelled images per class (10)' },
      { name: 'test', arg: 'N', help: 'test images evaluated (fashion 2000; digits all 4861 of 5-9)' },
      { name: 'eval-every', arg: 'N', help: 'evaluate both networks every N steps (fashion 8, digits 20)' },
      { name: 'pretrain-images', arg: 'N', help: 'digits: images of 0-4 to pretrain on (default all 30,596)' },
      { name: 'pretrain-epochs', arg: 'N', help: 'digits: pretraining epochs (default 1)' },
      { name: 'cache', arg: 'FILE', help: 'digits: keep the 0-4 network in FILE and reuse it when the settings match' },
      EAGER,
      BACKEND,
      THREADS,
      { name: 'json', help: 'print one line of JSON on stdout instead of the tables' },
    ],
  },
  tune: {
    summary: "Autotune the kernels of a model's training step on this adapter and print the winners",
    options: [
      { name: 'model', arg: 'NAME', help: `${Object.keys(MODELS).join(' | ')} (default lenet5)` },
      { name: 'batch-size', arg: 'N', help: 'the batch size to tune for (default 64)' },
      BACKEND,
      THREADS,
      { name: 'json', help: 'print the result as one line of JSON instead of the table' },
    ],
  },
  info: {
    summary: "Print the backend in use, its adapter and limits, or a model's layers",
    options: [
      { name: 'model', arg: 'NAME', help: `print the layers, output shapes and parameter counts of a model instead: ${Object.keys(MODELS).join(' | ')}` },
      BACKEND,
      THREADS,
      { name: 'json', help: 'print the backend info (or the model summary) as JSON' },
    ],
  },
};

type CommandName = keyof typeof COMMANDS;
const HELP_OPTION: Option = { name: 'help', help: 'show this help' };

/** `tessera --help`: the commands, one line each. */
export function mainHelp(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length)) + 3;
  return [
    'Usage: tessera <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n].summary}`),
    '',
    "Run 'tessera <command> --help' for the options of a command.",
    '',
  ].join('\n');
}

/** `tessera <command> --help`: that command's options only. */
export function commandHelp(name: CommandName): string {
  const options = [...COMMANDS[name].options, HELP_OPTION];
  const flag = (o: Option) => `${o.name === 'help' ? '-h, ' : ''}--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
  const width = Math.max(...options.map((o) => flag(o).length)) + 2;
  const lines = [`Usage: tessera ${name} [options]`, '', `${COMMANDS[name].summary}.`, '', 'Options:'];
  for (const o of options) {
    const [first, ...rest] = o.help.split('\n');
    lines.push(`  ${flag(o).padEnd(width)}${first}`, ...rest.map((r) => `  ${' '.repeat(width)}${r}`));
  }
  return `${lines.join('\n')}\n`;
}

function int(name: string, v: string | undefined, def?: number, min = 1): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** The backend named by --backend, else by the TESSERA_BACKEND environment variable, else none ('auto'). */
function backend(v: string | undefined): string | undefined {
  const env = process.env.TESSERA_BACKEND || undefined;
  const name = v ?? env;
  if (name === undefined || ts.registeredBackends().includes(name)) return name;
  throw new Error(`${v === undefined ? 'TESSERA_BACKEND' : '--backend'} must be one of ${ts.registeredBackends().join(', ')}, got '${name}'`);
}

/** The command's options, strictly: an unknown option or a missing value is an error. */
function parse(name: CommandName, own: Option[], args: string[]) {
  const options: ParseArgsConfig['options'] = {};
  for (const o of own) options[o.name] = o.arg ? { type: 'string' } : { type: 'boolean' };
  options['help']!.short = 'h';
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
    const str = (n: string) => values[n] as string | undefined;
    const flag = (n: string) => values[n] === true;
    return { str, flag, positionals };
  } catch (e) {
    const { code, message } = e as Error & { code?: string };
    // "Unknown option '--x'. To specify a positional argument starting with a '-', ...": the first sentence is enough.
    const first = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? message.split('. ')[0]! : message.split('\n')[0]!;
    throw new Error(`${first} (see tessera ${name} --help)`);
  }
}

/** Where `run` writes: stdout by default (progress and logs go to stderr, not through here). */
export type Write = (text: string) => void;

/**
 * Runs one `tessera` command with `argv` (the arguments after `tessera`) and resolves to the exit
 * code; errors in the arguments or the run reject with a message meant for the user. The caller
 * shuts the backend down.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2));
 */
export async function run(argv: string[], out: Write = (s) => process.stdout.write(s)): Promise<number> {
  // The command that continues this run after an interruption: the user's own words plus --resume.
  const resumeCommand = ['tessera', ...argv.filter((a) => a !== '--resume'), '--resume'].map(shellQuote).join(' ');
  const cmd = argv.find((a) => !a.startsWith('-'));
  if (cmd === undefined || cmd !== argv[0]) {
    // No command first: `tessera`, `tessera --help`, or an option before the command.
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      out(mainHelp());
      return argv.length === 0 ? 1 : 0;
    }
    throw new Error(`the command comes first: tessera <command> [options] (see tessera --help)`);
  }
  if (!(cmd in COMMANDS)) throw new Error(`unknown command '${cmd}'. Expected ${Object.keys(COMMANDS).join(', ')} (see tessera --help)`);
  const name = cmd as CommandName;
  const own = [...COMMANDS[name].options, HELP_OPTION];
  // An option of another command gets a message that says so, not just "unknown option".
  for (const a of argv.slice(1)) {
    const opt = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    if (!opt || own.some((o) => o.name === opt)) continue;
    const other = (Object.keys(COMMANDS) as CommandName[]).find((c) => COMMANDS[c].options.some((o) => o.name === opt));
    if (other) throw new Error(`--${opt} is an option of '${other}', not '${name}' (see tessera ${name} --help)`);
  }
  const { str, flag, positionals } = parse(name, own, argv.slice(1));
  if (flag('help')) {
    out(commandHelp(name));
    return 0;
  }
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}' (see tessera ${name} --help)`);
  const be = backend(str('backend'));
  const threads = int('threads', str('threads'));
  // The wasm backend reads its thread count from the environment, as does a restarted run.
  if (threads !== undefined) {
    if (threads > 64) throw new Error(`--threads must be a whole number from 1 to 64, got '${str('threads')}'`);
    process.env.TESSERA_THREADS = String(threads);
  }

  if (name === 'info') {
    const model = str('model');
    if (model !== undefined && !Object.hasOwn(MODELS, model)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${model}'`);
    const info = await ts.init({ backend: be });
    if (model !== undefined) {
      const s = modelSummary(model);
      if (flag('json')) {
        const { text: _text, ...rest } = s;
        out(`${JSON.stringify(rest)}\n`);
      } else out(`${model}: ${MODELS[model]!.description}\n\n${s.text}`);
      return 0;
    }
    if (flag('json')) out(`${JSON.stringify(info, null, 2)}\n`);
    else {
      const lines = [
        `backend: ${info.backend} (registered: ${ts.registeredBackends().join(', ')})`,
        `why: ${str('backend') !== undefined ? `--backend ${be}` : be !== undefined ? `TESSERA_BACKEND=${be}` : (info.reason ?? '-')}`,
        `adapter: ${info.adapter}${info.backend === 'webgpu' ? (info.isCPU ? ' (CPU emulation)' : ' (GPU)') : ''}`,
        `vendor: ${info.vendor || '-'}; architecture: ${info.architecture || '-'}`,
        `features: ${info.features.join(', ') || '-'}`,
        `limits:${Object.keys(info.limits).length ? '' : ' -'}`,
        ...Object.entries(info.limits).map(([k, v]) => `  ${k}: ${v}`),
      ];
      out(`${lines.join('\n')}\n`);
    }
    return 0;
  }

  if (name === 'tune') {
    const model = str('model') ?? 'lenet5';
    if (!Object.hasOwn(MODELS, model)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${model}'`);
    const result = await tuneModel({ model, batchSize: int('batch-size', str('batch-size'), 64)!, backend: be, progress: !flag('json') });
    out(flag('json') ? `${JSON.stringify(result)}\n` : formatTune(result));
    return 0;
  }

  const lr = str('lr') === undefined ? 1e-3 : Number(str('lr'));
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got '${str('lr')}'`);
  if (name === 'finetune') {
    const task = str('task');
    if (task !== 'fashion' && task !== 'digits') throw new Error(`--task must be 'fashion' or 'digits', got ${task === undefined ? 'nothing' : `'${task}'`}`);
    if (task === 'digits' && str('pretrained') !== undefined) {
      throw new Error('--pretrained is for --task fashion: the digits task pretrains its own network on 0-4 (keep it with --cache FILE)');
    }
    if (task === 'fashion' && str('cache') !== undefined) throw new Error('--cache is for --task digits');
    const headOn = str('head-on') ?? 'fc1';
    if (headOn !== 'fc1' && headOn !== 'fc2' && headOn !== 'pool2') throw new Error(`--head-on must be 'fc1', 'fc2' or 'pool2', got '${headOn}'`);
    const d = FINETUNE_DEFAULTS[task];
    const opts: FinetuneOptions = {
      task,
      pretrained: str('pretrained') ?? 'models/lenet5-mnist.safetensors',
      freeze: flag('freeze'),
      headOn,
      epochs: int('epochs', str('epochs'), d.epochs)!,
      batchSize: int('batch-size', str('batch-size'), d.batchSize)!,
      lr,
      seed: int('seed', str('seed'), 1, 0)!,
      trainSize: int('train', str('train'), d.trainSize)!,
      testSize: int('test', str('test'), d.testSize)!,
      evalEvery: int('eval-every', str('eval-every'), d.evalEvery)!,
      pretrainImages: int('pretrain-images', str('pretrain-images'), Infinity)!,
      pretrainEpochs: int('pretrain-epochs', str('pretrain-epochs'), 1)!,
      cache: str('cache'),
      backend: be,
      compiled: !flag('eager'),
    };
    const result = await finetune(opts);
    out(flag('json') ? `${JSON.stringify(result)}\n` : formatFinetune(result));
    return 0;
  }

  const dataset = str('dataset') ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') throw new Error(`--dataset must be 'mnist' or 'fashion-mnist', got '${dataset}'`);
  const trainModel = str('model') ?? 'lenet5';
  if (!Object.hasOwn(MODELS, trainModel)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${trainModel}'`);
  const opts: TrainOptions = {
    epochs: int('epochs', str('epochs'), 1)!,
    batchSize: int('batch-size', str('batch-size'), 64)!,
    optimizer: str('optimizer') ?? 'adam',
    lr,
    limit: int('limit', str('limit')),
    testLimit: int('test-limit', str('test-limit')),
    dataset,
    model: trainModel,
    seed: int('seed', str('seed'), 1, 0)!,
    save: str('save'),
    json: flag('json'),
    backend: be,
    checkpoint: str('checkpoint'),
    checkpointEvery: int('checkpoint-every', str('checkpoint-every')),
    resume: flag('resume'),
    resumeCommand,
    compiled: !flag('eager'),
  };
  const result = await train(opts);
  if (opts.json) out(`${JSON.stringify(result)}\n`);
  else if (result.interrupted) out(`interrupted by ${result.interrupted} after step ${result.steps}\n`);
  else out(`test accuracy ${(result.testAccuracy * 100).toFixed(2)}% after ${result.epochs} epoch(s), ${result.imagesPerSecond} img/s on ${result.adapter}\n`);
  // The shell's convention for a process stopped by a signal: 128 + its number.
  return result.interrupted === 'SIGINT' ? 130 : result.interrupted === 'SIGTERM' ? 143 : 0;
}
