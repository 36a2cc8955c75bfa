/**
 * The page's memory across visits, wired to the page: the autosave (every few seconds while
 * training, at each pause, when the page is hidden or left) and, on load, the offer
 * "Resume saved training from step N?" with Resume / Start fresh.
 *
 * A save is a consistent snapshot (`Trainer.snapshot`: weights, optimizer state and position
 * taken between two steps) plus the curves up to that step. A resume puts it all back through
 * the trainer's state machine (`loading`, then paused), so nothing else touches the model
 * meanwhile; a saved run that does not fit or holds NaN weights is refused, discarded and
 * reported, and the fresh model stays. Reset and Start fresh discard the saved run.
 */
import type { StatusNote } from '../../shared/note.js';
import { OPTIMIZERS } from './model.js';
import { AutoSave, SAVE_EVERY_MS, type RunStore, type SavedRun } from './persist.js';
import type { Trainer } from './trainer.js';

/** What `window.__demo.persistence` holds. @example window.__demo.persistence.savedStep */
export interface PersistenceHook {
  /** Step of the last completed save, or null. */
  savedStep: number | null;
  /** Step of the saved run offered on load, or null if none was found. */
  offeredStep: number | null;
  /** Step of the run restored by Resume, or null. */
  restoredStep: number | null;
  /** Whether the optimizer's state came back with it (else it started afresh). */
  restoredOptimizer: boolean | null;
  /** Why saving does not work in this browser, or null. */
  error: string | null;
}

/** The parts of the page's hook that a save reads. */
interface Curves {
  losses: { step: number; loss: number }[];
  accuracies: { step: number; accuracy: number }[];
  persistence: PersistenceHook;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * Autosave and the resume offer of one page.
 *
 * @example
 * const resume = new Resume(store, trainer, hook, note, { fail, showRestored });
 * resume.offer(savedRun, null);
 */
export class Resume {
  readonly autosave: AutoSave;
  private saved: SavedRun | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly trainer: Trainer,
    private readonly hook: Curves,
    private readonly note: StatusNote,
    private readonly page: { fail(where: string, err: unknown): void; showRestored(run: SavedRun): void },
  ) {
    this.autosave = new AutoSave(store, () => this.take(), {
      saved: (step) => (hook.persistence.savedStep = step),
      failed: (err) => this.failed(err),
    });
    setInterval(() => {
      if (trainer.state === 'running' && trainer.step !== this.autosave.lastStep) void this.autosave.save();
    }, SAVE_EVERY_MS);
    // The page may be closed or frozen after these: save what there is. A closing page may cut
    // the save short; the last periodic or pause save then stands.
    const now = () => void this.autosave.save();
    window.addEventListener('pagehide', now);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') now();
    });
    $('resume-saved').addEventListener('click', () => void this.accept());
    $('start-fresh').addEventListener('click', () => void this.decline());
  }

  /** Shows the offer for a saved run; a run that could not be read is discarded, with a note. */
  offer(run: SavedRun | null, problem: Error | null): void {
    if (problem) {
      this.note.error('resume', `A training saved by an earlier visit could not be read (${problem.message}); it was discarded.`);
      void this.store.remove().catch(() => {});
      return;
    }
    if (!run) return;
    this.saved = run;
    this.hook.persistence.offeredStep = run.step;
    const s = run.settings;
    const acc = run.accuracies.at(-1);
    $('resume-question').textContent = `Resume saved training from step ${run.step}?`;
    $('resume-detail').textContent =
      `Saved ${new Date(run.savedAt).toLocaleString()}: ${OPTIMIZERS[s.optimizer]?.label ?? s.optimizer} at learning rate ${s.learningRate}, ` +
      `batch ${s.batchSize}, ${s.trainSize.toLocaleString('en')} training images, epoch ${run.epoch}` +
      `${acc ? `, test accuracy ${(acc.accuracy * 100).toFixed(1)}%` : ''}.`;
    $('resume-offer').hidden = false;
  }

  /** Hides the offer: a new run has started, and its first save replaces the saved one. */
  dismiss(): void {
    this.saved = null;
    $('resume-offer').hidden = true;
  }

  private async accept(): Promise<void> {
    const run = this.saved;
    if (!run) return;
    let result: Awaited<ReturnType<Trainer['restore']>>;
    try {
      result = await this.trainer.restore(run);
    } catch (err) {
      this.dismiss();
      this.note.error('resume', `Could not resume the saved training: ${(err as Error).message}. It was discarded; press Train to start afresh.`);
      void this.discard();
      return;
    }
    if (!result) {
      this.note.error('resume', 'Could not resume now: a reset or an upload is under way. Try again in a moment.');
      return;
    }
    this.dismiss();
    this.note.clear('resume');
    this.page.showRestored(run);
    this.autosave.lastStep = run.step;
    this.hook.persistence.savedStep = run.step;
    this.hook.persistence.restoredOptimizer = result.optimizer;
    this.hook.persistence.restoredStep = run.step;
    this.note.info(
      `Resumed the training saved at step ${run.step}: press Resume to go on.` +
        (result.optimizer ? '' : ` The optimizer's state could not be restored (${result.why}), so it starts afresh.`),
    );
  }

  /** Forgets the saved run (Reset, Start fresh): a reload then offers nothing. */
  async discard(): Promise<void> {
    this.hook.persistence.savedStep = null;
    await this.autosave.discard();
  }

  private async decline(): Promise<void> {
    this.dismiss();
    this.note.clear('resume');
    await this.discard();
  }

  /** The run to save now: a snapshot of the current model and its curves, or null. */
  private async take(): Promise<SavedRun | null> {
    const snap = await this.trainer.snapshot();
    // A reset or an upload after the snapshot: it is of a model that is gone.
    if (!snap || snap.generation !== this.trainer.control.generation) return null;
    const { generation: _, ...run } = snap;
    return {
      format: 1,
      savedAt: Date.now(),
      ...run,
      losses: this.hook.losses.filter((l) => l.step <= run.step).map(({ step, loss }) => ({ step, loss })),
      accuracies: this.hook.accuracies.filter((a) => a.step <= run.step).map(({ step, accuracy }) => ({ step, accuracy })),
    };
  }

  /** Saving fails for good in this browser (storage blocked or full): said once. */
  private failed(err: Error): void {
    if (this.hook.persistence.error !== null) return;
    this.hook.persistence.error = err.message;
    this.page.fail('autosave', new Error(`${err.message}. This training is not being kept across visits; download the weights to keep them`));
  }
}
