/**
 * MAM adapter (He et al., "Towards a unified view of parameter-efficient transfer learning"):
 * prefix tuning at the self-attention and a scaled parallel adapter beside the feed-forward
 * sub-layer of every adapted layer. Defaults follow their RoBERTa setting: prefix length 16
 * (separate keys and values), adapter bottleneck 16 scaled by 4, the adapter's up-projection
 * starting at zero; the adapter's input norm learns a scale only.
 */
import { adapterFlops, adapterParams, ADAPTER_NORMS, type AdapterNorm } from '../cost.js';
import { prefixCost, PREFIX_PROJECTIONS, type PrefixProjection } from '../prefix/index.js';
import { finiteNumber, oneOf, positiveInteger, rejectUnknown, resolveSkip, type MethodDefinition, type SkipOptions } from '../types.js';

export interface MamMethodConfig extends SkipOptions {
  name: 'mam';
  /** Default 16. */
  prefixLength: number;
  /** Default separate. */
  prefixProjection: PrefixProjection;
  /** Feed-forward parallel adapter bottleneck. Default 16. */
  bottleneck: number;
  /** Its output scale. Default 4. */
  scale: number;
  /** Its input norm. Default scale. */
  norm: AdapterNorm;
}

export const MAM_DEFAULTS = { prefixLength: 16, prefixProjection: 'separate' as PrefixProjection, bottleneck: 16, scale: 4, norm: 'scale' as AdapterNorm };

export const mam: MethodDefinition<MamMethodConfig> = {
  name: 'mam',
  summary: 'prefix tuning plus a scaled parallel adapter beside the feed-forward (He et al.)',
  resolve(config, source) {
    rejectUnknown(config, ['prefixLength', 'prefixProjection', 'bottleneck', 'scale', 'norm'], source);
    return {
      name: 'mam',
      prefixLength: positiveInteger(config.prefixLength ?? MAM_DEFAULTS.prefixLength, `${source}.prefixLength`),
      prefixProjection: oneOf(config.prefixProjection ?? MAM_DEFAULTS.prefixProjection, PREFIX_PROJECTIONS, `${source}.prefixProjection`),
      bottleneck: positiveInteger(config.bottleneck ?? MAM_DEFAULTS.bottleneck, `${source}.bottleneck`),
      scale: finiteNumber(config.scale ?? MAM_DEFAULTS.scale, `${source}.scale`),
      norm: oneOf(config.norm ?? MAM_DEFAULTS.norm, ADAPTER_NORMS, `${source}.norm`),
      ...resolveSkip(config, source),
    };
  },
  layerCost(config, layer, tokens) {
    if (!layer.adapted) return { params: 0, flops: 0 };
    const prefix = prefixCost(layer, config.prefixLength, config.prefixProjection, tokens);
    return {
      params: prefix.params + adapterParams(layer.hidden, config.bottleneck, config.norm),
      flops: prefix.flops + adapterFlops(tokens.tokens, layer.hidden, config.bottleneck),
    };
  },
};
