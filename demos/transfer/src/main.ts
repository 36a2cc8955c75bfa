/**
 * The transfer demo page: starts a backend (WebGPU or WebAssembly SIMD, see gpu-gate.ts), downloads
 * the pretrained LeNet-5 and the Fashion-MNIST subset, then races a fine-tuned network against one
 * trained from scratch and charts both.
 *
 * URL parameters preset the controls (for links and for the end-to-end test):
 * `?steps=40&batch=32&lr=0.001&evalEvery=10&test=200&head=fc1&freeze=1&seed=1&autostart=1`.
 *
 * `window.__demo` exposes the page's state (see `DemoHook`).
 *
 * The buttons stay disabled (state `loading`) until both networks are built and evaluated; the
 * race's state machine (shared/state.ts) then decides what each click may do.
 */
import '../../shared/demo.css';
import './style.css';
import { FASHION_MNIST_CLASSES } from '@tessera/data';
import { backendText, startTessera } from '../../shared/gpu-gate.js';
import { StatusNote, learningRateProblem } from '../../shared/note.js';
import { CompareChart } from './charts.js';
import { PIXELS, loadAssets, type Assets } from './data.js';
import type { Kind } from './model.js';
import { Race, type RaceSettings, type RaceState } from './race.js';

/** What `window.__demo` holds. Times are ms since navigation start. @example window.__demo.curves.finetuned.at(-1).accuracy */
export interface DemoHook {
  state: RaceState | 'loading' | 'no-backend' | 'error';
  /** The line the page shows for its backend: which one, on what, and why (see gpu-gate.ts). */
  adapter: string;
  /** The backend in use ('webgpu' or 'wasm') and core's reason for it (`ts.backendInfo()`). */
  backend: string;
  reason: string;
  steps: number;
  settings: RaceSettings | null;
  /** Test accuracy of each network at the same steps (both are evaluated together). */
  curves: Record<Kind, { step: number; accuracy: number }[]>;
  losses: Record<Kind, { step: number; loss: number }[]>;
  /** Parameters that learn in each network (fewer in the fine-tuned one when convs are frozen). */
  trainable: Record<Kind, number> | null;
  bytesDownloaded: number;
  timings: { webgpuReady?: number; dataLoaded?: number; firstStep?: number; done?: number };
  /** Steps run compiled and eagerly (the "Compiled steps" checkbox picks, from the next step on). */
  modes: { compiled: number; eager: number; last: 'compiled' | 'eager' | null };
  errors: string[];
}

const hook: DemoHook = {
  state: 'loading',
  adapter: '',
  backend: '',
  reason: '',
  steps: 0,
  settings: null,
  curves: { finetuned: [], scratch: [] },
  losses: { finetuned: [], scratch: [] },
  trainable: null,
  bytesDownloaded: 0,
  timings: {},
  modes: { compiled: 0, eager: 0, last: null },
  errors: [],
};
(window as unknown as { __demo: DemoHook }).__demo = hook;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const pct = (a: number) => `${(a * 100).toFixed(1)}%`;
const note = new StatusNote($('note'));

/** A failure of the page itself (not of the user's input): recorded for the tests and shown. */
function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  hook.errors.push(msg);
  console.error(msg);
  note.error(where, msg);
}

async function boot(): Promise<void> {
  // Downloads start at once, in parallel with the backend's start-up, and are cancelled without one.
  const abort = new AbortController();
  const loading = loadAssets(
    document.baseURI,
    (n) => {
      const bar = $('load-bar'),
        text = $('load-text');
      if (!bar || !text) return;
      bar.style.width = `${Math.min(100, (n / 1.6e6) * 100).toFixed(0)}%`; // about 1.6 MB in all
      text.textContent = `${(n / 1e6).toFixed(2)} MB`;
    },
    abort.signal,
  );
  loading.catch(() => {}); // awaited below, or abandoned on purpose
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
  const assets = await loading;
  hook.bytesDownloaded = assets.downloadedBytes;
  hook.timings.dataLoaded = performance.now();
  $('loading').hidden = true;
  $('ui').hidden = false;
  await setUp(assets);
}

/** Sets the controls from the URL, then reads them. */
function presetControls(): void {
  const choose = (id: string, v: string | null) => {
    if (v === null) return;
    const sel = $<HTMLSelectElement>(id);
    if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v, v));
    sel.value = v;
  };
  choose('steps', params.get('steps'));
  choose('batch', params.get('batch'));
  choose('eval-every', params.get('evalEvery'));
  choose('test-size', params.get('test'));
  choose('head-on', params.get('head'));
  if (params.get('lr')) $<HTMLInputElement>('lr').value = params.get('lr')!;
  $<HTMLInputElement>('freeze').checked = params.get('freeze') === '1';
}

function readSettings(): RaceSettings {
  const num = (id: string) => Number(($(id) as HTMLInputElement | HTMLSelectElement).value);
  return {
    steps: num('steps'),
    batchSize: num('batch'),
    learningRate: num('lr'),
    evalEvery: num('eval-every'),
    testSize: num('test-size'),
    freeze: $<HTMLInputElement>('freeze').checked,
    headOn: $<HTMLSelectElement>('head-on').value === 'fc2' ? 'fc2' : 'fc1',
    seed: Number(params.get('seed') ?? 1),
  };
}

/** A grid of test images with both networks' guesses. */
class Gallery {
  private readonly items: { guess: Record<Kind, HTMLElement> }[] = [];
  constructor(
    mount: HTMLElement,
    private readonly assets: Assets,
    readonly indices: number[],
  ) {
    for (const i of indices) {
      const fig = document.createElement('figure');
      fig.className = 'item';
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 28;
      const img = canvas.getContext('2d')!.createImageData(28, 28);
      const px = assets.test.pixels.subarray(i * PIXELS, (i + 1) * PIXELS);
      px.forEach((v, p) => {
        img.data.set([v, v, v, 255], p * 4);
      });
      canvas.getContext('2d')!.putImageData(img, 0, 0);
      const truth = document.createElement('div');
      truth.className = 'truth';
      truth.textContent = FASHION_MNIST_CLASSES[assets.test.labels[i]!]!;
      const ft = document.createElement('div');
      const sc = document.createElement('div');
      ft.className = sc.className = 'guess';
      fig.append(canvas, truth, ft, sc);
      mount.append(fig);
      this.items.push({ guess: { finetuned: ft, scratch: sc } });
    }
  }

  show(kind: Kind, predictions: Int32Array): void {
    predictions.forEach((p, k) => {
      const el = this.items[k]!.guess[kind];
      const right = p === this.assets.test.labels[this.indices[k]!];
      el.textContent = FASHION_MNIST_CLASSES[p] ?? String(p);
      el.className = `guess ${right ? 'right' : 'wrong'}`;
    });
  }
}

async function setUp(assets: Assets): Promise<void> {
  presetControls();
  const accChart = new CompareChart($('acc-chart'), { yRange: [0, 100], points: true, format: (v) => `${v.toFixed(0)}%` });
  const lossChart = new CompareChart($('loss-chart'), { format: (v) => v.toFixed(2) });
  const gallery = new Gallery(
    $('gallery'),
    assets,
    Array.from({ length: 20 }, (_, i) => i * 7),
  );
  const race: Race = new Race(assets, readSettings(), {
    state: (s) => {
      hook.state = s;
      $('s-state').textContent = s;
      const start = $<HTMLButtonElement>('start');
      start.disabled = s !== 'idle' && s !== 'paused';
      start.title = s === 'loading' || s === 'resetting' ? 'Preparing both networks…' : '';
      const pause = $<HTMLButtonElement>('pause');
      pause.disabled = s !== 'running' && s !== 'paused';
      pause.textContent = s === 'paused' ? 'Resume' : 'Pause';
      $<HTMLButtonElement>('reset').disabled = s === 'loading';
      if (s === 'done') hook.timings.done = performance.now();
    },
    restarted: () => {
      hook.curves = { finetuned: [], scratch: [] };
      hook.losses = { finetuned: [], scratch: [] };
      hook.steps = 0;
      accChart.clear();
      lossChart.clear();
      for (const id of ['s-ft', 's-sc', 's-gap']) $(id).textContent = '–';
      $('s-step').textContent = '0';
    },
    step: (step, compiled) => {
      hook.modes[compiled ? 'compiled' : 'eager']++;
      hook.modes.last = compiled ? 'compiled' : 'eager';
      hook.steps = step;
      $('s-step').textContent = `${step} / ${race.settings.steps}`;
    },
    loss: ({ kind, step, loss }) => {
      if (hook.timings.firstStep === undefined) hook.timings.firstStep = performance.now();
      hook.losses[kind].push({ step, loss });
      lossChart.push(kind, step, loss);
    },
    evaluated: ({ step, finetuned, scratch }) => {
      hook.curves.finetuned.push({ step, accuracy: finetuned });
      hook.curves.scratch.push({ step, accuracy: scratch });
      accChart.push('finetuned', step, finetuned * 100);
      accChart.push('scratch', step, scratch * 100);
      $('s-ft').textContent = pct(finetuned);
      $('s-sc').textContent = pct(scratch);
      const gap = (finetuned - scratch) * 100;
      $('s-gap').textContent = `${gap >= 0 ? '+' : ''}${gap.toFixed(1)} pts`;
      for (const kind of ['finetuned', 'scratch'] as const) {
        const c = race.contenders?.[kind];
        // A read: a reset frees the networks only after it.
        c &&
          race.control
            .read(() => c.predict(assets.test, gallery.indices))
            .then(
              (p) => gallery.show(kind, p),
              (e) => fail('gallery', e),
            );
      }
    },
    error: (err) => fail('training', err),
  });

  const describe = () => {
    const c = race.contenders!;
    hook.settings = { ...race.settings };
    hook.trainable = { finetuned: c.finetuned.trainableParams, scratch: c.scratch.trainableParams };
    const s = race.settings;
    note.info(
      `${assets.train.count.toLocaleString('en')} training and ${assets.test.count.toLocaleString('en')} test images (${(assets.downloadedBytes / 1e6).toFixed(2)} MB). ` +
        `Budget: ${s.steps} steps of ${s.batchSize} images each. New head on ${s.headOn} in both networks. ` +
        `Fine-tuned: ${hook.trainable.finetuned.toLocaleString('en')} trainable parameters${s.freeze ? ' (conv layers frozen)' : ''}; ` +
        `from scratch: ${hook.trainable.scratch.toLocaleString('en')}.`,
    );
  };

  // The handlers exist before the race is ready; the buttons are disabled until then.
  $('start').addEventListener('click', () => race.start());
  $('pause').addEventListener('click', () => (race.state === 'running' ? void race.pause() : race.start()));
  /** Settings the user typed, checked: a problem is shown (and nothing reset) until fixed. */
  const validSettings = (): RaceSettings | null => {
    const problem = learningRateProblem($<HTMLInputElement>('lr').value, 0.001);
    if (problem) note.error('settings', problem);
    else note.clear('settings');
    return problem ? null : readSettings();
  };
  // Settings changed during a reset apply in one more reset right after it, not in a second
  // reset racing the first.
  let resetAgain = false;
  const reset = async () => {
    if (!validSettings()) return;
    if (race.control.busy) {
      resetAgain = true;
      return;
    }
    do {
      resetAgain = false;
      const s = validSettings();
      if (!s) return;
      try {
        await race.reset(s);
      } catch (err) {
        note.error('settings', `Reset failed: ${(err as Error).message}. The previous networks are kept; change the settings and try again.`);
        return;
      }
      describe();
    } while (resetAgain);
  };
  $('reset').addEventListener('click', () => void reset().catch((e) => fail('reset', e)));
  // Settings change the experiment itself, so they take effect through a reset.
  for (const id of ['steps', 'batch', 'lr', 'eval-every', 'test-size', 'freeze', 'head-on']) {
    $(id).addEventListener('change', () => void reset().catch((e) => fail('reset', e)));
  }
  // A corrected learning rate clears its error while typing.
  $('lr').addEventListener('input', () => {
    if (note.has('settings') && !learningRateProblem($<HTMLInputElement>('lr').value, 0.001)) note.clear('settings');
  });

  const compiledBox = $<HTMLInputElement>('compiled');
  if (params.get('compiled') === '0') compiledBox.checked = false;
  race.setCompiled(compiledBox.checked);
  compiledBox.addEventListener('change', () => race.setCompiled(compiledBox.checked));

  await race.prepare();
  describe();
  if (params.get('autostart') === '1') race.start();
}

boot().catch((err) => {
  hook.state = 'error';
  fail('start-up', err);
  const text = $('load-text');
  if (text) text.textContent = `Loading failed: ${(err as Error).message}`;
});
