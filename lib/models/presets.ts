/** Named model configurations for `das flops` (no weights needed) and the tasks they take. */
import fs from 'node:fs';
import path from 'node:path';
import { DasError, invalidArgument } from '../errors.js';
import { ROBERTA_BASE, robertaConfigFromHf, type RobertaConfig } from './roberta-config.js';

export const ROBERTA_TASK_LABELS = { mnli: 3, sst2: 2 } as const;
export type RobertaTask = keyof typeof ROBERTA_TASK_LABELS;

export const PRESETS = ['roberta-base'] as const;

export interface ResolvedModel {
  name: string;
  architecture: 'roberta';
  config: RobertaConfig;
}

/** A preset name, or a checkpoint folder with a HuggingFace config.json. */
export function resolveModel(spec: string, task: string | undefined): ResolvedModel {
  const labels = task === undefined ? undefined : ROBERTA_TASK_LABELS[task as RobertaTask];
  if (task !== undefined && labels === undefined) throw invalidArgument('--task', `one of ${Object.keys(ROBERTA_TASK_LABELS).join(', ')} for RoBERTa`, task);
  const overrides = labels === undefined ? {} : { numLabels: labels };
  if (spec === 'roberta-base') return { name: spec, architecture: 'roberta', config: { ...ROBERTA_BASE, ...overrides } };
  const configPath = path.join(spec, 'config.json');
  if (!fs.existsSync(configPath)) {
    throw invalidArgument('--model', `a preset (${PRESETS.join(', ')}) or a folder with config.json`, spec);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DasError('DAS_FILE', `${configPath}: not valid JSON (${(error as Error).message})`);
  }
  if (json.model_type !== undefined && json.model_type !== 'roberta') {
    throw new DasError('DAS_CHECKPOINT', `${configPath}: model_type ${JSON.stringify(json.model_type)} is not supported here (expected "roberta")`);
  }
  return { name: spec, architecture: 'roberta', config: robertaConfigFromHf(json, configPath, overrides) };
}
