/**
 * The XOR demo page: trains a linear model and an MLP side by side, full-batch, and repaints
 * both decision boundaries while they train. It starts on load (`?autostart=0` to wait) and
 * stops after a fixed number of steps.
 *
 * `window.__demo` exposes the page's state for tests (see `XorHook`).
 */
import '../../shared/demo.css';
import './style.css';
import type * as ts from '@tessera/core';
import { adapterLabel, startTessera } from '../../shared/gpu-gate.js';
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
  state: 'loading' | 'running' | 'paused' | 'done' | 'no-webgpu' | 'error';
  adapter: string;
  steps: number;
  linear: ModelStats;
  mlp: ModelStats;
  /** First step at which the MLP classified all four points right, or null. */
  solvedAtStep: number | null;
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
const hook: XorHook = { state: 'loading', adapter: '', steps: 0, linear: blank(), mlp: blank(), solvedAtStep: null, errors: [] };
(window as unknown as { __demo: XorHook }).__demo = hook;

const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;

function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  hook.errors.push(msg);
  hook.state = 'error';
  console.error(msg);
  $('#note').textContent = msg;
}

/** The two models and their pictures. */
interface Pair {
  linear: XorModel;
  mlp: XorModel;
}

function readOptions(): Omit<ModelOptions, 'kind'> {
  return {
    hiddenUnits: Number($<HTMLSelectElement>('#hidden').value),
    activation: $<HTMLSelectElement>('#activation').value as 'tanh' | 'relu',
    learningRate: Number($<HTMLInputElement>('#lr').value) || 0.03,
    seed: Number(new URLSearchParams(location.search).get('seed') ?? 1),
  };
}

async function boot(): Promise<void> {
  const info = await startTessera($('#app'));
  if (!info) {
    hook.state = 'no-webgpu';
    $('#adapter').textContent = 'no WebGPU';
    return;
  }
  hook.adapter = adapterLabel(info);
  $('#adapter').textContent = hook.adapter;

  const maps = { linear: new HeatMap($('#linear canvas.map')), mlp: new HeatMap($('#mlp canvas.map')) };
  let pair: Pair | null = null;
  let running: Promise<void> | null = null;
  let wanted: 'running' | 'paused' = 'running';

  const setState = (s: XorHook['state']) => {
    hook.state = s;
    $('#s-state').textContent = s;
    const pause = $<HTMLButtonElement>('#pause');
    pause.textContent = s === 'running' ? 'Pause' : s === 'done' ? 'Train again' : 'Resume';
  };

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

  const loop = async (p: Pair) => {
    setState('running');
    while (wanted === 'running' && hook.steps < MAX_STEPS) {
      const losses: ts.Tensor[] = [await p.linear.step(), await p.mlp.step()];
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
            $('#note').textContent = `The MLP classified all four points right at step ${step}.`;
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
    setState(hook.steps >= MAX_STEPS ? 'done' : 'paused');
  };

  const start = () => {
    if (!pair || running) return;
    wanted = 'running';
    running = loop(pair)
      .catch((err: unknown) => fail('training', err))
      .finally(() => (running = null));
  };

  const reset = async () => {
    wanted = 'paused';
    await running;
    pair?.linear.dispose();
    pair?.mlp.dispose();
    const o = readOptions();
    $('#h-units').textContent = String(o.hiddenUnits);
    $('#h-act').textContent = o.activation;
    pair = { linear: new XorModel({ ...o, kind: 'linear' }), mlp: new XorModel({ ...o, kind: 'mlp' }) };
    Object.assign(hook, { steps: 0, linear: blank(), mlp: blank(), solvedAtStep: null });
    $('#s-step').textContent = '0';
    $('#note').textContent = '';
    for (const c of ['#linear', '#mlp']) {
      $('.loss', $(c)).textContent = '–';
      $('.acc', $(c)).textContent = '–';
      $('.acc', $(c)).classList.remove('solved');
    }
    await paintMaps(pair);
  };

  $('#pause').addEventListener('click', async () => {
    if (hook.state === 'running') {
      wanted = 'paused';
      return;
    }
    if (hook.state === 'done') await reset();
    start();
  });
  $('#reset').addEventListener('click', async () => {
    await reset();
    start();
  });

  await reset();
  if (new URLSearchParams(location.search).get('autostart') === '0') setState('paused');
  else start();
}

boot().catch((err) => fail('start-up', err));
