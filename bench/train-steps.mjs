// LeNet-5 training steps (forward, backward, Adam), eager or compiled (nn.trainFunction): steps
// and images per second, host milliseconds per step (until the call returns, the device still
// busy) and dispatches per step. One module for bench/compile.mjs (standalone) and the suite's
// fact rows (bench/suite.mjs, in Node and in the browser page): it imports nothing.

/**
 * Figures of `steps` training steps of `mode` ('compiled' or 'eager') on one fixed batch, after
 * `warmup` steps (pipelines, optimizer state, the recording). `build` makes the network (a
 * record with `out`); default `nn.models.lenet5({ seed: 1 })`.
 *
 * @example
 * const row = await trainStepFigures(ts, nn, { batch: 16, steps: 20, mode: 'compiled' });
 * row.hostMsPerStep;   // 0.9 on SwiftShader, against about 6 eagerly
 * @param {any} ts the `@tessera/core` module (initialised)
 * @param {any} nn the `@tessera/nn` module
 * @param {{ batch?: number, steps?: number, mode?: string, warmup?: number, build?: () => { out: any } }} [opts]
 */
export async function trainStepFigures(ts, nn, { batch = 16, steps = 20, mode = 'compiled', warmup = 3, build } = {}) {
  if (mode !== 'compiled' && mode !== 'eager') throw new Error(`trainStepFigures: mode must be 'compiled' or 'eager', got ${String(mode)}`);
  const net = build ? build() : nn.models.lenet5({ seed: 1 });
  const opt = nn.updates.adam(nn.getAllParams(net.out, { trainable: true }), { learningRate: 1e-3 });
  const lossFn = (x, y) => ts.crossEntropy(nn.getOutput(net.out, x, { deterministic: false }), y);
  const compiled = mode === 'compiled' ? nn.trainFunction(lossFn, opt) : null;
  const x = ts.keep(ts.rand([batch, 1, 28, 28], { seed: 3 }));
  const y = ts.keep(
    ts.tensor(
      Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10),
      { dtype: 'int32' },
    ),
  );
  const step = () => {
    if (compiled) return compiled(x, y);
    const loss = ts.tidy(() => lossFn(x, y));
    void opt.step(loss);
    return loss;
  };
  try {
    for (let i = 0; i < warmup; i++) {
      const l = step();
      await l.data();
      l.dispose();
    }
    // Fused kernels are built in the background; the timed steps measure the fused form.
    await compiled?.ready();
    const d0 = ts.stats().dispatches;
    let host = 0;
    const t0 = performance.now();
    let last = null;
    for (let i = 0; i < steps; i++) {
      const h = performance.now();
      const loss = step();
      host += performance.now() - h;
      last?.dispose();
      last = loss;
    }
    const value = await last.item();
    const wall = performance.now() - t0;
    last.dispose();
    return {
      mode,
      stepsPerSecond: (steps * 1000) / wall,
      imagesPerSecond: (steps * batch * 1000) / wall,
      hostMsPerStep: host / steps,
      dispatchesPerStep: (ts.stats().dispatches - d0) / steps,
      loss: value,
    };
  } finally {
    compiled?.dispose();
    opt.dispose();
    nn.disposeLayers(net.out);
    ts.dispose([x, y]);
  }
}
