/**
 * The architecture descriptor the addon computes from a configuration (without building the model):
 * layer names, regions, parameter prefixes, attachment points, the configuration's adapter sizes and
 * the search scopes. Everything in lib/ that needs to know an architecture's layers reads it here,
 * so the C++ models are the one place that defines them.
 */
import { DasError, invalidArgument } from '../errors.js';
import type { NativeArchitectureDescriptor, NativeLayerDescriptor } from '../native/binding.js';
import { callSync } from '../native/call.js';

export type ArchitectureDescriptor = NativeArchitectureDescriptor;
export type LayerDescriptor = NativeLayerDescriptor;

const cache = new Map<string, ArchitectureDescriptor>();

/** The descriptor of `architecture` with `config` (validated by the caller); cached per configuration. */
export function describeArchitecture(architecture: 'roberta' | 'vilt' | 'meter', config: object): ArchitectureDescriptor {
  const key = `${architecture}:${JSON.stringify(config)}`;
  let descriptor = cache.get(key);
  if (!descriptor) {
    descriptor = callSync((binding) => binding.describeArchitecture(architecture, config));
    cache.set(key, descriptor);
  }
  return descriptor;
}

export function layerNames(descriptor: ArchitectureDescriptor): string[] {
  return descriptor.layers.map((layer) => layer.name);
}

/** Candidate layers of a search scope. */
export function scopeLayers(descriptor: ArchitectureDescriptor, scope: string): string[] {
  const layers = descriptor.scopes[scope];
  if (!layers) throw invalidArgument('scope', `one of ${Object.keys(descriptor.scopes).sort().join(', ')} for ${descriptor.architecture}`, scope);
  return layers;
}

export function layerByName(descriptor: ArchitectureDescriptor, name: string): LayerDescriptor {
  const layer = descriptor.layers.find((l) => l.name === name);
  if (!layer) throw new DasError('DAS_INVALID_ARGUMENT', `${name} is not a layer name of ${descriptor.architecture}`);
  return layer;
}

/** The layer a parameter belongs to, or undefined outside the layers (embeddings, heads, ...). */
export function layerOfParameter(descriptor: ArchitectureDescriptor, parameter: string): LayerDescriptor | undefined {
  return descriptor.layers.find((layer) => parameter.startsWith(layer.prefix));
}

/**
 * Whether the model with `skipped` layers executes parameter `name`: a skipped layer runs only its
 * skip adapter; a running layer runs everything but its skip adapter. Parameters outside the layers
 * always run.
 */
export function isExecuted(descriptor: ArchitectureDescriptor, name: string, skipped: readonly string[]): boolean {
  const layer = layerOfParameter(descriptor, name);
  if (!layer) return true;
  const isSkipAdapter = name.startsWith(`${layer.prefix}${descriptor.skipAdapter}.`);
  return skipped.includes(layer.name) ? isSkipAdapter : !isSkipAdapter;
}
