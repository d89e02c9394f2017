/**
 * The parameter-efficient method a model is built with, one folder per method (das/, full/,
 * bitfit/, lora/, adapter/, prefix/, mam/), each with its configuration, defaults, validation and
 * cost. The addon builds what a resolved configuration says (native/methods/); models never learn
 * which method runs. Every method can also carry skip adapters, so DAS's skipping composes with it.
 */
import { invalidArgument } from '../errors.js';
import { adapter, type AdapterMethodConfig } from './adapter/index.js';
import { bitfit, type BitFitMethodConfig } from './bitfit/index.js';
import { das, type DasMethodConfig } from './das/index.js';
import { full, type FullMethodConfig } from './full/index.js';
import { lora, type LoraMethodConfig } from './lora/index.js';
import { mam, type MamMethodConfig } from './mam/index.js';
import { prefix, type PrefixMethodConfig } from './prefix/index.js';
import type { ArchitectureDescriptor } from '../models/architecture.js';
import type { MethodDefinition } from './types.js';

export type { AdapterMethodConfig } from './adapter/index.js';
export type { BitFitMethodConfig } from './bitfit/index.js';
export type { DasMethodConfig } from './das/index.js';
export type { FullMethodConfig } from './full/index.js';
export type { LoraMethodConfig, LoraTarget } from './lora/index.js';
export type { MamMethodConfig } from './mam/index.js';
export type { PrefixMethodConfig } from './prefix/index.js';
export type { Cost, CostOptions, LayerTokens, SkipOptions } from './types.js';

export type MethodConfig = FullMethodConfig | BitFitMethodConfig | LoraMethodConfig | AdapterMethodConfig | PrefixMethodConfig | MamMethodConfig | DasMethodConfig;
export type MethodName = MethodConfig['name'];

/** In the paper's order (Table C), DAS last. */
export const METHOD_NAMES: readonly MethodName[] = ['full', 'bitfit', 'prefix', 'lora', 'adapter', 'mam', 'das'];

const DEFINITIONS: { [N in MethodName]: MethodDefinition<Extract<MethodConfig, { name: N }>> } = { full, bitfit, lora, adapter, prefix, mam, das };

export const DEFAULT_METHOD: MethodConfig = Object.freeze({ name: 'das' });

export function methodDefinition<C extends MethodConfig>(config: C): MethodDefinition<C> {
  return DEFINITIONS[config.name] as unknown as MethodDefinition<C>;
}

/** A method name or (partial) configuration, checked, with every default filled in. */
export function resolveMethod(method: Partial<MethodConfig> | MethodName | undefined, source = 'method'): MethodConfig {
  const config = typeof method === 'string' ? { name: method } : (method ?? DEFAULT_METHOD);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalidArgument(source, 'a method name or { name, ...options }', method);
  if (!METHOD_NAMES.includes(config.name as MethodName)) throw invalidArgument(`${source}.name`, `one of ${METHOD_NAMES.join(', ')}`, config.name);
  return (DEFINITIONS[config.name as MethodName] as MethodDefinition<MethodConfig>).resolve(config as Partial<MethodConfig>, source);
}

/** A resolved method against a model's layers: refuses an option that names something the model lacks. */
export function checkMethod(method: MethodConfig, descriptor: ArchitectureDescriptor): void {
  methodDefinition(method).check?.(method, descriptor);
}

/** What a method trains and keeps that Table C reports for it: full tuning counts the whole model, head included. */
export function countsHead(method: MethodConfig): boolean {
  return method.name === 'full';
}

/** The method an exported model is rebuilt with: export folds LoRA's deltas into the weights. */
export function exportedMethod(method: MethodConfig): MethodConfig {
  return method.name === 'lora' ? { ...method, merged: true } : { ...method };
}
