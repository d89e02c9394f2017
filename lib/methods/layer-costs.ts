/**
 * A method's cost over an architecture's layers: what each layer costs when it runs (base plus the
 * method's modules) or is skipped (its skip adapter), and the parameter totals the FLOP reports of
 * lib/models/ assemble. The base FLOPs of each layer come from the architecture's own formulas.
 */
import type { LayerDescriptor } from '../models/architecture.js';
import { adapterFlops, adapterParams, layerParams } from './cost.js';
import { methodDefinition, type MethodConfig } from './index.js';
import type { CostOptions, LayerTokens } from './types.js';

export interface LayerRow {
  name: string;
  /** This layer in the adapted model: the layer with the method's modules, or its skip adapter. */
  flops: number;
  /** The same layer in the plain pre-trained model. */
  baseFlops: number;
  skipped: boolean;
}

export interface MethodLayers {
  rows: LayerRow[];
  /** Parameters of the method's modules that run (and skip adapters of skipped layers). */
  modules: number;
  /** Pre-trained parameters of running layers the method trains (BitFit's biases, full tuning's all). */
  trainedPretrained: number;
  /** Pre-trained parameters of skipped layers: never executed. */
  removed: number;
  /** The model as built: every module it holds, every skip adapter included. */
  built: { modules: number; trainedPretrained: number };
}

/** The skip adapter bottleneck `layer` gets from `method` (0: none). */
export function skipBottleneck(method: MethodConfig, layer: LayerDescriptor): number {
  if (!layer.skippable || (method.skipLayers && !method.skipLayers.includes(layer.name))) return 0;
  return method.skipBottleneck ?? layer.adapterSizes.skip;
}

export function methodLayers(
  method: MethodConfig,
  layers: readonly LayerDescriptor[],
  skipped: ReadonlySet<string>,
  base: (layer: LayerDescriptor) => { flops: number; tokens: LayerTokens },
  options: CostOptions = {},
): MethodLayers {
  const definition = methodDefinition(method);
  const out: MethodLayers = { rows: [], modules: 0, trainedPretrained: 0, removed: 0, built: { modules: 0, trainedPretrained: 0 } };
  for (const layer of layers) {
    const { flops, tokens } = base(layer);
    const skip = skipBottleneck(method, layer);
    const skipParams = adapterParams(layer.hidden, skip);
    const own = definition.layerCost(method, layer, tokens, options);
    const pretrained = definition.trainedPretrained?.(layer) ?? 0;
    out.built.modules += own.params + skipParams;
    out.built.trainedPretrained += pretrained;
    if (skipped.has(layer.name)) {
      out.rows.push({ name: layer.name, baseFlops: flops, skipped: true, flops: adapterFlops(tokens.tokens, layer.hidden, skip) });
      out.modules += skipParams;
      out.removed += layerParams(layer);
    } else {
      out.rows.push({ name: layer.name, baseFlops: flops, skipped: false, flops: flops + own.flops });
      out.modules += own.params;
      out.trainedPretrained += pretrained;
    }
  }
  return out;
}

/**
 * Parameter totals from a model's `base` (every pre-trained parameter, task parts and head), its
 * task parts and head, and the method's layers: executed (`total`), updated (head excluded) and,
 * for the model as built, the same two.
 */
export function parameterTotals(method: MethodConfig, base: number, task: number, head: number, layers: MethodLayers) {
  const everything = methodDefinition(method).trainsEverything === true;
  const total = base - layers.removed + layers.modules;
  const updated = everything ? total - head : layers.modules + layers.trainedPretrained + task;
  const builtTotal = base + layers.built.modules;
  const builtUpdated = everything ? builtTotal - head : layers.built.modules + layers.built.trainedPretrained + task;
  return { total, updated, built: { total: builtTotal, updated: builtUpdated } };
}
