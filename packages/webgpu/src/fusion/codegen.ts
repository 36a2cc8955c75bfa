/**
 * The fusion code generator: renders a fused elementwise kernel (core's FusedKernel, built by
 * `ts.compile` from the expression each elementwise op declares in the op table) as one WGSL
 * compute shader. It is the only place where WGSL is generated rather than read from
 * `kernels/`; every function renders the way the hand-written kernels (kernels/unary.wgsl,
 * kernels/elementwise.wgsl, kernels/relu_backward.wgsl) compute it, so fused and unfused steps
 * agree.
 *
 * Shapes are baked into the source (a recording's shapes never change), so the shader has no
 * uniforms to read; pipelines are cached by source, and equal chains share one.
 *
 * A chain alone is a kernel of its own: binding 0 is the backend's uniform arena (unused, so
 * one bind-group layout form serves every kernel), bindings 1..n the inputs, then the
 * outputs. A chain after a producer (a matmul, a pooling gradient) is rendered into that
 * kernel's own WGSL, replacing its epilogue hook (kernels/lib/epilogue.wgsl), with the chain's
 * inputs bound after the producer's buffers. Generated names start with `fz_`.
 */
import type { BinaryFn, Expr, FusedKernel, IndexMap, UnaryFn } from '@tessera/core';
import { WGSL_LIB } from '../kernels.generated.js';

/** Elements per thread, as kernels/unary.wgsl: per-invocation overhead bounds a CPU adapter. */
export const FUSED_ELEMENTS_PER_THREAD = 4;

/**
 * Functions a rendered expression may call (sigmoid_stable, tanh_stable, pow_signed), shared with
 * the hand-written kernels so fused and unfused kernels compute alike; emitted when used.
 */
const MATH = WGSL_LIB['lib/math']!;

const UNARY: Record<UnaryFn, (x: string) => string> = {
  neg: (x) => `(-${x})`,
  exp: (x) => `exp(${x})`,
  log: (x) => `log(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  sigmoid: (x) => `sigmoid_stable(${x})`,
  tanh: (x) => `tanh_stable(${x})`,
};

const compare = (op: string) => (a: string, b: string) => `select(0.0, 1.0, ${a} ${op} ${b})`;
const BINARY: Record<BinaryFn, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `pow_signed(${a}, ${b})`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
  eq: compare('=='),
  ne: compare('!='),
  gt: compare('>'),
  ge: compare('>='),
  lt: compare('<'),
  le: compare('<='),
};

/** A float32 literal that reads back as exactly `v` rounded to float32. */
export function f32Literal(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f) || Object.is(f, -0)) {
    const bits = new Uint32Array(new Float32Array([f]).buffer)[0]!;
    return `bitcast<f32>(0x${bits.toString(16)}u)`;
  }
  const text = String(f);
  const lit = /[.e]/.test(text) ? text : `${text}.0`;
  return f < 0 ? `(${lit})` : lit;
}

/** The index arithmetic of a map: unravel `i` over the map's shape, dot with its strides. */
function renderMap(m: IndexMap): string {
  const terms: string[] = [];
  let inner = 1;
  for (let d = m.shape.length - 1; d >= 0; d--) {
    const n = m.shape[d]!;
    const s = m.strides[d]!;
    if (s !== 0 && n !== 1) {
      const coord = inner === 1 ? `i` : `(i / ${inner}u)`;
      const wrapped = d === 0 ? coord : `(${coord} % ${n}u)`;
      terms.push(s === 1 ? wrapped : `${wrapped} * ${s}u`);
    }
    inner *= n;
  }
  if (m.offset) terms.push(`${m.offset}u`);
  return terms.length ? terms.join(' + ') : '0u';
}

/**
 * The module-scope WGSL of a chain: helper functions, index maps and one function per node,
 * `fz_n<k>(i, acc)`, the node's value at element `i` of its own output (`acc`: the producer's
 * value there, for an epilogue). Inputs are read from bindings `fz_in<j>`. `mathDeclared`: the
 * surrounding WGSL already has lib/math.wgsl.
 */
function renderChain(k: FusedKernel, mathDeclared = false): string[] {
  let math = false;
  const maps = new Map<string, string>();
  const mapFn = (m: IndexMap | null): string => {
    if (!m) return 'i';
    const body = renderMap(m);
    let name = maps.get(body);
    if (!name) {
      name = `fz_map${maps.size}`;
      maps.set(body, name);
    }
    return `${name}(i)`;
  };

  const nodeFns = k.nodes.map((node, n) => {
    // Leaves used more than once (an op's input appears twice in its expression) are read once.
    const lets: string[] = [];
    const names = new Map<Expr, string>();
    const leaf = (e: Expr & { k: 'load' | 'node' }): string => {
      let name = names.get(e);
      if (!name) {
        name = `v${names.size}`;
        names.set(e, name);
        const at = mapFn(e.index);
        const value = e.k === 'node' ? `fz_n${e.node}(${at}, acc)` : k.inputs[e.input] === 'int32' ? `f32(fz_in${e.input}[${at}])` : `fz_in${e.input}[${at}]`;
        lets.push(`  let ${name} = ${value};`);
      }
      return name;
    };
    const render = (e: Expr): string => {
      switch (e.k) {
        case 'load':
        case 'node':
          return leaf(e);
        case 'acc':
          return 'acc';
        case 'const':
          return f32Literal(e.value);
        case 'unary':
          if (e.fn === 'sigmoid' || e.fn === 'tanh') math = true;
          return UNARY[e.fn](render(e.x));
        case 'binary':
          if (e.fn === 'pow') math = true;
          return BINARY[e.fn](render(e.a), render(e.b));
        case 'select':
          return `select(${render(e.b)}, ${render(e.a)}, ${render(e.cond)} != 0.0)`;
      }
    };
    const value = render(node.expr);
    return `fn fz_n${n}(i: u32, acc: f32) -> f32 {\n${lets.join('\n')}${lets.length ? '\n' : ''}  return ${value};\n}`;
  });
  const lines: string[] = [];
  if (math && !mathDeclared) lines.push(MATH, '');
  for (const [body, name] of maps) lines.push(`fn ${name}(i: u32) -> u32 {\n  return ${body};\n}`, '');
  lines.push(...nodeFns.flatMap((f) => [f, '']));
  return lines;
}

/** Declarations of the chain's inputs from binding `first` on, then of `outputs` outputs. */
function renderBindings(k: FusedKernel, first: number, outputs: number): string[] {
  const lines: string[] = [];
  for (const [j, dtype] of k.inputs.entries())
    lines.push(`@group(0) @binding(${first + j}) var<storage, read> fz_in${j}: array<${dtype === 'int32' ? 'i32' : 'f32'}>;`);
  for (let j = 0; j < outputs; j++) lines.push(`@group(0) @binding(${first + k.inputs.length + j}) var<storage, read_write> fz_out${j}: array<f32>;`);
  return lines;
}

const HEADER = '// Generated by the fusion code generator (packages/webgpu/src/fusion/codegen.ts).';

/**
 * The WGSL source of fused kernel `k` (a chain alone, no producer).
 *
 * @example
 * // exp(x) over 4 elements of input 0
 * const wgsl = renderFused({ size: 4, inputs: ['float32'], nodes: [{ expr: { k: 'unary', fn: 'exp', x: { k: 'load', input: 0, index: null } }, size: 4 }], outputs: [0] });
 */
export function renderFused(k: FusedKernel): string {
  const lines = [HEADER, '', '@group(0) @binding(0) var<uniform> fz_unused: vec4<u32>;', ...renderBindings(k, 1, k.outputs.length), ''];
  lines.push(...renderChain(k));
  const stores = k.outputs
    .map((node, j) => {
      const store = `fz_out${j}[i] = fz_n${node}(i, 0.0);`;
      return k.nodes[node]!.size === k.size ? `    ${store}` : `    if (i < ${k.nodes[node]!.size}u) {\n      ${store}\n    }`;
    })
    .join('\n');
  lines.push(
    '@compute @workgroup_size(64)',
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    `  let i0 = (gid.x + gid.y * nwg.x * 64u) * ${FUSED_ELEMENTS_PER_THREAD}u;`,
    `  for (var i = i0; i < min(i0 + ${FUSED_ELEMENTS_PER_THREAD}u, ${k.size}u); i++) {`,
    stores,
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}

/**
 * The hook kernels/lib/epilogue.wgsl puts into a kernel that can take an epilogue: every store
 * of the kernel's output goes through it. `renderEpilogue` replaces it.
 */
export const EPILOGUE_HOOK = 'fn epilogue(v: f32, i: u32) -> f32 {\n  return v;\n}';

/**
 * The WGSL of producer kernel `template` (its resolved source, which must contain
 * EPILOGUE_HOOK once) with chain `k` applied to each stored value: the chain's inputs are
 * bound from binding `first` on, after the producer's own. Returns null for a template
 * without the hook.
 *
 * @example
 * // relu(v) applied to each value a kernel stores; its WGSL has the hook, its buffers end at binding 2
 * const template = `@compute @workgroup_size(64) fn main() {}\n${EPILOGUE_HOOK}`;
 * const wgsl = renderEpilogue({ size: 8, inputs: [], nodes: [{ expr: { k: 'binary', fn: 'max', a: { k: 'acc' }, b: { k: 'const', value: 0 } }, size: 8 }], outputs: [0], producer: 'matmul' }, template, 3);
 */
export function renderEpilogue(k: FusedKernel, template: string, first: number): string | null {
  const at = template.indexOf(EPILOGUE_HOOK);
  if (at < 0 || template.indexOf(EPILOGUE_HOOK, at + 1) >= 0 || k.outputs.length !== 1) return null;
  const hook = `fn epilogue(v: f32, i: u32) -> f32 {\n  return fz_n${k.outputs[0]}(i, v);\n}`;
  const chain = [HEADER, ...renderBindings(k, first, 0), '', ...renderChain(k, template.includes('fn pow_signed(')), hook].join('\n');
  return template.slice(0, at) + chain + template.slice(at + EPILOGUE_HOOK.length);
}
