/**
 * Download and upload of the trained weights as a safetensors file, and the checks a file the
 * page did not write must pass before it touches the model.
 *
 * safetensors is what `nn.saveParams` writes: a JSON header and raw little-endian float32 data,
 * readable by PyTorch's `safetensors.torch.load_file` and by the Tessera CLI. Nothing leaves the
 * browser: the download is a Blob URL, the upload a local File.
 *
 * An uploaded file may be anything: a run that diverged (NaN weights), a truncated download, a
 * file of another network, or something made to hurt. `nn.loadParams` checks the header, the
 * names, shapes and dtypes before it writes anything; this module adds what it does not check
 * (the size, before reading the file at all, and that every value is a finite number), so that
 * a refused file leaves the model exactly as it was.
 */
import * as nn from '@tessera/nn';
import type { Model } from './model.js';

/** File name offered for the download. */
export const WEIGHTS_FILE = 'lenet5-mnist.safetensors';

/** LeNet-5's weights take about 250 KB; a file far larger is not one (and is not read into memory). */
export const MAX_WEIGHTS_BYTES = 16 * 1024 * 1024;

/**
 * Saves the model's weights and makes the browser download them.
 *
 * @example
 * downloadButton.onclick = () => downloadWeights(trainer.model);
 */
export async function downloadWeights(model: Model, fileName = WEIGHTS_FILE): Promise<number> {
  const bytes = await model.save();
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return bytes.length;
}

/**
 * The bytes of a file chosen by the user, refusing one too large to be LeNet-5's weights before
 * reading it.
 *
 * @example
 * const bytes = await readWeightsFile(input.files![0]!);
 */
export async function readWeightsFile(file: File): Promise<Uint8Array> {
  if (file.size > MAX_WEIGHTS_BYTES) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    throw new Error(
      `the file is ${mb(file.size)} MB, but LeNet-5's weights take about 0.25 MB (at most ${mb(MAX_WEIGHTS_BYTES)} MB are accepted). Choose a file saved by this page or the Tessera CLI`,
    );
  }
  return new Uint8Array(await file.arrayBuffer());
}

/** Count of values in `v` that are NaN or infinite. */
function nonFinite(v: Float32Array): number {
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) bad++;
  return bad;
}

/**
 * Throws, naming the tensors, if any F32 tensor in safetensors bytes holds NaN or infinite
 * values; tensors whose name passes `skip` are not checked. Header problems throw too (with
 * `decodeSafetensors`'s message). Other dtypes are left to `nn.loadParams`, which refuses them.
 *
 * @example
 * checkFiniteWeights(bytes, 'upload.safetensors');
 */
export function checkFiniteWeights(bytes: Uint8Array, source: string, skip: (name: string) => boolean = () => false): void {
  const file = nn.decodeSafetensors(bytes, source);
  const bad: string[] = [];
  for (const [name, entry] of file.tensors) {
    if (skip(name) || entry.dtype !== 'F32') continue;
    const n = nonFinite(nn.entryToFloat32(name, entry, source));
    if (n) bad.push(`'${name}' (${n.toLocaleString('en')} of ${(entry.bytes.length / 4).toLocaleString('en')})`);
  }
  if (bad.length) {
    throw new Error(
      `${source}: values that are not finite numbers (NaN or ±Infinity) in ${bad.join(', ')}. ` +
        'These weights come from a run that diverged; choose a file saved before the loss became NaN',
    );
  }
}
