/**
 * The compact checkpoint `das export` writes and `predict`/`eval` load as any checkpoint:
 * config.json (the source's config fields, `id2label` where labels have names, and a `das` section
 * with the architecture, task, full model configuration and skipped layers), model.safetensors with
 * only the tensors the DAS model executes, and tokenizer.json.
 */
import { DasError } from '../errors.js';
import type { Architecture, ConfigByArchitecture } from './model.js';

export interface ExportSection<A extends Architecture = Architecture> {
  format: 'das-torch-export';
  version: 2;
  architecture: A;
  task: string;
  skipped: string[];
  /** The complete model configuration (adapter sizes, head, image size ...): loading needs nothing else. */
  config: ConfigByArchitecture[A];
  /** Source run and checkpoint, for the record. */
  run: string;
  source: string;
}

export function exportSectionOf(config: Record<string, unknown>, source: string): ExportSection | undefined {
  const section = config.das as Partial<ExportSection> | undefined;
  if (section?.format !== 'das-torch-export') return undefined;
  if (section.version !== 2 || typeof section.config !== 'object' || !Array.isArray(section.skipped)) {
    throw new DasError('DAS_CHECKPOINT', `${source}: "das" section of version ${String(section.version)} is not readable by this das-torch (expected version 2 with "config" and "skipped")`);
  }
  return section as ExportSection;
}

/** Where each architecture keeps the parameters of one skippable layer (paper names -> parameter prefix). */
const LAYER_PREFIXES: Record<Architecture, [RegExp, (index: string) => string][]> = {
  roberta: [[/^En(\d+)$/, (i) => `roberta.encoder.layer.${i}.`]],
  vilt: [[/^En(\d+)$/, (i) => `transformer.blocks.${i}.`]],
  meter: [
    [/^LEn(\d+)$/, (i) => `text_transformer.encoder.layer.${i}.`],
    [/^FL(\d+)$/, (i) => `cross_modal_text_layers.${i}.`],
    [/^FV(\d+)$/, (i) => `cross_modal_image_layers.${i}.`],
  ],
};

export function layerParameterPrefix(architecture: Architecture, layer: string): string {
  for (const [pattern, prefix] of LAYER_PREFIXES[architecture]) {
    const match = pattern.exec(layer);
    if (match) return prefix(match[1]!);
  }
  throw new DasError('DAS_INVALID_ARGUMENT', `${layer} is not a layer name of ${architecture}`);
}

/**
 * Whether the DAS model with `skipped` layers executes parameter `name`: a skipped layer keeps only
 * its skip adapter; a running layer uses everything but its skip adapter. Parameters outside the
 * skippable layers always run.
 */
export function isExecuted(architecture: Architecture, name: string, skipped: readonly string[], layers: readonly string[]): boolean {
  for (const layer of layers) {
    const prefix = layerParameterPrefix(architecture, layer);
    if (!name.startsWith(prefix)) continue;
    const isSkipAdapter = name.startsWith(`${prefix}skip_adapter.`);
    return skipped.includes(layer) ? isSkipAdapter : !isSkipAdapter;
  }
  return true;
}
