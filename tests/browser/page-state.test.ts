/**
 * The demo pages' shared state machine (demos/shared/state.ts), without a browser: the rules
 * that keep a step off a discarded or freed model, checked one by one.
 */
import { describe, expect, it } from 'vitest';
import { PageControl, type PageState, type Ticket } from '../../demos/shared/state.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** A control and the states it went through. */
function control(initial: PageState = 'idle') {
  const seen: PageState[] = [];
  const c = new PageControl(initial, (s) => seen.push(s));
  return { c, seen };
}

/** A loop that steps (one per task) while its ticket allows, recording the generation it stepped. */
function stepper(c: PageControl, steps: number[]) {
  return async (ticket: Ticket) => {
    while (c.mayStep(ticket)) {
      steps.push(ticket.generation);
      await tick();
    }
  };
}

describe('PageControl', () => {
  it('runs only from idle or paused, and a transition outside the table throws', () => {
    const { c, seen } = control('loading');
    expect(
      c.run(
        async () => {},
        () => {},
      ),
    ).toBe(false);
    c.to('idle');
    expect(() => c.to('done')).toThrow(/'idle' cannot go to 'done'/);
    expect(
      c.run(
        async () => {},
        () => {},
      ),
    ).toBe(true);
    expect(seen).toEqual(['idle', 'running']);
  });

  it('Reset then Resume at once: the Resume is refused and no step runs on the old model', async () => {
    const { c } = control();
    const steps: number[] = [];
    c.run(stepper(c, steps), () => {});
    await tick();
    await tick();
    let disposed = false;
    const reset = c.exclusive('resetting', async () => {
      c.newGeneration();
      await c.retire(() => (disposed = true));
      return 'idle';
    });
    // The click on Resume lands while the reset waits for the loop's last step.
    expect(c.state).toBe('resetting');
    expect(c.run(stepper(c, steps), () => {})).toBe(false);
    expect(await reset).toBe(true);
    expect(disposed).toBe(true);
    const before = steps.length;
    await tick();
    await tick();
    expect(steps.length, 'no step after the reset').toBe(before);
    expect(steps.every((g) => g === 0)).toBe(true);
    expect(c.state).toBe('idle');
  });

  it('a pause and a quick resume never leave two loops stepping', async () => {
    const { c } = control();
    let active = 0;
    let most = 0;
    const loop = async (ticket: Ticket) => {
      active++;
      most = Math.max(most, active);
      while (c.mayStep(ticket)) await tick();
      active--;
    };
    c.run(loop, () => {});
    await tick();
    void c.pause();
    c.run(loop, () => {});
    await tick();
    await tick();
    await c.pause();
    expect(most).toBe(1);
  });

  it('a reset that fails returns to where the page rested and keeps the generation', async () => {
    const { c } = control();
    c.run(
      async () => {},
      () => {},
    );
    await tick();
    const gen = c.generation;
    await expect(
      c.exclusive('resetting', async () => {
        throw new Error('updates.adam: learningRate must be a finite number >= 0, got -1');
      }),
    ).rejects.toThrow(/learningRate/);
    expect(c.state).toBe('paused');
    expect(c.generation).toBe(gen);
  });

  it('one reset or load at a time: a second is refused while the first runs', async () => {
    const { c } = control('paused');
    let release!: () => void;
    const first = c.exclusive('loading', () => new Promise((r) => (release = () => r('paused'))));
    expect(await c.exclusive('resetting', async () => 'idle')).toBe(false);
    await tick();
    release();
    expect(await first).toBe(true);
    expect(c.state).toBe('paused');
  });

  it('a model is freed only after the reads that use it', async () => {
    const { c } = control();
    let finishRead!: () => void;
    const read = c.read(() => new Promise<void>((r) => (finishRead = r)));
    let disposed = false;
    const retired = c.retire(() => (disposed = true));
    await tick();
    expect(disposed).toBe(false);
    finishRead();
    await read;
    await retired;
    expect(disposed).toBe(true);
  });

  it('a loop error pauses the page and is reported', async () => {
    const { c } = control();
    const errors: string[] = [];
    c.run(
      async () => {
        throw new Error('matmul: input 0 was already disposed');
      },
      (e) => errors.push(e.message),
    );
    await tick();
    expect(c.state).toBe('paused');
    expect(errors).toEqual(['matmul: input 0 was already disposed']);
  });
});
