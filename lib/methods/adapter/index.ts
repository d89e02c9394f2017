/**
 * Adapter (Houlsby et al.): a sequential bottleneck adapter after every sub-layer of the adapted
 * layers (attention, cross-attention, feed-forward), before the residual: y + adapter(y). The
 * up-projection starts at zero, so the model starts as the pre-trained one. Defaults: bottleneck 16,
 * an input LayerNorm with a learned scale only (its shift would fold into the down-projection's
 * bias), scale 1.
 */
import { adapterFlops, adapterParams, ADAPTER_NORMS, type AdapterNorm } from '../cost.js';
import { finiteNumber, oneOf, positiveInteger, rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export interface AdapterMethodConfig extends SkipOptions {
  name: 'adapter';
  /** Default 16. */
  bottleneck: number;
  /** Output scale. Default 1. */
  scale: number;
  /** Input norm: affine (weight and bias), scale (weight only) or none. Default scale. */
  norm: AdapterNorm;
}

export const ADAPTER_DEFAULTS = { bottleneck: 16, scale: 1, norm: 'scale' as AdapterNorm };

export const adapter: MethodDefinition<AdapterMethodConfig> = {
  name: 'adapter',
  summary: 'sequential bottleneck adapters after attention and feed-forward (Houlsby)',
  resolve(config, source) {
    rejectUnknown(config, ['bottleneck', 'scale', 'norm'], source);
    return {
      name: 'adapter',
      bottleneck: positiveInteger(config.bottleneck ?? ADAPTER_DEFAULTS.bottleneck, `${source}.bottleneck`),
      scale: finiteNumber(config.scale ?? ADAPTER_DEFAULTS.scale, `${source}.scale`),
      norm: oneOf(config.norm ?? ADAPTER_DEFAULTS.norm, ADAPTER_NORMS, `${source}.norm`),
      ...resolveSkip(config, source),
    };
  },
  layerCost(config, layer, tokens) {
    if (!layer.adapted) return { params: 0, flops: 0 };
    const sites = layer.sites.length;
    return { params: sites * adapterParams(layer.hidden, config.bottleneck, config.norm), flops: sites * adapterFlops(tokens.tokens, layer.hidden, config.bottleneck) };
  },
};
