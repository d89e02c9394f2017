/**
 * DAS's own modules: a parallel adapter beside every sub-layer of the adapted layers and a skip
 * adapter in every skippable layer. Sizes default to the architecture configuration's
 * (adapterBottleneck, skipBottleneck, adapterScale: the paper's RoBERTa 16 / 32, ViLT 96 / 192,
 * METER 96 / 288).
 */
import { invalidArgument } from '../../errors.js';

export interface DasMethodConfig {
  name: 'das';
  /** Parallel adapter bottleneck. Default: the configuration's adapterBottleneck. */
  bottleneck?: number;
  /** Skip adapter bottleneck. Default: the configuration's skipBottleneck. */
  skipBottleneck?: number;
  /** Parallel adapter output scale. Default: the configuration's adapterScale. */
  scale?: number;
}

export function validateDas(config: DasMethodConfig, source: string): DasMethodConfig {
  for (const key of ['bottleneck', 'skipBottleneck'] as const) {
    const value = config[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw invalidArgument(`${source}.${key}`, 'an integer >= 0', value);
  }
  if (config.scale !== undefined && !Number.isFinite(config.scale)) throw invalidArgument(`${source}.scale`, 'a finite number', config.scale);
  return config;
}
