/**
 * `tessera tune`: autotunes the kernels of one training step of a model on this machine's
 * adapter, ahead of time, and prints the table of winners. On WebGPU the winners are stored
 * (a file under the cache folder, TESSERA_CACHE_DIR to move it) and every later run on the same
 * adapter and kernels starts with them.
 *
 * @example
 * const result = await tuneModel({ model: 'lenet5', batchSize: 64 });
 * process.stdout.write(formatTune(result));
 */
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';
import { cacheDir } from '@tessera/webgpu';
import cliProgress from 'cli-progress';
import { MODELS } from './models.js';

/** Options of `tuneModel`. */
export interface TuneOptions {
  model: string;
  batchSize: number;
  backend?: string;
  /** Draw a progress bar on stderr (off for --json runs in tests). */
  progress?: boolean;
}

/** What `tessera tune` measured. */
export interface TuneResult {
  model: string;
  batchSize: number;
  backend: string;
  adapter: string;
  /** Seconds from the start of the step to the last timing. */
  seconds: number;
  /** Where the winners were stored, or null (a backend without variants, TESSERA_AUTOTUNE=off). */
  storedIn: string | null;
  rows: readonly ts.TuneRow[];
}

/**
 * Builds the model, runs one Adam training step on a synthetic batch under `ts.tune`, and
 * returns the table.
 *
 * @example
 * const { rows } = await tuneModel({ model: 'lenet5', batchSize: 64, backend: 'webgpu' });
 */
export async function tuneModel(o: TuneOptions): Promise<TuneResult> {
  const entry = MODELS[o.model];
  if (!entry) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${o.model}'`);
  const info = await ts.init({ backend: o.backend });
  const out = entry.build(1);
  const net = { out };
  const opt = nn.updates.adam(net.out, { learningRate: 1e-3 });
  const step = nn.trainFunction((x, y) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt);
  const x = ts.rand([o.batchSize, 1, 28, 28], { seed: 1 });
  const y = ts.tensor(
    Int32Array.from({ length: o.batchSize }, (_, i) => i % 10),
    { dtype: 'int32' },
  );
  let bar: cliProgress.SingleBar | null = null;
  const t0 = performance.now();
  try {
    const rows = await ts.tune(() => step(x, y), {
      onProgress: (done, total) => {
        if (!o.progress || total === 0) return;
        bar ??= new cliProgress.SingleBar(
          { stream: process.stderr, format: 'tuning {bar} {value}/{total} op shapes | {duration}s', noTTYOutput: true, notTTYSchedule: 5000, barsize: 24 },
          cliProgress.Presets.shades_classic,
        );
        if (done === 0) bar.start(total, 0);
        else bar.update(done);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const tuned = rows.length > 0 && info.backend === 'webgpu' && process.env.TESSERA_AUTOTUNE !== 'off';
    return { model: o.model, batchSize: o.batchSize, backend: info.backend, adapter: info.adapter, seconds, storedIn: tuned ? cacheDir() : null, rows };
  } finally {
    (bar as cliProgress.SingleBar | null)?.stop();
    step.dispose();
    opt.dispose();
    ts.dispose([x, y]);
    nn.disposeLayers(out);
  }
}

/** The winners as a text table, one row per op and shape bucket, times in milliseconds per call. */
export function formatTune(r: TuneResult): string {
  if (!r.rows.length) {
    const hint = r.backend === 'webgpu' ? '' : ' --backend webgpu tunes the WebGPU kernels.';
    return `The ${r.backend} backend has no kernel variants to tune: every op has one kernel.${hint}\n`;
  }
  const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
  const table = r.rows.map((row) => [
    row.site,
    row.bucket,
    row.pick,
    row.winner + (row.winner !== row.pick ? ' *' : ''),
    Object.entries(row.ms)
      .sort((a, b) => a[1] - b[1])
      .map(([v, ms]) => `${v} ${fmt(ms)}`)
      .join(', ') || `(${row.from})`,
  ]);
  const head = ['op', 'shape bucket', 'heuristic', 'winner', 'ms per call, fastest first'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const changed = r.rows.filter((row) => row.winner !== row.pick).length;
  return [
    `${MODELS[r.model]!.name} training step, batch ${r.batchSize}, on ${r.adapter}: ${r.rows.length} op shapes tuned in ${r.seconds.toFixed(1)} s`,
    '',
    line(head),
    ...table.map(line),
    '',
    `* ${changed} of ${r.rows.length} winners differ from the heuristic's choice.`,
    r.storedIn ? `Stored in ${r.storedIn}/autotune.json; later runs on this adapter use them.` : 'Not stored (TESSERA_AUTOTUNE=off).',
    '',
  ].join('\n');
}
