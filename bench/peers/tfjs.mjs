// TensorFlow.js peers: @tensorflow/tfjs-backend-webgpu (on the same Dawn GPU object as Tessera)
// and @tensorflow/tfjs-backend-cpu. tfjs is NHWC, so the NCHW specs of the catalogue are
// converted; the work (FLOPs, bytes) is the same. Gradients of single ops call tfjs's own
// backprop kernels directly (Conv2DBackpropInput/Filter, MaxPoolGrad), which is the cheapest path
// tfjs has, so these rows flatter tfjs slightly compared with Tessera's trip through its tape.
import { randomArray, randomLabels } from '../suite.mjs';

const prod = (s) => s.reduce((a, b) => a * b, 1);
const nhwc = ([n, c, h, w]) => [n, h, w, c];
const hwio = ([f, c, kh, kw]) => [kh, kw, c, f];

let tfPromise = null;

/**
 * Loads tfjs-core with both backends. `navigator.gpu` must already be set for webgpu.
 * Returns `{ tf, version, webgpu: { ok, why }, cpu: { ok, why } }`.
 */
export async function loadTfjs() {
  tfPromise ??= (async () => {
    // tfjs-core's Node bundle registers no gradients (the union package @tensorflow/tfjs does, in
    // its own bundle, on the same tfjs-core instance); import it when installed, as users do.
    const tf = await import('@tensorflow/tfjs-core');
    let gradients = false;
    try {
      await import('@tensorflow/tfjs');
      gradients = true;
    } catch {}
    const status = { tf, gradients, version: tf.version_core, webgpu: { ok: false, why: '' }, cpu: { ok: false, why: '' } };
    // tfjs prints a hint about tfjs-node on first use of the cpu backend in Node; keep stdout clean.
    const warn = console.warn;
    const log = console.log;
    try {
      console.warn = () => {};
      console.log = () => {};
      try {
        await import('@tensorflow/tfjs-backend-cpu');
        status.cpu.ok = await tf.setBackend('cpu');
        tf.tensor([1]).dispose(); // its first write prints the tfjs-node hint, silenced here
        if (!status.cpu.ok) status.cpu.why = 'tf.setBackend("cpu") returned false';
      } catch (e) {
        status.cpu.why = `tfjs-backend-cpu failed to load: ${e.message}`;
      }
      try {
        if (!globalThis.navigator?.gpu) throw new Error('navigator.gpu is not set');
        await import('@tensorflow/tfjs-backend-webgpu');
        status.webgpu.ok = await tf.setBackend('webgpu');
        if (!status.webgpu.ok) status.webgpu.why = 'tf.setBackend("webgpu") returned false (adapter or device request failed)';
      } catch (e) {
        status.webgpu.why = `tfjs-backend-webgpu failed to initialise: ${e.message}`;
      }
    } finally {
      console.warn = warn;
      console.log = log;
    }
    return status;
  })();
  return tfPromise;
}

/** Counts queue submits of tfjs-webgpu by wrapping its device's queue.submit. */
function submitCounter(tf) {
  const be = tf.backend();
  const q = be?.device?.queue ?? be?.queue;
  if (!q || q.__tesseraCount) return q?.__tesseraCount ?? null;
  const counter = { submits: 0 };
  try {
    const orig = q.submit.bind(q);
    q.submit = (bufs) => {
      counter.submits++;
      return orig(bufs);
    };
    q.__tesseraCount = counter;
    return counter;
  } catch {
    return null;
  }
}

/**
 * A peer implementation for `measure` on the given tfjs backend ('webgpu' | 'cpu').
 * @param {{ tf: any }} loaded the result of loadTfjs()
 */
export function tfjsImpl(loaded, backend) {
  const { tf } = loaded;
  return {
    name: `tfjs-${backend}`,
    async setup(bench) {
      await tf.setBackend(backend);
      await tf.ready();
      const r = setup(tf, backend, bench.spec);
      // The peers share one tfjs engine: switch to this backend before each sample, untimed.
      r.prepare = async () => {
        if (tf.getBackend() !== backend) await tf.setBackend(backend);
      };
      return r;
    },
  };
}

function setup(tf, backend, spec) {
  const T = (shape, seed, scale = 1) => tf.tensor(randomArray(prod(shape), seed, scale), shape);
  const on = (f) => f;
  const repeat = (op) =>
    on(async (inner) => {
      let y = null;
      for (let i = 0; i < inner; i++) {
        y?.dispose();
        y = op();
      }
      await y.data();
      y.dispose();
    });
  const keep = [];
  const done = () => tf.dispose(keep);
  const K = (t) => (keep.push(t), t);
  switch (spec.kind) {
    case 'matmul': {
      const a = K(T(spec.a, 1));
      const b = K(T(spec.b, 2));
      return { run: repeat(() => tf.matMul(a, b)), dispose: done };
    }
    case 'conv2d': {
      const xs = nhwc(spec.x);
      const ws = hwio(spec.w);
      const x = K(T(xs, 1));
      const w = K(T(ws, 2, 0.2));
      const pad = spec.pad;
      // dy: random, of the output's shape (computing it with tf.conv2d would cost tfjs-webgpu
      // seconds of untimed setup on SwiftShader).
      const [n, h, wd] = xs;
      const [kh, kw, , f] = ws;
      const dy = K(T([n, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1, f], 3));
      const attrs = { strides: [1, 1], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      if (spec.part === 'forward') return { run: repeat(() => tf.conv2d(x, w, 1, pad)), dispose: done };
      if (spec.part === 'input')
        return { run: repeat(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xs })), dispose: done };
      return { run: repeat(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws })), dispose: done };
    }
    case 'maxpool': {
      const x = K(T(nhwc(spec.x), 1));
      const k = spec.k;
      if (spec.part === 'forward') return { run: repeat(() => tf.maxPool(x, k, k, 'valid')), dispose: done };
      const y = K(tf.maxPool(x, k, k, 'valid'));
      const dy = K(T(y.shape, 3));
      return {
        run: repeat(() =>
          tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: [k, k], strides: [k, k], pad: 'valid', dimRoundingMode: undefined }),
        ),
        dispose: done,
      };
    }
    case 'softmax': {
      const x = K(T(spec.shape, 1, 3));
      return { run: repeat(() => tf.softmax(x, -1)), dispose: done };
    }
    case 'xent': {
      const [n, c] = spec.shape;
      const x = K(T(spec.shape, 1, 3));
      const onehot = K(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(randomLabels(n, c), 'int32'), c), 'float32')));
      const g = tf.grad((l) => tf.losses.softmaxCrossEntropy(onehot, l));
      return { run: repeat(() => g(x)), dispose: done };
    }
    case 'chain': {
      // tfjs-webgpu runs ops on tensors under 1000 elements on the CPU when their data is there
      // (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD). Start from a GPU-resident tensor so every add is a
      // real dispatch, which is what this row measures.
      const x = K(tf.tidy(() => tf.add(T(spec.shape, 1), 0)));
      return {
        run: on(async (inner) => {
          for (let k = 0; k < inner; k++) {
            let y = tf.add(x, 1);
            for (let i = 1; i < spec.n; i++) {
              const z = tf.add(y, 1);
              y.dispose();
              y = z;
            }
            await y.data();
            y.dispose();
          }
        }),
        dispose: done,
      };
    }
    case 'lenet-train':
      return lenetTrain(tf, backend, spec.batch, on);
    case 'lenet-infer':
      return lenetInfer(tf, spec.batch, on);
    default:
      throw new Error(`unknown benchmark kind ${spec.kind}`);
  }
}

/**
 * LeNet-5 written by hand (no tfjs-layers), NHWC, with tfjs's fused conv/matmul + bias + ReLU,
 * as tf.layers would use: conv 6@5×5 pad 2, pool 2, conv 16@5×5, pool 2, dense 120, 84, 10.
 */
function lenet(tf) {
  const glorot = (shape, fanIn, fanOut, seed) => tf.variable(tf.tensor(randomArray(prod(shape), seed, Math.sqrt(6 / (fanIn + fanOut))), shape));
  const zeros = (n) => tf.variable(tf.zeros([n]));
  const v = {
    c1w: glorot([5, 5, 1, 6], 25, 150, 1),
    c1b: zeros(6),
    c2w: glorot([5, 5, 6, 16], 150, 400, 2),
    c2b: zeros(16),
    f1w: glorot([400, 120], 400, 120, 3),
    f1b: zeros(120),
    f2w: glorot([120, 84], 120, 84, 4),
    f2b: zeros(84),
    f3w: glorot([84, 10], 84, 10, 5),
    f3b: zeros(10),
  };
  const forward = (x) => {
    let h = tf.fused.conv2d({ x, filter: v.c1w, strides: 1, pad: 2, bias: v.c1b, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: v.c2w, strides: 1, pad: 'valid', bias: v.c2b, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.reshape(h, [h.shape[0], 400]);
    h = tf.fused.matMul({ a: h, b: v.f1w, bias: v.f1b, activation: 'relu' });
    h = tf.fused.matMul({ a: h, b: v.f2w, bias: v.f2b, activation: 'relu' });
    return tf.fused.matMul({ a: h, b: v.f3w, bias: v.f3b });
  };
  return { v, forward };
}

function lenetTrain(tf, backend, batch, on) {
  const { v, forward } = lenet(tf);
  const opt = tf.train.adam(1e-3);
  const x = tf.tensor(randomArray(batch * 784, 11), [batch, 28, 28, 1]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(randomLabels(batch, 10), 'int32'), 10), 'float32'));
  const counter = backend === 'webgpu' ? submitCounter(tf) : null;
  let peak = 0;
  const notePeak = () => {
    const m = tf.memory();
    peak = Math.max(peak, m.numBytesAllocatedInGPU ?? m.numBytesInGPU ?? 0);
  };
  const step = () => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)), true);
  // Queue submits of the last timed sample (its steps, then the loss readback), per step.
  let submitsPerStep = null;
  return {
    run: on(async (inner) => {
      const s0 = counter?.submits;
      let loss = null;
      for (let i = 0; i < inner; i++) {
        loss?.dispose();
        loss = step();
        notePeak();
      }
      await loss.data();
      loss.dispose();
      notePeak();
      if (counter) submitsPerStep = (counter.submits - s0) / inner;
    }),
    async facts() {
      if (backend !== 'webgpu') return {};
      return { ...(submitsPerStep != null ? { submitsPerStep } : {}), peakBytes: peak };
    },
    dispose() {
      tf.dispose([x, y, ...Object.values(v)]);
      opt.dispose();
    },
  };
}

function lenetInfer(tf, batch, on) {
  const { v, forward } = lenet(tf);
  const x = tf.tensor(randomArray(batch * 784, 11), [batch, 28, 28, 1]);
  return {
    run: on(async (inner) => {
      let out = null;
      for (let i = 0; i < inner; i++) {
        out?.dispose();
        out = tf.tidy(() => forward(x));
      }
      await out.data();
      out.dispose();
    }),
    dispose() {
      tf.dispose([x, ...Object.values(v)]);
    },
  };
}
