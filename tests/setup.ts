// The backends register themselves with core when imported, as in an application.
import * as ts from '@tessera/core';
import '@tessera/webgpu';
import '@tessera/reference';
import { WASM_FACTORY } from '@tessera/wasm';

// As in the CLI for now: 'wasm' starts only by name, so that init() ('auto') stays on WebGPU
// (tests/wasm/backend.test.ts checks what 'auto' does with it automatic). With
// TESSERA_BACKEND=wasm, 'auto' starts wasm first instead: the suites that call ts.init() then
// run on it (`TESSERA_BACKEND=wasm npx vitest run tests/core tests/cnn tests/nn`).
const onWasm = process.env.TESSERA_BACKEND === 'wasm';

// Kernel choices fixed by the heuristics, whatever a developer's autotune cache holds, and no
// stand-in pipelines, which hand over at a time that depends on the machine: suites compare
// numbers across runs (eager against compiled, say). tests/cnn/autotune.test.ts turns both on.
process.env.TESSERA_AUTOTUNE ??= 'off';
process.env.TESSERA_QUICK_PIPELINES ??= '0';
ts.registerBackend('wasm', { ...WASM_FACTORY, auto: onWasm, priority: onWasm ? 100 : WASM_FACTORY.priority });
