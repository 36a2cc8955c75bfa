/**
 * The only Node-specific code of @tessera/nn: reading and writing parameter files. It is
 * loaded lazily (`import('./node-io.js')`) when a file path is given, so browser bundles never
 * execute it.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Reads a whole file; a missing or unreadable file gets an error naming the caller and the path. @example await readBytes('loadParams', 'net.safetensors') */
export async function readBytes(fn: string, path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new Error(`${fn}: cannot read '${path}': ${why}`);
  }
}

/** Writes a whole file, with an error naming the caller and the path. @example await writeBytes('saveParams', 'net.safetensors', bytes) */
export async function writeBytes(fn: string, path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new Error(`${fn}: cannot write '${path}': ${(e as Error).message}`);
  }
}
