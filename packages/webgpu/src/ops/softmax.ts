import { softmaxRows } from '@tessera/core';
import { grid1d, kernelCall } from '../spec.js';
import { bucketKey } from '../tune/sites.js';
import type { KernelBuilder, KernelBuilders } from './context.js';

function softmax(log: boolean): KernelBuilder<'softmax' | 'logSoftmax'> {
  return ({ inputs: [x], out, params }, { caps, variant }) => {
    const r = softmaxRows(x!.shape, params.axis);
    // A GPU gets a workgroup per row once rows are wide enough to share; a CPU adapter, which
    // runs barrier-free code fastest, keeps a thread per row.
    const wide = r.D >= 64;
    const pick = !caps.registerTiling && wide ? 'workgroup' : 'thread';
    const rows = variant('softmax', bucketKey({ rows: r.rows, D: r.D }), wide ? ['thread', 'workgroup'] : ['thread'], pick) === 'workgroup';
    return kernelCall({
      kernel: rows ? 'softmaxRows' : 'softmax',
      constants: { LOG: log ? 1 : 0 },
      uniforms: r,
      buffers: { x: x!.buf, out: out.buf },
      workgroups: grid1d(rows ? r.rows * 64 : r.rows),
    });
  };
}

export const softmaxKernels: KernelBuilders<'softmax' | 'logSoftmax' | 'softmaxBackward' | 'softmaxCrossEntropy' | 'softmaxCrossEntropyBackward'> = {
  softmax: softmax(false),
  logSoftmax: softmax(true),
  softmaxBackward({ inputs: [y, dy], out, params }) {
    const r = softmaxRows(y!.shape, params.axis);
    return kernelCall({
      kernel: 'softmaxBackward',
      constants: { LOG: params.log ? 1 : 0 },
      uniforms: r,
      buffers: { y: y!.buf, dy: dy!.buf, dx: out.buf },
      workgroups: grid1d(r.rows),
    });
  },
  softmaxCrossEntropy({ inputs: [x, labels], out, aux: [stats] }) {
    const [N, C] = x!.shape as [number, number];
    return kernelCall({
      kernel: 'crossEntropy',
      constants: { LABEL_INT: labels!.dtype === 'int32' ? 1 : 0 },
      uniforms: { N, C },
      buffers: { x: x!.buf, labels: labels!.buf, out: out.buf, stats: stats!.buf },
      workgroups: grid1d(N),
    });
  },
  softmaxCrossEntropyBackward({ inputs: [x, labels, stats, dy], out }) {
    const [N, C] = x!.shape as [number, number];
    return kernelCall({
      kernel: 'crossEntropyBackward',
      constants: { LABEL_INT: labels!.dtype === 'int32' ? 1 : 0 },
      uniforms: { N, C },
      buffers: { x: x!.buf, labels: labels!.buf, stats: stats!.buf, dy: dy!.buf, dx: out.buf },
      workgroups: grid1d(N * C),
    });
  },
};
