/**
 * The compact checkpoint `das export` writes and `predict`/`eval` load as any checkpoint:
 * config.json (HuggingFace fields plus a `das` section: architecture, task, labels, adapter sizes
 * and the skipped layers), model.safetensors with only the tensors the DAS model executes, and
 * tokenizer.json.
 */
export interface ExportSection {
  format: 'das-torch-export';
  version: 1;
  architecture: 'roberta';
  task: string;
  skipped: string[];
  adapterBottleneck: number;
  skipBottleneck: number;
  adapterScale: number;
  /** Source run and checkpoint, for the record. */
  run: string;
  source: string;
}

export function exportSectionOf(config: Record<string, unknown>): ExportSection | undefined {
  const section = config.das as ExportSection | undefined;
  return section?.format === 'das-torch-export' ? section : undefined;
}

/** Parameters of a skipped RoBERTa layer that an export leaves out (everything but its skip adapter). */
export function isDroppedBySkip(name: string, skipped: readonly string[]): boolean {
  const match = /^roberta\.encoder\.layer\.(\d+)\.(.*)$/.exec(name);
  if (!match || !skipped.includes(`En${match[1]}`)) return false;
  return !match[2]!.startsWith('skip_adapter.');
}

/** Skip adapters of layers that run, and parallel adapters of skipped layers: unused by the DAS model. */
export function isUnusedAdapter(name: string, skipped: readonly string[]): boolean {
  const match = /^roberta\.encoder\.layer\.(\d+)\.(\w+_adapter)\./.exec(name);
  if (!match) return false;
  const isSkipped = skipped.includes(`En${match[1]}`);
  return match[2] === 'skip_adapter' ? !isSkipped : isSkipped;
}
