/**
 * Every user-facing failure goes through `opError`, so messages share one shape:
 * `<op>: <what is wrong>. <what to do>` with shapes printed as `[2,3]`.
 */

/** Formats a shape the way error messages print it, e.g. `[2,3]` (a scalar is `[]`). */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Builds an Error that names the op, the problem and, optionally, a fix.
 *
 * @example
 * throw opError('matmul', `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`, 'transpose one input');
 */
export function opError(op: string, problem: string, hint?: string): Error {
  return new Error(`${op}: ${problem}${hint ? `. ${hint}` : ''}`);
}

/** Throws unless `value` is a finite number (and an integer when `integer` is set). */
export function checkNumber(op: string, name: string, value: unknown, opts: { integer?: boolean; min?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw opError(op, `${name} must be a finite number, got ${String(value)}`);
  }
  if (opts.integer && !Number.isInteger(value)) throw opError(op, `${name} must be an integer, got ${value}`);
  if (opts.min !== undefined && value < opts.min) throw opError(op, `${name} must be >= ${opts.min}, got ${value}`);
  return value;
}
