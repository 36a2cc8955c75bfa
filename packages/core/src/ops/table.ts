import { convOps } from './conv.js';
import { creationOps } from './creation.js';
import { elementwiseOps } from './elementwise.js';
import { matmulOps } from './matmul.js';
import { normOps } from './norm.js';
import { reduceOps } from './reduce.js';
import { poolOps } from './pool.js';
import type { OpDefs, OpName } from './registry.js';
import { shapeOps } from './shape.js';
import { softmaxOps } from './softmax.js';

/**
 * The op table: every primitive's shape rule and gradient rule (how it runs is each backend's
 * kernel of the same name). Its type is a mapped type over `OpParams`, so an op without a
 * complete definition does not compile.
 */
export const OPS: OpDefs<OpName> = {
  ...creationOps,
  ...elementwiseOps,
  ...reduceOps,
  ...shapeOps,
  ...matmulOps,
  ...convOps,
  ...poolOps,
  ...softmaxOps,
  ...normOps,
};
