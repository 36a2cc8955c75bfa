import { KERNELS, type KernelName, type UniformType } from './spec.js';

export interface UniformField {
  name: string;
  type: UniformType;
  offset: number;
}

export interface UniformLayout {
  /** Bytes, rounded up to 16 as WGSL sizes a uniform struct. */
  size: number;
  fields: UniformField[];
}

const layouts = new Map<KernelName, UniformLayout>();

/** WGSL uniform layout of a kernel's Params struct: scalars align to 4, `u32x8` to 16. */
export function uniformLayout(kernel: KernelName): UniformLayout {
  let layout = layouts.get(kernel);
  if (layout) return layout;
  let at = 0;
  const fields: UniformField[] = [];
  for (const [name, type] of KERNELS[kernel].uniforms) {
    const align = type === 'u32x8' ? 16 : 4;
    at = Math.ceil(at / align) * align;
    fields.push({ name, type, offset: at });
    at += type === 'u32x8' ? 32 : 4;
  }
  layout = { size: Math.max(16, Math.ceil(at / 16) * 16), fields };
  layouts.set(kernel, layout);
  return layout;
}

/** Writes a call's uniform values into `view` at byte offset `base`, per the kernel's layout. */
export function packUniforms(layout: UniformLayout, values: Record<string, number | readonly number[]>, view: DataView, base: number): void {
  for (const f of layout.fields) {
    const v = values[f.name];
    const at = base + f.offset;
    if (f.type === 'u32x8') {
      const list = (v ?? []) as readonly number[];
      for (let i = 0; i < 8; i++) view.setUint32(at + 4 * i, list[i] ?? 0, true);
    } else if (f.type === 'f32') view.setFloat32(at, (v as number) ?? 0, true);
    else if (f.type === 'i32') view.setInt32(at, (v as number) ?? 0, true);
    else view.setUint32(at, (v as number) ?? 0, true);
  }
}
