/**
 * @tessera/node: WebGPU in Node through Dawn (the npm package `webgpu`). It takes a real GPU
 * when one is present; otherwise it points Vulkan at SwiftShader, a CPU implementation, so the
 * same code runs on machines with no GPU at all. `ts.init()` loads this package by itself.
 *
 * @example
 * import { nodeGPU } from '@tessera/node';
 * const adapter = await (await nodeGPU()).requestAdapter();
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's chromium package puts SwiftShader's Vulkan driver manifest. */
export const DEBIAN_SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** The install hint printed whenever no adapter can be found. */
export const INSTALL_HINT =
  'No WebGPU adapter found. On Debian/Ubuntu run `sudo apt-get install -y chromium libvulkan1` (SwiftShader, a CPU fallback) ' +
  "or install your GPU's Vulkan driver; or set TESSERA_SWIFTSHADER_ICD to a vk_swiftshader_icd.json. `bash scripts/ensure-webgpu` does this for you";

/** The SwiftShader ICD manifest to use, if any: TESSERA_SWIFTSHADER_ICD, then Debian's. */
export function findSwiftShaderIcd(): string | null {
  const fromEnv = process.env.TESSERA_SWIFTSHADER_ICD;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`@tessera/node: TESSERA_SWIFTSHADER_ICD points to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  return existsSync(DEBIAN_SWIFTSHADER_ICD) ? DEBIAN_SWIFTSHADER_ICD : null;
}

/** Vulkan driver manifests of real GPUs installed system-wide. */
export function hardwareIcds(): string[] {
  return ICD_DIRS.filter(existsSync).flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.json') && !/swiftshader|lvp|lavapipe/i.test(f))
      .map((f) => join(d, f)),
  );
}

let gpu: GPU | null = null;

/**
 * Dawn's GPU object, created once. Vulkan reads VK_ICD_FILENAMES when Dawn starts, so the
 * driver list is decided here: any real GPU drivers first, then SwiftShader as the fallback.
 */
export async function nodeGPU(): Promise<GPU> {
  if (gpu) return gpu;
  if (!process.env.VK_ICD_FILENAMES) {
    const swift = findSwiftShaderIcd();
    const icds = [...hardwareIcds(), ...(swift ? [swift] : [])];
    if (icds.length) process.env.VK_ICD_FILENAMES = icds.join(':');
  }
  let dawn: { create(flags: string[]): GPU };
  try {
    dawn = (await import('webgpu')) as typeof dawn;
  } catch (e) {
    throw new Error(`@tessera/node: could not load Dawn (npm package 'webgpu'): ${(e as Error).message}. Run \`npm install\``);
  }
  gpu = dawn.create([]);
  const probe = await gpu.requestAdapter();
  if (!probe) {
    gpu = null;
    throw new Error(`@tessera/node: ${INSTALL_HINT}`);
  }
  return gpu;
}
