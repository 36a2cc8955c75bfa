/**
 * LeNet-5, forward and backward on a batch of 4, against PyTorch (scripts/golden/lenet.py):
 * conv 6@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, dense 120, 84, 10, ReLU,
 * mean cross-entropy. Every parameter gradient must match to 1e-4 relative.
 */
import { expect, it } from 'vitest';
import { ts, describeEachBackend, expectClose, loadGolden } from '../helpers/index.js';

interface LenetFixture {
  x: { shape: number[]; seed: number; scale: number };
  labels: number[];
  params: { name: string; shape: number[]; seed: number; scale: number }[];
  loss: number;
  logits: number[];
  grads: Record<string, { shape: number[]; f32: string }>;
}

/**
 * The generator scripts/golden/lenet.py uses: a murmur-style integer mix of (index, seed) to 24
 * bits, scaled by a power of two, so every value is exact in float32 and equal on both sides.
 */
function hashValues(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + Math.imul(seed, 0x85ebca77)) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39) >>> 0;
    h ^= h >>> 15;
    out[i] = ((h >>> 8) / 16777216 - 0.5) * 2 * scale;
  }
  return out;
}

const decode = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** |a - e| <= tol * (|e| + max|e|) elementwise, and ||a - e|| <= tol * ||e||. */
function expectRelative(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(actual, expected, { rtol: tol, atol: tol * scale, what });
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i]! - expected[i]!) ** 2;
    den += expected[i]! ** 2;
  }
  expect(Math.sqrt(num / den), `${what}: relative error in norm`).toBeLessThan(tol);
}

describeEachBackend('LeNet-5 matches PyTorch', () => {
  it('loss, logits and every parameter gradient on batch 4', async () => {
    const fx = loadGolden<LenetFixture>('lenet_grads.json');
    const P: Record<string, ts.Tensor> = {};
    for (const p of fx.params) {
      P[p.name] = ts.tensor(
        hashValues(
          p.shape.reduce((a, b) => a * b, 1),
          p.seed,
          p.scale,
        ),
        { shape: p.shape, requiresGrad: true },
      );
    }
    const x = ts.tensor(
      hashValues(
        fx.x.shape.reduce((a, b) => a * b, 1),
        fx.x.seed,
        fx.x.scale,
      ),
      { shape: fx.x.shape },
    );
    const labels = ts.tensor(fx.labels, { dtype: 'int32' });

    const { loss, logits } = ts.tidy(() => {
      let h = ts.conv2d(x, P['conv1.w']!, P['conv1.b']!, { padding: 2, activation: 'relu' });
      h = ts.maxPool2d(h, { kernelSize: 2 });
      h = ts.conv2d(h, P['conv2.w']!, P['conv2.b']!, { activation: 'relu' });
      h = ts.maxPool2d(h, { kernelSize: 2 }).flatten();
      h = ts.linear(h, P['fc1.w']!, P['fc1.b']!, { activation: 'relu' });
      h = ts.linear(h, P['fc2.w']!, P['fc2.b']!, { activation: 'relu' });
      const logits = ts.linear(h, P['fc3.w']!, P['fc3.b']!);
      return { loss: ts.crossEntropy(logits, labels), logits };
    });
    expectClose(await logits.data(), fx.logits, { rtol: 1e-5, atol: 1e-6, what: 'logits' });
    expectClose([await loss.item()], [fx.loss], { rtol: 1e-5, what: 'loss' });
    loss.backward();

    expect(Object.keys(fx.grads).sort()).toEqual(Object.keys(P).sort());
    for (const [name, g] of Object.entries(fx.grads)) {
      const grad = P[name]!.grad;
      expect(grad, `${name}.grad`).toBeTruthy();
      expect([...grad!.shape]).toEqual(g.shape);
      expectRelative((await grad!.data()) as Float32Array, decode(g.f32), 1e-4, `grad of ${name}`);
    }
    ts.dispose([P, x, labels, loss, logits]);
  });
});
