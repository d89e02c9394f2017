/**
 * Prefix tuning (Li & Liang): `length` learned positions in front of the keys and values of every
 * adapted layer's self-attention. `separate` learns the keys and values themselves (2 x length x
 * hidden per layer); `projected` learns `length` virtual tokens per layer whose keys and values come
 * from the layer's own frozen key and value projections (length x hidden per layer, the deep-prompt
 * form). Defaults: length 15, projected.
 */
import { oneOf, positiveInteger, rejectUnknown, resolveSkip, type Cost, type LayerTokens, type MethodDefinition, type SkipOptions } from '../types.js';
import type { LayerDescriptor } from '../../models/architecture.js';

export const PREFIX_PROJECTIONS = ['separate', 'projected'] as const;
export type PrefixProjection = (typeof PREFIX_PROJECTIONS)[number];

export interface PrefixMethodConfig extends SkipOptions {
  name: 'prefix';
  /** Default 15. */
  length: number;
  /** Default projected. */
  projection: PrefixProjection;
}

export const PREFIX_DEFAULTS = { length: 15, projection: 'projected' as PrefixProjection };

/** A prefix of `length` on a layer's self-attention: its parameters, and the extra attention work for `tokens` queries. */
export function prefixCost(layer: LayerDescriptor, length: number, projection: PrefixProjection, tokens: LayerTokens): Cost {
  const h = layer.hidden;
  let flops = 2 * tokens.tokens * length * h; // Q K^T and A V over `length` more keys
  if (projection === 'projected') {
    // the virtual tokens go through the modules holding the key and value projections (ViLT: the whole fused qkv)
    const modules = new Map<string, { in: number; out: number }>();
    for (const p of layer.projections) {
      const m = modules.get(p.module) ?? { in: p.in, out: 0 };
      m.out += p.out;
      modules.set(p.module, m);
    }
    const used = new Set(layer.projections.filter((p) => p.role === 'key' || p.role === 'value').map((p) => p.module));
    for (const module of used) flops += length * modules.get(module)!.in * modules.get(module)!.out;
  }
  return { params: (projection === 'projected' ? 1 : 2) * length * h, flops };
}

export const prefix: MethodDefinition<PrefixMethodConfig> = {
  name: 'prefix',
  summary: 'learned key/value positions in front of every self-attention',
  resolve(config, source) {
    rejectUnknown(config, ['length', 'projection'], source);
    return {
      name: 'prefix',
      length: positiveInteger(config.length ?? PREFIX_DEFAULTS.length, `${source}.length`),
      projection: oneOf(config.projection ?? PREFIX_DEFAULTS.projection, PREFIX_PROJECTIONS, `${source}.projection`),
      ...resolveSkip(config, source),
    };
  },
  layerCost: (config, layer, tokens) => (layer.adapted ? prefixCost(layer, config.length, config.projection, tokens) : { params: 0, flops: 0 }),
};
