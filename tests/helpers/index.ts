/**
 * The one place for test helpers: closeness checks, finite-difference gradient checks, golden
 * fixture loading and a leak check.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect } from 'vitest';
import * as ts from '@tessera/core';

export { ts };

/**
 * The backends every golden test runs on: the WebGPU kernels, the float64 reference, and the
 * WebAssembly SIMD kernels (with the reference kernels as their fallback).
 */
export const BACKENDS = ['webgpu', 'reference', 'wasm'] as const;

/**
 * A describe block per backend (`backends`, default all), each starting that backend first, so an op's semantics are
 * pinned down on both (`describe.each` over BACKENDS).
 */
export function describeEachBackend(
  name: string,
  body: (backend: (typeof BACKENDS)[number]) => void,
  backends: readonly (typeof BACKENDS)[number][] = BACKENDS,
): void {
  describe.each([...backends])(`${name} [%s]`, (backend) => {
    beforeAll(async () => {
      await ts.init({ backend });
    });
    body(backend);
  });
}

/** Asserts |actual - expected| <= atol + rtol * |expected| elementwise, naming the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6, what = 'values' } = {}): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: index ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Reads a tensor and compares it with expected values and, optionally, a shape. */
export async function expectTensor(
  t: ts.Tensor,
  expected: ArrayLike<number>,
  opts: { shape?: readonly number[]; rtol?: number; atol?: number; what?: string } = {},
): Promise<void> {
  if (opts.shape) expect([...t.shape], `${opts.what ?? 'tensor'}: shape`).toEqual([...opts.shape]);
  expectClose(await t.data(), expected, opts);
}

export interface GoldenTensor {
  shape: number[];
  dtype?: 'float32' | 'int32' | 'float16';
  data: number[];
}

export interface GoldenCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: GoldenTensor[];
  output: GoldenTensor;
  cotangent?: GoldenTensor;
  grads?: (GoldenTensor | null)[];
}

/** Loads a committed fixture from tests/fixtures (written by scripts/golden/*.py). */
export function loadGolden<T = { cases: GoldenCase[] }>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), 'utf8')) as T;
}

const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };

/** A fixture's values as numbers: half.json writes NaN and ±Infinity as 'nan', 'inf', '-inf'. */
export const goldenValues = (g: GoldenTensor): number[] => g.data.map((v) => (typeof v === 'string' ? SPECIAL[v]! : v));

export function fromGolden(g: GoldenTensor, requiresGrad = false): ts.Tensor {
  const dtype = g.dtype ?? 'float32';
  const values = goldenValues(g);
  return ts.tensor(dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values), {
    shape: g.shape,
    dtype,
    requiresGrad: requiresGrad && dtype !== 'int32',
  });
}

/** Calls the Tessera function a CNN fixture case (cnn_ops.json, or matmul / linear of core_ops.json) describes. */
export function applyCnnCase(c: GoldenCase, xs: ts.Tensor[]): ts.Tensor {
  const p = c.params;
  switch (c.op) {
    case 'conv2d':
      return ts.conv2d(xs[0]!, xs[1]!, xs[2], p as ts.Conv2dOptions);
    case 'maxPool2d':
      return ts.maxPool2d(xs[0]!, p as unknown as ts.Pool2dOptions);
    case 'avgPool2d':
      return ts.avgPool2d(xs[0]!, p as unknown as ts.Pool2dOptions);
    case 'softmax':
      return ts.softmax(xs[0]!, p.axis as number);
    case 'logSoftmax':
      return ts.logSoftmax(xs[0]!, p.axis as number);
    case 'crossEntropy':
      return ts.crossEntropy(xs[0]!, xs[1]!, p as ts.CrossEntropyOptions);
    case 'matmul':
      return ts.matmul(xs[0]!, xs[1]!);
    case 'linear':
      return ts.linear(xs[0]!, xs[1]!, xs[2]);
    default:
      throw new Error(`no runner for op ${c.op}`);
  }
}

/**
 * Central finite differences of sum(f(inputs) * cotangent) against autograd, in float32.
 * `eps` is large because f32 round-off in f(x ± eps) would otherwise swamp the difference.
 */
export async function gradcheck(
  f: (...xs: ts.Tensor[]) => ts.Tensor,
  inputs: Float32Array[],
  shapes: number[][],
  { eps = 1e-2, rtol = 2e-2, atol = 2e-3 } = {},
): Promise<void> {
  const leaves = inputs.map((d, i) => ts.tensor(d, { shape: shapes[i], requiresGrad: true }));
  const out0 = f(...leaves);
  const cot = ts.randn(out0.shape, { seed: 7 });
  const cotData = await cot.data();
  ts.tidy(() => out0.mul(cot).sum()).backward();
  const evalAt = async (i: number, j: number, delta: number): Promise<number> => {
    const d = Float32Array.from(inputs[i]!);
    d[j]! += delta;
    return ts
      .tidy(() => {
        const xs = inputs.map((x, k) => ts.tensor(k === i ? d : x, { shape: shapes[k] }));
        const y = ts.noGrad(() => f(...xs));
        return y.mul(ts.tensor(cotData, { shape: y.shape })).sum();
      })
      .item();
  };
  for (let i = 0; i < inputs.length; i++) {
    const analytic = await leaves[i]!.grad!.data();
    const numeric = new Float32Array(inputs[i]!.length);
    for (let j = 0; j < numeric.length; j++) numeric[j] = ((await evalAt(i, j, eps)) - (await evalAt(i, j, -eps))) / (2 * eps);
    expectClose(analytic, numeric, { rtol, atol, what: `gradient of input ${i}` });
  }
  ts.dispose([leaves, out0, cot]);
}

/** Runs `fn` and asserts it leaves no tensors and no tensor bytes behind. */
export async function expectNoLeak(fn: () => unknown | Promise<unknown>, what = 'block'): Promise<void> {
  const before = ts.memory();
  await fn();
  const after = ts.memory();
  expect(after.tensors, `${what}: live tensors`).toBe(before.tensors);
  expect(after.bytes, `${what}: live bytes`).toBe(before.bytes);
}
