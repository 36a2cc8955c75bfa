/**
 * Fetching dataset files as bytes with progress reporting (browser-safe).
 *
 * Dataset files are tens of megabytes, so a loader without progress looks
 * hung; this reads the response body stream chunk by chunk to report it.
 */

/** Progress of one download. `total` is undefined when the size is unknown. */
export interface FetchProgress {
  loaded: number;
  total: number | undefined;
}

/** The subset of the global `fetch` signature that the loaders use. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Options for `fetchBytes`. */
export interface FetchBytesOptions {
  /** Replacement for the global `fetch` (tests, custom caching, auth headers). */
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: FetchProgress) => void) | undefined;
}

/**
 * Downloads `url` fully and returns its bytes.
 *
 * Throws an Error naming the URL on network failure or a non-2xx status.
 */
export async function fetchBytes(url: string, options: FetchBytesOptions = {}): Promise<Uint8Array> {
  const doFetch: FetchLike | undefined = options.fetch ?? (typeof fetch === 'function' ? fetch : undefined);
  if (doFetch === undefined) throw new Error(`${url}: no fetch() in this runtime; pass options.fetch`);

  let response: Response;
  try {
    response = await doFetch(url, options.signal ? { signal: options.signal } : undefined);
  } catch (err) {
    throw new Error(`${url}: fetch failed: ${(err as Error).message}`);
  }
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }

  const total = contentLength(response);
  const onProgress = options.onProgress;
  onProgress?.({ loaded: 0, total });
  if (response.body === null) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: total ?? bytes.length });
    return bytes;
  }

  // Read into a single buffer when the size is known, avoiding a second full
  // copy of a 47 MB file at the end.
  const reader = response.body.getReader();
  let buffer = new Uint8Array(total ?? 1 << 20);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > buffer.length) {
      const grown = new Uint8Array(Math.max(buffer.length * 2, loaded + value.length));
      grown.set(buffer.subarray(0, loaded));
      buffer = grown;
    }
    buffer.set(value, loaded);
    loaded += value.length;
    onProgress?.({ loaded, total });
  }
  if (total !== undefined && loaded !== total) {
    const what = loaded < total ? 'download truncated' : 'download larger than announced';
    throw new Error(`${url}: ${what}: Content-Length is ${total} bytes, received ${loaded}`);
  }
  return loaded === buffer.length ? buffer : buffer.slice(0, loaded);
}

/**
 * The body size in bytes, or undefined when unknown. With a Content-Encoding
 * (e.g. gzip) the header counts compressed bytes while the body stream yields
 * decompressed ones, so it cannot be used as a total.
 */
function contentLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding !== '' && encoding !== 'identity') return undefined;
  const header = response.headers.get('content-length');
  if (header === null) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
