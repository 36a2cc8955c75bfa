// A compiled step's optimizer updates go to the backend in groups (packages/core/src/compile/
// updates.ts; kernels/optim_multi.wgsl on WebGPU): every rule gives the same bits as one update
// a parameter, eagerly; a group never mixes hyperparameters that differ at a replay; a scaled
// update is stepped alone.
import { afterAll, expect, it } from 'vitest';
import { describeEachBackend, ts } from '../helpers/index.js';

const keep = <T extends ts.Tensor>(t: T): T => ts.keep(t);
const RULES = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw', 'adagrad', 'adadelta', 'adamax'] as const;
const SIZES = [7, 130, 33, 64, 5];

afterAll(() => ts.shutdown());

/** Parameters, gradients and two states each, from one seed, so two sets start equal. */
function problem(seed: number) {
  return SIZES.map((n, i) => ({
    p: keep(ts.randn([n], { seed: seed + i })),
    g: keep(ts.randn([n], { seed: seed + 10 + i })),
    s: [keep(ts.zeros([n])), keep(ts.zeros([n]))],
  }));
}

describeEachBackend(
  'grouped updates in a compiled step',
  (backend) => {
    for (const rule of RULES) {
      it(`${rule}: the same bits as one update a parameter`, async () => {
        const hyper = (step: number) => ({ lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.01, momentum: rule === 'rmsprop' ? 0.5 : 0.9, step });
        const [eager, compiled] = [problem(1), problem(1)];
        let t = 0; // set before each call: a replay does not run the function, only the getters
        const step = ts.compile(() => {
          for (const q of compiled) ts.applyUpdate(rule, q.p, q.g, q.s, () => hyper(t));
        });
        const d0 = ts.stats().dispatches;
        for (let i = 1; i <= 4; i++) {
          for (const q of eager) ts.applyUpdate(rule, q.p, q.g, q.s, hyper(i));
          t = i;
          step();
        }
        const perReplay = (ts.stats().dispatches - d0) / 4 - SIZES.length; // minus the eager ones
        for (const [i, q] of compiled.entries()) {
          expect(Array.from(await q.p.data()), `${rule} parameter ${i}`).toEqual(Array.from(await eager[i]!.p.data()));
          for (const j of [0, 1]) expect(Array.from(await q.s[j]!.data()), `${rule} state ${j} of ${i}`).toEqual(Array.from(await eager[i]!.s[j]!.data()));
        }
        if (backend === 'webgpu' && (ts.backendInfo().limits.maxStorageBuffersPerShaderStage ?? 0) >= 12) {
          // Five parameters: groups of three and two. (The capture call dispatched one each.)
          expect(perReplay * 4).toBe(SIZES.length + 3 * 2);
        }
        step.dispose();
        for (const q of [...eager, ...compiled]) for (const t of [q.p, q.g, ...q.s]) t.dispose();
      });
    }

    it('regroups by hyperparameters at each replay, and steps a scaled update alone', async () => {
      const [eager, compiled] = [problem(5), problem(5)];
      const scale = keep(ts.tensor([0.5]));
      let lrOfSecond = 0.1;
      const step = ts.compile(() => {
        compiled.forEach((q, i) => {
          const hyper = () => ({ lr: i === 1 ? lrOfSecond : 0.1, momentum: 0.9 });
          if (i === 3) ts.applyUpdate('momentum', q.p, q.g, q.s, hyper, scale);
          else ts.applyUpdate('momentum', q.p, q.g, q.s, hyper);
        });
      });
      for (let i = 1; i <= 3; i++) {
        if (i === 2) lrOfSecond = 0.02; // the second parameter's group splits from here
        eager.forEach((q, k) => {
          const lr = k === 1 ? lrOfSecond : 0.1;
          ts.applyUpdate('momentum', q.p, q.g, q.s, { lr, momentum: 0.9 }, k === 3 ? scale : undefined);
        });
        step();
      }
      for (const [i, q] of compiled.entries()) expect(Array.from(await q.p.data()), `parameter ${i}`).toEqual(Array.from(await eager[i]!.p.data()));
      step.dispose();
    });
  },
  ['webgpu', 'reference'],
);
