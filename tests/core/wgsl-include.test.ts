// The embed step's #include resolution (scripts/embed-kernels.mjs): shared WGSL in kernels/lib
// is spliced into the kernels that include it, once per kernel, and WGSL_LINES maps every line
// of a resolved kernel back to the file and line it came from. Runs without a GPU.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WGSL, WGSL_LINES, type WgslLineRun } from '../../packages/webgpu/src/kernels.generated.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const script = join(repo, 'scripts/embed-kernels.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-wgsl-include-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let cases = 0;
/** Writes `files` (paths relative to a fresh kernels dir) and runs the embed step on them. */
function embed(files: Record<string, string>): { status: number | null; stderr: string; out: string; text: string } {
  const root = join(tmp, `case${cases++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'kernels', path)), { recursive: true });
    writeFileSync(join(root, 'kernels', path), text);
  }
  const out = join(root, 'generated.ts');
  const r = spawnSync(process.execPath, [script, join(root, 'kernels'), out], { encoding: 'utf8' });
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    // not written: the embed step failed
  }
  return { status: r.status, stderr: r.stderr, out, text };
}

/** The WGSL and WGSL_LINES records of a generated module, read back from its text. */
function parse(text: string): { wgsl: Record<string, string>; lines: Record<string, WgslLineRun[]> } {
  const wgsl = /export const WGSL: [^=]+= (\{[\s\S]*?\n\});/.exec(text)![1]!;
  const lines = /export const WGSL_LINES: [^=]+= (\{[\s\S]*?\n\});/.exec(text)![1]!;
  // Both are JSON but for trailing commas.
  const json = (s: string) => JSON.parse(s.replace(/,\n\}$/, '\n}'));
  return { wgsl: json(wgsl), lines: json(lines) };
}

/** Line n (1-based) of the resolved kernel, looked up through its runs: [file, line, from]. */
function origin(runs: readonly WgslLineRun[], n: number): [string, number, string] {
  const run = [...runs].reverse().find((r) => r.at <= n)!;
  return [run.file, run.line + n - run.at, (run.from ?? []).map(([f, l]) => `${f}:${l}`).join(' ')];
}

describe('WGSL #include', () => {
  it('splices lib files in place, nested, once per kernel, and maps every line back', () => {
    const r = embed({
      'a.wgsl': 'a1\n#include "lib/x.wgsl"\na3\n#include "lib/y.wgsl"\n#include "lib/x.wgsl"\na6\n',
      'b.wgsl': 'b1\nb2\n',
      'lib/x.wgsl': 'x1\n#include "lib/y.wgsl"\nx3\n',
      'lib/y.wgsl': 'y1\ny2\n',
    });
    expect(r.status, r.stderr).toBe(0);
    const { wgsl, lines } = parse(r.text);
    // lib files are not kernels.
    expect(Object.keys(wgsl)).toEqual(['a', 'b']);
    expect(wgsl.a).toBe('a1\nx1\ny1\ny2\nx3\na3\na6\n');
    expect(wgsl.b).toBe('b1\nb2\n');
    expect(lines.b).toEqual([{ at: 1, file: 'b', line: 1 }]);
    const got = wgsl
      .a!.split('\n')
      .slice(0, -1)
      .map((_, i) => origin(lines.a!, i + 1));
    expect(got).toEqual([
      ['a', 1, ''],
      ['lib/x', 1, 'a:2'],
      ['lib/y', 1, 'lib/x:2 a:2'],
      ['lib/y', 2, 'lib/x:2 a:2'],
      ['lib/x', 3, 'a:2'],
      ['a', 3, ''],
      ['a', 6, ''],
    ]);
  });

  it('leaves a file without includes byte for byte, and #include not at a line start alone', () => {
    const src = '// see #include "lib/x.wgsl"\n  fn f() {}\n';
    const r = embed({ 'k.wgsl': src, 'lib/x.wgsl': 'x\n' });
    expect(r.status, r.stderr).toBe(0);
    expect(parse(r.text).wgsl.k).toBe(src);
  });

  it('fails on a missing file, naming the including file and line', () => {
    const r = embed({ 'k.wgsl': 'k1\n#include "lib/x.wgsl"\n', 'lib/x.wgsl': 'x1\n\n#include "lib/nope.wgsl"\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('kernels/lib/x.wgsl:3: #include "lib/nope.wgsl": no file kernels/lib/nope.wgsl');
    expect(r.text).toBe('');
  });

  it('fails on a cycle, naming the including file and line and the chain', () => {
    const r = embed({ 'k.wgsl': '#include "lib/x.wgsl"\n', 'lib/x.wgsl': '#include "lib/y.wgsl"\n', 'lib/y.wgsl': 'y1\n#include "lib/x.wgsl"\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('kernels/lib/y.wgsl:2: #include "lib/x.wgsl" is a cycle: k.wgsl -> lib/x.wgsl -> lib/y.wgsl -> lib/x.wgsl');
  });

  it('fails on an #include that does not name a kernels/lib file', () => {
    for (const bad of ['#include lib/x.wgsl', '#include "../x.wgsl"', '#include "x.wgsl"', '#include "lib/x.wgsl" trailing']) {
      const r = embed({ 'k.wgsl': `k1\n${bad}\n`, 'x.wgsl': 'x\n', 'lib/x.wgsl': 'x\n' });
      expect(r.status, bad).not.toBe(0);
      expect(r.stderr, bad).toContain(`kernels/k.wgsl:2: expected #include "lib/<name>.wgsl", got: ${bad}`);
    }
  });

  it('writes the module only when its text changes', () => {
    const files = { 'k.wgsl': '#include "lib/x.wgsl"\nk2\n', 'lib/x.wgsl': 'x1\n' };
    const r = embed(files);
    const old = new Date('2001-01-01T00:00:00Z');
    utimesSync(r.out, old, old);
    const again = spawnSync(process.execPath, [script, dirname(r.out) + '/kernels', r.out], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(statSync(r.out).mtimeMs).toBe(old.getTime());
    expect(readFileSync(r.out, 'utf8')).toBe(r.text);
  });

  it('maps every line of the real kernels to its source file and line', () => {
    expect(Object.keys(WGSL_LINES)).toEqual(Object.keys(WGSL));
    expect(Object.keys(WGSL).some((k) => k.startsWith('lib/'))).toBe(false);
    const sources = new Map<string, string[]>();
    const source = (file: string) => {
      let s = sources.get(file);
      if (!s) sources.set(file, (s = readFileSync(join(repo, 'kernels', `${file}.wgsl`), 'utf8').split('\n')));
      return s;
    };
    for (const [name, code] of Object.entries(WGSL)) {
      expect(code, name).not.toMatch(/^#include/m);
      code
        .split('\n')
        .slice(0, -1)
        .forEach((text, i) => {
          const [file, line, from] = origin(WGSL_LINES[name]!, i + 1);
          expect(source(file)[line - 1], `${name}:${i + 1} -> ${file}:${line}`).toBe(text);
          // Each hop of the include chain is an #include line naming the file below it.
          let inner = file;
          for (const hop of from ? from.split(' ') : []) {
            const [f, l] = hop.split(':') as [string, string];
            expect(source(f)[Number(l) - 1], `${name}: ${hop}`).toBe(`#include "${inner}.wgsl"`);
            inner = f;
          }
          expect(inner, name).toBe(name);
        });
    }
  });
});
