/**
 * What every method folder provides: its configuration (defaults and validation) and its cost:
 * the parameters and multiply-accumulates it adds to one running layer, and the pre-trained
 * parameters it trains. Costs follow the paper's FLOP convention (1 multiply-accumulate = 1 FLOP;
 * linear layers and attention products count, norms and element-wise ops do not).
 */
import { invalidArgument } from '../errors.js';
import type { ArchitectureDescriptor, LayerDescriptor } from '../models/architecture.js';

/** Options every method takes: skip adapters for DAS's skipping on top of the method. */
export interface SkipOptions {
  /** Skip adapter bottleneck (0: no skip adapters). Default: the configuration's skipBottleneck. */
  skipBottleneck?: number;
  /** Layers that get a skip adapter. Default: every skippable layer. */
  skipLayers?: string[];
}

/** The tokens one layer runs on, for one example at the measurement input. */
export interface LayerTokens {
  /** Queries (the layer's own stream). */
  tokens: number;
  /** Keys of its cross-attention (METER's fusion layers). */
  context?: number;
}

export interface Cost {
  params: number;
  flops: number;
}

export interface CostOptions {
  /** LoRA deltas folded into the weights (what export does): no extra FLOPs. Default true. */
  loraMerged?: boolean;
}

export interface MethodDefinition<C extends { name: string }> {
  name: C['name'];
  /** One line for help texts and reports. */
  summary: string;
  /** Every option with its default filled in (DAS's sizes stay unset: the configuration's apply). */
  resolve(config: Partial<C>, source: string): C;
  /** What the method's own modules add to a running layer. */
  layerCost(config: C, layer: LayerDescriptor, tokens: LayerTokens, options: CostOptions): Cost;
  /** Pre-trained parameters of the layer the method trains (BitFit's biases, full tuning's all). */
  trainedPretrained?(layer: LayerDescriptor): number;
  /** Trains every parameter, the embeddings, task parts and head included (full tuning). */
  trainsEverything?: boolean;
  /** Checks the configuration against a model's layers (an option naming something the model lacks). */
  check?(config: C, descriptor: ArchitectureDescriptor): void;
}

export function nonNegativeInteger(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 0) throw invalidArgument(what, 'an integer >= 0', value);
  return value as number;
}

export function positiveInteger(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw invalidArgument(what, 'a positive integer', value);
  return value as number;
}

export function finiteNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(what, 'a finite number', value);
  return value;
}

export function oneOf<T extends string>(value: unknown, choices: readonly T[], what: string): T {
  if (!choices.includes(value as T)) throw invalidArgument(what, `one of ${choices.join(', ')}`, value);
  return value as T;
}

/** Checks the skip options and drops the unset ones (config.json stays minimal). */
export function resolveSkip(config: SkipOptions, source: string): SkipOptions {
  const out: SkipOptions = {};
  if (config.skipBottleneck !== undefined) out.skipBottleneck = nonNegativeInteger(config.skipBottleneck, `${source}.skipBottleneck`);
  if (config.skipLayers !== undefined) {
    if (!Array.isArray(config.skipLayers) || config.skipLayers.some((name) => typeof name !== 'string')) throw invalidArgument(`${source}.skipLayers`, 'an array of layer names', config.skipLayers);
    out.skipLayers = [...config.skipLayers];
  }
  return out;
}

/** Rejects options a method does not know, naming them. */
export function rejectUnknown(config: object, known: readonly string[], source: string): void {
  for (const key of Object.keys(config)) {
    if (!known.includes(key) && key !== 'name' && key !== 'skipBottleneck' && key !== 'skipLayers') throw invalidArgument(`${source}`, `options among ${known.join(', ') || '(none)'}`, key);
  }
}
