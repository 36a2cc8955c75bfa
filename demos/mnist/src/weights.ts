/**
 * Download and upload of the trained weights as a safetensors file.
 *
 * safetensors is what `nn.saveParams` writes: a JSON header and raw little-endian float32 data,
 * readable by PyTorch's `safetensors.torch.load_file` and by the Tessera CLI. Nothing leaves the
 * browser: the download is a Blob URL, the upload a local File.
 */
import type { Model } from './model.js';

/** File name offered for the download. */
export const WEIGHTS_FILE = 'lenet5-mnist.safetensors';

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
 * Reads a safetensors file chosen by the user into the model. Throws (with the loader's
 * message, which names the tensor) when names or shapes do not fit LeNet-5.
 *
 * @example
 * input.onchange = () => uploadWeights(trainer.model, input.files![0]!);
 */
export async function uploadWeights(model: Model, file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  await model.load(bytes);
}
