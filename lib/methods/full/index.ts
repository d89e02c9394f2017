/** Full fine-tuning: every parameter trains (the matching head that only starts the rank head excepted). */
import { layerParams } from '../cost.js';
import { rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export interface FullMethodConfig extends SkipOptions {
  name: 'full';
}

export const full: MethodDefinition<FullMethodConfig> = {
  name: 'full',
  summary: 'every parameter trains',
  resolve(config, source) {
    rejectUnknown(config, [], source);
    return { name: 'full', ...resolveSkip(config, source) };
  },
  layerCost: () => ({ params: 0, flops: 0 }),
  trainedPretrained: layerParams,
  trainsEverything: true,
};
