// WebGPU's flag values are fixed by the spec. Node's Dawn does not install the GPUBufferUsage /
// GPUShaderStage / GPUMapMode globals, so the backend uses these instead of the globals.
export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const ShaderStage = { COMPUTE: 0x4 } as const;
export const MapMode = { READ: 0x1 } as const;
