/**
 * LoRA (Hu et al.): a low-rank delta B A, scaled by alpha / r, on the target projections of every
 * adapted layer (ViLT's fused qkv: one delta per targeted slice). B starts at zero, so the model
 * starts as the pre-trained one; export folds the deltas into the weights (no inference cost).
 * Defaults: r 16, alpha 32, dropout 0.1 on query and value (He et al.'s RoBERTa setting).
 */
import { invalidArgument } from '../../errors.js';
import { finiteNumber, positiveInteger, rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export const LORA_TARGETS = ['query', 'key', 'value', 'attn_out', 'ffn_in', 'ffn_out', 'cross_query', 'cross_key', 'cross_value', 'cross_out'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraMethodConfig extends SkipOptions {
  name: 'lora';
  /** Rank. Default 16. */
  r: number;
  /** Scaling numerator: the delta is scaled by alpha / r. Default 32. */
  alpha: number;
  /** Dropout on the delta's input while training. Default 0.1. */
  dropout: number;
  /** Projection roles that get a delta. Default query, value. */
  targets: LoraTarget[];
  /** The deltas are already folded into the weights (an exported model): nothing is attached. */
  merged?: boolean;
}

export const LORA_DEFAULTS = { r: 16, alpha: 32, dropout: 0.1, targets: ['query', 'value'] as LoraTarget[] };

export const lora: MethodDefinition<LoraMethodConfig> = {
  name: 'lora',
  summary: 'low-rank deltas on the attention projections (merged into the weights at export)',
  resolve(config, source) {
    rejectUnknown(config, ['r', 'alpha', 'dropout', 'targets', 'merged'], source);
    const targets = config.targets ?? LORA_DEFAULTS.targets;
    if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => !LORA_TARGETS.includes(t))) {
      throw invalidArgument(`${source}.targets`, `a non-empty list of ${LORA_TARGETS.join(', ')}`, targets);
    }
    const dropout = finiteNumber(config.dropout ?? LORA_DEFAULTS.dropout, `${source}.dropout`);
    if (dropout < 0 || dropout >= 1) throw invalidArgument(`${source}.dropout`, 'a probability in [0, 1)', dropout);
    return {
      name: 'lora',
      r: positiveInteger(config.r ?? LORA_DEFAULTS.r, `${source}.r`),
      alpha: finiteNumber(config.alpha ?? LORA_DEFAULTS.alpha, `${source}.alpha`),
      dropout,
      targets: [...new Set(targets)],
      ...(config.merged ? { merged: true } : {}),
      ...resolveSkip(config, source),
    };
  },
  check(config, descriptor) {
    const roles = new Set(descriptor.layers.filter((l) => l.adapted).flatMap((l) => l.projections.map((p) => p.role)));
    for (const target of config.targets) {
      if (!roles.has(target)) throw invalidArgument('method.targets', `projections of ${descriptor.architecture} (${[...roles].join(', ')})`, target);
    }
  },
  // the deltas count as updated parameters even once merged (an export): they are what training changed
  layerCost(config, layer, tokens, options) {
    if (!layer.adapted) return { params: 0, flops: 0 };
    let params = 0;
    let flops = 0;
    for (const p of layer.projections) {
      if (!config.targets.includes(p.role as LoraTarget)) continue;
      params += config.r * (p.in + p.out);
      // cross-attention keys and values run on the other stream's tokens
      const rows = (p.role === 'cross_key' || p.role === 'cross_value') && tokens.context !== undefined ? tokens.context : tokens.tokens;
      if (options.loraMerged === false && !config.merged) flops += rows * config.r * (p.in + p.out);
    }
    return { params, flops };
  },
};
