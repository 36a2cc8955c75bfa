/**
 * The models `tessera info --model NAME` knows: one table, so a new model is one more entry.
 *
 * @example
 * const text = modelSummary('lenet5').text;   // the layer table of LeNet-5
 */
import { disposeLayers, models, summary, type LayerSource, type Summary } from '@tessera/nn';

/** One model of the table: what it is, and how to build it (the backend is started). */
export interface ModelEntry {
  description: string;
  build: () => LayerSource;
}

/**
 * Every model by the name `--model` takes.
 *
 * @example
 * Object.keys(MODELS);   // ['lenet5']
 */
export const MODELS: Readonly<Record<string, ModelEntry>> = {
  lenet5: { description: 'LeNet-5 for 28x28 grey images, 10 classes (nn.models.lenet5)', build: () => models.lenet5().out },
};

/**
 * Builds a model of MODELS, summarises it (nn.summary) and frees it again; an unknown name
 * throws an error listing the known ones. Needs a started backend (the parameters are tensors).
 *
 * @example
 * process.stdout.write(modelSummary('lenet5').text);
 */
export function modelSummary(name: string): Summary & { model: string } {
  const entry = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  if (!entry) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${name}'`);
  const net = entry.build();
  try {
    return { model: name, ...summary(net) };
  } finally {
    disposeLayers(net);
  }
}
