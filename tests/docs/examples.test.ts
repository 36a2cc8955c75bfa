// Every `@example` in the JSDoc of packages/*/src is typechecked, so that none can go stale.
// scripts/jsdoc-examples.mjs extracts them, writes one module per example to
// test-artifacts/jsdoc-examples/ (a shared prelude of imports and conventional free variables,
// then the example inside an async function) and runs tsc once over all of them. Run it by hand
// with `node scripts/jsdoc-examples.mjs` (or `--list` to see what is extracted).
import { beforeAll, describe, expect, it } from 'vitest';
import { checkExamples, exampleModule, extractExamples, extractFromText, formatReport, skipReason } from '../../scripts/jsdoc-examples.mjs';

describe('JSDoc @example extraction', () => {
  it('reads one-line examples, blocks, and stops at the next tag', () => {
    const text = [
      '/** Adds. @example ts.add(x, 1) */',
      'export const add = 1;',
      '/**',
      ' * Zeros.',
      ' *',
      ' * @example',
      ' * const z = ts.zeros([2]);',
      ' *   z.shape;',
      ' * @param shape the shape',
      ' * @example ts.zeros([3])',
      ' */',
    ].join('\n');
    expect(extractFromText(text)).toEqual([
      { line: 1, code: 'ts.add(x, 1)', lines: [1] },
      { line: 6, code: 'const z = ts.zeros([2]);\n  z.shape;', lines: [7, 8] },
      { line: 10, code: 'ts.zeros([3])', lines: [10] },
    ]);
  });

  it('skips shell command lines only', () => {
    expect(skipReason('tessera train --epochs 1')).toBe('shell command line');
    expect(skipReason('$ npx tessera info')).toBe('shell command line');
    expect(skipReason('const tessera = 1;')).toBeNull();
  });

  it("hoists the example's imports and drops the prelude's names it imports itself", () => {
    const { text } = exampleModule("import * as ts from '@tessera/core';\nimport { InputLayer } from '@tessera/nn';\nawait ts.init();", undefined);
    expect(text.match(/import \* as ts from/g)).toHaveLength(1);
    expect(text).not.toMatch(/[{,] InputLayer,/);
    expect(text).toMatch(/export async function example\(\) \{\nawait ts\.init\(\);\n\}/);
  });
});

// One tsc run checks every example; each source file is reported as its own test.
const files = [...new Set(extractExamples().map((e) => e.file))];

describe('JSDoc @example blocks typecheck', () => {
  let result: Awaited<ReturnType<typeof checkExamples>>;
  beforeAll(async () => {
    result = await checkExamples();
    const { examples, skipped, failures } = result;
    console.log(`${examples.length} JSDoc examples: ${examples.length - skipped.length} typechecked, ${skipped.length} skipped, ${failures.length} failing`);
    for (const s of skipped) console.log(`  skipped ${s.file}:${s.line} (${s.skip})`);
  });

  it('finds the examples, and tsc reports nothing outside them', () => {
    expect(result.examples.length).toBeGreaterThan(200);
    expect(result.other).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const failures = result.failures.filter((f) => f.file === file);
    if (failures.length)
      expect.fail(
        `\n${formatReport({ ...result, failures, skipped: [], other: [] })
          .split('\n')
          .slice(1)
          .join('\n')}`,
      );
  });
});
