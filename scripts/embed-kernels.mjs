#!/usr/bin/env node
// Turns kernels/*.wgsl into one TypeScript module, so Node, vitest and Vite all load WGSL the
// same way (a plain import) with no bundler plugin or file-system access at run time.
//
// Includes: WGSL shared by several kernels lives in kernels/lib/*.wgsl and is pulled into a
// kernel by a line `#include "lib/<name>.wgsl"` (the directive must start its line; the path is
// relative to kernels/). Included files may include others; a file included twice in one kernel
// is inserted once, at its first #include; a missing file or a cycle stops this script with the
// including file and line. The include line is replaced by the file's lines, so every other
// line keeps its text and column: the sharing is purely textual.
//
// The module exports
//   WGSL        kernel name (file name without .wgsl) -> resolved source, what the device compiles;
//               kernels/lib files are not kernels and have no entry;
//   WGSL_LIB    'lib/<name>' -> each kernels/lib file, resolved, for WGSL generated at run time;
//   WGSL_LINES  kernel name -> runs of resolved lines, { at, file, line, from? }: resolved lines
//               from `at` (1-based) up to the next run's `at` are lines `line`, `line + 1`, ... of
//               kernels/<file>.wgsl, pulled in through the #include lines `from` (innermost first,
//               [file, line]); a kernel without includes has the one run { at: 1, file, line: 1 }.
// pipelines.ts maps compile errors back through WGSL_LINES (formatCompileMessage). The output is
// deterministic (files sorted) and written only when its text changes.
//
// Usage: node scripts/embed-kernels.mjs [<kernels dir> <output .ts>]  (default: kernels/ and
// packages/webgpu/src/kernels.generated.ts; tests/core/wgsl-include.test.ts passes its own).
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [dir, target] =
  process.argv.length >= 4
    ? [resolvePath(process.argv[2]), resolvePath(process.argv[3])]
    : [join(root, 'kernels'), join(root, 'packages/webgpu/src/kernels.generated.ts')];

const INCLUDE = /^#include\b(.*)$/;
const INCLUDE_PATH = /^\s+"(lib\/[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\.wgsl)"\s*$/;

/** Reads kernels/<name>.wgsl as lines, without the empty string after a final newline. */
function readLines(name) {
  const lines = readFileSync(join(dir, `${name}.wgsl`), 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Kernel `kernel` with its includes resolved: the source, and its line runs (see WGSL_LINES).
 * Throws, naming the including file and line, on a malformed, missing or cyclic include.
 */
function resolve(kernel) {
  const out = [];
  const runs = [];
  const seen = new Set([kernel]);
  const expand = (name, stack, from) => {
    let run = null;
    readLines(name).forEach((text, i) => {
      const at = `kernels/${name}.wgsl:${i + 1}`;
      const m = INCLUDE.exec(text);
      if (!m) {
        if (!run) runs.push((run = from.length ? { at: out.length + 1, file: name, line: i + 1, from } : { at: out.length + 1, file: name, line: i + 1 }));
        out.push(text);
        return;
      }
      run = null;
      const path = INCLUDE_PATH.exec(m[1])?.[1];
      if (!path) throw new Error(`${at}: expected #include "lib/<name>.wgsl", got: ${text.trim()}`);
      const inc = path.slice(0, -'.wgsl'.length);
      if (stack.includes(inc)) throw new Error(`${at}: #include "${path}" is a cycle: ${[...stack, inc].map((f) => `${f}.wgsl`).join(' -> ')}`);
      if (!existsSync(join(dir, path))) throw new Error(`${at}: #include "${path}": no file kernels/${path}`);
      if (seen.has(inc)) return;
      seen.add(inc);
      expand(inc, [...stack, inc], [[name, i + 1], ...from]);
    });
  };
  expand(kernel, [kernel], []);
  const source = readFileSync(join(dir, `${kernel}.wgsl`), 'utf8');
  return { code: out.join('\n') + (source.endsWith('\n') ? '\n' : ''), runs };
}

const kernels = readdirSync(dir)
  .filter((f) => f.endsWith('.wgsl'))
  .sort()
  .map((f) => f.slice(0, -5));
let resolved;
try {
  resolved = kernels.map((k) => ({ name: k, ...resolve(k) }));
} catch (e) {
  console.error(`embed-kernels: ${e.message}`);
  process.exit(1);
}
const libDir = join(dir, 'lib');
const libs = existsSync(libDir)
  ? readdirSync(libDir)
      .filter((f) => f.endsWith('.wgsl'))
      .sort()
      .map((f) => `lib/${f.slice(0, -5)}`)
  : [];
let libCode;
try {
  libCode = libs.map((l) => `  ${JSON.stringify(l)}: ${JSON.stringify(resolve(l).code)},`);
} catch (e) {
  console.error(`embed-kernels: ${e.message}`);
  process.exit(1);
}
const code = resolved.map((k) => `  ${JSON.stringify(k.name)}: ${JSON.stringify(k.code)},`);
const lines = resolved.map((k) => `  ${JSON.stringify(k.name)}: [${k.runs.map((r) => JSON.stringify(r)).join(', ')}],`);
const text =
  `// Generated by scripts/embed-kernels.mjs from kernels/*.wgsl and kernels/lib. Do not edit.\n` +
  `/** WGSL source of every kernel file, keyed by file name without \`.wgsl\`, with its #includes resolved. */\n` +
  `export const WGSL: Readonly<Record<string, string>> = {\n${code.join('\n')}\n};\n\n` +
  `/** Each kernels/lib file, keyed 'lib/<name>', includes resolved: for WGSL generated at run time (the fusion code generator). */\n` +
  `export const WGSL_LIB: Readonly<Record<string, string>> = {\n${libCode.join('\n')}\n};\n\n` +
  `/**\n` +
  ` * Where the lines of each resolved kernel come from: resolved lines from \`at\` (1-based) up to the\n` +
  ` * next run's \`at\` are lines \`line\`, \`line + 1\`, ... of kernels/<file>.wgsl, pulled in through the\n` +
  ` * #include lines \`from\` ([file, line], innermost first; absent for the kernel's own lines).\n` +
  ` */\n` +
  `export interface WgslLineRun {\n` +
  `  readonly at: number;\n` +
  `  readonly file: string;\n` +
  `  readonly line: number;\n` +
  `  readonly from?: readonly (readonly [file: string, line: number])[];\n` +
  `}\n\n` +
  `/** The line runs of every kernel in WGSL, in order. */\n` +
  `export const WGSL_LINES: Readonly<Record<string, readonly WgslLineRun[]>> = {\n${lines.join('\n')}\n};\n`;
if (!existsSync(target) || readFileSync(target, 'utf8') !== text) writeFileSync(target, text);
