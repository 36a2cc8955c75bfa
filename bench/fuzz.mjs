#!/usr/bin/env node
// The nightly-sized fuzz run: the properties of tests/fuzz (safetensors, IDX, loadTorchStateDict
// name maps, every public op's arguments) with thousands of cases each and a fresh seed, instead
// of the few hundred with a fixed seed that `npm test` runs. Reports every property (cases, what
// they did, time) and exits 1 if any failed, printing fast-check's shrunk counterexample and the
// seed that replays it.
//
//   npx tsx --tsconfig tests/tsconfig.json bench/fuzz.mjs [--runs 4000] [--seed S]
//        [--only safetensors,idx,torch,ops] [--webgpu-runs N] [--json]
//
// The tests' tsconfig maps @tessera/* to the package sources (no build needed, the code npm test
// checks); after `npm run build:packages`, plain `npx tsx bench/fuzz.mjs` fuzzes the built dist.
// --runs sets the cases of each property (default 4000; the op property gets 1.5x, loadParams and
// loadTorchStateDict a quarter, valid-file decoding half); --webgpu-runs those of the op property
// on WebGPU (default runs / 10, 0 to skip: SwiftShader is slow). Progress goes to stderr.
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import * as ts from '@tessera/core';
import '@tessera/reference'; // registers the reference backend
import '@tessera/webgpu'; // registers the WebGPU backend
import {
  checkDecodeSafetensors,
  checkLoadParams,
  checkLoadTorch,
  checkOpCase,
  checkParseIdx,
  checkRuntimeWorks,
  fuzzedOps,
  idxCase,
  loadCase,
  opCase,
  stCase,
  stValidCase,
  torchCase,
  unspecifiedOps,
} from '../tests/fuzz/properties.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '4000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    'webgpu-runs': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
const webgpuRuns = args['webgpu-runs'] === undefined ? Math.ceil(runs / 10) : Number(args['webgpu-runs']);
const only = args.only ? new Set(args.only.split(',')) : null;
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || !Number.isInteger(webgpuRuns) || webgpuRuns < 0) {
  throw new Error(`--runs and --webgpu-runs must be positive integers and --seed an integer, got ${args.runs}, ${args['webgpu-runs']}, ${args.seed}`);
}
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

/** @type {{ group: string, name: string, cases: number, ms: number, ok: boolean, outcomes: Record<string, number>, failure?: string }[]} */
const results = [];

/**
 * Runs one property for `numRuns` cases with the run's seed, without stopping at a failure.
 * @template T
 * @param {string} group
 * @param {string} name
 * @param {fc.Arbitrary<T>} arb
 * @param {(c: T, outcomes: Record<string, number>) => void | Promise<void>} check
 * @param {number} numRuns
 */
async function property(group, name, arb, check, numRuns) {
  if ((only && !only.has(group)) || numRuns === 0) return;
  /** @type {Record<string, number>} */
  const outcomes = {};
  const t0 = performance.now();
  const details = await fc.check(
    fc.asyncProperty(arb, async (c) => {
      await check(c, outcomes);
    }),
    { numRuns, seed },
  );
  const ms = performance.now() - t0;
  const failure = details.failed ? fc.defaultReportMessage(details) : undefined;
  results.push({ group, name, cases: details.numRuns, ms, ok: !details.failed, outcomes, failure });
  log(`${details.failed ? 'FAIL' : 'ok  '} ${name}: ${details.numRuns} cases in ${(ms / 1000).toFixed(1)} s`);
  if (failure) log(failure.split('\n').slice(0, 12).join('\n'));
}

log(`fuzz: seed ${seed}, ${runs} runs per property (replay with --seed ${seed})`);
await ts.init({ backend: 'reference' });
await property('safetensors', 'decodeSafetensors, mutated files', stCase, checkDecodeSafetensors, runs);
await property('safetensors', 'decodeSafetensors, valid files', stValidCase, checkDecodeSafetensors, Math.ceil(runs / 2));
await property('safetensors', 'loadParams from bytes', loadCase, checkLoadParams, Math.ceil(runs / 4));
await property('idx', 'parseIdx, mutated files', idxCase, checkParseIdx, runs);
await property('torch', 'loadTorchStateDict name maps', torchCase, checkLoadTorch, Math.ceil(runs / 4));
await property('ops', 'op arguments [reference]', opCase(), checkOpCase, Math.ceil(runs * 1.5));
if (webgpuRuns > 0 && (!only || only.has('ops'))) {
  try {
    await ts.init({ backend: 'webgpu' });
    await property('ops', 'op arguments [webgpu]', opCase(), checkOpCase, webgpuRuns);
    await checkRuntimeWorks();
  } catch (e) {
    results.push({ group: 'ops', name: 'op arguments [webgpu]', cases: 0, ms: 0, ok: false, outcomes: {}, failure: String(e) });
    log(`FAIL op arguments [webgpu]: ${e}`);
  }
}
ts.shutdown();

// Ops the op property never saw succeed: their arguments rarely fit, which weakens the fuzzing.
const opOutcomes = results.filter((r) => r.group === 'ops').map((r) => r.outcomes);
const neverOk = fuzzedOps().filter((op) => opOutcomes.length && !opOutcomes.some((o) => o[`${op}: ok`]));
const total = results.reduce((s, r) => s + r.cases, 0);
const failed = results.filter((r) => !r.ok);

console.log(`\nfuzz, seed ${seed}: ${total} cases, ${failed.length ? `${failed.length} properties FAILED` : 'all properties hold'}\n`);
console.log('| property | cases | outcomes | time |');
console.log('| --- | ---: | --- | ---: |');
for (const r of results) {
  const keys = r.group === 'ops' ? ['ok', 'error'] : Object.keys(r.outcomes).sort();
  const sums = keys.map((k) => [
    k,
    r.group === 'ops' ? Object.entries(r.outcomes).reduce((s, [key, n]) => s + (key.endsWith(`: ${k}`) ? n : 0), 0) : r.outcomes[k],
  ]);
  console.log(`| ${r.ok ? '' : '**FAILED** '}${r.name} | ${r.cases} | ${sums.map(([k, n]) => `${n} ${k}`).join(', ')} | ${(r.ms / 1000).toFixed(1)} s |`);
}
if (neverOk.length) console.log(`\nops that no case got through (their errors were all clean): ${neverOk.join(', ')}`);
const generic = unspecifiedOps();
if (generic.length) console.log(`ops fuzzed with generic arguments (no spec in tests/fuzz/ops.ts yet): ${generic.join(', ')}`);
for (const r of failed) console.log(`\n${r.name}:\n${r.failure}`);
if (args.json) console.log(JSON.stringify({ seed, runs, webgpuRuns, total, results: results.map(({ failure, ...r }) => ({ ...r, failure })) }));
process.exitCode = failed.length ? 1 : 0;
