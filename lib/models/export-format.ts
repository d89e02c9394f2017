/**
 * The compact checkpoint `das export` writes and `predict`/`eval` load as any checkpoint:
 * config.json (the source's config fields, `id2label` where labels have names, and a `das` section
 * with the architecture, task, full model configuration, method and skipped layers), model.safetensors
 * with only the tensors the model executes (LoRA deltas folded into the weights), and tokenizer.json.
 */
import { DasError } from '../errors.js';
import type { MethodConfig } from '../methods/index.js';
import type { Architecture, ConfigByArchitecture } from './model.js';

export interface ExportSection<A extends Architecture = Architecture> {
  format: 'das-torch-export';
  version: 2;
  architecture: A;
  task: string;
  skipped: string[];
  /** The complete model configuration (adapter sizes, head, image size ...): loading needs nothing else. */
  config: ConfigByArchitecture[A];
  /** The method as the exported tensors hold it (LoRA: merged); absent in exports from before methods: das. */
  method?: MethodConfig;
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
