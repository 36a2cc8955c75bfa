// Measures the WebAssembly SIMD kernels single-threaded against PyTorch CPU (one thread):
// matmul 1024^3 and [64,400]@[400,120], and the two LeNet-5 convolutions at batch 64 (forward,
// input gradient, filter gradient). Reports GFLOP/s (best of the repeats: the machine is
// shared) and the fraction of one core's 128-bit peak at the clock given by --ghz: 16 flops a
// cycle (WebAssembly SIMD has no fused multiply-add; an AMD Zen core issues two 4-lane multiplies
// and two 4-lane adds a cycle). The VM reports its base clock; a boosted core can pass 100%.
// Then LeNet-5's two max pools at batch 64 (2x2, stride 2), forward and gradient, in µs per
// call and ns per output.
//
//   nice -n -15 node bench/wasm-kernels.mjs [--reps 10] [--ghz 2.1] [--no-torch]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const reps = opt('--reps', 10);
const ghz = opt('--ghz', 2.1);

const src = readFileSync(new URL('../packages/wasm/src/kernel-module.generated.ts', import.meta.url), 'utf8');
const base64 = /WASM_BYTES_BASE64 =\s*'([^']*)'/.exec(src)[1];
const memory = new WebAssembly.Memory({ initial: 4096 });
const { instance } = await WebAssembly.instantiate(Buffer.from(base64, 'base64'), { env: { memory } });
/** @type {Record<string, (...a: number[]) => number>} */
const e = /** @type {any} */ (instance.exports);

let next = 1 << 16;
/** A float32 buffer of n random values in the module's memory; returns its byte offset. */
const buf = (n) => {
  const ptr = next;
  next += Math.ceil((n * 4) / 16) * 16 + 64;
  const f = new Float32Array(memory.buffer, ptr, n);
  for (let i = 0; i < n; i++) f[i] = Math.random() - 0.5;
  return ptr;
};
const scratch = (bytes) => {
  const ptr = next;
  next += Math.ceil(bytes / 16) * 16;
  return ptr;
};

/** Best seconds of `reps` runs of fn (after one warm-up). */
function best(fn) {
  fn();
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

function matmul(M, K, N) {
  const [a, b, c] = [buf(M * K), buf(K * N), buf(M * N)];
  const s = scratch(e.gemmScratchBytes(N, K));
  return best(() => e.gemm(a, K, 1, b, N, 1, c, N, N, K, 0, M, 0, s));
}

/**
 * The three convolutions of x [N, C, H, W], w [F, C, k, k], padding p, as the wrappers in
 * packages/wasm/src/kernels/conv.ts run them: the forward with the direct kernel (padPlanes +
 * convDirect), the input gradient as GEMM + col2im, the filter gradient as im2col + dotRows.
 */
function conv(N, C, H, W, F, k, p) {
  const [OH, OW] = [H + 2 * p - k + 1, W + 2 * p - k + 1];
  const [P, taps] = [OH * OW, C * k * k];
  const geo = [C, H, W, k, k, 1, 1, 1, 1, p, p, OH, OW];
  const [x, w, y, b, dx, dw] = [buf(N * C * H * W), buf(F * taps), buf(N * F * P), buf(F), buf(N * C * H * W), buf(F * (taps + 1))];
  const col = scratch(taps * P * 4);
  const zeros = scratch(P * 4);
  e.zero(zeros, P * 4);
  const wp = scratch(e.packedFilterBytes(F, C, k, k));
  const s = scratch(e.gemmScratchBytes(P, F));
  const [Hp, Wp] = [H + 2 * p, W + 2 * p];
  const xp = scratch(4 * e.paddedFloats(C, Hp, Wp));
  const acc = scratch(8 * F);
  const offs = scratch(4 * taps);
  const fwd = best(() => {
    e.packFilters(w, F, C, k, k, wp);
    for (let n = 0; n < N; n++) {
      e.padPlanes(x + 4 * n * C * H * W, C, H, W, p, p, Hp, Wp, xp);
      e.convDirect(xp, C, Hp, Wp, wp, F, k, k, y + 4 * n * F * P, OH, OW, b, 1, offs);
    }
  });
  const bwdInput = best(() => {
    e.zero(dx, 4 * N * C * H * W);
    for (let n = 0; n < N; n++) {
      e.gemm(w, 1, taps, y + 4 * n * F * P, P, 1, col, P, P, F, 0, taps, 0, s);
      e.col2im(col, ...geo, dx + 4 * n * C * H * W);
    }
  });
  const bwdFilter = best(() => {
    e.zero(dw, 4 * F * (taps + 1));
    e.zero(acc, 8 * F);
    for (let n = 0; n < N; n++) {
      e.im2col(x + 4 * n * C * H * W, ...geo, col);
      e.dotRows(y + 4 * n * F * P, F, col, taps, P, dw, taps + 1, zeros);
      e.sumRows(y + 4 * n * F * P, F, P, acc);
    }
    e.storeF64(acc, F, dw + 4 * taps, taps + 1);
  });
  return { fwd, bwdInput, bwdFilter, flops: 2 * N * F * P * taps };
}

/**
 * maxPool2d of x [N, C, H, W] with a k x k window and stride k, and its gradient from the
 * forward's argmax, as packages/wasm/src/kernels/pool.ts runs them (all planes in one call).
 */
function pool(N, C, H, W, k) {
  const [OH, OW] = [Math.floor((H - k) / k) + 1, Math.floor((W - k) / k) + 1];
  const planes = N * C;
  const [x, y, dy, dx] = [buf(planes * H * W), buf(planes * OH * OW), buf(planes * OH * OW), buf(planes * H * W)];
  const arg = scratch(4 * planes * OH * OW);
  const fwd = best(() => e.maxPool2d(x, y, arg, planes, H, W, OH, OW, k, k, k, k, 0, 0));
  const bwd = best(() => e.maxPool2dBackward(dy, arg, dx, planes, H, W, OH * OW));
  return { fwd, bwd, outputs: planes * OH * OW };
}

const torchScript = `
import torch, time, json, sys
torch.set_num_threads(1)
reps = ${reps}
def best(fn):
    fn(); t = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t = min(t, time.perf_counter() - t0)
    return t
out = {}
for M, K, N in [(1024, 1024, 1024), (64, 400, 120)]:
    a, b = torch.rand(M, K), torch.rand(K, N)
    out[f"mm{M}x{K}x{N}"] = best(lambda: a @ b)
for name, (N, C, H, F, k, p) in {"conv1": (64, 1, 28, 6, 5, 2), "conv2": (64, 6, 14, 16, 5, 0)}.items():
    x = torch.rand(N, C, H, H, requires_grad=True); w = torch.rand(F, C, k, k, requires_grad=True); bias = torch.rand(F)
    out[name + "fwd"] = best(lambda: torch.relu(torch.nn.functional.conv2d(x, w, bias, padding=p)))
    y = torch.nn.functional.conv2d(x, w, None, padding=p); g = torch.rand_like(y)
    out[name + "bwdInput"] = best(lambda: torch.nn.grad.conv2d_input(x.shape, w, g, padding=p))
    out[name + "bwdFilter"] = best(lambda: torch.nn.grad.conv2d_weight(x, w.shape, g, padding=p))
for name, (N, C, H) in {"pool1": (64, 6, 28), "pool2": (64, 16, 10)}.items():
    x = torch.rand(N, C, H, H) - 0.5
    out[name + "fwd"] = best(lambda: torch.nn.functional.max_pool2d(x, 2, 2, return_indices=True))
    y, idx = torch.nn.functional.max_pool2d(x, 2, 2, return_indices=True); g = torch.rand_like(y)
    out[name + "bwd"] = best(lambda: torch.ops.aten.max_pool2d_with_indices_backward(g, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx))
print(json.dumps(out))
`;
/** PyTorch's best seconds per case, or null without a python3 with torch. */
function torchTimes() {
  if (args.includes('--no-torch')) return null;
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', torchScript], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout);
  }
  return null;
}

const rows = [];
const peak = 16 * ghz;
const add = (name, flops, secs, torchSecs) => {
  const gf = flops / secs / 1e9;
  const tgf = torchSecs ? flops / torchSecs / 1e9 : null;
  rows.push({
    case: name,
    'wasm GFLOP/s': gf.toFixed(2),
    'of peak': `${((100 * gf) / peak).toFixed(0)}%`,
    'torch GFLOP/s': tgf ? tgf.toFixed(2) : '-',
    'wasm/torch': tgf ? (gf / tgf).toFixed(2) : '-',
  });
};
const mm1 = matmul(1024, 1024, 1024);
const mm2 = matmul(64, 400, 120);
const c1 = conv(64, 1, 28, 28, 6, 5, 2);
const c2 = conv(64, 6, 14, 14, 16, 5, 0);
const p1 = pool(64, 6, 28, 28, 2);
const p2 = pool(64, 16, 10, 10, 2);
const t = torchTimes();
add('matmul 1024x1024x1024', 2 * 1024 ** 3, mm1, t?.mm1024x1024x1024);
add('matmul [64,400]@[400,120]', 2 * 64 * 400 * 120, mm2, t?.mm64x400x120);
/** @type {[string, string, typeof c1][]} */
const convs = [
  ['conv1', 'conv1 x[64,1,28,28] w[6,1,5,5] p2', c1],
  ['conv2', 'conv2 x[64,6,14,14] w[16,6,5,5]', c2],
];
for (const [key, name, c] of convs) {
  add(`${name} fwd+bias+relu`, c.flops, c.fwd, t?.[`${key}fwd`]);
  add(`${name} input grad`, c.flops, c.bwdInput, t?.[`${key}bwdInput`]);
  add(`${name} filter grad`, c.flops, c.bwdFilter, t?.[`${key}bwdFilter`]);
}
console.log(
  `peak assumed: 16 flops/cycle x ${ghz} GHz = ${peak.toFixed(1)} GFLOP/s (128-bit SIMD, separate multiply and add pipes, no FMA)${t ? '' : '; PyTorch not found'}`,
);
console.table(rows);

const poolRows = [];
/** @type {[string, string, typeof p1][]} */
const pools = [
  ['pool1', 'maxPool2d x[64,6,28,28] 2x2 s2', p1],
  ['pool2', 'maxPool2d x[64,16,10,10] 2x2 s2', p2],
];
for (const [key, name, p] of pools) {
  for (const [pass, secs] of /** @type {const} */ ([
    ['fwd', p.fwd],
    ['bwd', p.bwd],
  ])) {
    const ts = t?.[`${key}${pass}`];
    poolRows.push({
      case: `${name} ${pass === 'fwd' ? 'forward' : 'gradient'}`,
      'wasm µs': (secs * 1e6).toFixed(1),
      'ns/output': ((secs * 1e9) / p.outputs).toFixed(2),
      'torch µs': ts ? (ts * 1e6).toFixed(1) : '-',
      'wasm/torch time': ts ? (secs / ts).toFixed(2) : '-',
    });
  }
}
console.table(poolRows);
