/**
 * The MNIST demo page: starts a backend (WebGPU or WebAssembly SIMD, see gpu-gate.ts), downloads
 * MNIST with a progress bar, then wires the controls, charts, drawing pad, digit grid, filters and
 * weight files to one `Trainer`, and keeps the run across visits (resume.ts).
 *
 * URL parameters preset the controls (handy for links and for the end-to-end tests):
 * `?train=512&test=500&batch=32&opt=adam&lr=0.001&autostart=1`.
 *
 * What each control may do follows the trainer's state machine (shared/state.ts): the buttons
 * are disabled in the HTML until the page is ready, Resume is refused while a reset or an
 * upload is under way, and an upload pauses training and says so.
 *
 * `window.__demo` exposes the page's state for tests and for the curious (see `DemoHook`).
 */
import '../../shared/demo.css';
import './style.css';
import { backendText, startTessera } from '../../shared/gpu-gate.js';
import { StatusNote, learningRateProblem } from '../../shared/note.js';
import { TrainingCharts } from './charts.js';
import { loadMnistBytes, type MnistBytes } from './data.js';
import { DrawPad, paintDigit } from './draw-pad.js';
import { OPTIMIZERS } from './model.js';
import { RunStore, type SavedRun } from './persist.js';
import { LivePredictor, ProbabilityBars } from './prediction.js';
import { Resume, type PersistenceHook } from './resume.js';
import { Trainer, type Settings, type TrainerState } from './trainer.js';
import { FilterView, Gallery } from './views.js';
import { downloadWeights, readWeightsFile } from './weights.js';

/** What `window.__demo` holds. Times are ms since navigation start (`performance.now()`). */
export interface DemoHook {
  state: TrainerState | 'no-backend' | 'error';
  /** The line the page shows for its backend: which one, on what, and why (see gpu-gate.ts). */
  adapter: string;
  /** The backend in use ('webgpu' or 'wasm') and core's reason for it (`ts.backendInfo()`). */
  backend: string;
  reason: string;
  steps: number;
  epoch: number;
  lastLoss: number | null;
  /**
   * Every loss read, with the time it arrived (a read waits for the GPU, so times are honest).
   * Points restored from a saved run have `t` NaN: their times belong to an earlier visit.
   */
  losses: { step: number; loss: number; t: number }[];
  testAccuracy: number | null;
  accuracies: { step: number; accuracy: number }[];
  imagesPerSecond: number | null;
  /** Steps run compiled and eagerly so far (the "Compiled steps" checkbox picks), and the last one's mode. */
  modes: { compiled: number; eager: number; last: 'compiled' | 'eager' | null };
  /** The digit the drawing pad currently shows as most likely, or null. */
  drawnDigit: number | null;
  /**
   * True while the bars lag behind the drawing. During training a prediction waits behind the
   * queued steps (on SwiftShader about a second), so the first bars may be for a partial stroke.
   */
  drawPending: boolean;
  bytesDownloaded: number;
  timings: { webgpuReady?: number; dataLoaded?: number; firstStep?: number };
  /** The saved run: last save, the step offered on load, what a resume restored. */
  persistence: PersistenceHook;
  /** Failures of the page (not the user's input errors, which the page shows until fixed). */
  errors: string[];
}

const hook: DemoHook = {
  state: 'loading',
  adapter: '',
  backend: '',
  reason: '',
  steps: 0,
  epoch: 0,
  lastLoss: null,
  losses: [],
  testAccuracy: null,
  accuracies: [],
  imagesPerSecond: null,
  modes: { compiled: 0, eager: 0, last: null },
  drawnDigit: null,
  drawPending: false,
  bytesDownloaded: 0,
  timings: {},
  persistence: { savedStep: null, offeredStep: null, restoredStep: null, restoredOptimizer: null, error: null },
  errors: [],
};
(window as unknown as { __demo: DemoHook }).__demo = hook;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const note = new StatusNote($('note'));
const weightsNote = new StatusNote($('weights-note'));

/** A failure of the page itself: recorded for the tests and shown. */
function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  hook.errors.push(msg);
  console.error(msg);
  note.error(where, msg);
}

async function boot(): Promise<void> {
  // The download starts at once, in parallel with the backend's start-up; it is cancelled if no
  // backend starts, so such a visitor does not fetch 11 MB for nothing.
  const abort = new AbortController();
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const loading = loadMnistBytes(
    document.baseURI,
    ({ loaded, total }) => {
      const bar = $('load-bar'),
        text = $('load-text');
      if (!bar || !text) return; // the no-backend message has replaced them
      bar.style.width = total ? `${((loaded / total) * 100).toFixed(1)}%` : '5%';
      text.textContent = total ? `${mb(loaded)} of ${mb(total)} MB` : `${mb(loaded)} MB`;
    },
    abort.signal,
  );
  loading.catch(() => {}); // awaited below, or abandoned on purpose: never an unhandled rejection
  // The saved run (if any) is read meanwhile too: the offer is ready when the page is.
  const store = new RunStore();
  const saved: Promise<{ run: SavedRun | null; problem: Error | null }> = store.read().then(
    (run) => ({ run, problem: null }),
    (problem: Error) => ({ run: null, problem }),
  );

  const info = await startTessera($('app'));
  if (!info) {
    abort.abort();
    hook.state = 'no-backend';
    $('adapter').textContent = 'no backend could start';
    return;
  }
  hook.adapter = backendText(info);
  hook.backend = info.backend;
  hook.reason = info.reason ?? '';
  hook.timings.webgpuReady = performance.now();
  $('adapter').textContent = hook.adapter;
  $('adapter').title = hook.reason;

  const data = await loading;
  hook.bytesDownloaded = data.downloadedBytes;
  hook.timings.dataLoaded = performance.now();
  $('loading').hidden = true;
  $('ui').hidden = false;
  await setUp(data, store, await saved);
}

/** The seed of the weights and the data order: from the URL, or from a resumed run. */
let seed = Number(params.get('seed') ?? 1);

/** Reads the controls (after presetting them from the URL or a saved run). */
function readSettings(): Settings {
  const num = (id: string) => Number(($(id) as HTMLInputElement | HTMLSelectElement).value);
  return {
    optimizer: $<HTMLSelectElement>('optimizer').value,
    learningRate: num('lr'),
    batchSize: num('batch'),
    trainSize: num('subset'),
    testSize: num('test-size'),
    seed,
  };
}

/** Selects `v` in a select, adding it as an option when the list lacks it. */
function choose(id: string, v: string | null): void {
  if (v === null) return;
  const sel = $<HTMLSelectElement>(id);
  if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(Number(v).toLocaleString('en'), v));
  sel.value = v;
}

function presetControls(): void {
  const opt = $<HTMLSelectElement>('optimizer');
  for (const [name, o] of Object.entries(OPTIMIZERS)) opt.add(new Option(o.label, name));
  opt.value = params.get('opt') && params.get('opt')! in OPTIMIZERS ? params.get('opt')! : 'adam';
  $<HTMLInputElement>('lr').value = params.get('lr') ?? String(OPTIMIZERS[opt.value]!.learningRate);
  choose('batch', params.get('batch'));
  choose('subset', params.get('train'));
  choose('test-size', params.get('test'));
}

/** Sets the controls to a resumed run's settings. */
function applySettings(s: Settings): void {
  $<HTMLSelectElement>('optimizer').value = s.optimizer;
  $<HTMLInputElement>('lr').value = String(s.learningRate);
  choose('batch', String(s.batchSize));
  choose('subset', String(s.trainSize));
  choose('test-size', String(s.testSize));
  seed = s.seed;
}

async function setUp(data: MnistBytes, store: RunStore, saved: { run: SavedRun | null; problem: Error | null }): Promise<void> {
  presetControls();
  const charts = new TrainingCharts($('loss-chart'), $('acc-chart'));
  const gallery = new Gallery($('gallery'), data.test, 40);
  const filters = new FilterView($('filters'), 6, 5);
  const bars = new ProbabilityBars($('probs'));
  let ips: number | null = null;

  // Reads of the model that overlap training go through control.read: a reset or an upload
  // frees the old model only after them.
  const refreshFilters = () =>
    trainer.control
      .read(() => trainer.model.firstLayerFilters())
      .then(
        (f) => filters.show(f),
        (e) => fail('filters', e),
      );
  const onState = (s: TrainerState) => {
    hook.state = s;
    $('s-state').textContent = s;
    const busy = s === 'loading' || s === 'resetting';
    $<HTMLButtonElement>('start').disabled = s !== 'idle';
    const pause = $<HTMLButtonElement>('pause');
    pause.disabled = s !== 'running' && s !== 'paused';
    pause.textContent = s === 'paused' ? 'Resume' : 'Pause';
    for (const id of ['reset', 'upload-button', 'download']) $<HTMLButtonElement>(id).disabled = busy;
    for (const id of ['subset', 'test-size']) $<HTMLSelectElement>(id).disabled = s !== 'idle';
  };
  const trainer: Trainer = new Trainer(data, readSettings(), {
    state: onState,
    restarted: () => {
      charts.clear();
      gallery.update(null);
      Object.assign(hook, { steps: 0, epoch: 0, lastLoss: null, losses: [], testAccuracy: null, accuracies: [], imagesPerSecond: null });
      ips = null;
      for (const id of ['s-loss', 's-acc', 's-ips']) $(id).textContent = '–';
      $('s-step').textContent = $('s-epoch').textContent = '0';
    },
    step: ({ step, epoch, compiled }) => {
      hook.modes[compiled ? 'compiled' : 'eager']++;
      hook.modes.last = compiled ? 'compiled' : 'eager';
      hook.steps = step;
      hook.epoch = epoch;
      $('s-step').textContent = String(step);
      $('s-epoch').textContent = String(epoch);
    },
    loss: ({ step, loss }) => {
      if (step === 1 && hook.timings.firstStep === undefined) hook.timings.firstStep = performance.now();
      hook.lastLoss = loss;
      hook.losses.push({ step, loss, t: performance.now() });
      $('s-loss').textContent = loss.toFixed(4);
      charts.loss(step, loss);
    },
    throughput: (v) => {
      // Smoothed: single windows jitter with the browser's scheduling.
      ips = ips === null ? v : 0.7 * ips + 0.3 * v;
      hook.imagesPerSecond = ips;
      $('s-ips').textContent = ips.toFixed(0);
    },
    evaluated: ({ step, accuracy, predictions, record }) => {
      hook.testAccuracy = accuracy;
      if (record) {
        hook.accuracies.push({ step, accuracy });
        charts.accuracy(step, accuracy);
      }
      $('s-acc').textContent = `${(accuracy * 100).toFixed(1)}%`;
      const wrong = gallery.update(predictions);
      $('gallery-note').textContent = `${wrong} of ${Math.min(gallery.count, predictions.length)} wrong; a red one shows predicted (true)`;
      void refreshFilters();
    },
    error: (err) => fail('training', err),
  });
  void refreshFilters();
  note.info(
    `${data.train.count.toLocaleString('en')} training and ${data.test.count.toLocaleString('en')} test images loaded (${(data.downloadedBytes / 1e6).toFixed(1)} MB).`,
  );
  const redrawPrediction = () => live.request(pad.hasInk ? pad.toMnistPixels() : null);

  // The run's memory across visits: autosave, and the offer to resume.
  const resume = new Resume(store, trainer, hook, note, {
    fail,
    showRestored: (run) => {
      applySettings(run.settings);
      trainer.configure(readSettings());
      Object.assign(hook, {
        steps: run.step,
        epoch: run.epoch,
        losses: run.losses.map((l) => ({ ...l, t: Number.NaN })),
        accuracies: run.accuracies.map((a) => ({ ...a })),
        lastLoss: run.losses.at(-1)?.loss ?? null,
      });
      for (const l of run.losses) charts.loss(l.step, l.loss);
      for (const a of run.accuracies) charts.accuracy(a.step, a.accuracy);
      $('s-step').textContent = String(run.step);
      $('s-epoch').textContent = String(run.epoch);
      $('s-loss').textContent = hook.lastLoss === null ? '–' : hook.lastLoss.toFixed(4);
      redrawPrediction();
    },
  });
  resume.offer(saved.run, saved.problem);

  // Controls. The optimizer and batch size apply at the next step; subset sizes when idle. A
  // learning rate that is not a positive number is refused with a note that stays until fixed.
  const applyControls = () => {
    const problem = learningRateProblem($<HTMLInputElement>('lr').value, OPTIMIZERS[$<HTMLSelectElement>('optimizer').value]!.learningRate);
    if (problem) return note.error('settings', problem);
    note.clear('settings');
    trainer.configure(readSettings());
  };
  $<HTMLSelectElement>('optimizer').addEventListener('change', () => {
    $<HTMLInputElement>('lr').value = String(OPTIMIZERS[$<HTMLSelectElement>('optimizer').value]!.learningRate);
    applyControls();
  });
  for (const id of ['lr', 'batch', 'subset', 'test-size']) $(id).addEventListener('change', applyControls);
  // Compiled steps (recorded once per batch size, then replayed) or eager ones: the trainer
  // switches between two steps, freeing the old compiled step. ?compiled=0 starts unchecked.
  const compiledBox = $<HTMLInputElement>('compiled');
  if (params.get('compiled') === '0') compiledBox.checked = false;
  trainer.setCompiled(compiledBox.checked);
  compiledBox.addEventListener('change', () => trainer.setCompiled(compiledBox.checked));
  // While typing, a corrected value clears its error at once (it applies on change).
  $('lr').addEventListener('input', () => {
    if (note.has('settings') && !learningRateProblem($<HTMLInputElement>('lr').value, 1)) note.clear('settings');
  });
  $('start').addEventListener('click', () => {
    if (trainer.start()) resume.dismiss(); // a new run replaces the saved one at its first save
  });
  $('pause').addEventListener('click', async () => {
    if (trainer.state !== 'running') return void trainer.start();
    await trainer.pause();
    void resume.autosave.save(); // a pause is a natural point to keep the run
  });
  $('reset').addEventListener('click', async () => {
    if (!(await trainer.reset())) return;
    void resume.discard(); // Reset discards this run, saved copy included
    void refreshFilters();
    redrawPrediction();
  });

  // Drawing: predictions follow the strokes; the 28x28 preview shows what the net is given.
  const live = new LivePredictor<Uint8Array>(
    (pixels) => trainer.control.read(() => trainer.model.probabilities(pad.toInput(pixels))),
    (probs) => {
      bars.show(probs);
      const d = $('probs').dataset['predicted'];
      hook.drawnDigit = d ? Number(d) : null;
      // `live` is assigned by the time any prediction returns; queueMicrotask lets run() finish.
      queueMicrotask(() => (hook.drawPending = live.pending));
    },
    (err) => fail('prediction', err),
  );
  let drawQueued = false;
  const pad: DrawPad = new DrawPad($<HTMLCanvasElement>('draw'), () => {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      const pixels = pad.toMnistPixels();
      if (pixels) paintDigit($<HTMLCanvasElement>('seen'), pixels);
      else paintDigit($<HTMLCanvasElement>('seen'), new Uint8Array(784));
      live.request(pixels);
      hook.drawPending = live.pending;
    });
  });
  $('clear').addEventListener('click', () => pad.clear());

  // Weights. Messages of the file checks start with where they were raised; the note names the file instead.
  const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/^(loadParams|weights file): /, '');
  $('download').addEventListener('click', () =>
    trainer.control
      .read(() => downloadWeights(trainer.model))
      .then(
        (n) => {
          weightsNote.clear('upload');
          weightsNote.info(`Saved ${(n / 1024).toFixed(0)} KiB of weights.`);
        },
        (e) => fail('download', e),
      ),
  );
  const upload = $<HTMLInputElement>('upload');
  $('upload-button').addEventListener('click', () => upload.click());
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    upload.value = '';
    // An upload pauses training (the weights change under it) and says so.
    const paused = trainer.state === 'running' ? ' Training is paused for the upload: press Resume to continue.' : '';
    try {
      await trainer.pause();
      const bytes = await readWeightsFile(file);
      if (!(await trainer.loadWeights(bytes, 'weights file'))) {
        weightsNote.error('upload', `Could not load ${file.name}: a reset or another upload is under way. Try again in a moment.${paused}`);
        return;
      }
      weightsNote.clear('upload');
      weightsNote.info(`Loaded ${file.name}; the optimizer starts afresh.${paused}`);
      void refreshFilters();
      redrawPrediction();
      void resume.autosave.save();
    } catch (err) {
      weightsNote.error('upload', `Could not load ${file.name}: ${reason(err)}. The current model is kept.${paused}`);
    }
  });

  trainer.ready();
  if (params.get('autostart') === '1' && trainer.start()) resume.dismiss();
}

boot().catch((err) => {
  fail('start-up', err);
  hook.state = 'error';
  const text = $('load-text');
  if (text) text.textContent = `Loading failed: ${(err as Error).message}`;
});
