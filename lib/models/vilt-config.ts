/** ViLT configuration: the official ViLT-B/32 by default, or a HuggingFace config.json. */
import { DasError, invalidArgument } from '../errors.js';
import { checkSizeLimits, SIZE_LIMITS } from './size-limits.js';

export type VisionLanguageTask = 'vqa' | 'nlvr2' | 'irtr';
export const VL_TASKS: readonly VisionLanguageTask[] = ['vqa', 'nlvr2', 'irtr'];

export interface ViltConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  /** MLP width of each block. */
  mlp: number;
  /** Rows of the text position table (the longest text). */
  maxTextLen: number;
  /** BERT token types inside the text embeddings. */
  typeVocabSize: number;
  patchSize: number;
  /** The position table covers (imageSize / patchSize)^2 patches; each image resizes it to its own grid. */
  imageSize: number;
  /** LayerNorm eps of the text embeddings (BERT: 1e-12). */
  textLayerNormEps: number;
  /** LayerNorm eps of the blocks and the final norm (official checkpoint 1e-6; HF config.json says 1e-12). */
  layerNormEps: number;
  dropout: number;
  task: VisionLanguageTask;
  /** VQA answer vocabulary (3129 for VQAv2). */
  numAnswers: number;
  /** Retrieval: weight of the image-text matching loss added to the rank loss. Default 0.5. */
  itmWeight: number;
  /** Parallel adapter bottleneck (two per block). Default 96. */
  adapterBottleneck: number;
  /** Skip adapter bottleneck (one per block). Default 192. */
  skipBottleneck: number;
  adapterScale: number;
}

/** ViLT-B/32 as released (vilt_200k_mlm_itm.ckpt), VQA head, the paper's adapter sizes. */
export const VILT_B32: Readonly<ViltConfig> = Object.freeze({
  vocabSize: 30522,
  hidden: 768,
  layers: 12,
  heads: 12,
  mlp: 3072,
  maxTextLen: 40,
  typeVocabSize: 2,
  patchSize: 32,
  imageSize: 384,
  textLayerNormEps: 1e-12,
  layerNormEps: 1e-6,
  dropout: 0.1,
  task: 'vqa',
  numAnswers: 3129,
  itmWeight: 0.5,
  adapterBottleneck: 96,
  skipBottleneck: 192,
  adapterScale: 1,
});

const HF_FIELDS: [keyof ViltConfig, string][] = [
  ['vocabSize', 'vocab_size'],
  ['hidden', 'hidden_size'],
  ['layers', 'num_hidden_layers'],
  ['heads', 'num_attention_heads'],
  ['mlp', 'intermediate_size'],
  ['maxTextLen', 'max_position_embeddings'],
  ['typeVocabSize', 'type_vocab_size'],
  ['patchSize', 'patch_size'],
  ['imageSize', 'image_size'],
  ['dropout', 'hidden_dropout_prob'],
];

/** A HuggingFace ViLT config.json: its one layer_norm_eps applies to every LayerNorm. */
export function viltConfigFromHf(json: Record<string, unknown>, source: string, overrides: Partial<ViltConfig> = {}): ViltConfig {
  const config: ViltConfig = { ...VILT_B32 };
  for (const [ours, theirs] of HF_FIELDS) {
    if (json[theirs] === undefined) continue;
    if (typeof json[theirs] !== 'number') throw invalidArgument(`${source}: ${theirs}`, 'a number', json[theirs]);
    (config[ours] as number) = json[theirs] as number;
  }
  if (json.layer_norm_eps !== undefined) {
    if (typeof json.layer_norm_eps !== 'number') throw invalidArgument(`${source}: layer_norm_eps`, 'a number', json.layer_norm_eps);
    config.layerNormEps = config.textLayerNormEps = json.layer_norm_eps;
  }
  if (json.hidden_act !== undefined && json.hidden_act !== 'gelu') {
    throw new DasError('DAS_CHECKPOINT', `${source}: hidden_act ${JSON.stringify(json.hidden_act)} is not supported (ViLT uses "gelu")`);
  }
  if (json.qkv_bias === false) throw new DasError('DAS_CHECKPOINT', `${source}: qkv_bias false is not supported (ViLT's qkv has a bias)`);
  const labels = json.id2label;
  if (typeof json.num_labels === 'number') config.numAnswers = json.num_labels;
  else if (labels && typeof labels === 'object' && Object.keys(labels).length > 2) config.numAnswers = Object.keys(labels).length;
  return validateViltConfig({ ...config, ...overrides }, source);
}

/**
 * The HuggingFace config.json fields of a ViLT configuration (what viltConfigFromHf reads back).
 * HF has one layer_norm_eps, so it is written only when the blocks and the text embeddings agree.
 */
export function viltConfigToHf(config: ViltConfig): Record<string, unknown> {
  const json: Record<string, unknown> = { model_type: 'vilt' };
  for (const [ours, theirs] of HF_FIELDS) json[theirs] = config[ours];
  if (config.layerNormEps === config.textLayerNormEps) json.layer_norm_eps = config.layerNormEps;
  return json;
}

export function validateTask(task: unknown, source: string): VisionLanguageTask {
  if (!VL_TASKS.includes(task as VisionLanguageTask)) throw invalidArgument(`${source}: task`, VL_TASKS.join(', '), task);
  return task as VisionLanguageTask;
}

/** Shared checks: positive integers, non-negative integers, probabilities, positive epsilons. */
export function checkFields<T extends object>(
  config: T,
  source: string,
  fields: { positive?: (keyof T)[]; nonNegative?: (keyof T)[]; probability?: (keyof T)[]; epsilon?: (keyof T)[]; finite?: (keyof T)[] },
): void {
  const value = (key: keyof T) => config[key] as unknown as number;
  for (const key of fields.positive ?? []) {
    if (!Number.isInteger(value(key)) || value(key) < 1) throw invalidArgument(`${source}: ${String(key)}`, 'a positive integer', value(key));
  }
  for (const key of fields.nonNegative ?? []) {
    if (!Number.isInteger(value(key)) || value(key) < 0) throw invalidArgument(`${source}: ${String(key)}`, 'an integer >= 0', value(key));
  }
  for (const key of fields.probability ?? []) {
    if (!(value(key) >= 0 && value(key) < 1)) throw invalidArgument(`${source}: ${String(key)}`, 'a probability in [0, 1)', value(key));
  }
  for (const key of fields.epsilon ?? []) {
    if (!(value(key) > 0 && value(key) < 1)) throw invalidArgument(`${source}: ${String(key)}`, 'a positive number below 1', value(key));
  }
  for (const key of fields.finite ?? []) {
    if (!Number.isFinite(value(key))) throw invalidArgument(`${source}: ${String(key)}`, 'a finite number', value(key));
  }
}

export function validateViltConfig(config: ViltConfig, source = 'ViLT config'): ViltConfig {
  checkFields(config, source, {
    positive: ['vocabSize', 'hidden', 'layers', 'heads', 'mlp', 'maxTextLen', 'typeVocabSize', 'patchSize', 'imageSize', 'numAnswers'],
    nonNegative: ['adapterBottleneck', 'skipBottleneck'],
    probability: ['dropout'],
    epsilon: ['textLayerNormEps', 'layerNormEps'],
    finite: ['itmWeight', 'adapterScale'],
  });
  checkSizeLimits(config, source, {
    vocabSize: SIZE_LIMITS.vocabSize,
    hidden: SIZE_LIMITS.hidden,
    layers: SIZE_LIMITS.layers,
    heads: SIZE_LIMITS.heads,
    mlp: SIZE_LIMITS.intermediate,
    maxTextLen: SIZE_LIMITS.positions,
    typeVocabSize: SIZE_LIMITS.tokenTypes,
    imageSize: SIZE_LIMITS.imageSize,
    numAnswers: SIZE_LIMITS.classes,
    adapterBottleneck: SIZE_LIMITS.bottleneck,
    skipBottleneck: SIZE_LIMITS.bottleneck,
  });
  validateTask(config.task, source);
  if (config.hidden % config.heads !== 0) throw invalidArgument(`${source}: hidden`, `a multiple of heads (${config.heads})`, config.hidden);
  if (config.imageSize < config.patchSize) throw invalidArgument(`${source}: imageSize`, `at least patchSize (${config.patchSize})`, config.imageSize);
  return config;
}
