/**
 * The page keeps its work: the model's parameters, the optimizer's state, the step, the data
 * position and the curves go to IndexedDB every few seconds while training, when training
 * pauses, and when the page is hidden or left (`visibilitychange`, `pagehide`). A reload offers
 * to resume from there.
 *
 * IndexedDB rather than OPFS: it stores the safetensors bytes (about 0.75 MB with Adam's two
 * moments) and the curves in one record, a write is a transaction (complete or absent, never
 * half a run), and it works in the page itself in every WebGPU browser. One record, 'latest',
 * is overwritten by each save: this is a page's memory of its run, not a history.
 *
 * What can be lost: the steps since the last save. The pagehide save starts a GPU read that a
 * closing page may not finish; the previous save then stands. Saves run one at a time, and a
 * discard (Reset, Start fresh) wins over a save that was in flight when it was asked for.
 */
import type { RunSnapshot, Settings } from './trainer.js';

/** A run as stored: a snapshot without its generation, the curves, and when it was saved. */
export interface SavedRun extends Omit<RunSnapshot, 'generation'> {
  format: typeof FORMAT;
  /** `Date.now()` at the save. */
  savedAt: number;
  losses: { step: number; loss: number }[];
  accuracies: { step: number; accuracy: number }[];
}

const DB_NAME = 'tessera-mnist-demo';
const STORE = 'runs';
const KEY = 'latest';
/** The record layout; a record of another format is discarded (with a note), never misread. */
const FORMAT = 1;
/** Seconds between saves while training. */
export const SAVE_EVERY_MS = 4000;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number';

/**
 * Checks a stored record field by field, so that a record from another version of the page (or
 * edited by hand in the dev tools) is refused with a reason rather than half-restored.
 */
export function checkSavedRun(x: unknown): SavedRun {
  const bad = (what: string) => new Error(`the saved training is not readable (${what})`);
  if (!x || typeof x !== 'object') throw bad('not a record');
  const r = x as Partial<SavedRun>;
  if (r.format !== FORMAT) throw bad(`format ${String(r.format)}, this page reads ${FORMAT}`);
  for (const k of ['step', 'epoch', 'images', 'cursor'] as const) if (!isCount(r[k])) throw bad(`${k} is ${String(r[k])}`);
  if (r.step === 0) throw bad('no step was trained');
  if (!(r.tensors instanceof Uint8Array)) throw bad('no tensors');
  const s = r.settings as Partial<Settings> | undefined;
  if (!s || typeof s.optimizer !== 'string' || !isNum(s.learningRate) || !(s.learningRate > 0)) throw bad('settings');
  for (const k of ['batchSize', 'trainSize', 'testSize'] as const) if (!isCount(s[k]) || s[k] === 0) throw bad(`settings.${k}`);
  if (!isNum(s.seed)) throw bad('settings.seed');
  if (!Array.isArray(r.losses) || !r.losses.every((l) => isCount(l?.step) && isNum(l?.loss))) throw bad('losses');
  if (!Array.isArray(r.accuracies) || !r.accuracies.every((a) => isCount(a?.step) && isNum(a?.accuracy))) throw bad('accuracies');
  if (!isNum(r.savedAt)) throw bad('savedAt');
  return r as SavedRun;
}

const done = <T>(req: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });

/**
 * The page's record in IndexedDB, through one connection opened on first use.
 *
 * @example
 * const store = new RunStore();
 * const saved = await store.read();   // null on a first visit
 */
export class RunStore {
  private db: Promise<IDBDatabase> | null = null;

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new Error('this browser offers no IndexedDB'));
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
      req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this page'));
    });
    return this.db;
  }

  /** The saved run, or null if there is none. Throws (with the reason) if it cannot be read. */
  async read(): Promise<SavedRun | null> {
    const db = await this.open();
    const raw = await done(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY));
    return raw === undefined ? null : checkSavedRun(raw);
  }

  /**
   * Writes `run` unless `still()` turns false once the database is open: the check and the
   * start of the transaction happen in one task, so a later `remove` always comes after it.
   */
  async write(run: SavedRun, still: () => boolean = () => true): Promise<boolean> {
    const db = await this.open();
    if (!still()) return false;
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(run, KEY);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('the save was aborted (is the storage full?)'));
    });
    return true;
  }

  /** Deletes the saved run (nothing happens if there is none). */
  async remove(): Promise<void> {
    const db = await this.open();
    await done(db.transaction(STORE, 'readwrite').objectStore(STORE).delete(KEY));
  }
}

/**
 * Saves the run when asked: one save at a time, a request during a save runs once after it.
 *
 * @example
 * const autosave = new AutoSave(store, takeRun, { saved: (step) => {}, failed: (err) => {} });
 * window.addEventListener('pagehide', () => void autosave.save());
 */
export class AutoSave {
  /** The step of the last completed save (or of the restored run), null if none. */
  lastStep: number | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private discards = 0;

  constructor(
    private readonly store: RunStore,
    /** The run to save now, or null when there is nothing (worth) saving. */
    private readonly take: () => Promise<SavedRun | null>,
    private readonly on: { saved(step: number): void; failed(err: Error): void },
  ) {}

  /** Saves now, or right after the save in flight. Never rejects: failures go to `failed`. */
  save(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.saveLoop().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** Forgets the saved run; a save already under way does not bring it back. */
  async discard(): Promise<void> {
    this.discards++;
    this.lastStep = null;
    try {
      await this.store.remove();
    } catch (err) {
      this.on.failed(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async saveLoop(): Promise<void> {
    do {
      this.again = false;
      const asked = this.discards;
      try {
        const run = await this.take();
        if (run && asked === this.discards && (await this.store.write(run, () => asked === this.discards))) {
          this.lastStep = run.step;
          this.on.saved(run.step);
        }
      } catch (err) {
        this.on.failed(err instanceof Error ? err : new Error(String(err)));
      }
    } while (this.again);
  }
}
