/**
 * A training step that runs compiled (`nn.trainFunction`: recorded once per input shape, then
 * replayed) or eagerly, switchable between two steps, for the pages' "Compiled steps" checkbox.
 * Both modes run the same kernels, so they give the same numbers.
 */
import * as ts from '@tessera/core';
import * as nn from '@tessera/nn';

/**
 * `loss = lossFn(...inputs)`, backward and an optimizer update, compiled by default.
 *
 * @example
 * const step = new SwitchableStep((x: ts.Tensor, y: ts.Tensor) => ts.crossEntropy(nn.getOutput(net.out, x), y), opt);
 * const loss = await step.run(x, y);   // compiled
 * step.setCompiled(false);             // the next run is eager; the compiled step is freed
 * step.dispose();
 */
export class SwitchableStep<A extends ts.Tensor[]> {
  private compiledStep: nn.CompiledStep<A> | null = null;
  private mode = true;

  constructor(
    private readonly lossFn: (...inputs: A) => ts.Tensor,
    private readonly optimizer: nn.Optimizer,
  ) {}

  /** True when the next `run` replays a compiled step. */
  get compiled(): boolean {
    return this.mode;
  }

  /** Compiled (true) or eager steps from the next `run` on; leaving compiled mode frees the compiled step. */
  setCompiled(on: boolean): void {
    if (on === this.mode) return;
    this.mode = on;
    this.compiledStep?.dispose();
    this.compiledStep = null;
  }

  /** One step; resolves to the loss, a device scalar the caller reads (or not) and disposes. */
  async run(...inputs: A): Promise<ts.Tensor> {
    if (this.mode) {
      this.compiledStep ??= nn.trainFunction(this.lossFn, this.optimizer);
      return this.compiledStep(...inputs);
    }
    const loss = ts.tidy(() => this.lossFn(...inputs));
    await this.optimizer.step(loss);
    return loss;
  }

  /** Frees the compiled step (not the model or the optimizer). */
  dispose(): void {
    this.compiledStep?.dispose();
    this.compiledStep = null;
  }
}
