// The browser bench page: the same catalogue, Tessera implementations, measuring loop and table
// as `bench/run.mjs` (all from ../suite.mjs), run on the page's navigator.gpu. Optionally
// side by side with TensorFlow.js (../peers/tfjs.mjs) on the same adapter.
import * as ts from '@tessera/core';
import '@tessera/webgpu'; // registers the WebGPU backend
// Plain ESM shared with Node, typechecked through bench/tsconfig.json (checkJs).
import * as suite from '../suite.mjs';

type Any = any; // the suite is untyped JavaScript

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => ($('status').textContent = s);

let lastReport: Any = null;
let lastMarkdown = '';

async function start(): Promise<void> {
  if (!('gpu' in navigator)) {
    status('This browser has no WebGPU (navigator.gpu is missing). Use a current Chrome or Edge, Safari 26+, or Firefox 141+ on Windows.');
    $<HTMLButtonElement>('run').disabled = true;
    return;
  }
  try {
    const info: Any = await ts.init();
    $('adapter').textContent =
      `Adapter: ${info.adapter} (${info.vendor}, ${info.architecture})${info.isCPU ? ' — a CPU implementation: expect low figures' : ''}`;
  } catch (e) {
    status(`ts.init() failed: ${(e as Error).message}`);
    $<HTMLButtonElement>('run').disabled = true;
    return;
  }
  $('run').addEventListener('click', () => void run());
  $('copy').addEventListener('click', () => void navigator.clipboard.writeText(lastMarkdown));
  $('save').addEventListener('click', () => {
    const blob = new Blob([JSON.stringify(lastReport, null, 1)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${suite.slugify ? suite.slugify(lastReport.adapter.adapter) : 'adapter'}-browser-${lastReport.date.slice(0, 10)}.json`;
    a.click();
  });
  // ?run=1 starts at once (used by the headless smoke test); ?only=regex preselects rows.
  const q = new URLSearchParams(location.search);
  if (q.get('only')) $<HTMLInputElement>('only').value = q.get('only')!;
  if (q.get('tfjs') === '0') $<HTMLInputElement>('tfjs-webgpu').checked = false;
  if (q.get('run') === '1') await run();
}

async function run(): Promise<void> {
  const btn = $<HTMLButtonElement>('run');
  btn.disabled = true;
  const quick = $<HTMLInputElement>('quick').checked;
  const withE2e = $<HTMLInputElement>('e2e').checked;
  const onlyText = $<HTMLInputElement>('only').value.trim();
  const only = onlyText ? new RegExp(onlyText) : null;
  const t0 = performance.now();
  try {
    let nn: Any = null;
    if (withE2e) {
      try {
        nn = await import('@tessera/nn');
      } catch (e) {
        status(`@tessera/nn could not be loaded (${(e as Error).message}); end-to-end rows are pending`);
      }
    }
    const impls: Any[] = [];
    const tessera = suite.tesseraImpl(ts, nn);
    impls.push(tessera);
    const peerStatus: Record<string, Any> = {};
    const wanted = ['webgpu', 'cpu'].filter((b) => $<HTMLInputElement>(`tfjs-${b}`).checked);
    if (wanted.length) {
      status('loading TensorFlow.js…');
      try {
        const { loadTfjs, tfjsImpl } = await import('../peers/tfjs.mjs');
        const loaded = await loadTfjs();
        for (const b of wanted) {
          peerStatus[`tfjs-${b}`] = loaded[b];
          if (loaded[b].ok) impls.push(tfjsImpl(loaded, b));
        }
      } catch (e) {
        for (const b of wanted) peerStatus[`tfjs-${b}`] = { ok: false, why: (e as Error).message };
      }
    }
    const peers = impls.map((i) => i.name).filter((n) => n !== 'tessera');
    const benches: Any[] = suite.catalogue({ quick }).filter((b: Any) => (withE2e || b.group !== 'End-to-end') && (!only || only.test(b.id)));
    const cfg = suite.settings({ quick });
    const byId: Record<string, Any> = {};
    for (const bench of suite.runOrder(benches)) {
      status(`running ${bench.label}…`);
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
      const pending = tessera.unsupported(bench);
      const raw = await suite.measure(bench, pending ? impls.filter((i) => i !== tessera) : impls, { ...cfg, quick });
      if (pending) raw.tessera = { pending };
      byId[bench.id] = { bench, results: suite.finish(bench, raw, peers) };
      render(benches, byId, peers);
    }
    const rows: Any[] = [];
    for (const b of benches) {
      rows.push(byId[b.id]);
      if (b.id === 'lenet-train-64') rows.push(...suite.factRows(byId[b.id].results, peers));
    }
    render(benches, byId, peers, rows);
    const info: Any = ts.backendInfo();
    lastMarkdown = suite.markdownTable(rows, peers, { tessera: 'Tessera', 'tfjs-webgpu': 'tfjs-webgpu', 'tfjs-cpu': 'tfjs-cpu' });
    lastReport = {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      where: 'browser',
      userAgent: navigator.userAgent,
      durationS: (performance.now() - t0) / 1000,
      adapter: { adapter: info.adapter, vendor: info.vendor, architecture: info.architecture, isCPU: info.isCPU ?? null },
      peers: peerStatus,
      settings: cfg,
      rows: rows.map(({ bench, results }: Any) => ({ ...bench, results })),
      table: lastMarkdown,
    };
    $('md').textContent = lastMarkdown;
    $('md').hidden = false;
    $<HTMLButtonElement>('copy').disabled = false;
    $<HTMLButtonElement>('save').disabled = false;
    const failed = Object.entries(peerStatus)
      .filter(([, s]) => !s.ok)
      .map(([n, s]) => `${n}: ${s.why}`);
    status(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s${failed.length ? ` — not run: ${failed.join('; ')}` : ''}`);
    document.body.dataset.done = '1';
  } catch (e) {
    status(`failed: ${(e as Error).stack ?? e}`);
    document.body.dataset.done = 'error';
  } finally {
    btn.disabled = false;
  }
}

/** The HTML table, filled in as rows finish. */
function render(benches: Any[], byId: Record<string, Any>, peers: string[], rows?: Any[]): void {
  const list = rows ?? benches.filter((b) => byId[b.id]).map((b) => byId[b.id]);
  const head = ['Benchmark', 'unit', 'Tessera', ...peers.flatMap((p) => [p, `ours/${p}`])];
  const html: string[] = [`<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>`];
  let group = '';
  for (const { bench, results } of list) {
    if (bench.group !== group) {
      group = bench.group;
      html.push(`<tr class="group"><td colspan="${head.length}">${group}</td></tr>`);
    }
    const m = suite.METRICS[bench.metric];
    const unit = m && bench.metric !== 'count' && bench.metric !== 'MiB' ? `${bench.metric} ${m.better === 'higher' ? '↑' : '↓'}` : bench.metric;
    const tds = [bench.label, unit, suite.cell(results.tessera)];
    const cls = ['', '', ''];
    for (const p of peers) {
      const r = results[p]?.ratio;
      tds.push(suite.cell(results[p]), r == null ? '—' : `${r.toFixed(r >= 10 ? 0 : 2)}×`);
      cls.push('', r == null ? '' : r >= 1 ? 'good' : 'bad');
    }
    html.push(
      `<tr>${tds.map((t, i) => `<td class="${cls[i]}" title="${escapeHtml(titleFor(results, i, peers))}">${escapeHtml(String(t))}</td>`).join('')}</tr>`,
    );
  }
  html.push('</tbody></table>');
  $('table').innerHTML = html.join('');
}

function titleFor(results: Any, col: number, peers: string[]): string {
  const name = col === 2 ? 'tessera' : col > 2 ? peers[Math.floor((col - 3) / 2)] : null;
  const r = name ? results[name] : null;
  return r?.error ?? r?.skipped ?? r?.pending ?? '';
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

void start();
