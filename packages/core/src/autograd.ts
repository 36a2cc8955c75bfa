import { claim, overlapError, release, runIn, type ScopeState, syncContext } from './context.js';
import { currentState, engine, gradEnabled } from './engine.js';
import { isFloatDType } from './dtype.js';
import { fmtShape, opError } from './errors.js';
import { sameShape } from './shape.js';
import type { OpName } from './ops/registry.js';
import { OPS } from './ops/table.js';
import { Tensor } from './tensor.js';
import { tidy } from './api/memory.js';
import { closeScope, TidyScope } from './scope.js';

/** Where an input's gradient goes: the node that produced it, or the leaf that owns `.grad`. */
type GradSink = { node: GradNode; leaf?: undefined } | { leaf: Tensor; node?: undefined } | null;

/**
 * One recorded op. It holds internal handles to the tensors its gradient rule reads, so a user
 * may dispose intermediates (or leave them to `tidy`) before calling `backward()`.
 * Reference-counted by the tensor that carries it and by the nodes downstream of it.
 */
export class GradNode {
  private refs = 1;
  freed = false;
  constructor(
    readonly op: OpName,
    readonly params: unknown,
    readonly inputs: Tensor[],
    readonly out: Tensor,
    readonly aux: Tensor[],
    readonly sinks: GradSink[],
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const s of this.sinks) s?.node?.release();
  }

  /** Drops the saved tensors; the node stays in the graph but cannot be differentiated again. */
  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of [...this.inputs, this.out, ...this.aux]) t.dispose();
  }
}

/** Records `op` on the tape when grad mode is on and some input requires grad. */
export function record(op: OpName, params: unknown, inputs: readonly Tensor[], out: Tensor, aux: Tensor[]): void {
  if (OPS[op].grad === null || !gradEnabled()) return;
  const sinks: GradSink[] = inputs.map((t) => (t._node ? { node: t._node.retain() } : t.requiresGrad ? { leaf: t } : null));
  if (sinks.every((s) => s === null)) return;
  const saved = inputs.map((t) => t._internalView());
  out._node = new GradNode(op, params, saved, out._internalView(), aux, sinks);
  out.requiresGrad = true;
}

function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  const stack: [GradNode, boolean][] = [[root, false]];
  while (stack.length) {
    const [n, expanded] = stack.pop()!;
    if (expanded) {
      order.push(n);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push([n, true]);
    for (const s of n.sinks) if (s?.node && !seen.has(s.node)) stack.push([s.node, false]);
  }
  return order.reverse();
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.disposed) {
    g.dispose();
    return;
  }
  if (leaf.grad && !leaf.grad.disposed) {
    const sum = leaf.grad.add(g);
    leaf.grad.dispose();
    g.dispose();
    leaf.grad = sum._keep();
  } else {
    leaf.grad = g._keep();
  }
}

/**
 * Reverse-mode differentiation from `root`, accumulating into `.grad` of every leaf that
 * requires grad. The graph's saved tensors are freed afterwards, as in PyTorch.
 */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) {
    throw opError(
      'backward',
      `the tensor of shape ${fmtShape(root.shape)} does not require grad`,
      'Create parameters with { requiresGrad: true } and compute the loss from them outside noGrad',
    );
  }
  if (seed && !sameShape(seed.shape, root.shape)) {
    throw opError('backward', `gradient of shape ${fmtShape(seed.shape)} does not match the output shape ${fmtShape(root.shape)}`);
  }
  if (!seed && root.size !== 1) {
    throw opError(
      'backward',
      `the output has shape ${fmtShape(root.shape)}; an implicit gradient needs a single element`,
      'Reduce it with .sum() or .mean(), or pass a gradient tensor',
    );
  }
  // The pass runs in a scope of its own with recording off, entered through the async context
  // so that a concurrent async tidy or noGrad neither sees nor disturbs it.
  const scope = new TidyScope(currentState().scope, false);
  engine.scopes.push(scope);
  try {
    runIn(engine.context, scope, runBackward, [root, seed] as const);
  } finally {
    closeScope(scope, undefined);
  }
}

function runBackward([root, seed]: readonly [Tensor, Tensor | undefined]): void {
  // An explicit seed is shared, not copied (a full pass over it, for every op-level backward):
  // the graph disposes its handle, never the caller's tensor, and a copy is made only where the
  // seed's storage would become a leaf's .grad, which the caller may later change in place.
  const seedStorage = seed?._use('backward');
  const own = (g: Tensor): Tensor => (seedStorage && g._use('backward') === seedStorage ? g.mul(1) : g);
  const start = seed ? seed._view(seed.shape) : onesLike(root);
  if (!root._node) {
    accumulateLeaf(root, own(start));
    return;
  }
  const order = topoOrder(root._node);
  const pending = new Map<GradNode, Tensor>([[root._node, start]]);
  for (const node of order) {
    const dy = pending.get(node);
    if (!dy) continue;
    pending.delete(node);
    if (node.freed) {
      throw opError(
        'backward',
        `the graph through '${node.op}' was already freed by an earlier backward()`,
        'Run the forward pass again before each backward()',
      );
    }
    const needs = node.sinks.map((s) => s !== null);
    const rule = OPS[node.op].grad!;
    const raw = tidy(() => rule(dy, { inputs: node.inputs, out: node.out, aux: node.aux, params: node.params as never, needs }));
    // A rule may pass dy through (add) or return one tensor twice; give each its own handle
    // so that disposing one does not free the others' storage.
    const seen = new Set<Tensor>([dy]);
    const grads = raw.map((g) => (g && seen.has(g) ? g._view(g.shape) : (g && seen.add(g), g)));
    dy.dispose();
    for (const [i, sink] of node.sinks.entries()) {
      let g = grads[i];
      if (!sink || !g) {
        g?.dispose();
        continue;
      }
      // A gradient has its input's dtype, as in PyTorch: a float16 input of an op whose result
      // was float32 (half + float32 matrix) gets its gradient rounded to half.
      const want = node.inputs[i]!.dtype;
      if (g.dtype !== want && isFloatDType(want)) {
        const cast = g.cast(want);
        g.dispose();
        g = cast;
      }
      if (!sameShape(g.shape, node.inputs[i]!.shape)) {
        throw opError('backward', `gradient rule of '${node.op}' gave shape ${fmtShape(g.shape)} for input ${i} of shape ${fmtShape(node.inputs[i]!.shape)}`);
      }
      if (sink.leaf) {
        accumulateLeaf(sink.leaf, own(g));
        continue;
      }
      const prev = pending.get(sink.node);
      if (prev) {
        pending.set(sink.node, prev.add(g));
        prev.dispose();
        g.dispose();
      } else pending.set(sink.node, g);
    }
  }
  for (const n of order) n.freeSaved();
}

/** The seed of backward(): ones of the output's float dtype (a float16 loss seeds halves). */
function onesLike(t: Tensor): Tensor {
  return Tensor._fromOp('fill', [], { shape: [...t.shape], dtype: isFloatDType(t.dtype) ? t.dtype : 'float32', value: 1 });
}

/**
 * Runs `fn` without recording gradients, like `torch.no_grad()`. Works with async functions:
 * in Node each async call keeps its own grad mode, so a `noGrad` prediction loop does not turn
 * gradients off for a training loop running concurrently. In a browser an async `fn` turns
 * recording off for everything until it settles, so, as with `tidy`, a second async one started
 * meanwhile is rejected; there, call `noGrad` synchronously inside `scope.run(...)` instead.
 *
 * @example
 * const pred = ts.noGrad(() => model(x));
 */
export function noGrad<T>(fn: () => T): T {
  const outer = currentState();
  const ctx = engine.context;
  // Already off (a nested noGrad, a gradient rule): the state stays, and nothing is allocated.
  const state: ScopeState = outer.gradEnabled ? { scope: outer.scope, gradEnabled: false } : outer;
  const result = state === outer ? fn() : runIn(ctx, state, fn, undefined);
  if (ctx === syncContext && result instanceof Promise) {
    // Without async propagation, the code after fn's awaits sees the state only through a claim.
    if (!claim(state)) {
      result.catch(() => {});
      return Promise.reject(overlapError('noGrad')) as T;
    }
    return result.finally(() => release(state)) as T;
  }
  return result;
}

/** Whether ops are being recorded for autograd right now. @example ts.isGradEnabled()   // false inside ts.noGrad */
export function isGradEnabled(): boolean {
  return gradEnabled();
}
