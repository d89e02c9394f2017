/**
 * Analytic FLOPs and parameters, in the paper's convention (fvcore): one multiply-accumulate
 * is one FLOP; linear layers and both attention products count; element-wise ops, norms and
 * softmax do not. Checked against libtorch's profiler on real forward passes in the tests.
 */
import { invalidArgument } from '../errors.js';
import { DEFAULT_METHOD, type MethodConfig } from '../methods/index.js';
import { methodLayers, parameterTotals, type LayerRow } from '../methods/layer-costs.js';
import type { CostOptions } from '../methods/types.js';
import { describeArchitecture, layerNames } from './architecture.js';
import type { RobertaConfig } from './roberta-config.js';

export type LayerFlops = LayerRow;

export interface FlopReport {
  input: string;
  flops: number;
  baseFlops: number;
  /** flops - baseFlops: negative when skipping saves more than the adapters cost. */
  additionalFlops: number;
  layers: LayerFlops[];
  params: {
    /** Parameters the adapted model executes: the backbone without skipped layers, the method's modules in use, head. */
    total: number;
    /** Parameters the method trains and keeps, task head excluded (the paper's "updated parameters"). */
    updated: number;
    /** The plain model (backbone and head). */
    base: number;
    head: number;
  };
  /** The model as built for search and training (every skip adapter present): all parameters, and the trainable ones outside the head. */
  built: { total: number; updated: number };
}

export const linear = (tokens: number, inFeatures: number, outFeatures: number) => tokens * inFeatures * outFeatures;
export const linearParams = (inFeatures: number, outFeatures: number) => inFeatures * outFeatures + outFeatures;
export const layerNormParams = (dim: number) => 2 * dim;

/** A post-LN (BERT-style) self-attention + FFN layer on `tokens` tokens attending to `keys` tokens. */
export function bertLayerFlops(tokens: number, hidden: number, intermediate: number, keys = tokens): number {
  const projections = linear(tokens, hidden, hidden) + 2 * linear(keys, hidden, hidden) + linear(tokens, hidden, hidden);
  const attention = 2 * tokens * keys * hidden; // Q K^T and A V over all heads
  return projections + attention + linear(tokens, hidden, intermediate) + linear(tokens, intermediate, hidden);
}

/** A cross-attention sub-layer: queries from `tokens` tokens, keys and values from `keys` other tokens. */
export function crossAttentionFlops(tokens: number, keys: number, hidden: number): number {
  return 2 * linear(tokens, hidden, hidden) + 2 * linear(keys, hidden, hidden) + 2 * tokens * keys * hidden;
}

/** Its parameters: query, key, value, output dense and the output LayerNorm. */
export function crossAttentionParams(hidden: number): number {
  return 4 * linearParams(hidden, hidden) + layerNormParams(hidden);
}

export function bertLayerParams(hidden: number, intermediate: number): number {
  return 4 * linearParams(hidden, hidden) + linearParams(hidden, intermediate) + linearParams(intermediate, hidden) + 2 * layerNormParams(hidden);
}

export function checkSkip(layerNames: string[], skip: readonly string[]): Set<string> {
  for (const name of skip) {
    if (!layerNames.includes(name)) throw invalidArgument('skip', `layer names among ${layerNames[0]}..${layerNames[layerNames.length - 1]}`, name);
  }
  return new Set(skip);
}

export interface FlopOptions extends CostOptions {
  skip?: readonly string[];
  /** The method whose modules are counted. Default das. */
  method?: MethodConfig;
}

/** RoBERTa sequence classification on one sequence of `tokens` tokens. */
export function robertaFlops(config: RobertaConfig, options: FlopOptions & { tokens: number }): FlopReport {
  const { tokens } = options;
  if (!Number.isInteger(tokens) || tokens < 1) throw invalidArgument('tokens', 'a positive integer', tokens);
  const { hidden: h, intermediate, numLabels } = config;
  const descriptor = describeArchitecture('roberta', config);
  const skipped = checkSkip(layerNames(descriptor), options.skip ?? []);
  const method = options.method ?? DEFAULT_METHOD;
  const layerBase = bertLayerFlops(tokens, h, intermediate);
  const counted = methodLayers(method, descriptor.layers, skipped, () => ({ flops: layerBase, tokens: { tokens } }), options);
  const headFlops = linear(1, h, h) + linear(1, h, numLabels); // on the <s> token only
  const baseFlops = counted.rows.reduce((sum, l) => sum + l.baseFlops, headFlops);
  const flops = counted.rows.reduce((sum, l) => sum + l.flops, headFlops);

  const embeddings = (config.vocabSize + config.maxPositions + config.typeVocabSize) * h + layerNormParams(h);
  const head = linearParams(h, h) + linearParams(h, numLabels);
  const base = embeddings + config.layers * bertLayerParams(h, intermediate) + head;
  const totals = parameterTotals(method, base, 0, head, counted);
  return {
    input: `${tokens} tokens`,
    flops,
    baseFlops,
    additionalFlops: flops - baseFlops,
    layers: counted.rows,
    params: { total: totals.total, updated: totals.updated, base, head },
    built: totals.built,
  };
}

/** Parameters of the model as built for search and training: every module and skip adapter present. */
export function robertaBuiltParams(config: RobertaConfig, method?: MethodConfig): number {
  return robertaFlops(config, { tokens: 1, ...(method ? { method } : {}) }).built.total;
}
