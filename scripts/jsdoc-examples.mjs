#!/usr/bin/env node
// Typechecks every `@example` in the JSDoc of packages/*/src/**/*.ts, so that none can go stale.
//
// Each example becomes one module under test-artifacts/jsdoc-examples/ (gitignored):
//   - a shared prelude: `ts`, `nn` and `data` (the namespaces of @tessera/core, /nn and /data),
//     every export of @tessera/nn by name (read from packages/nn/src/index.ts), and
//     `declare const` lines for the conventional free variables in FREE_VARIABLES below;
//   - the exports of the example's own source file that it mentions, as if it were written in
//     that file (so `aggregate(loss, w)` on `aggregate` works; a name the file does not export
//     is still an error);
//   - the example's own `import` lines (a prelude name it imports itself is left out);
//   - the rest inside `export async function example() { ... }`, so that top-level `await`
//     works and a `const net = ...` shadows the declared `net`.
// One `tsc` run checks them all (a second one only if some example has a syntax error, which
// stops tsc from type-checking the rest), and each error is mapped back to its source line.
//
// An example whose first line starts with `$ ` or `tessera ` is a shell command line (the CLI's);
// it is not TypeScript, so it is skipped, and the skip is reported. A bare object literal
// (`{ learningRate: 0.1 }`) parses as a block: write `const opts: SgdOptions = { ... };`.
//
// By hand: node scripts/jsdoc-examples.mjs          (checks; exit code 1 if any example fails)
//          node scripts/jsdoc-examples.mjs --list   (prints the extracted examples)
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = join(ROOT, 'test-artifacts', 'jsdoc-examples');

/**
 * The free variables examples may use without defining them, with their types. Keep this short:
 * an example that needs anything more specific should define it.
 */
export const FREE_VARIABLES = [
  ['x', 'ts.Tensor', 'an input batch or any tensor'],
  ['y', 'ts.Tensor', 'a second tensor, or targets'],
  ['a', 'ts.Tensor', 'operands of binary ops'],
  ['b', 'ts.Tensor', '(or a bias)'],
  ['v', 'ts.Tensor', 'a non-negative tensor (a variance)'],
  ['p', 'ts.Tensor', 'probabilities'],
  ['w', 'ts.Tensor', 'a weight'],
  ['pred', 'ts.Tensor', 'a network output'],
  ['probs', 'ts.Tensor', 'softmax or sigmoid outputs'],
  ['logits', 'ts.Tensor', 'pre-softmax scores, [batch, classes]'],
  ['labels', 'ts.Tensor', 'int32 class indices, [batch]'],
  ['loss', 'ts.Tensor', 'a scalar loss'],
  ['params', 'ts.Tensor[]', 'trainable parameters'],
  ['model', '(x: ts.Tensor) => ts.Tensor', 'a forward pass'],
  ['step', '() => ts.Tensor', 'a training step; returns the loss'],
  ['net', 'nn.models.LeNet', 'a network record (nn.models.lenet5())'],
  ['layer', 'Layer', 'any layer'],
  ['l', 'Layer', 'the incoming layer of a new one'],
  ['batches', 'Iterable<[ts.Tensor, ts.Tensor]>', '(input, label) batches'],
  ['adapter', 'GPUAdapter', 'WebGPU objects of your own'],
  ['device', 'GPUDevice', ''],
  ['bytes', 'Uint8Array', 'the bytes of a file'],
];

/** The namespaces every example sees. */
const PRELUDE_NAMESPACES = [
  ['ts', '@tessera/core'],
  ['nn', '@tessera/nn'],
  ['data', '@tessera/data'],
];

// ---------------------------------------------------------------------------------------------
// Extraction

function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.generated.ts')) files.push(p);
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'), { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue;
    const src = join(ROOT, 'packages', pkg.name, 'src');
    try {
      walk(src);
    } catch {
      // a package without src/
    }
  }
  return files.sort();
}

/** A block tag at the start of a comment line, or after whitespace on a one-line comment. */
const TAG = /(^|\s)@[a-zA-Z]+(?=\s|$)/;

/**
 * The @example blocks of one file's text: `{ line, code, lines }`, `line` being the 1-based line
 * of the `@example` tag and `lines` the source line of each line of `code`.
 */
export function extractFromText(text) {
  const examples = [];
  const comment = /\/\*\*([\s\S]*?)\*\//g;
  for (let m = comment.exec(text); m; m = comment.exec(text)) {
    const startLine = text.slice(0, m.index).split('\n').length;
    // Strip the comment's leading ` * ` from every line (the first line has no star).
    const lines = m[1].split('\n').map((s, i) => (i === 0 ? s : s.replace(/^\s*\* ?/, '').replace(/^\s*\*$/, '')));
    let current = null;
    const finish = () => {
      if (!current) return;
      const body = current.lines.filter((l) => !/^\s*```/.test(l.text));
      while (body.length && !body[0].text.trim()) body.shift();
      while (body.length && !body.at(-1).text.trim()) body.pop();
      const indent = Math.min(...body.filter((l) => l.text.trim()).map((l) => l.text.match(/^ */)[0].length));
      examples.push({
        line: current.line,
        code: body.map((l) => l.text.slice(indent).trimEnd()).join('\n'),
        lines: body.map((l) => l.line),
      });
      current = null;
    };
    for (let i = 0; i < lines.length; i++) {
      let s = lines[i];
      while (s !== null) {
        const at = s.search(/(^|\s)@example(?=\s|$)/);
        if (!current && at < 0) break;
        if (current) {
          // A block tag ends the example; on the example's own line only a tag after it does.
          const tag = s.match(TAG);
          if (tag) {
            current.lines.push({ text: s.slice(0, tag.index), line: startLine + i });
            finish();
            s = s.slice(tag.index + tag[1].length);
            continue;
          }
          current.lines.push({ text: s, line: startLine + i });
          break;
        }
        const after = s.slice(s.indexOf('@example', at) + '@example'.length);
        current = { line: startLine + i, lines: [] };
        s = after;
      }
    }
    finish();
  }
  return examples;
}

/** Every example of packages/*\/src: `{ file (relative to the repository), line, code }`. */
export function extractExamples() {
  const out = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('@example')) continue;
    for (const ex of extractFromText(text)) out.push({ file: relative(ROOT, file).split(sep).join('/'), ...ex });
  }
  return out;
}

/** Why an example is not typechecked, or null if it is. */
export function skipReason(code) {
  const first = code.split('\n')[0];
  if (/^\$ /.test(first) || /^tessera(\s|$)/.test(first)) return 'shell command line';
  if (!code.trim()) return 'empty';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Generation

/**
 * The names a source file exports, as `{ name, type }` (`type` for type-only exports), read
 * with regular expressions: `export { a, type B } from`, `export * as ns from` and
 * `export function/const/class/interface/type ...`.
 */
export function moduleExports(file) {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const names = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (let entry of m[2].split(',')) {
      entry = entry.trim();
      if (!entry) continue;
      const type = Boolean(m[1]) || entry.startsWith('type ');
      const name = entry
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)
        .trim();
      names.push({ name, type });
    }
  }
  for (const m of text.matchAll(/export\s+\*\s+as\s+(\w+)/g)) names.push({ name: m[1], type: false });
  const declaration = /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(function\*?|const|let|var|class|enum|interface|type)\s+(\w+)/gm;
  for (const m of text.matchAll(declaration)) names.push({ name: m[2], type: m[1] === 'interface' || m[1] === 'type' });
  return names;
}

/** The names @tessera/nn exports, as `{ name, type }`, read from packages/nn/src/index.ts. */
export function nnExports() {
  return moduleExports('packages/nn/src/index.ts');
}

/** Splits an example into its import declarations and the rest. */
function splitImports(code) {
  const lines = code.split('\n');
  const imports = [];
  const body = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^import[\s{*'"]/.test(lines[i])) {
      // An import may span lines: it ends with its module specifier.
      const start = i;
      while (i < lines.length - 1 && !/(from\s*|^import\s*)['"][^'"]+['"];?\s*(\/\/.*)?$/.test(lines[i])) i++;
      imports.push({ text: lines.slice(start, i + 1).join('\n'), line: start });
    } else {
      body.push({ text: lines[i], line: i });
    }
  }
  return { imports, body };
}

/** The local names an import declaration binds. */
function importedNames(text) {
  const names = [];
  const clause = text.replace(/\s+/g, ' ').match(/^import (type )?(.*?) from /);
  if (!clause) return names;
  let rest = clause[2];
  const braces = rest.match(/\{(.*)\}/);
  if (braces) {
    for (const spec of braces[1].split(',')) {
      const n = spec
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)
        ?.trim();
      if (n) names.push(n);
    }
    rest = rest.replace(braces[0], '');
  }
  for (const part of rest.split(',')) {
    const ns = part.trim().match(/^\*\s*as\s+(\w+)$/);
    if (ns) names.push(ns[1]);
    else if (/^\w+$/.test(part.trim())) names.push(part.trim());
  }
  return names;
}

/**
 * The module for one example (`file`: its source, relative to the repository; `outDir`: where
 * the module goes), and a map from the module's lines (0-based) to the example's lines
 * (0-based; -1 for prelude lines).
 */
export function exampleModule(code, file, outDir = OUT_DIR, nn = nnExports(), self = file ? moduleExports(file) : []) {
  const { imports, body } = splitImports(code);
  const own = new Set(imports.flatMap((im) => importedNames(im.text)));
  const bound = new Set([...own, ...PRELUDE_NAMESPACES.map(([name]) => name)]);
  // The exports of the example's own file, as if the example were written inside it: they win
  // over a prelude name of @tessera/nn (the wasm backend's batchNorm kernel is not nn's).
  const words = new Set(code.match(/[A-Za-z_$][\w$]*/g));
  // (an overloaded function is one name, whatever its declarations)
  const fromSelf = self.filter((e, i) => words.has(e.name) && !bound.has(e.name) && self.findIndex((o) => o.name === e.name) === i);
  const selfNames = new Set(fromSelf.map((e) => e.name));
  const out = [];
  const map = [];
  const emit = (text, line = -1) => {
    for (const [k, s] of text.split('\n').entries()) {
      out.push(s);
      map.push(line < 0 ? -1 : line + k);
    }
  };
  emit('// Generated by scripts/jsdoc-examples.mjs from a JSDoc @example: edit the example, not this file.');
  for (const [name, mod] of PRELUDE_NAMESPACES) if (!own.has(name)) emit(`import * as ${name} from '${mod}';`);
  const values = nn.filter((e) => !e.type && !own.has(e.name) && !selfNames.has(e.name)).map((e) => e.name);
  const types = nn.filter((e) => e.type && !own.has(e.name) && !selfNames.has(e.name)).map((e) => `type ${e.name}`);
  emit(`import { ${[...values, ...types].join(', ')} } from '@tessera/nn';`);
  if (fromSelf.length) {
    const specifier = `${relative(outDir, ROOT).split(sep).join('/')}/${file.replace(/\.ts$/, '.js')}`;
    emit(`import { ${fromSelf.map((e) => (e.type ? `type ${e.name}` : e.name)).join(', ')} } from '${specifier}';`);
  }
  for (const im of imports) emit(im.text, im.line);
  for (const [name, type] of FREE_VARIABLES) if (!own.has(name) && !selfNames.has(name)) emit(`declare const ${name}: ${type};`);
  emit('export async function example() {');
  for (const b of body) emit(b.text, b.line);
  emit('}');
  return { text: `${out.join('\n')}\n`, map };
}

/** The tsconfig of the generated folder: the packages' options, and paths to their sources. */
function tsconfig(outDir) {
  const up = relative(outDir, ROOT).split(sep).join('/');
  const src = (pkg, file = 'index.ts') => [`${up}/packages/${pkg}/src/${file}`];
  return {
    extends: `${up}/tsconfig.base.json`,
    compilerOptions: {
      noEmit: true,
      composite: false,
      declaration: false,
      declarationMap: false,
      sourceMap: false,
      noUnusedLocals: false,
      noUnusedParameters: false,
      paths: {
        '@tessera/core': src('core'),
        '@tessera/webgpu': src('webgpu'),
        '@tessera/reference': src('reference'),
        '@tessera/wasm': src('wasm'),
        '@tessera/node': src('node'),
        '@tessera/nn': src('nn'),
        '@tessera/data': src('data'),
        '@tessera/data/node': src('data', 'node.ts'),
      },
    },
    include: ['./*.ts'],
  };
}

/**
 * Writes one module per checked example, and the tsconfig, to `outDir` (emptied first).
 * Returns the examples, each with `module` (its file name) or `skip` (why not checked).
 */
export function generate(outDir = OUT_DIR) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const nn = nnExports();
  const examples = extractExamples();
  for (const [i, ex] of examples.entries()) {
    const skip = skipReason(ex.code);
    if (skip) {
      ex.skip = skip;
      continue;
    }
    const base = ex.file
      .replace(/^packages\//, '')
      .replace(/\/src\//, '_')
      .replace(/\.ts$/, '')
      .replace(/[^A-Za-z0-9]+/g, '_');
    ex.module = `${String(i).padStart(3, '0')}_${base}_L${ex.line}.ts`;
    const { text, map } = exampleModule(ex.code, ex.file, outDir, nn);
    ex.map = map;
    writeFileSync(join(outDir, ex.module), text);
  }
  writeFileSync(join(outDir, 'tsconfig.json'), `${JSON.stringify(tsconfig(outDir), null, 2)}\n`);
  return examples;
}

// ---------------------------------------------------------------------------------------------
// Checking

function runTsc(project) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? err.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Parses tsc's output into `{ module, line, message }` diagnostics (line 1-based) and other lines. */
function parseDiagnostics(output) {
  const diagnostics = [];
  const other = [];
  let last = null;
  for (const raw of output.split('\n')) {
    if (!raw.trim()) continue;
    // `path(line,col): error TSxxxx: message`, continued on indented lines.
    const d = raw.match(/^(.*?)\((\d+),(\d+)\): (?:error|warning) (TS(\d+): .*)$/);
    if (d?.[1].includes('jsdoc-examples')) {
      last = { module: d[1].split(/[\\/]/).at(-1), line: Number(d[2]), message: d[4], code: Number(d[5]) };
      diagnostics.push(last);
    } else if (last && /^\s/.test(raw)) {
      last.message += `\n    ${raw.trim()}`;
    } else {
      other.push(raw);
      last = null;
    }
  }
  return { diagnostics, other };
}

/**
 * Generates and typechecks every example. Resolves to `{ examples, failures, skipped, other, outDir }`:
 * `failures` lists `{ file, line, module, code, errors: string[] }` per broken example, each
 * error starting with the `file:line` of the package source it is about; `other` holds
 * compiler output that maps to no example.
 */
export async function checkExamples(outDir = OUT_DIR) {
  const examples = generate(outDir);
  const byModule = new Map(examples.filter((e) => e.module).map((e) => [e.module, e]));
  let { diagnostics, other } = parseDiagnostics((await runTsc(join(outDir, 'tsconfig.json'))).output);
  // tsc reports no type errors at all while any file has a syntax error (TS1xxx), so the
  // examples that parsed are checked again without those that did not.
  if (diagnostics.some((d) => d.code < 2000)) {
    const broken = new Set(diagnostics.map((d) => d.module));
    const rest = [...byModule.keys()].filter((m) => !broken.has(m));
    const retry = join(outDir, 'tsconfig.retry.json');
    writeFileSync(retry, `${JSON.stringify({ extends: './tsconfig.json', include: [], files: rest.map((m) => `./${m}`) }, null, 2)}\n`);
    const again = parseDiagnostics((await runTsc(retry)).output);
    diagnostics = [...diagnostics, ...again.diagnostics];
    other = [...other, ...again.other];
  }
  const failures = new Map();
  for (const d of diagnostics) {
    const ex = byModule.get(d.module);
    if (!ex) {
      other.push(`${d.module}(${d.line}): ${d.message}`);
      continue;
    }
    const exLine = ex.map[d.line - 1];
    const srcLine = exLine === undefined || exLine < 0 ? ex.line : ex.lines[exLine];
    const f = failures.get(ex) ?? { file: ex.file, line: ex.line, module: ex.module, code: ex.code, errors: [] };
    failures.set(ex, f);
    const error = `${ex.file}:${srcLine}: ${d.message}`;
    if (!f.errors.includes(error)) f.errors.push(error);
    if (d.code < 2000 && /^\{[\s\S]*\}[;\s]*$/.test(ex.code) && f.errors.length === 1) {
      f.errors.push('(hint: a bare object literal parses as a block; write `const opts: SomeOptions = { ... };`)');
    }
  }
  return { examples, failures: [...failures.values()], skipped: examples.filter((e) => e.skip), other, outDir };
}

/** A report of `checkExamples`'s result, for people. */
export function formatReport({ examples, failures, skipped, other, outDir = OUT_DIR }) {
  const dir = relative(ROOT, outDir).split(sep).join('/');
  const lines = [];
  const checked = examples.length - skipped.length;
  lines.push(`${examples.length} JSDoc examples: ${checked} typechecked, ${skipped.length} skipped, ${failures.length} failing.`);
  for (const s of skipped) lines.push(`  skipped ${s.file}:${s.line} (${s.skip}): ${s.code.split('\n')[0]}`);
  for (const f of failures) {
    lines.push('');
    lines.push(`FAIL ${f.file}:${f.line}  (${dir}/${f.module})`);
    for (const e of f.errors) lines.push(`  ${e}`);
  }
  if (other.length) lines.push('', 'Compiler output not tied to an example:', ...other.map((s) => `  ${s}`));
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--list')) {
    for (const ex of extractExamples()) console.log(`--- ${ex.file}:${ex.line}${skipReason(ex.code) ? ` (skipped: ${skipReason(ex.code)})` : ''}\n${ex.code}`);
  } else {
    const result = await checkExamples();
    console.log(formatReport(result));
    process.exitCode = result.failures.length || result.other.length ? 1 : 0;
  }
}
