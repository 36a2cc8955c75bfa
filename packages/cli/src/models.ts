/**
 * The models `tessera info --model NAME` knows: one table, so a new model is one more entry.
 *
 * @example
 * const text = modelSummary('lenet5').text;   // the layer table of LeNet-5
 */
import { disposeLayers, models, summary, type Layer, type Summary } from '@tessera/nn';

/** One model of the table: what it is, and how to build it (the backend is started). */
export interface ModelEntry {
  /** Its name in logs, e.g. 'LeNet-5'. */
  name: string;
  description: string;
  /** Builds it with weights drawn from `seed` (default 0) and returns its output layer (logits). */
  build: (seed?: number) => Layer;
}

/**
 * Every model by the name `--model` takes.
 *
 * @example
 * Object.keys(MODELS);   // ['lenet5', 'fashion-cnn']
 */
export const MODELS: Readonly<Record<string, ModelEntry>> = {
  lenet5: { name: 'LeNet-5', description: 'LeNet-5 for 28x28 grey images, 10 classes (nn.models.lenet5)', build: (seed = 0) => models.lenet5({ seed }).out },
  'fashion-cnn': {
    name: 'fashion-cnn',
    description: 'three 3x3 conv + batch norm + ReLU blocks (16, 32, 64 filters), global average pool, dense 10, for 28x28 grey images (nn.models.fashionCnn)',
    build: (seed = 0) => models.fashionCnn({ seed }).out,
  },
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
