/**
 * The XOR demo page: trains a linear model and an MLP side by side, full-batch, and repaints
 * both decision boundaries while they train. It starts on load (`?autostart=0` to wait) and
 * stops after a fixed number of steps.
 *
 * The control flow is `PageControl`'s state machine (shared/state.ts): Reset checks the settings
 * first and builds the new pair before the old one is freed, so a bad value (a negative learning
 * rate) is reported on the page while the models in use go on working.
 *
 * `window.__demo` exposes the page's state for tests (see `XorHook`).
 */
import '../../shared/demo.css';
import './style.css';
import type * as ts from '@tessera/core';
import { backendText, startTessera } from '../../shared/gpu-gate.js';
import { StatusNote, learningRateProblem } from '../../shared/note.js';
import { PageControl, type PageState, type Ticket } from '../../shared/state.js';
import { nextFrame } from '../../shared/yield.js';
import { HeatMap } from './heatmap.js';
import { XorModel, accuracyOf, type ModelOptions } from './models.js';

/** Per-model numbers in the hook. */
interface ModelStats {
  loss: number | null;
  accuracy: number | null;
  /** P(class 1) at the four points at the last read. */
  probabilities: number[];
}

/** What `window.__demo` holds. */
export interface XorHook {
  state: PageState | 'no-backend' | 'error';
  /** The line the page shows for its backend: which one, on what, and why (see gpu-gate.ts). */
  adapter: string;
  /** The backend in use ('webgpu' or 'wasm') and core's reason for it (`ts.backendInfo()`). */
  backend: string;
  reason: string;
  steps: number;
  linear: ModelStats;
  mlp: ModelStats;
  /** First step at which the MLP classified all four points right, or null. */
  solvedAtStep: number | null;
  /** Steps run compiled and eagerly (the "Compiled steps" checkbox picks, from the next step on). */
  modes: { compiled: number; eager: number; last: 'compiled' | 'eager' | null };
  errors: string[];
}

/** Steps per run: the MLP needs tens to a few hundred; the rest shows that it stays solved. */
const MAX_STEPS = 600;
/** Steps between reads of losses and point predictions. */
const READ_EVERY = 5;
/** Steps between heat-map repaints. */
const MAP_EVERY = 5;
/** Heat-map resolution (grid points per side). */
const GRID = 48;

const blank = (): ModelStats => ({ loss: null, accuracy: null, probabilities: [] });
const hook: XorHook = {
  state: 'loading',
  adapter: '',
  backend: '',
  reason: '',
  steps: 0,
  linear: blank(),
  mlp: blank(),
  solvedAtStep: null,
  modes: { compiled: 0, eager: 0, last: null },
  errors: [],
};
/** The "Compiled steps" checkbox (?compiled=0 starts it unchecked). */
const compiledBox = () => $<HTMLInputElement>('#compiled');
(window as unknown as { __demo: XorHook }).__demo = hook;

const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;
const note = new StatusNote($('#note'));

/** A failure of the page itself (not of the user's input): recorded for the tests and shown. */
function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  hook.errors.push(msg);
  console.error(msg);
  note.error(where, msg);
}

/** The two models and their pictures. */
interface Pair {
  linear: XorModel;
  mlp: XorModel;
}

/** The controls' settings, or what is wrong with them (said so that the user can fix it). */
function readOptions(): { options: Omit<ModelOptions, 'kind'> } | { problem: string } {
  const problem = learningRateProblem($<HTMLInputElement>('#lr').value, 0.03);
  if (problem) return { problem };
  return {
    options: {
      hiddenUnits: Number($<HTMLSelectElement>('#hidden').value),
      activation: $<HTMLSelectElement>('#activation').value as 'tanh' | 'relu',
      learningRate: Number($<HTMLInputElement>('#lr').value),
      seed: Number(new URLSearchParams(location.search).get('seed') ?? 1),
    },
  };
}

/** Both models, or neither: if the second fails to build, the first is freed again. */
function buildPair(o: Omit<ModelOptions, 'kind'>): Pair {
  const linear = new XorModel({ ...o, kind: 'linear' });
  try {
    return { linear, mlp: new XorModel({ ...o, kind: 'mlp' }) };
  } catch (err) {
    linear.dispose();
    throw err;
  }
}

async function boot(): Promise<void> {
  const info = await startTessera($('#app'));
  if (!info) {
    hook.state = 'no-backend';
    $('#adapter').textContent = 'no backend could start';
    return;
  }
  hook.adapter = backendText(info);
  hook.backend = info.backend;
  hook.reason = info.reason ?? '';
  $('#adapter').textContent = hook.adapter;
  $('#adapter').title = hook.reason;

  const maps = { linear: new HeatMap($('#linear canvas.map')), mlp: new HeatMap($('#mlp canvas.map')) };
  const pauseButton = $<HTMLButtonElement>('#pause');
  const resetButton = $<HTMLButtonElement>('#reset');
  const control = new PageControl('loading', (s) => {
    hook.state = s;
    $('#s-state').textContent = s;
    pauseButton.textContent = { running: 'Pause', done: 'Train again', idle: 'Start' }[s as string] ?? 'Resume';
    // While the models are being replaced, neither button may act on them.
    pauseButton.disabled = resetButton.disabled = control.busy;
  });
  let pair: Pair | null = null;

  const show = (which: 'linear' | 'mlp', loss: number, probs: ArrayLike<number>) => {
    const acc = accuracyOf(probs);
    hook[which] = { loss, accuracy: acc, probabilities: Array.from(probs) };
    const card = $(`#${which}`);
    $('.loss', card).textContent = loss.toFixed(4);
    const a = $('.acc', card);
    a.textContent = `${Math.round(acc * 4)} / 4 (${(acc * 100).toFixed(0)}%)`;
    a.classList.toggle('solved', acc === 1);
  };

  const paintMaps = async (p: Pair) => {
    const [gl, gm] = await Promise.all([p.linear.planeProbabilities(GRID), p.mlp.planeProbabilities(GRID)]);
    maps.linear.draw(gl, GRID, hook.linear.probabilities.length ? hook.linear.probabilities : null);
    maps.mlp.draw(gm, GRID, hook.mlp.probabilities.length ? hook.mlp.probabilities : null);
  };

  const loop = async (ticket: Ticket) => {
    const p = pair!;
    // The ticket is checked before every step: a reset or pause stops this loop for good.
    while (control.mayStep(ticket) && hook.steps < MAX_STEPS) {
      // The checkbox applies here, between two steps (leaving compiled mode frees the compiled steps).
      const compiled = compiledBox().checked;
      p.linear.trainer.setCompiled(compiled);
      p.mlp.trainer.setCompiled(compiled);
      const losses: ts.Tensor[] = [await p.linear.step(), await p.mlp.step()];
      hook.modes[compiled ? 'compiled' : 'eager']++;
      hook.modes.last = compiled ? 'compiled' : 'eager';
      const step = ++hook.steps;
      $('#s-step').textContent = String(step);
      if (step === 1 || step % READ_EVERY === 0 || step === MAX_STEPS) {
        const probs = [p.linear.pointProbabilities(), p.mlp.pointProbabilities()];
        try {
          const [ll, lm, pl, pm] = await Promise.all([losses[0]!.item(), losses[1]!.item(), probs[0]!.data(), probs[1]!.data()]);
          show('linear', ll, pl);
          show('mlp', lm, pm);
          if (hook.solvedAtStep === null && hook.mlp.accuracy === 1) {
            hook.solvedAtStep = step;
            note.info(`The MLP classified all four points right at step ${step}.`);
          }
        } finally {
          for (const t of probs) t.dispose();
        }
      }
      for (const t of losses) t.dispose();
      if (step === 1 || step % MAP_EVERY === 0 || step === MAX_STEPS) await paintMaps(p);
      // One step per frame at most: this page is for watching the boundary form, and a real GPU
      // would otherwise finish all 600 steps in well under a second.
      await nextFrame();
    }
    if (hook.steps >= MAX_STEPS) control.finish(ticket);
  };

  const start = () => control.run(loop, (err) => fail('training', err));

  /** Puts a new pair in place (the old one, if any, is freed once nothing reads it) and clears the numbers. */
  const install = async (next: Pair, o: Omit<ModelOptions, 'kind'>) => {
    const old = pair;
    pair = next;
    control.newGeneration();
    if (old) await control.retire(() => (old.linear.dispose(), old.mlp.dispose()));
    $('#h-units').textContent = String(o.hiddenUnits);
    $('#h-act').textContent = o.activation;
    Object.assign(hook, { steps: 0, linear: blank(), mlp: blank(), solvedAtStep: null });
    $('#s-step').textContent = '0';
    note.info('');
    for (const c of ['#linear', '#mlp']) {
      $('.loss', $(c)).textContent = '–';
      $('.acc', $(c)).textContent = '–';
      $('.acc', $(c)).classList.remove('solved');
    }
    await paintMaps(next);
  };

  /**
   * New models with the current settings. A settings problem is shown and nothing changes (the
   * models in use keep training); a failure to build keeps the old pair too. True if reset.
   */
  const reset = async (): Promise<boolean> => {
    const read = readOptions();
    if ('problem' in read) {
      note.error('settings', read.problem);
      return false;
    }
    note.clear('settings');
    try {
      return await control.exclusive('resetting', async () => {
        await install(buildPair(read.options), read.options);
        return 'idle';
      });
    } catch (err) {
      note.error('settings', `Reset failed: ${(err as Error).message}. The previous models are kept; change the settings and press Reset again.`);
      return false;
    }
  };

  pauseButton.addEventListener('click', async () => {
    if (control.state === 'running') return void control.pause();
    if (control.state === 'done' && !(await reset())) return;
    start();
  });
  resetButton.addEventListener('click', async () => {
    if (await reset()) start();
  });
  // A corrected learning rate clears its error at once, before the next Reset.
  $('#lr').addEventListener('input', () => {
    if (note.has('settings') && !('problem' in readOptions())) note.clear('settings');
  });

  // The first pair: the page is still 'loading', so it is built directly.
  const first = readOptions();
  if ('problem' in first) note.error('settings', first.problem);
  const o = 'problem' in first ? { hiddenUnits: 8, activation: 'tanh' as const, learningRate: 0.03, seed: 1 } : first.options;
  await install(buildPair(o), o);
  control.to('idle');
  if (new URLSearchParams(location.search).get('compiled') === '0') compiledBox().checked = false;
  if (new URLSearchParams(location.search).get('autostart') !== '0') start();
}

boot().catch((err) => {
  fail('start-up', err);
  hook.state = 'error';
});
