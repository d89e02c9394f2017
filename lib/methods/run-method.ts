/**
 * The method of a search or training run: which layers get skip adapters follows from what the run
 * skips. A search needs a skip adapter in every candidate; a training run of a method other than
 * DAS gets them only where it skips (DAS keeps one in every layer, as the paper's code does).
 */
import { DasError } from '../errors.js';
import { resolveMethod, type MethodConfig, type MethodName } from './index.js';

export function resolveRunMethod(asked: MethodName | Partial<MethodConfig> | undefined, run: { mode: 'search' } | { mode: 'train'; skip: readonly string[] }): MethodConfig {
  const method = resolveMethod(asked);
  if (run.mode === 'search') {
    if (method.skipBottleneck === 0) throw new DasError('DAS_INVALID_ARGUMENT', `a search needs skip adapters: --skip-bottleneck 0 leaves method ${method.name} without them`);
    return method;
  }
  if (method.name === 'das' || method.skipLayers !== undefined) return method;
  return { ...method, skipLayers: [...run.skip] };
}
