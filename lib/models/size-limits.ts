/**
 * Upper bounds of the sizes in a model configuration: far above every published model of these
 * families (roberta-large, XLM-R's 250k vocabulary, ViLT, METER), yet small enough that no product
 * of sizes overflows and a typo such as `num_hidden_layers: 100000` or `hidden_size: 1e12` is named
 * at once. What fits within them may still not fit the machine: memory-estimate.ts checks that.
 */
import { invalidArgument } from '../errors.js';

export const SIZE_LIMITS = {
  vocabSize: 1 << 20,
  hidden: 16_384,
  layers: 512,
  heads: 1_024,
  intermediate: 65_536,
  positions: 1 << 17,
  tokenTypes: 1_024,
  classes: 1 << 20,
  bottleneck: 65_536,
  imageSize: 16_384,
} as const;

/** Throws for the first key of `limits` whose value in `config` is above its limit. */
export function checkSizeLimits<T extends object>(config: T, source: string, limits: Partial<Record<keyof T, number>>): void {
  for (const [key, limit] of Object.entries(limits) as [keyof T & string, number][]) {
    const value = config[key] as unknown as number;
    if (value > limit) throw invalidArgument(`${source}: ${key}`, `at most ${limit} (the largest ${key} das-torch accepts)`, value);
  }
}
