/** METER configuration: CLIP ViT-B/16 + RoBERTa-base + 6 co-attention fusion layers. */
import { DasError, invalidArgument } from '../errors.js';
import { ROBERTA_BASE, robertaConfigFromHf, validateRobertaConfig, type RobertaConfig } from './roberta-config.js';
import { checkSizeLimits, SIZE_LIMITS } from './size-limits.js';
import { checkFields, validateTask, type VisionLanguageTask } from './vilt-config.js';

export interface ClipVisionConfig {
  hidden: number;
  /** Residual blocks run. METER's CLIP wrapper builds layers - 1 of them: 11 for ViT-B/16. */
  layers: number;
  heads: number;
  mlp: number;
  patchSize: number;
  /** Square input size; the position table is resized to it when a checkpoint has another grid. */
  imageSize: number;
  layerNormEps: number;
}

export interface MeterConfig {
  vision: ClipVisionConfig;
  /** The language encoder (frozen; runs without dropout). Its adapters: skip adapters only. */
  text: RobertaConfig;
  hidden: number;
  fusionLayers: number;
  heads: number;
  intermediate: number;
  /** LayerNorm eps of the fusion layers (METER builds them from a default BertConfig: 1e-12). */
  layerNormEps: number;
  dropout: number;
  task: VisionLanguageTask;
  numAnswers: number;
  /** DAS's learned token4classifier replaces the first text token after the language encoder; false: METER as published. */
  classifierToken: boolean;
  /** token4classifier starts as the text embedding of this token (<s> = 0). */
  classifierTokenId: number;
  /** Parallel adapter bottleneck (three per fusion layer). Default 96. */
  adapterBottleneck: number;
  /** Skip adapter bottleneck of the fusion layers. Default 288. */
  skipBottleneck: number;
  adapterScale: number;
  /** Bytes for the feature cache of frozen outputs (0: off). */
  featureCacheBytes: number;
}

/** meter_clip16_288_roberta_pretrain.ckpt fine-tuned at 384x384 (VQA), the paper's adapter sizes. */
export const METER_CLIP16_ROBERTA: Readonly<MeterConfig> = Object.freeze({
  vision: Object.freeze({ hidden: 768, layers: 11, heads: 12, mlp: 3072, patchSize: 16, imageSize: 384, layerNormEps: 1e-5 }),
  text: Object.freeze({ ...ROBERTA_BASE, hiddenDropout: 0, attentionDropout: 0, numLabels: 1, adapterBottleneck: 0, skipBottleneck: 288 }),
  hidden: 768,
  fusionLayers: 6,
  heads: 12,
  intermediate: 3072,
  layerNormEps: 1e-12,
  dropout: 0.1,
  task: 'vqa',
  numAnswers: 3129,
  classifierToken: true,
  classifierTokenId: 0,
  adapterBottleneck: 96,
  skipBottleneck: 288,
  adapterScale: 1,
  featureCacheBytes: 0,
}) as Readonly<MeterConfig>;

/** The image size METER fine-tunes each task at: 384 (VQA, retrieval), 288 (NLVR2). */
export const METER_IMAGE_SIZE: Record<VisionLanguageTask, number> = { vqa: 384, irtr: 384, nlvr2: 288 };

/** A METER config for a task (image size and head), with overrides. */
export function meterConfigFor(task: VisionLanguageTask, overrides: Partial<MeterConfig> = {}): MeterConfig {
  const base = METER_CLIP16_ROBERTA;
  return validateMeterConfig({
    ...base,
    vision: { ...base.vision, imageSize: METER_IMAGE_SIZE[task] },
    text: { ...base.text },
    task,
    ...overrides,
  });
}

function numberField(json: Record<string, unknown>, key: string, source: string): number | undefined {
  if (json[key] === undefined) return undefined;
  if (typeof json[key] !== 'number') throw invalidArgument(`${source}: ${key}`, 'a number', json[key]);
  return json[key] as number;
}

function objectField(json: Record<string, unknown>, key: string, source: string): Record<string, unknown> | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(`${source}: ${key}`, 'an object', value);
  return value as Record<string, unknown>;
}

/**
 * A METER config.json (METER publishes none; this is das-torch's, for checkpoints of other sizes):
 * METER's own experiment-config names at the top (`hidden_size`, `num_heads`, `num_top_layer`,
 * `mlp_ratio`, `drop_rate`, `image_size`, `patch_size`, `vqav2_label_size`), the language encoder
 * as a HuggingFace RoBERTa config under `text_config`, and the CLIP vision tower under
 * `vision_config` in HuggingFace CLIPVisionConfig names (`num_hidden_layers` counts CLIP's layers;
 * METER runs all but the last). Fields left out keep the published METER-CLIP16-RoBERTa values.
 */
export function meterConfigFromJson(json: Record<string, unknown>, source: string, task: VisionLanguageTask, overrides: Partial<MeterConfig> = {}): MeterConfig {
  if (json.model_type !== undefined && json.model_type !== 'meter') {
    throw new DasError('DAS_CHECKPOINT', `${source}: model_type ${JSON.stringify(json.model_type)} is not a METER config (expected "meter")`);
  }
  const base = meterConfigFor(task);
  const field = (key: string) => numberField(json, key, source);
  const hidden = field('hidden_size') ?? base.hidden;
  const textJson = objectField(json, 'text_config', source);
  const text = textJson
    ? robertaConfigFromHf(textJson, `${source}: text_config`, { hiddenDropout: 0, attentionDropout: 0, numLabels: 1, adapterBottleneck: 0, skipBottleneck: base.text.skipBottleneck })
    : base.text;
  const visionJson = objectField(json, 'vision_config', source) ?? {};
  const vision = (key: string) => numberField(visionJson, key, `${source}: vision_config`);
  const clipLayers = vision('num_hidden_layers');
  return validateMeterConfig(
    {
      ...base,
      vision: {
        hidden: vision('hidden_size') ?? base.vision.hidden,
        layers: clipLayers === undefined ? base.vision.layers : clipLayers - 1,
        heads: vision('num_attention_heads') ?? base.vision.heads,
        mlp: vision('intermediate_size') ?? base.vision.mlp,
        patchSize: field('patch_size') ?? vision('patch_size') ?? base.vision.patchSize,
        imageSize: field('image_size') ?? base.vision.imageSize,
        layerNormEps: vision('layer_norm_eps') ?? base.vision.layerNormEps,
      },
      text,
      hidden,
      fusionLayers: field('num_top_layer') ?? base.fusionLayers,
      heads: field('num_heads') ?? base.heads,
      intermediate: hidden * (field('mlp_ratio') ?? base.intermediate / base.hidden),
      dropout: field('drop_rate') ?? base.dropout,
      numAnswers: field('vqav2_label_size') ?? base.numAnswers,
      ...overrides,
    },
    source,
  );
}

/** The config.json fields of a METER configuration (what meterConfigFromJson reads back). */
export function meterConfigToJson(config: MeterConfig): Record<string, unknown> {
  const { vision: v, text: t } = config;
  return {
    model_type: 'meter',
    hidden_size: config.hidden,
    num_heads: config.heads,
    num_top_layer: config.fusionLayers,
    mlp_ratio: config.intermediate / config.hidden,
    drop_rate: config.dropout,
    image_size: v.imageSize,
    patch_size: v.patchSize,
    vqav2_label_size: config.numAnswers,
    text_config: {
      model_type: 'roberta', vocab_size: t.vocabSize, hidden_size: t.hidden, num_hidden_layers: t.layers, num_attention_heads: t.heads,
      intermediate_size: t.intermediate, max_position_embeddings: t.maxPositions, type_vocab_size: t.typeVocabSize, pad_token_id: t.padTokenId,
      layer_norm_eps: t.layerNormEps,
    },
    vision_config: { hidden_size: v.hidden, num_hidden_layers: v.layers + 1, num_attention_heads: v.heads, intermediate_size: v.mlp, patch_size: v.patchSize, layer_norm_eps: v.layerNormEps },
  };
}

export function validateMeterConfig(config: MeterConfig, source = 'METER config'): MeterConfig {
  checkFields(config, source, {
    positive: ['hidden', 'fusionLayers', 'heads', 'intermediate', 'numAnswers'],
    nonNegative: ['adapterBottleneck', 'skipBottleneck', 'classifierTokenId', 'featureCacheBytes'],
    probability: ['dropout'],
    epsilon: ['layerNormEps'],
    finite: ['adapterScale'],
  });
  checkSizeLimits(config, source, {
    hidden: SIZE_LIMITS.hidden,
    fusionLayers: SIZE_LIMITS.layers,
    heads: SIZE_LIMITS.heads,
    intermediate: SIZE_LIMITS.intermediate,
    numAnswers: SIZE_LIMITS.classes,
    adapterBottleneck: SIZE_LIMITS.bottleneck,
    skipBottleneck: SIZE_LIMITS.bottleneck,
    featureCacheBytes: Number.MAX_SAFE_INTEGER,
  });
  if (typeof config.classifierToken !== 'boolean') throw invalidArgument(`${source}: classifierToken`, 'true or false', config.classifierToken);
  if (typeof config.vision !== 'object' || config.vision === null) throw invalidArgument(`${source}: vision`, 'an object', config.vision);
  checkFields(config.vision, `${source}: vision`, {
    positive: ['hidden', 'layers', 'heads', 'mlp', 'patchSize', 'imageSize'],
    epsilon: ['layerNormEps'],
  });
  checkSizeLimits(config.vision, `${source}: vision`, {
    hidden: SIZE_LIMITS.hidden,
    layers: SIZE_LIMITS.layers,
    heads: SIZE_LIMITS.heads,
    mlp: SIZE_LIMITS.intermediate,
    imageSize: SIZE_LIMITS.imageSize,
  });
  if (config.vision.imageSize % config.vision.patchSize !== 0) {
    throw invalidArgument(`${source}: vision.imageSize`, `a multiple of vision.patchSize (${config.vision.patchSize})`, config.vision.imageSize);
  }
  if (config.vision.hidden % config.vision.heads !== 0) throw invalidArgument(`${source}: vision.hidden`, 'a multiple of vision.heads', config.vision.hidden);
  validateRobertaConfig(config.text, `${source}: text`);
  if (config.text.hidden !== config.hidden) throw invalidArgument(`${source}: text.hidden`, `the fusion hidden size (${config.hidden})`, config.text.hidden);
  if (config.hidden % config.heads !== 0) throw invalidArgument(`${source}: hidden`, `a multiple of heads (${config.heads})`, config.hidden);
  if (config.classifierTokenId >= config.text.vocabSize) throw invalidArgument(`${source}: classifierTokenId`, `a token id below ${config.text.vocabSize}`, config.classifierTokenId);
  validateTask(config.task, source);
  return config;
}
