/**
 * DAS's own modules: a parallel adapter beside every sub-layer of the adapted layers and a skip
 * adapter in every skippable layer. Sizes default to the architecture configuration's
 * (adapterBottleneck, skipBottleneck, adapterScale: the paper's RoBERTa 16 / 32, ViLT 96 / 192,
 * METER 96 / 288).
 */
import { adapterFlops, adapterParams, ADAPTER_NORMS, type AdapterNorm } from '../cost.js';
import { finiteNumber, nonNegativeInteger, oneOf, rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export interface DasMethodConfig extends SkipOptions {
  name: 'das';
  /** Parallel adapter bottleneck. Default: the configuration's adapterBottleneck. */
  bottleneck?: number;
  /** Parallel adapter output scale. Default: the configuration's adapterScale. */
  scale?: number;
  /** The adapters' input norm. Default affine (a LayerNorm with weight and bias). */
  norm?: AdapterNorm;
}

export const das: MethodDefinition<DasMethodConfig> = {
  name: 'das',
  summary: 'parallel adapters beside every sub-layer and skip adapters (the configuration\'s sizes)',
  resolve(config, source) {
    rejectUnknown(config, ['bottleneck', 'scale', 'norm'], source);
    const out: DasMethodConfig = { name: 'das', ...resolveSkip(config, source) };
    if (config.bottleneck !== undefined) out.bottleneck = nonNegativeInteger(config.bottleneck, `${source}.bottleneck`);
    if (config.scale !== undefined) out.scale = finiteNumber(config.scale, `${source}.scale`);
    if (config.norm !== undefined) out.norm = oneOf(config.norm, ADAPTER_NORMS, `${source}.norm`);
    return out;
  },
  layerCost(config, layer, tokens) {
    // a layer that is not adapted (METER's language encoder) keeps its configured size (none there)
    const bottleneck = layer.adapted ? (config.bottleneck ?? layer.adapterSizes.parallel) : layer.adapterSizes.parallel;
    const sites = layer.sites.length;
    return { params: sites * adapterParams(layer.hidden, bottleneck, config.norm), flops: sites * adapterFlops(tokens.tokens, layer.hidden, bottleneck) };
  },
};
