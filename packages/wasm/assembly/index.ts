// The kernel module's entry: re-exports every kernel, one file per family.
export { gemm, gemmScratchBytes, epilogue } from './gemm';
export { im2col, col2im, sumRows, storeF64, zero } from './conv';
export { padPlanes, paddedFloats, packFilters, packedFilterBytes, convDirect } from './direct';
export { dotRows } from './dots';
export { maxPool2d, maxPool2dBackward } from './pool';
export { binary, unary, reluBackward } from './elementwise';
export { sumAxis, extremeAxis } from './reduce';
export { copyBox, fill32, where } from './data';
export { unaryMath, cast } from './math';
export { softmaxCrossEntropy, softmaxCrossEntropyBackward } from './softmax';
export { update } from './optim';
export { batchNormStats, batchNormForward, batchNormGradSums, batchNormBackward, batchNormRunning } from './batchnorm';
export { colScratchBytes } from './batchnorm-columns';
export { softmaxRows, softmaxBackwardRows } from './softmax';
export { avgPool2d, avgPool2dBackward } from './avgpool';
export { powBinary } from './elementwise';
export { arange, random } from './creation';
export { mathF64 } from './fdlibm-lanes';
