/**
 * `summary(net)`: a network's layers as a table, as Keras's `model.summary()` or torchinfo.
 */
import { Layer, type LayerShape } from './layers/base.js';
import { getAllLayers, type LayerSource } from './layers/helper.js';

/**
 * One layer of a summary.
 *
 * @example
 * const row: SummaryRow = { name: 'conv1', type: 'Conv2DLayer', outputShape: [null, 6, 28, 28], params: 156, trainableParams: 156, trainable: true, inputs: ['data'] };
 */
export interface SummaryRow {
  /** The layer's name, else its key in the net record, else `<type><k>` (k counting that type), as in saved files. */
  name: string;
  /** The layer's class, e.g. 'Conv2DLayer'. */
  type: string;
  /** `null` where the size is only known when data arrives (the batch). */
  outputShape: LayerShape;
  /** Parameter elements of this layer (a shared tensor counts in each layer that holds it). */
  params: number;
  /** Of which trainable (updated by optimizers given the layers). */
  trainableParams: number;
  /** true: all its parameters are trainable, false: none, 'partial': some; null without parameters. */
  trainable: boolean | 'partial' | null;
  /** The names of its input layers. */
  inputs: string[];
}

/**
 * What `summary` returns: the rows, the totals (each parameter tensor counted once) and the
 * formatted table.
 *
 * @example
 * const s: Summary = summary(net);
 * console.log(s.text);
 */
export interface Summary {
  rows: SummaryRow[];
  /** Parameter elements in the network. */
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** The table, one line per layer, then the totals; ends with a newline. */
  text: string;
}

const group = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function fmtShape(shape: LayerShape): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

function fmtTrainable(t: SummaryRow['trainable']): string {
  return t === null ? '--' : t === 'partial' ? 'partial' : t ? 'yes' : 'no';
}

/**
 * A table of the layers below `source`, each after its inputs: name and type, output shape,
 * parameter count and whether its parameters are trainable, then the total, trainable and
 * non-trainable parameter counts. A "Connected to" column appears when some layer takes
 * other inputs than the row above (a graph rather than a stack). Nothing is computed on the
 * device.
 *
 * @example
 * const net = models.lenet5();
 * const s = summary(net);
 * console.log(s.text);   // ... Total params: 61,706 ...
 * s.rows.find((r) => r.name === 'fc1')?.params;   // 48120
 */
export function summary(source: LayerSource): Summary {
  const layers = getAllLayers(source); // checks the source
  const keyOf = new Map<Layer, string>();
  if (!(source instanceof Layer) && !Array.isArray(source)) {
    for (const [k, l] of Object.entries(source as Readonly<Record<string, Layer>>)) if (!keyOf.has(l)) keyOf.set(l, k);
  }
  const counts = new Map<string, number>();
  const nameOf = new Map<Layer, string>();
  for (const l of layers) {
    const k = counts.get(l.typeName) ?? 0;
    counts.set(l.typeName, k + 1);
    nameOf.set(l, l.name ?? keyOf.get(l) ?? `${l.typeName}${k}`);
  }

  const rows: SummaryRow[] = layers.map((l) => {
    const entries = [...l.params];
    const params = entries.reduce((n, [p]) => n + p.size, 0);
    const trainableParams = entries.reduce((n, [p, tags]) => n + (tags.trainable ? p.size : 0), 0);
    const nTrainable = entries.filter(([, tags]) => tags.trainable).length;
    return {
      name: nameOf.get(l)!,
      type: l.constructor.name,
      outputShape: l.outputShape,
      params,
      trainableParams,
      trainable: entries.length === 0 ? null : nTrainable === entries.length ? true : nTrainable === 0 ? false : 'partial',
      inputs: l.inputLayers.map((i) => nameOf.get(i)!),
    };
  });

  // Totals count each tensor once (shared weights), with the tags of its first holder.
  const seen = new Set<unknown>();
  let totalParams = 0;
  let trainableParams = 0;
  for (const l of layers) {
    for (const [p, tags] of l.params) {
      if (seen.has(p)) continue;
      seen.add(p);
      totalParams += p.size;
      if (tags.trainable) trainableParams += p.size;
    }
  }

  const graph = rows.some((r, i) => r.inputs.length > 1 || (r.inputs.length === 1 && r.inputs[0] !== rows[i - 1]?.name));
  const header = ['Layer (type)', 'Output shape', 'Param #', 'Trainable', ...(graph ? ['Connected to'] : [])];
  const cells = rows.map((r) => [
    `${r.name} (${r.type})`,
    fmtShape(r.outputShape),
    group(r.params),
    fmtTrainable(r.trainable),
    ...(graph ? [r.inputs.join(', ') || '--'] : []),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const right = (c: number) => c === 2; // Param #
  const line = (row: string[]) =>
    row
      .map((cell, c) => (right(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('   ')
      .trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, w) => a + w, 0) + 3 * (widths.length - 1));
  const text = [
    line(header),
    rule('='),
    ...cells.map(line),
    rule('='),
    `Total params: ${group(totalParams)}`,
    `Trainable params: ${group(trainableParams)}`,
    `Non-trainable params: ${group(totalParams - trainableParams)}`,
    '',
  ].join('\n');
  return { rows, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams, text };
}
