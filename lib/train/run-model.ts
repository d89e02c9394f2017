/**
 * What a run needs to know about each architecture: how its text is tokenized, how its images are
 * prepared, its VQA answer count, and its FLOPs and parameters for a skip set (at the paper's measurement inputs).
 */
import type { ImageTransformConfig } from '../data/image-transform.js';
import type { TokenizerConfig } from '../data/tokenizer.js';
import type { MethodConfig } from '../methods/index.js';
import { robertaFlops } from '../models/flops.js';
import type { Model } from '../models/model.js';
import { robertaMaxTokens, type RobertaConfig } from '../models/roberta-config.js';
import type { MeterConfig } from '../models/meter-config.js';
import type { ViltConfig } from '../models/vilt-config.js';
import { meterFlops, viltFlops } from '../models/vl-flops.js';

/** As the paper measures: RoBERTa is counted at 512 tokens, the vision-language models at 40 text tokens. */
const VL_TEXT_TOKENS = 40;

export function tokenizerSettings(model: Model): TokenizerConfig {
  switch (model.architecture) {
    case 'roberta':
      return { maxLength: Math.min(512, robertaMaxTokens(model.config as RobertaConfig)), padding: 'longest', singleTokenType: true };
    case 'vilt':
      return { maxLength: (model.config as ViltConfig).maxTextLen, padding: 'max_length', singleTokenType: false };
    case 'meter':
      // METER's max_text_len is 50; a smaller language encoder caps it at its position table
      return { maxLength: Math.min(50, robertaMaxTokens((model.config as MeterConfig).text)), padding: 'max_length', singleTokenType: true };
  }
}

export function imageTransform(model: Model): ImageTransformConfig | undefined {
  if (model.architecture === 'vilt') return { kind: 'vilt', size: (model.config as ViltConfig).imageSize };
  if (model.architecture === 'meter') return { kind: 'clip', size: (model.config as MeterConfig).vision.imageSize };
  return undefined;
}

export function numAnswers(model: Model): number | undefined {
  return model.architecture === 'roberta' ? undefined : (model.config as ViltConfig | MeterConfig).numAnswers;
}

export interface ModelCost {
  input: string;
  flops: number;
  baseFlops: number;
  additionalFlops: number;
  /** Parameters the adapted model executes, and those the method updates (head excluded). */
  params: { total: number; updated: number };
  /** Task head parameters. */
  head: number;
}

export function modelCost(architecture: Model['architecture'], config: object, skip: readonly string[], method?: MethodConfig): ModelCost {
  const options = { skip, ...(method ? { method } : {}) };
  const report =
    architecture === 'roberta'
      ? robertaFlops(config as RobertaConfig, { tokens: Math.min(512, robertaMaxTokens(config as RobertaConfig)), ...options })
      : architecture === 'vilt'
        ? viltFlops(config as ViltConfig, { textTokens: VL_TEXT_TOKENS, ...options })
        : meterFlops(config as MeterConfig, { textTokens: VL_TEXT_TOKENS, ...options });
  return {
    input: report.input,
    flops: report.flops,
    baseFlops: report.baseFlops,
    additionalFlops: report.additionalFlops,
    params: { total: report.params.total, updated: report.params.updated },
    head: report.params.head,
  };
}
