#!/usr/bin/env node
// The benchmark suite in Node: Tessera against TensorFlow.js (webgpu on the same Dawn adapter, and
// cpu) and PyTorch on the CPU, measured interleaved in one process run.
//
//   npm run bench                 full mode (from the repo root; builds first)
//   npm run bench -- --quick      quick mode, under 3 minutes on a 2-core CPU with SwiftShader
//   node bench/run.mjs --help     all options
//
// The markdown table goes to stdout, progress to stderr, and the JSON to
// bench/results/<adapter>-<YYYY-MM-DD>.json (or --out DIR).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogue, errText, factRows, finish, markdownTable, measure, runOrder, settings, slugify, tesseraImpl } from './suite.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const require = createRequire(import.meta.url);

const HELP = `Usage: node bench/run.mjs [options]
  --quick            fewer and lighter repetitions; slow peers get 1 timed run (under 3 min here)
  --out DIR          where to write the results JSON (default bench/results)
  --only REGEX       run only the benchmarks whose id matches (e.g. 'matmul|conv1')
  --peers LIST       comma-separated peers to run: tfjs-webgpu,tfjs-cpu,torch (default all)
  --no-json          do not write the results file
  --budget SECONDS   quick mode: after this many seconds, peers get no new benchmarks (default 110)
  --eager            also run Tessera's LeNet-5 training step eagerly (its rows use compiled steps),
                     and add the compiled vs eager rows (img/s ratio, host ms, dispatches per step)
  --backend NAME     the backend of the Tessera column: webgpu (default, even on SwiftShader) or wasm
                     (WebAssembly SIMD on the CPU; compare it with --peers tfjs-cpu,torch)
  --autotune MODE    WebGPU kernel variants: cached (default: winners stored by earlier runs or
                     tessera tune, nothing timed during the run), tune (ts.tune each row before
                     its warm-up), off (the heuristics' choices)
  --large            also the rows sized for a real GPU (matmul 2048 and 4096), which a CPU
                     adapter skips by default (minutes per run on SwiftShader)
Environment: TESSERA_BENCH_PYTHON (python with torch, default /usr/bin/python3), TORCH_THREADS.`;

function parseArgs(argv) {
  const o = {
    quick: false,
    out: join(HERE, 'results'),
    only: null,
    peers: ['tfjs-webgpu', 'tfjs-cpu', 'torch'],
    json: true,
    budget: 110,
    eager: false,
    backend: 'webgpu',
    autotune: 'cached',
    large: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--full') o.quick = false;
    else if (a === '--out') o.out = val();
    else if (a === '--only') o.only = new RegExp(val());
    else if (a === '--peers') o.peers = val().split(',').filter(Boolean);
    else if (a === '--no-json') o.json = false;
    else if (a === '--budget') o.budget = Number(val());
    else if (a === '--eager') o.eager = true;
    else if (a === '--backend') o.backend = val();
    else if (a === '--autotune') {
      o.autotune = val();
      if (!['cached', 'tune', 'off'].includes(o.autotune)) throw new Error(`--autotune must be cached, tune or off, got '${o.autotune}'`);
    } else if (a === '--large') o.large = true;
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  return o;
}

const log = (...a) => console.error(...a);
const pkgVersion = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
};

function gitRev() {
  // A copy of the tree without its history (e.g. carried to another machine) can say its revision.
  if (process.env.TESSERA_GIT_REV) return process.env.TESSERA_GIT_REV;
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !==
      '';
    return dirty ? `${rev}+dirty` : rev;
  } catch {
    return null;
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const loadStart = os.loadavg();

  // One Dawn GPU object for Tessera and tfjs-webgpu, so both get the same adapter. Dawn in Node
  // lacks the GPUBufferUsage/... globals that tfjs-webgpu reads; `webgpu` exports them.
  const { globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const { nodeGPU } = await import('@tessera/node');
  const gpu = await nodeGPU();
  if (!globalThis.navigator?.gpu) {
    Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis.navigator ?? {}), gpu }, configurable: true, writable: true });
  }
  const ts = await import('@tessera/core');
  await import('@tessera/webgpu'); // registers the backends
  await import('@tessera/wasm');
  // Autotune never times in the background here: its runs would land in the samples.
  process.env.TESSERA_AUTOTUNE = o.autotune === 'off' ? 'off' : 'cached';
  const info = await ts.init({ backend: o.backend });
  let nn = null;
  let nnWhy = null;
  try {
    nn = await import('@tessera/nn');
  } catch (e) {
    nnWhy = `@tessera/nn could not be loaded: ${errText(e)}`;
  }
  log(`tessera bench (${o.quick ? 'quick' : 'full'}): adapter ${info.adapter} (${info.vendor} ${info.architecture})`);

  // Peers. Each one that cannot run says why, and the suite goes on without it.
  const peerStatus = {};
  const impls = [];
  const tessera = tesseraImpl(ts, nn, { tune: o.autotune === 'tune' ? (msg) => log(`  ${msg}`) : null });
  impls.push(tessera);
  let tfjsVersion = null;
  if (o.peers.includes('tfjs-webgpu') || o.peers.includes('tfjs-cpu')) {
    const { loadTfjs, tfjsImpl } = await import('./peers/tfjs.mjs');
    let loaded = null;
    try {
      loaded = await loadTfjs();
      tfjsVersion = loaded.version;
    } catch (e) {
      for (const b of ['webgpu', 'cpu'])
        peerStatus[`tfjs-${b}`] = { ok: false, why: `@tensorflow/tfjs-core failed to load: ${errText(e)} (run \`npm install -w bench\`)` };
    }
    for (const b of ['webgpu', 'cpu']) {
      const name = `tfjs-${b}`;
      if (!o.peers.includes(name) || !loaded) continue;
      peerStatus[name] = loaded[b];
      if (loaded[b].ok) impls.push(tfjsImpl(loaded, b));
    }
  }
  let torch = null;
  if (o.peers.includes('torch')) {
    const { startTorch } = await import('./peers/torch.mjs');
    torch = await startTorch();
    peerStatus.torch = torch.ok ? { ok: true, why: '' } : { ok: false, why: torch.why };
    if (torch.ok) impls.push(torch.impl);
  }
  for (const [name, s] of Object.entries(peerStatus)) log(`  ${name}: ${s.ok ? 'ok' : `NOT RUN — ${s.why}`}`);
  if (nnWhy) log(`  tessera e2e: ${nnWhy}`);
  const peers = impls.map((i) => i.name).filter((n) => n !== 'tessera');

  // In quick mode peers stop taking new benchmarks after the budget, so the run stays short.
  const skip = (name, bench) => {
    if (!o.quick || name === 'tessera') return null;
    if (info.isCPU && bench.quickSkipOnCPU?.includes(name)) return 'left to the full mode (tens of seconds per run on a CPU adapter)';
    return (Date.now() - t0) / 1000 > o.budget ? `quick-mode budget of ${o.budget} s spent` : null;
  };
  const cfg = settings({ quick: o.quick });
  const benches = catalogue({ quick: o.quick, eager: o.eager }).filter((b) => {
    if (o.only && !o.only.test(b.id)) return false;
    if (b.large && info.isCPU && !o.large) {
      log(`  ${b.id}: skipped on a CPU adapter (minutes per run; --large runs it)`);
      return false;
    }
    return true;
  });
  const byId = {};
  for (const bench of runOrder(benches)) {
    const pending = tessera.unsupported(bench);
    const t = Date.now();
    const raw = await measure(bench, pending ? impls.filter((i) => i !== tessera) : impls, { ...cfg, quick: o.quick, skip });
    if (pending) raw.tessera = { pending };
    const results = finish(bench, raw, peers);
    byId[bench.id] = { bench, results };
    const brief = ['tessera', ...peers].map((n) => `${n} ${cellText(results[n])}`).join(' | ');
    log(`  ${bench.id} (${((Date.now() - t) / 1000).toFixed(1)} s): ${brief}`);
  }
  // Table order; the fact rows (submits, buffers, memory) sit right after the training row.
  const rows = [];
  for (const bench of benches) {
    rows.push(byId[bench.id]);
    if (bench.id === 'lenet-train-64') rows.push(...factRows(byId[bench.id].results, peers));
  }
  torch?.ok && torch.close();
  // Autotune itself: ts.tune over a LeNet-5 step on a fresh backend (last: it replaces the one
  // the rows above ran on), winners in memory only.
  if (info.backend === 'webgpu' && nn && (!o.only || o.only.test('autotune-lenet'))) {
    const { tuneLeNet } = await import('./tune-lenet.mjs');
    const { seconds, rows: tuned } = await tuneLeNet(ts, nn, { batch: 64 });
    const changed = tuned.filter((r) => r.winner !== r.pick);
    const winners = changed.map((r) => `${r.site} ${r.bucket}: ${r.winner} (not ${r.pick})`);
    log(`  autotune-lenet: ${tuned.length} op shapes in ${seconds.toFixed(1)} s; ${winners.join('; ') || 'every winner is the heuristic'}`);
    rows.push({
      bench: {
        id: 'autotune-lenet',
        group: 'autotune',
        label: `autotune: ts.tune of a LeNet-5 training step, batch 64 (${tuned.length} op shapes, ${changed.length} winners not the heuristic's)`,
        metric: 's',
      },
      results: { tessera: { value: seconds, facts: { shapes: tuned.length, winners } } },
    });
  }

  const titles = { tessera: 'Tessera', 'tfjs-webgpu': 'tfjs-webgpu', 'tfjs-cpu': 'tfjs-cpu', torch: torch?.info?.label ?? 'PyTorch CPU' };
  const table = markdownTable(rows, peers, titles);
  const durationS = (Date.now() - t0) / 1000;
  const cpus = os.cpus();
  const date = new Date().toISOString().slice(0, 10);
  const report = {
    date: new Date().toISOString(),
    mode: o.quick ? 'quick' : 'full',
    durationS,
    adapter: { backend: info.backend, adapter: info.adapter, vendor: info.vendor, architecture: info.architecture, isCPU: info.isCPU ?? null },
    versions: {
      node: process.version,
      tessera: `${JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')).version}${gitRev() ? ` (${gitRev()})` : ''}`,
      dawn: pkgVersion('webgpu'),
      tfjs: tfjsVersion,
      torch: torch?.ok ? torch.info.torch : null,
      torchThreads: torch?.ok ? torch.info.threads : null,
      python: torch?.ok ? torch.info.python : null,
    },
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      memoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadavgStart: loadStart,
      loadavgEnd: os.loadavg(),
    },
    peers: peerStatus,
    tesseraPending: nnWhy ? [nnWhy] : [],
    settings: cfg,
    rows: rows.map(({ bench, results }) => ({ ...bench, results })),
    table,
  };

  const out = [];
  out.push(`## Tessera benchmarks (${report.mode} mode), ${date}`);
  out.push('');
  out.push(
    `Tessera backend: **${info.backend}**. Adapter: **${info.adapter}** (${info.vendor}, ${info.architecture}). Machine: ${report.machine.cpu}, ${report.machine.cpus} CPUs, ${(report.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB; load average ${loadStart[0].toFixed(1)} at start, ${report.machine.loadavgEnd[0].toFixed(1)} at end.`,
  );
  out.push(
    `Versions: Node ${process.version}, Tessera ${report.versions.tessera}, Dawn (npm webgpu) ${report.versions.dawn}, tfjs ${tfjsVersion ?? '—'}, PyTorch ${report.versions.torch ?? '—'}${report.versions.torchThreads ? ` (${report.versions.torchThreads} threads)` : ''}.`,
  );
  out.push('');
  out.push(
    'Each cell: median (min–max) over the timed runs after warm-up; `ours/x` > 1 means Tessera is faster (or uses less) than peer x. ↑ higher is better, ↓ lower is better.',
  );
  out.push('');
  out.push(table);
  const notes = [];
  for (const [name, s] of Object.entries(peerStatus)) if (!s.ok) notes.push(`${name} did not run: ${s.why}`);
  if (nnWhy) notes.push(`Tessera end-to-end rows: ${nnWhy}`);
  const skips = new Map();
  for (const { bench, results } of rows) {
    for (const [name, r] of Object.entries(results)) {
      if (r?.error) notes.push(`${bench.id} / ${name} failed: ${r.error}`);
      else if (r?.skipped && name !== 'tessera') skips.set(r.skipped, [...(skips.get(r.skipped) ?? []), `${bench.id}/${name}`]);
      else if (r?.pending && !nnWhy) notes.push(`${bench.id} / ${name}: ${r.pending}`);
    }
  }
  for (const [why, which] of skips) notes.push(`skipped (${why}): ${which.join(', ')}`);
  if (notes.length) {
    out.push('');
    out.push('Notes:');
    for (const n of dedupe(notes)) out.push(`- ${n}`);
  }
  out.push('');
  out.push(`Took ${durationS.toFixed(0)} s.`);
  console.log(out.join('\n'));

  if (o.json) {
    mkdirSync(o.out, { recursive: true });
    const file = join(o.out, `${slugify(info.adapter)}-${date}.json`);
    writeFileSync(file, JSON.stringify(report, null, 1) + '\n');
    log(`wrote ${file}`);
  }
  ts.shutdown();
  // tfjs-webgpu's device keeps Dawn (and so Node) alive; there is nothing left to wait for.
  process.exit(0);
}

function cellText(r) {
  if (!r) return '—';
  if (r.pending) return 'pending';
  if (r.skipped) return `skipped`;
  if (r.error && !r.stats) return `FAILED: ${r.error}`;
  if (!r.stats) return '—';
  const s = r.stats;
  return `${s.median.toPrecision(3)} [${s.runs} run${s.runs > 1 ? 's' : ''}]${r.ratio != null ? ` ${r.ratio.toFixed(2)}×` : ''}`;
}

const dedupe = (xs) => [...new Set(xs)];

main().catch((e) => {
  console.error(`bench failed: ${e?.stack ?? e}`);
  process.exit(1);
});
