/**
 * The parameter-efficient method a model is built with: one folder per method (das/, ...), each
 * with its configuration, defaults and validation. The addon builds what the resolved configuration
 * says (native/methods/); models never learn which method runs.
 */
import { invalidArgument } from '../errors.js';
import { validateDas, type DasMethodConfig } from './das/config.js';

export type { DasMethodConfig } from './das/config.js';

export const METHOD_NAMES = ['das'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];
export type MethodConfig = DasMethodConfig;

export const DEFAULT_METHOD: MethodConfig = Object.freeze({ name: 'das' });

/** A method name or configuration, checked, as a plain object the addon and config.json take. */
export function resolveMethod(method: MethodConfig | MethodName | undefined, source = 'method'): MethodConfig {
  const config = typeof method === 'string' ? { name: method } : (method ?? DEFAULT_METHOD);
  if (typeof config !== 'object' || config === null) throw invalidArgument(source, 'a method name or { name, ...options }', method);
  if (!METHOD_NAMES.includes(config.name)) throw invalidArgument(`${source}.name`, METHOD_NAMES.join(', '), config.name);
  return validateDas({ ...config }, source);
}
