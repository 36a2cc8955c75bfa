/**
 * What the examples share: running one from the command line, seeded random numbers, and the
 * accuracy of a network on an MNIST-shaped dataset. Not an example itself.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { batches, mulberry32, type Dataset } from '@tessera/data';

/** What every example's `main` accepts. @example await main({ quick: true, log: (l) => lines.push(l) }) */
export interface ExampleOptions {
  /** Small sizes, for the test suite and a first look (seconds, not minutes, on a CPU). */
  quick?: boolean;
  /** Where the printed lines go (default console.log). */
  log?: (line: string) => void;
}

/** The options an example takes on the command line besides `--quick`, with their help text. */
export type OptionHelp = Record<string, { type: 'number' | 'boolean'; help: string }>;

/** An example module as the runner sees it. */
export interface ExampleModule {
  main: (opts?: ExampleOptions & Record<string, unknown>) => Promise<unknown>;
  OPTIONS?: OptionHelp;
}

/** Whether the module with this `import.meta.url` is the script Node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(fileURLToPath(url)) === realpathSync(script);
  } catch {
    return false;
  }
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Parses `--quick`, `--json` and the example's own options (`--epochs 3`, `--test-limit=500`;
 * names in kebab-case become camelCase keys). Unknown options are an error that lists the
 * valid ones.
 */
export function parseArgs(argv: readonly string[], options: OptionHelp = {}, what = 'example'): Record<string, number | boolean> {
  const all: OptionHelp = {
    quick: { type: 'boolean', help: 'small sizes (what the test suite runs)' },
    json: { type: 'boolean', help: 'also print the returned result as one line of JSON' },
    ...options,
  };
  const usage = () =>
    `options of ${what}:\n${Object.entries(all)
      .map(([k, o]) => `  --${kebab(k)}${o.type === 'number' ? ' N' : ''}  ${o.help}`)
      .join('\n')}`;
  const out: Record<string, number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError(usage());
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`${what}: unexpected argument '${arg}'\n${usage()}`);
    const key = camel(m[1]!);
    const spec = all[key];
    if (!spec) throw new UsageError(`${what}: unknown option '--${m[1]}'\n${usage()}`);
    if (spec.type === 'boolean') {
      if (m[2] !== undefined) throw new UsageError(`${what}: --${m[1]} takes no value`);
      out[key] = true;
    } else {
      const raw = m[2] ?? argv[++i];
      const value = Number(raw);
      if (raw === undefined || raw === '' || !Number.isFinite(value))
        throw new UsageError(`${what}: --${m[1]} needs a number, got ${raw === undefined ? 'nothing' : `'${raw}'`}`);
      out[key] = value;
    }
  }
  return out;
}

/** A command-line mistake: printed without a stack trace. */
export class UsageError extends Error {}

/**
 * Runs an example's `main` with options from the command line, prints what it prints, and
 * releases the GPU so that Node can exit (Dawn would keep the process alive).
 */
export async function runMain(mod: ExampleModule, argv: readonly string[] = process.argv.slice(2), what = 'example'): Promise<void> {
  try {
    const { json, ...opts } = parseArgs(argv, mod.OPTIONS, what);
    const result = await mod.main({ ...opts, log: (line: string) => console.log(line) });
    if (json) console.log(JSON.stringify(result));
  } catch (e) {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = 1;
  } finally {
    ts.shutdown();
  }
}

/** Uniform numbers in [0, 1) from a seed (the data package's mulberry32). @example const u = uniform(1); u() */
export function uniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 0x100000000;
}

/** Standard normal numbers from a seed (Box-Muller). @example const g = gaussian(1); g() */
export function gaussian(seed: number): () => number {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Seconds since `t0` (a `performance.now()` value), rounded to 0.01. */
export const secondsSince = (t0: number): number => Math.round(performance.now() - t0) / 1000;

/** `0.9731` as `97.31%`. */
export const pct = (a: number, digits = 2): string => `${(a * 100).toFixed(digits)}%`;

/**
 * Accuracy of a classifier (logits or probabilities over classes) on an MNIST-shaped dataset:
 * batches of `batchSize` under noGrad with dropout off, one readback at the end.
 *
 * @example
 * const acc = await evaluate(net.out, test);
 */
export async function evaluate(out: nn.Layer, data: Dataset, batchSize = 500): Promise<number> {
  const [, c, h, w] = data.shape;
  const counts: ts.Tensor[] = [];
  for (const b of batches({ images: data.images, labels: data.labels, sampleShape: [c, h, w], batchSize, shuffle: false })) {
    counts.push(
      ts.tidy(() =>
        ts.noGrad(() => {
          const x = ts.tensor(b.x, { shape: [b.size, c, h, w] });
          const y = ts.tensor(b.y, { shape: [b.size] });
          return nn.getOutput(out, x, { deterministic: true }).argmax(1).eq(y).sum();
        }),
      ),
    );
  }
  const total = ts.tidy(() => counts.reduce((a, n) => a.add(n)));
  const correct = await total.item();
  ts.dispose([counts, total]);
  return correct / data.count;
}
