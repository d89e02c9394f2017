/**
 * BitFit (Ben Zaken et al.): the bias terms of the adapted layers train (every projection's and
 * LayerNorm's bias); nothing is added, so inference costs nothing extra.
 */
import { layerBiases } from '../cost.js';
import { rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export interface BitFitMethodConfig extends SkipOptions {
  name: 'bitfit';
}

export const bitfit: MethodDefinition<BitFitMethodConfig> = {
  name: 'bitfit',
  summary: 'the bias terms of every layer train',
  resolve(config, source) {
    rejectUnknown(config, [], source);
    return { name: 'bitfit', ...resolveSkip(config, source) };
  },
  layerCost: () => ({ params: 0, flops: 0 }),
  trainedPretrained: (layer) => (layer.adapted ? layerBiases(layer) : 0),
};
