/** Parameter and FLOP counts of the attachment-point modules, shared by the method folders. */
import type { LayerDescriptor } from '../models/architecture.js';

export type AdapterNorm = 'affine' | 'scale' | 'none';
export const ADAPTER_NORMS: readonly AdapterNorm[] = ['affine', 'scale', 'none'];

/** A bottleneck adapter: its input norm (weight and bias, weight only, none), down d->b and up b->d with biases. */
export function adapterParams(hidden: number, bottleneck: number, norm: AdapterNorm = 'affine'): number {
  if (bottleneck <= 0) return 0;
  const normParams = norm === 'affine' ? 2 * hidden : norm === 'scale' ? hidden : 0;
  return normParams + hidden * bottleneck + bottleneck + bottleneck * hidden + hidden;
}

export function adapterFlops(tokens: number, hidden: number, bottleneck: number): number {
  return bottleneck > 0 ? 2 * tokens * hidden * bottleneck : 0;
}

/** A layer's pre-trained parameters: its projections (weight and bias) and LayerNorms. */
export function layerParams(layer: LayerDescriptor): number {
  let total = 2 * layer.layerNorms * layer.hidden;
  for (const p of layer.projections) total += p.in * p.out + p.out;
  return total;
}

/** Its bias terms: one per projection output and per LayerNorm channel. */
export function layerBiases(layer: LayerDescriptor): number {
  return layer.projections.reduce((sum, p) => sum + p.out, layer.layerNorms * layer.hidden);
}
