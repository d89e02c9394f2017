/**
 * The memory a model's weights take, estimated from its configuration before anything is
 * allocated, and the check that refuses a model that cannot fit: on the host (the addon builds
 * every model there first), and on a CUDA device where libtorch's runtime says how much is free.
 * The refusal names the size field that weighs most, so that a typo is found at once.
 */
import { DasError } from '../errors.js';
import { availableHostMemory } from '../util/host-memory.js';
import { robertaBuiltParams } from './flops.js';
import { METER_CLIP16_ROBERTA, type MeterConfig } from './meter-config.js';
import { ROBERTA_BASE, type RobertaConfig } from './roberta-config.js';
import { VILT_B32, type ViltConfig } from './vilt-config.js';
import { meterBuiltParams, viltBuiltParams } from './vl-flops.js';

type AnyConfig = RobertaConfig | ViltConfig | MeterConfig;
type Arch = 'roberta' | 'vilt' | 'meter';

/** Weights are float32 masters whatever the compute precision. */
const BYTES_PER_PARAMETER = 4;

/** The published model of each architecture: a size far above its value is the first suspect. */
const PUBLISHED: Record<Arch, AnyConfig> = { roberta: ROBERTA_BASE, vilt: VILT_B32, meter: METER_CLIP16_ROBERTA };

/** The size fields that make a model big (dotted for METER's nested parts), and the smallest value of each. */
const SIZE_FIELDS: Record<Arch, [string, number][]> = {
  roberta: [['vocabSize', 1], ['hidden', 1], ['layers', 1], ['intermediate', 1], ['maxPositions', 3], ['typeVocabSize', 1], ['numLabels', 1], ['adapterBottleneck', 0], ['skipBottleneck', 0]],
  vilt: [['vocabSize', 1], ['hidden', 1], ['layers', 1], ['mlp', 1], ['maxTextLen', 1], ['typeVocabSize', 1], ['imageSize', 0], ['numAnswers', 1], ['adapterBottleneck', 0], ['skipBottleneck', 0]],
  meter: [
    ['hidden', 1], ['fusionLayers', 1], ['intermediate', 1], ['numAnswers', 1], ['adapterBottleneck', 0], ['skipBottleneck', 0],
    ['vision.hidden', 1], ['vision.layers', 1], ['vision.mlp', 1], ['vision.imageSize', 0],
    ['text.vocabSize', 1], ['text.hidden', 1], ['text.layers', 1], ['text.intermediate', 1], ['text.maxPositions', 3], ['text.skipBottleneck', 0],
  ],
};

export function modelParameters(architecture: Arch, config: AnyConfig): number {
  if (architecture === 'roberta') return robertaBuiltParams(config as RobertaConfig);
  if (architecture === 'vilt') return viltBuiltParams(config as ViltConfig).total;
  return meterBuiltParams(config as MeterConfig).total;
}

export interface MemoryEstimate {
  parameters: number;
  bytes: number;
  /**
   * The size field that weighs most: of those above the published model's value, the one whose
   * return to that value saves most (else the one whose smallest value would); `share` = the part
   * of the bytes it accounts for.
   */
  heaviest: { field: string; value: number; published: number; share: number };
}

/** `config` with the dotted `field` set to `value` (a copy). */
function withField(config: AnyConfig, field: string, value: number): AnyConfig {
  const [outer, inner] = field.split('.') as [string, string | undefined];
  const copy = { ...config } as Record<string, unknown>;
  if (inner === undefined) copy[outer] = value;
  else copy[outer] = { ...(copy[outer] as object), [inner]: value };
  return copy as unknown as AnyConfig;
}

function fieldValue(config: AnyConfig, field: string): number {
  return field.split('.').reduce((object: unknown, key) => (object as Record<string, unknown>)[key], config) as number;
}

export function estimateModelMemory(architecture: Arch, config: AnyConfig): MemoryEstimate {
  const parameters = modelParameters(architecture, config);
  const saving = (field: string, value: number) => 1 - modelParameters(architecture, withField(config, field, value)) / parameters;
  const fields = SIZE_FIELDS[architecture].map(([field, smallest]) => ({
    field,
    value: fieldValue(config, field),
    published: fieldValue(PUBLISHED[architecture], field),
    // imageSize at its smallest is one patch
    smallest: field.endsWith('imageSize') ? fieldValue(config, field.replace('imageSize', 'patchSize')) : smallest,
  }));
  const pick = (share: (f: (typeof fields)[number]) => number) =>
    fields.reduce<MemoryEstimate['heaviest'] | undefined>((best, f) => {
      const s = share(f);
      return s > (best?.share ?? 0) ? { field: f.field, value: f.value, published: f.published, share: s } : best;
    }, undefined);
  const heaviest = pick((f) => (f.value > f.published ? saving(f.field, f.published) : 0)) ??
    pick((f) => saving(f.field, f.smallest)) ?? { field: fields[0]!.field, value: fields[0]!.value, published: fields[0]!.published, share: 0 };
  return { parameters, bytes: parameters * BYTES_PER_PARAMETER, heaviest };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export interface MemoryCheckOptions {
  /** For messages: "RoBERTa config", a config.json path, ... */
  source: string;
  /** Where the model will run ("cpu", "cuda:0"). */
  device: string;
  /** Free bytes of a CUDA device, null where unknown. */
  deviceFree?: number | null;
  /** Bytes the host may still take (default: free RAM, within the cgroup limit). */
  hostAvailable?: { bytes: number; source: string };
}

/**
 * Refuses a model whose weights cannot fit where they go: first on the host, where the addon builds
 * every model, then on the device. DAS_MEMORY_CHECK=0 turns the check off.
 */
export function checkModelFits(architecture: Arch, config: AnyConfig, options: MemoryCheckOptions): MemoryEstimate {
  const estimate = estimateModelMemory(architecture, config);
  if (process.env.DAS_MEMORY_CHECK === '0') return estimate;
  const host = options.hostAvailable ?? availableHostMemory();
  const places: [number, string][] = [[host.bytes, `the ${formatBytes(host.bytes)} ${host.source} on this host (models are built there first)`]];
  if (options.deviceFree !== undefined && options.deviceFree !== null) places.push([options.deviceFree, `the ${formatBytes(options.deviceFree)} free on ${options.device}`]);
  for (const [available, where] of places) {
    if (estimate.bytes <= available) continue;
    const { field, value, published, share } = estimate.heaviest;
    throw new DasError(
      'DAS_INVALID_ARGUMENT',
      `Expected a model that fits in ${where} for ${options.source}: ${field} (${value}; the published model has ${published}) ` +
        `but received an estimated ${formatBytes(estimate.bytes)} of weights (${estimate.parameters.toLocaleString('en-US')} float32 parameters, ` +
        `${Math.round(share * 100)}% of them from ${field}); check the configuration, or set DAS_MEMORY_CHECK=0 to try anyway`,
    );
  }
  return estimate;
}
