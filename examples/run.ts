/**
 * Runs one example by name: `npm run example -- 02-logistic-regression` (or `-- 02`, or
 * `-- 05-mlp-mnist --quick`). With no name, lists the examples. Everything after the name goes
 * to the example (`--help` lists its options).
 *
 * `npm run example` embeds the WGSL kernels first and starts this file with tsx, which maps
 * `@tessera/*` to the package sources through examples/tsconfig.json: nothing is built.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runMain, type ExampleModule } from './util.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const examples = readdirSync(dir)
  .filter((f) => /^\d\d-.*\.ts$/.test(f))
  .sort()
  .map((f) => f.slice(0, -3));

const [name, ...rest] = process.argv.slice(2);
const usage = `usage: npm run example -- <name> [--quick] [--json] [options; --help lists them]\nexamples:\n${examples.map((e) => `  ${e}`).join('\n')}`;
if (name === undefined || name === '--help' || name === '-h') {
  console.log(usage);
} else {
  const key = name.replace(/^(\.\/)?(examples\/)?/, '').replace(/\.ts$/, '');
  const found = examples.filter((e) => e === key || e.startsWith(`${key.padStart(2, '0')}-`));
  if (found.length !== 1) {
    console.error(`no example named '${name}'\n${usage}`);
    process.exitCode = 1;
  } else {
    const mod = (await import(pathToFileURL(`${dir}${found[0]}.ts`).href)) as ExampleModule;
    await runMain(mod, rest, found[0]);
  }
}
