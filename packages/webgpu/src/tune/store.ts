/**
 * Where autotune's winners persist between runs: a JSON file under the user's cache folder in
 * Node (`TESSERA_CACHE_DIR` moves it), IndexedDB in a browser, or memory only. Entries are keyed
 * by the adapter's identity and carry the hash of the kernel sources they were measured with,
 * so a driver, a device or a kernel change starts afresh.
 */

/** One site and bucket's result: the winning variant and each variant's time per call (ms). */
export interface TunedEntry {
  readonly winner: string;
  readonly ms: Readonly<Record<string, number>>;
}

/** What is stored per adapter: the kernel hash and the winners keyed `site|bucket`. */
export interface StoredTuning {
  readonly kernels: string;
  readonly winners: Readonly<Record<string, TunedEntry>>;
}

/**
 * A place to keep tuning results.
 *
 * @example
 * const store = memoryStore();
 * await store.save('adapter', { kernels: 'abc', winners: {} });
 * (await store.load('adapter'))?.kernels; // 'abc'
 */
export interface TuneStore {
  /** Where the results live, for messages (a path, 'IndexedDB', 'memory'). */
  readonly where: string;
  load(adapter: string): Promise<StoredTuning | null>;
  save(adapter: string, value: StoredTuning): Promise<void>;
}

/**
 * A store that keeps results for the life of the process only.
 *
 * @example
 * import { createBackend } from '@tessera/webgpu';
 * const b = await createBackend({ tuneStore: memoryStore() });
 */
export function memoryStore(): TuneStore {
  const m = new Map<string, StoredTuning>();
  return {
    where: 'memory',
    load: async (a) => m.get(a) ?? null,
    save: async (a, v) => {
      m.set(a, v);
    },
  };
}

type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');
type NodeOs = typeof import('node:os');

/** Node's built-in modules, reached without an import a browser bundle would see. */
function nodeModules(): { fs: NodeFs; path: NodePath; os: NodeOs } | null {
  if (typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function') return null;
  return {
    fs: process.getBuiltinModule('node:fs') as NodeFs,
    path: process.getBuiltinModule('node:path') as NodePath,
    os: process.getBuiltinModule('node:os') as NodeOs,
  };
}

/**
 * The folder Node keeps Tessera's cache in: `TESSERA_CACHE_DIR`, else `$XDG_CACHE_HOME/tessera`,
 * else `~/.cache/tessera`.
 *
 * @example
 * cacheDir(); // '/home/me/.cache/tessera'
 */
export function cacheDir(): string | null {
  const node = nodeModules();
  if (!node) return null;
  const env = process.env;
  if (env.TESSERA_CACHE_DIR) return env.TESSERA_CACHE_DIR;
  return node.path.join(env.XDG_CACHE_HOME || node.path.join(node.os.homedir(), '.cache'), 'tessera');
}

/**
 * A store in `<dir>/autotune.json`, one object per adapter; written whole to a temporary file
 * and renamed over the old one, so a crash never leaves half a file. An unreadable or corrupt
 * file counts as empty (the results are only a cache).
 *
 * @example
 * const store = fileStore('/tmp/tessera-cache');
 */
export function fileStore(dir: string): TuneStore {
  const node = nodeModules();
  if (!node) throw new Error('fileStore: needs Node (use indexedDbStore() in a browser)');
  const { fs, path } = node;
  const file = path.join(dir, 'autotune.json');
  const readAll = (): Record<string, StoredTuning> => {
    try {
      const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: number; adapters?: Record<string, StoredTuning> };
      return v.version === 1 && v.adapters && typeof v.adapters === 'object' ? v.adapters : {};
    } catch {
      return {};
    }
  };
  return {
    where: file,
    load: async (a) => readAll()[a] ?? null,
    save: async (a, value) => {
      const all = { ...readAll(), [a]: value };
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify({ version: 1, adapters: all }, null, 1)}\n`);
      fs.renameSync(tmp, file);
    },
  };
}

/**
 * A store in the browser's IndexedDB (database 'tessera', object store 'autotune').
 *
 * @example
 * import { createBackend } from '@tessera/webgpu';
 * const b = await createBackend({ tuneStore: indexedDbStore() });
 */
export function indexedDbStore(): TuneStore {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      if (!idb) return reject(new Error('no IndexedDB'));
      const req = idb.open('tessera', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('autotune');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const tx = async <T>(mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest): Promise<T | null> => {
    try {
      const db = await open();
      return await new Promise<T | null>((resolve, reject) => {
        const req = body(db.transaction('autotune', mode).objectStore('autotune'));
        req.onsuccess = () => resolve((req.result as T) ?? null);
        req.onerror = () => reject(req.error);
      }).finally(() => db.close());
    } catch {
      // Private browsing or a blocked database: tuning still works, for this page only.
      return null;
    }
  };
  return {
    where: 'IndexedDB',
    load: (a) => tx<StoredTuning>('readonly', (s) => s.get(a)),
    save: async (a, v) => {
      await tx('readwrite', (s) => s.put(v, a));
    },
  };
}

/**
 * The store a backend uses unless told otherwise: the cache folder's file in Node, IndexedDB in
 * a browser, memory elsewhere.
 */
export function defaultStore(): TuneStore {
  const dir = cacheDir();
  if (dir) return fileStore(dir);
  if ((globalThis as { indexedDB?: unknown }).indexedDB) return indexedDbStore();
  return memoryStore();
}
