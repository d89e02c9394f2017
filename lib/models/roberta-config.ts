/** RoBERTa configuration, read from HuggingFace config.json field names. */
import { DasError, invalidArgument } from '../errors.js';
import { checkSizeLimits, SIZE_LIMITS } from './size-limits.js';

export interface RobertaConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** Position table size; RoBERTa numbers tokens from padTokenId + 1, so it takes maxPositions - 2 tokens. */
  maxPositions: number;
  typeVocabSize: number;
  padTokenId: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  numLabels: number;
  /** Parallel adapter bottleneck (two per layer). Default 16. */
  adapterBottleneck: number;
  /** Skip adapter bottleneck (one per layer). Default 32. */
  skipBottleneck: number;
  adapterScale: number;
}

/** roberta-base with a 3-way head (MNLI) and the paper's adapter sizes. */
export const ROBERTA_BASE: Readonly<RobertaConfig> = Object.freeze({
  vocabSize: 50265,
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  maxPositions: 514,
  typeVocabSize: 1,
  padTokenId: 1,
  layerNormEps: 1e-5,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  numLabels: 3,
  adapterBottleneck: 16,
  skipBottleneck: 32,
  adapterScale: 1,
});

/** HuggingFace config.json field -> ours. */
const HF_FIELDS: [keyof RobertaConfig, string][] = [
  ['vocabSize', 'vocab_size'],
  ['hidden', 'hidden_size'],
  ['layers', 'num_hidden_layers'],
  ['heads', 'num_attention_heads'],
  ['intermediate', 'intermediate_size'],
  ['maxPositions', 'max_position_embeddings'],
  ['typeVocabSize', 'type_vocab_size'],
  ['padTokenId', 'pad_token_id'],
  ['layerNormEps', 'layer_norm_eps'],
  ['hiddenDropout', 'hidden_dropout_prob'],
  ['attentionDropout', 'attention_probs_dropout_prob'],
];

export function robertaConfigFromHf(json: Record<string, unknown>, source: string, overrides: Partial<RobertaConfig> = {}): RobertaConfig {
  const config: RobertaConfig = { ...ROBERTA_BASE };
  for (const [ours, theirs] of HF_FIELDS) {
    if (json[theirs] === undefined) continue;
    if (typeof json[theirs] !== 'number') throw invalidArgument(`${source}: ${theirs}`, 'a number', json[theirs]);
    config[ours] = json[theirs] as number;
  }
  if (json.hidden_act !== undefined && json.hidden_act !== 'gelu') {
    throw new DasError('DAS_CHECKPOINT', `${source}: hidden_act ${JSON.stringify(json.hidden_act)} is not supported (RoBERTa uses "gelu")`);
  }
  const labels = json.id2label;
  if (typeof json.num_labels === 'number') config.numLabels = json.num_labels;
  else if (labels && typeof labels === 'object') config.numLabels = Object.keys(labels).length;
  return validateRobertaConfig({ ...config, ...overrides }, source);
}

export function validateRobertaConfig(config: RobertaConfig, source = 'RoBERTa config'): RobertaConfig {
  const positive: (keyof RobertaConfig)[] = ['vocabSize', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions', 'typeVocabSize', 'numLabels'];
  for (const key of positive) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw invalidArgument(`${source}: ${key}`, 'a positive integer', config[key]);
  }
  for (const key of ['adapterBottleneck', 'skipBottleneck', 'padTokenId'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0) throw invalidArgument(`${source}: ${key}`, 'an integer >= 0', config[key]);
  }
  checkSizeLimits(config, source, {
    vocabSize: SIZE_LIMITS.vocabSize,
    hidden: SIZE_LIMITS.hidden,
    layers: SIZE_LIMITS.layers,
    heads: SIZE_LIMITS.heads,
    intermediate: SIZE_LIMITS.intermediate,
    maxPositions: SIZE_LIMITS.positions,
    typeVocabSize: SIZE_LIMITS.tokenTypes,
    numLabels: SIZE_LIMITS.classes,
    adapterBottleneck: SIZE_LIMITS.bottleneck,
    skipBottleneck: SIZE_LIMITS.bottleneck,
  });
  if (config.hidden % config.heads !== 0) throw invalidArgument(`${source}: hidden`, `a multiple of heads (${config.heads})`, config.hidden);
  if (config.padTokenId >= config.vocabSize) throw invalidArgument(`${source}: padTokenId`, `a token id below vocabSize (${config.vocabSize})`, config.padTokenId);
  if (robertaMaxTokens(config) < 1) {
    throw invalidArgument(`${source}: maxPositions`, `more than padTokenId + 1 (${config.padTokenId + 1}): RoBERTa numbers tokens from padTokenId + 1`, config.maxPositions);
  }
  for (const key of ['hiddenDropout', 'attentionDropout'] as const) {
    if (!(config[key] >= 0 && config[key] < 1)) throw invalidArgument(`${source}: ${key}`, 'a probability in [0, 1)', config[key]);
  }
  if (!(config.layerNormEps > 0 && config.layerNormEps < 1)) throw invalidArgument(`${source}: layerNormEps`, 'a positive number below 1', config.layerNormEps);
  if (!Number.isFinite(config.adapterScale)) throw invalidArgument(`${source}: adapterScale`, 'a finite number', config.adapterScale);
  return config;
}

/** The longest input this configuration takes. */
export function robertaMaxTokens(config: RobertaConfig): number {
  return config.maxPositions - config.padTokenId - 1;
}
