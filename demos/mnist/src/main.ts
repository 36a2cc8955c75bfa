/**
 * The MNIST demo page: checks WebGPU, downloads MNIST with a progress bar, then wires the
 * controls, charts, drawing pad, digit grid, filters and weight files to one `Trainer`.
 *
 * URL parameters preset the controls (handy for links and for the end-to-end tests):
 * `?train=512&test=500&batch=32&opt=adam&lr=0.001&autostart=1`.
 *
 * `window.__demo` exposes the page's state for tests and for the curious (see `DemoHook`).
 */
import '../../shared/demo.css';
import './style.css';
import { adapterLabel, startTessera } from '../../shared/gpu-gate.js';
import { TrainingCharts } from './charts.js';
import { loadMnistBytes, type MnistBytes } from './data.js';
import { DrawPad, paintDigit } from './draw-pad.js';
import { FilterView, Gallery } from './views.js';
import { OPTIMIZERS } from './model.js';
import { LivePredictor, ProbabilityBars } from './prediction.js';
import { Trainer, type Settings, type TrainerState } from './trainer.js';
import { downloadWeights, uploadWeights } from './weights.js';

/** What `window.__demo` holds. Times are ms since navigation start (`performance.now()`). */
export interface DemoHook {
  state: TrainerState | 'loading' | 'no-webgpu' | 'error';
  adapter: string;
  steps: number;
  epoch: number;
  lastLoss: number | null;
  /** Every loss read, with the time it arrived (a read waits for the GPU, so times are honest). */
  losses: { step: number; loss: number; t: number }[];
  testAccuracy: number | null;
  accuracies: { step: number; accuracy: number }[];
  imagesPerSecond: number | null;
  /** The digit the drawing pad currently shows as most likely, or null. */
  drawnDigit: number | null;
  /**
   * True while the bars lag behind the drawing. During training a prediction waits behind the
   * queued steps (on SwiftShader about a second), so the first bars may be for a partial stroke.
   */
  drawPending: boolean;
  bytesDownloaded: number;
  timings: { webgpuReady?: number; dataLoaded?: number; firstStep?: number };
  errors: string[];
}

const hook: DemoHook = {
  state: 'loading',
  adapter: '',
  steps: 0,
  epoch: 0,
  lastLoss: null,
  losses: [],
  testAccuracy: null,
  accuracies: [],
  imagesPerSecond: null,
  drawnDigit: null,
  drawPending: false,
  bytesDownloaded: 0,
  timings: {},
  errors: [],
};
(window as unknown as { __demo: DemoHook }).__demo = hook;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  hook.errors.push(msg);
  console.error(msg);
  const note = $('note');
  note.textContent = msg;
  note.classList.add('error');
}

async function boot(): Promise<void> {
  // The download starts at once, in parallel with WebGPU's start-up; it is cancelled if WebGPU
  // turns out to be missing, so such a visitor does not fetch 11 MB for nothing.
  const abort = new AbortController();
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const loading = loadMnistBytes(
    document.baseURI,
    ({ loaded, total }) => {
      const bar = $('load-bar'),
        text = $('load-text');
      if (!bar || !text) return; // the no-WebGPU message has replaced them
      bar.style.width = total ? `${((loaded / total) * 100).toFixed(1)}%` : '5%';
      text.textContent = total ? `${mb(loaded)} of ${mb(total)} MB` : `${mb(loaded)} MB`;
    },
    abort.signal,
  );
  loading.catch(() => {}); // awaited below, or abandoned on purpose: never an unhandled rejection

  const info = await startTessera($('app'));
  if (!info) {
    abort.abort();
    hook.state = 'no-webgpu';
    $('adapter').textContent = 'no WebGPU';
    return;
  }
  hook.adapter = adapterLabel(info);
  hook.timings.webgpuReady = performance.now();
  $('adapter').textContent = hook.adapter;

  const data = await loading;
  hook.bytesDownloaded = data.downloadedBytes;
  hook.timings.dataLoaded = performance.now();
  $('loading').hidden = true;
  $('ui').hidden = false;
  setUp(data);
}

/** Reads the controls, after presetting them from the URL. */
function readSettings(): Settings {
  const num = (id: string) => Number(($(id) as HTMLInputElement | HTMLSelectElement).value);
  return {
    optimizer: $<HTMLSelectElement>('optimizer').value,
    learningRate: num('lr'),
    batchSize: num('batch'),
    trainSize: num('subset'),
    testSize: num('test-size'),
    seed: Number(params.get('seed') ?? 1),
  };
}

function presetControls(): void {
  const opt = $<HTMLSelectElement>('optimizer');
  for (const [name, o] of Object.entries(OPTIMIZERS)) opt.add(new Option(o.label, name));
  opt.value = params.get('opt') && params.get('opt')! in OPTIMIZERS ? params.get('opt')! : 'adam';
  $<HTMLInputElement>('lr').value = params.get('lr') ?? String(OPTIMIZERS[opt.value]!.learningRate);
  const choose = (id: string, v: string | null) => {
    if (v === null) return;
    const sel = $<HTMLSelectElement>(id);
    if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(Number(v).toLocaleString('en'), v));
    sel.value = v;
  };
  choose('batch', params.get('batch'));
  choose('subset', params.get('train'));
  choose('test-size', params.get('test'));
}

function setUp(data: MnistBytes): void {
  presetControls();
  const charts = new TrainingCharts($('loss-chart'), $('acc-chart'));
  const gallery = new Gallery($('gallery'), data.test, 40);
  const filters = new FilterView($('filters'), 6, 5);
  const bars = new ProbabilityBars($('probs'));
  let ips: number | null = null;

  const refreshFilters = () =>
    trainer.model.firstLayerFilters().then(
      (f) => filters.show(f),
      (e) => fail('filters', e),
    );
  const onState = (s: TrainerState) => {
    hook.state = s;
    $('s-state').textContent = s;
    $<HTMLButtonElement>('start').disabled = s !== 'idle';
    const pause = $<HTMLButtonElement>('pause');
    pause.disabled = s === 'idle';
    pause.textContent = s === 'paused' ? 'Resume' : 'Pause';
    for (const id of ['subset', 'test-size']) $<HTMLSelectElement>(id).disabled = s !== 'idle';
  };
  const trainer: Trainer = new Trainer(data, readSettings(), {
    state: onState,
    step: ({ step, epoch }) => {
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
    evaluated: ({ step, accuracy, predictions }) => {
      hook.testAccuracy = accuracy;
      hook.accuracies.push({ step, accuracy });
      $('s-acc').textContent = `${(accuracy * 100).toFixed(1)}%`;
      charts.accuracy(step, accuracy);
      const wrong = gallery.update(predictions);
      $('gallery-note').textContent = `${wrong} of ${Math.min(gallery.count, predictions.length)} wrong; a red one shows predicted (true)`;
      void refreshFilters();
    },
    error: (err) => fail('training', err),
  });
  onState(trainer.state);
  void refreshFilters();
  $('note').textContent =
    `${data.train.count.toLocaleString('en')} training and ${data.test.count.toLocaleString('en')} test images loaded (${(data.downloadedBytes / 1e6).toFixed(1)} MB).`;

  // Controls. The optimizer and batch size apply at the next step; subset sizes when idle.
  $<HTMLSelectElement>('optimizer').addEventListener('change', () => {
    $<HTMLInputElement>('lr').value = String(OPTIMIZERS[$<HTMLSelectElement>('optimizer').value]!.learningRate);
    trainer.configure(readSettings());
  });
  for (const id of ['lr', 'batch', 'subset', 'test-size']) {
    $(id).addEventListener('change', () => {
      const s = readSettings();
      if (!(s.learningRate > 0)) return fail('settings', new Error('the learning rate must be a positive number'));
      trainer.configure(s);
    });
  }
  $('start').addEventListener('click', () => trainer.start());
  $('pause').addEventListener('click', () => (trainer.state === 'running' ? void trainer.pause() : trainer.start()));
  $('reset').addEventListener('click', async () => {
    await trainer.reset();
    charts.clear();
    gallery.update(null);
    Object.assign(hook, { steps: 0, epoch: 0, lastLoss: null, losses: [], testAccuracy: null, accuracies: [], imagesPerSecond: null });
    ips = null;
    for (const id of ['s-loss', 's-acc', 's-ips']) $(id).textContent = '–';
    $('s-step').textContent = $('s-epoch').textContent = '0';
    void refreshFilters();
    live.request(pad.hasInk ? pad.toMnistPixels() : null);
  });

  // Drawing: predictions follow the strokes; the 28x28 preview shows what the net is given.
  const live = new LivePredictor<Uint8Array>(
    (pixels) => trainer.model.probabilities(pad.toInput(pixels)),
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

  // Weights.
  const wnote = $('weights-note');
  $('download').addEventListener('click', () =>
    downloadWeights(trainer.model).then(
      (n) => {
        wnote.classList.remove('error');
        wnote.textContent = `Saved ${(n / 1024).toFixed(0)} KiB of weights.`;
      },
      (e) => fail('download', e),
    ),
  );
  const upload = $<HTMLInputElement>('upload');
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    upload.value = '';
    try {
      await trainer.pause();
      await uploadWeights(trainer.model, file);
      wnote.classList.remove('error');
      wnote.textContent = `Loaded ${file.name}.`;
      await refreshFilters();
      await trainer.evaluate();
      live.request(pad.hasInk ? pad.toMnistPixels() : null);
    } catch (err) {
      wnote.classList.add('error');
      wnote.textContent = `Could not load ${file.name}: ${(err as Error).message}`;
    }
  });

  if (params.get('autostart') === '1') trainer.start();
}

boot().catch((err) => {
  hook.state = 'error';
  fail('start-up', err);
  const text = $('load-text');
  if (text) text.textContent = `Loading failed: ${(err as Error).message}`;
});
