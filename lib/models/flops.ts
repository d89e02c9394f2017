/**
 * Analytic FLOPs and parameters, in the paper's convention (fvcore): one multiply-accumulate
 * is one FLOP; linear layers and both attention products count; element-wise ops, norms and
 * softmax do not. Checked against libtorch's profiler on real forward passes in the tests.
 */
import { invalidArgument } from '../errors.js';
import { describeArchitecture, layerNames } from './architecture.js';
import type { RobertaConfig } from './roberta-config.js';

export interface LayerFlops {
  name: string;
  /** This layer in the DAS model: the layer with its parallel adapters, or its skip adapter. */
  flops: number;
  /** The same layer in the plain pre-trained model. */
  baseFlops: number;
  skipped: boolean;
}

export interface FlopReport {
  input: string;
  flops: number;
  baseFlops: number;
  /** flops - baseFlops: negative when skipping saves more than the adapters cost. */
  additionalFlops: number;
  layers: LayerFlops[];
  params: {
    /** Parameters the DAS model executes: the backbone without skipped layers, adapters in use, head. */
    total: number;
    /** Parameters DAS trains and keeps, task head excluded (the paper's "updated parameters"). */
    updated: number;
    /** The plain model (backbone and head). */
    base: number;
    head: number;
  };
}

export const linear = (tokens: number, inFeatures: number, outFeatures: number) => tokens * inFeatures * outFeatures;
export const linearParams = (inFeatures: number, outFeatures: number) => inFeatures * outFeatures + outFeatures;
export const layerNormParams = (dim: number) => 2 * dim;

/** An adapter (LayerNorm, down, up) on `tokens` tokens. */
export function adapterFlops(tokens: number, hidden: number, bottleneck: number): number {
  return bottleneck > 0 ? linear(tokens, hidden, bottleneck) + linear(tokens, bottleneck, hidden) : 0;
}

export function adapterParams(hidden: number, bottleneck: number): number {
  return bottleneck > 0 ? layerNormParams(hidden) + linearParams(hidden, bottleneck) + linearParams(bottleneck, hidden) : 0;
}

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

/** RoBERTa sequence classification on one sequence of `tokens` tokens. */
export function robertaFlops(config: RobertaConfig, options: { tokens: number; skip?: readonly string[] }): FlopReport {
  const { tokens } = options;
  if (!Number.isInteger(tokens) || tokens < 1) throw invalidArgument('tokens', 'a positive integer', tokens);
  const { hidden: h, intermediate, adapterBottleneck: b, skipBottleneck: s, numLabels } = config;
  const names = layerNames(describeArchitecture('roberta', config));
  const skipped = checkSkip(names, options.skip ?? []);
  const layerBase = bertLayerFlops(tokens, h, intermediate);
  const layers = names.map((name) => ({
    name,
    baseFlops: layerBase,
    skipped: skipped.has(name),
    flops: skipped.has(name) ? adapterFlops(tokens, h, s) : layerBase + 2 * adapterFlops(tokens, h, b),
  }));
  const headFlops = linear(1, h, h) + linear(1, h, numLabels); // on the <s> token only
  const baseFlops = layers.reduce((sum, l) => sum + l.baseFlops, headFlops);
  const flops = layers.reduce((sum, l) => sum + l.flops, headFlops);

  const embeddings = (config.vocabSize + config.maxPositions + config.typeVocabSize) * h + layerNormParams(h);
  const layerParams = bertLayerParams(h, intermediate);
  const head = linearParams(h, h) + linearParams(h, numLabels);
  const updated = layers.reduce((sum, l) => sum + (l.skipped ? adapterParams(h, s) : 2 * adapterParams(h, b)), 0);
  const base = embeddings + config.layers * layerParams + head;
  return {
    input: `${tokens} tokens`,
    flops,
    baseFlops,
    additionalFlops: flops - baseFlops,
    layers,
    params: { total: base - skipped.size * layerParams + updated, updated, base, head },
  };
}

/** Parameters of the model as built for search and training: every adapter and skip adapter present. */
export function robertaBuiltParams(config: RobertaConfig): number {
  const full = robertaFlops(config, { tokens: 1 }).params;
  return full.base + config.layers * (2 * adapterParams(config.hidden, config.adapterBottleneck) + adapterParams(config.hidden, config.skipBottleneck));
}
